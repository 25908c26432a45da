/*
 * kv_cache.c — the flat KV cache (kv_cache.h): one block per layer and
 * sequence, [n_head_kv][n_ctx][head_dim] floats for keys and the same for
 * values, and one length per sequence.
 */
#include "kv_cache.h"

#include <stdlib.h>

struct kv_cache {
    struct kv_layout l;
    float *k, *v;     /* [n_layer][n_seq][n_head_kv][n_ctx][head_dim] */
    int *len;         /* [n_seq] */
};

/* Floats of one of the two caches. */
static uint64_t cache_floats(const struct kv_layout *l) {
    uint64_t n = 1;
    const int dims[] = {l->n_layer, l->n_seq, l->n_head_kv, l->n_ctx, l->head_dim};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i] < 1 || !ember_mul_u64(n, (uint64_t)dims[i], &n)) return UINT64_MAX;
    return n;
}

uint64_t kv_cache_bytes(const struct kv_layout *l) {
    uint64_t n = cache_floats(l), bytes;
    if (n == UINT64_MAX || !ember_mul_u64(n, 2 * sizeof(float), &bytes)) return UINT64_MAX;
    return bytes;
}

enum ember_status kv_cache_new(const struct kv_layout *l, struct kv_cache **out,
                               struct ember_err *err) {
    *out = NULL;
    uint64_t n = cache_floats(l);
    if (n == UINT64_MAX || n > SIZE_MAX / sizeof(float))
        return ember_fail(err, EMBER_EINVAL, "KV cache layout %d x %d x %d x %d x %d is invalid",
                          l->n_layer, l->n_seq, l->n_head_kv, l->n_ctx, l->head_dim);
    struct kv_cache *kv = calloc(1, sizeof *kv);
    if (kv) {
        kv->l = *l;
        kv->k = calloc((size_t)n, sizeof(float));
        kv->v = calloc((size_t)n, sizeof(float));
        kv->len = calloc((size_t)l->n_seq, sizeof *kv->len);
    }
    if (!kv || !kv->k || !kv->v || !kv->len) {
        kv_cache_free(kv);
        return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a KV cache of %.1f MiB",
                          (double)kv_cache_bytes(l) / 1048576.0);
    }
    *out = kv;
    return EMBER_OK;
}

void kv_cache_free(struct kv_cache *kv) {
    if (!kv) return;
    free(kv->k);
    free(kv->v);
    free(kv->len);
    free(kv);
}

const struct kv_layout *kv_cache_layout(const struct kv_cache *kv) { return &kv->l; }

struct kv_view kv_cache_view(const struct kv_cache *kv, int layer, int seq) {
    const struct kv_layout *l = &kv->l;
    size_t head = (size_t)l->n_ctx * (size_t)l->head_dim;
    size_t at = ((size_t)layer * (size_t)l->n_seq + (size_t)seq) * (size_t)l->n_head_kv * head;
    return (struct kv_view){kv->k + at, kv->v + at, head};
}

int kv_seq_len(const struct kv_cache *kv, int seq) { return kv->len[seq]; }

void kv_seq_set_len(struct kv_cache *kv, int seq, int len) { kv->len[seq] = len; }
