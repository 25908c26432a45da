/*
 * kv_pool.c — the KV block allocator (kv_pool.h): a chunk table, reference
 * counts and a free list kept as a stack of ids.
 */
#include "kv_pool.h"

#include <stdlib.h>

struct kv_pool {
    size_t block_bytes; /* rounded up to 64 */
    int max_blocks;     /* ids 0 .. max_blocks-1 */
    int n_made;         /* ids handed out at least once: 0 .. n_made-1 */
    int n_used;
    uint8_t **chunk;    /* [ceil(max_blocks / KV_POOL_CHUNK)], NULL until needed */
    int32_t *refs;      /* [max_blocks] */
    int32_t *free_ids;  /* a stack of freed ids */
    int n_free;
};

enum ember_status kv_pool_new(size_t block_bytes, int max_blocks, struct kv_pool **out,
                              struct ember_err *err) {
    *out = NULL;
    if (block_bytes < 1 || max_blocks < 1 || block_bytes > SIZE_MAX / KV_POOL_CHUNK - 64)
        return ember_fail(err, EMBER_EINVAL, "a KV pool of %d blocks of %zu bytes is invalid",
                          max_blocks, block_bytes);
    struct kv_pool *p = calloc(1, sizeof *p);
    int n_chunks = (max_blocks + KV_POOL_CHUNK - 1) / KV_POOL_CHUNK;
    if (p) {
        p->block_bytes = (block_bytes + 63) / 64 * 64;
        p->max_blocks = max_blocks;
        p->chunk = calloc((size_t)n_chunks, sizeof *p->chunk);
        p->refs = calloc((size_t)max_blocks, sizeof *p->refs);
        p->free_ids = malloc((size_t)max_blocks * sizeof *p->free_ids);
    }
    if (!p || !p->chunk || !p->refs || !p->free_ids) {
        kv_pool_free(p);
        return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a KV pool of %d blocks",
                          max_blocks);
    }
    *out = p;
    return EMBER_OK;
}

void kv_pool_free(struct kv_pool *p) {
    if (!p) return;
    for (int c = 0; p->chunk && c < (p->max_blocks + KV_POOL_CHUNK - 1) / KV_POOL_CHUNK; c++)
        free(p->chunk[c]);
    free(p->chunk);
    free(p->refs);
    free(p->free_ids);
    free(p);
}

int kv_pool_alloc(struct kv_pool *p) {
    int id;
    if (p->n_free) {
        id = p->free_ids[--p->n_free];
    } else {
        if (p->n_made == p->max_blocks) return -1;
        id = p->n_made;
        uint8_t **ch = &p->chunk[id / KV_POOL_CHUNK];
        /* a new chunk is first touched block by block, so the system hands
         * out its pages as they are written */
        if (!*ch && !(*ch = aligned_alloc(64, p->block_bytes * KV_POOL_CHUNK))) return -1;
        p->n_made++;
    }
    p->refs[id] = 1;
    p->n_used++;
    return id;
}

void kv_pool_ref(struct kv_pool *p, int id) { p->refs[id]++; }

void kv_pool_unref(struct kv_pool *p, int id) {
    if (--p->refs[id]) return;
    p->free_ids[p->n_free++] = id;
    p->n_used--;
}

int kv_pool_refs(const struct kv_pool *p, int id) { return p->refs[id]; }

uint8_t *kv_pool_block(const struct kv_pool *p, int id) {
    return p->chunk[id / KV_POOL_CHUNK] + (size_t)(id % KV_POOL_CHUNK) * p->block_bytes;
}

int kv_pool_used(const struct kv_pool *p) { return p->n_used; }

size_t kv_pool_bytes(const struct kv_pool *p) {
    return (size_t)((p->n_made + KV_POOL_CHUNK - 1) / KV_POOL_CHUNK) * KV_POOL_CHUNK * p->block_bytes;
}

size_t kv_pool_block_bytes(const struct kv_pool *p) { return p->block_bytes; }
