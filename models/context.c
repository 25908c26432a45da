/*
 * context.c — a model context (model.h): the backend's execution context,
 * the model's scratch for a pass of n_batch rows, and the KV cache, sized
 * and checked against the memory this process may use before anything is
 * allocated.
 */
#include <stdlib.h>

#include "arch.h"
#include "os.h"

/* n floats of the backend context's activation memory (backend.h). */
static float *alloc_floats(struct backend_ctx *be, uint64_t n, bool *ok) {
    float *p = be_alloc(be, (n ? n : 1) * sizeof(float));
    if (!p) *ok = false;
    return p;
}

/* The widths the scratch buffers need, from the model's shape. */
struct widths {
    uint64_t embd, q_dim, kv_dim, ff, xb, widest;
};

static struct widths widths_of(const struct model_info *in) {
    struct widths w = {(uint64_t)in->n_embd, (uint64_t)in->n_head * in->head_dim,
                       (uint64_t)in->n_head_kv * in->head_dim, (uint64_t)in->n_ff, 0, 0};
    w.xb = w.q_dim > w.embd ? w.q_dim : w.embd;
    w.widest = w.ff > w.xb ? w.ff : w.xb;
    return w;
}

/* EMBER_ENOMEM with both sizes when the cache plus scratch exceed what this
 * process may allocate. */
static enum ember_status check_memory(const struct model_info *in, const struct kv_layout *l,
                                      int n_batch, struct ember_err *err) {
    struct widths w = widths_of(in);
    uint64_t B = (uint64_t)n_batch;
    /* scratch floats: x, xb, xb2, q, hb, hb2, kb, vb and the backend's
     * attention scores (all sizes < 2^40) */
    uint64_t scratch = 4 * (B * (2 * w.embd + w.xb + w.q_dim + 2 * w.ff + 2 * w.kv_dim) +
                            (uint64_t)in->n_head * (uint64_t)l->n_ctx);
    const char *why;
    uint64_t bytes = kv_cache_bytes(l), avail = os_memory_available(&why);
    if (bytes == UINT64_MAX || bytes + scratch < bytes || bytes + scratch > avail)
        return ember_fail(err, EMBER_ENOMEM,
                          "a context of %d tokens needs %.1f MiB (KV cache %.1f MiB + scratch %.1f MiB), "
                          "more than the %.1f MiB available (%s)",
                          l->n_ctx, (double)(bytes + scratch) / 1048576.0, (double)bytes / 1048576.0,
                          (double)scratch / 1048576.0, (double)avail / 1048576.0, why);
    return EMBER_OK;
}

/* The scratch buffers of c, in its backend context's memory; false when
 * one could not be allocated. */
static bool alloc_scratch(struct model_ctx *c, const struct widths *w) {
    bool ok = true;
    uint64_t B = (uint64_t)c->n_batch;
    c->x = alloc_floats(c->be, B * w->embd, &ok);
    c->xb = alloc_floats(c->be, B * w->xb, &ok);
    c->xb2 = alloc_floats(c->be, B * w->embd, &ok);
    c->q = alloc_floats(c->be, B * w->q_dim, &ok);
    c->hb = alloc_floats(c->be, B * w->ff, &ok);
    c->hb2 = alloc_floats(c->be, B * w->ff, &ok);
    c->kb = alloc_floats(c->be, B * w->kv_dim, &ok);
    c->vb = alloc_floats(c->be, B * w->kv_dim, &ok);
    c->views = calloc((size_t)c->n_seq, sizeof *c->views);
    c->seq_first = calloc((size_t)c->n_seq, sizeof *c->seq_first);
    c->seq_rows = calloc((size_t)c->n_seq, sizeof *c->seq_rows);
    return ok && c->views && c->seq_first && c->seq_rows;
}

enum ember_status model_ctx_new(const struct model *m, const struct model_ctx_params *p,
                                struct model_ctx **out, struct ember_err *err) {
    *out = NULL;
    const struct model_info *in = &m->info;
    int n_ctx = p->n_ctx, n_seq = p->n_seq > 0 ? p->n_seq : 1;
    int n_batch = p->n_batch > 0 ? p->n_batch : MODEL_DEFAULT_BATCH;
    if (n_batch > n_ctx) n_batch = n_ctx;
    if (n_ctx < 1)
        return ember_fail(err, EMBER_EINVAL, "a context of %d tokens is too small", n_ctx);
    struct kv_layout l = {.n_layer = in->n_layer, .n_head_kv = in->n_head_kv,
                          .head_dim = in->head_dim, .n_ctx = n_ctx, .n_seq = n_seq,
                          .block_size = p->kv_block, .type_k = kv_type_ember(p->type_k),
                          .type_v = kv_type_ember(p->type_v)};
    const char *why = kv_layout_problem(&l);
    if (why)
        return ember_fail(err, EMBER_EINVAL, "%s (KV cache %s/%s, head size %d, block %d)", why,
                          kv_type_name(p->type_k), kv_type_name(p->type_v), in->head_dim,
                          p->kv_block > 0 ? p->kv_block : KV_DEFAULT_BLOCK);
    TRY(check_memory(in, &l, n_batch, err));
    struct model_ctx *c = calloc(1, sizeof *c);
    if (!c) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->n_seq = n_seq;
    struct widths w = widths_of(in);
    struct backend_ctx_params bp = {
        .n_threads = p->n_threads, .max_rows = n_batch, .max_width = (int64_t)w.widest,
        .n_head = in->n_head, .max_pos = n_ctx, .head_dim = in->head_dim,
        .kv_block = p->kv_block > 0 ? p->kv_block : KV_DEFAULT_BLOCK,
    };
    enum ember_status st = m->be->ops->ctx_new(m->be, &bp, &c->be, err);
    if (!st && !alloc_scratch(c, &w)) st = ember_fail(err, EMBER_ENOMEM, "out of memory");
    if (!st) st = kv_cache_new(&l, &c->kv, err);
    if (st) {
        model_ctx_free(c);
        if (st == EMBER_ENOMEM)
            return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a %d-token context", n_ctx);
        return st;
    }
    *out = c;
    return EMBER_OK;
}

void model_ctx_free(struct model_ctx *c) {
    if (!c) return;
    if (c->be) c->be->ops->ctx_free(c->be); /* and the scratch it holds */
    kv_cache_free(c->kv);
    free(c->views);
    free(c->seq_first);
    free(c->seq_rows);
    free(c);
}

int model_ctx_size(const struct model_ctx *c) { return c->n_ctx; }

int model_seq_len(const struct model_ctx *c, int seq) {
    return seq >= 0 && seq < c->n_seq ? kv_seq_len(c->kv, seq) : 0;
}

void model_kv_usage(const struct model_ctx *c, int *blocks, size_t *bytes) {
    *blocks = kv_cache_blocks_used(c->kv);
    *bytes = kv_cache_bytes_allocated(c->kv);
}

struct kv_cache *model_kv(struct model_ctx *c) { return c->kv; }
