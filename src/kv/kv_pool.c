/*
 * kv_pool.c — the KV block allocator (kv_pool.h): per part a chunk table,
 * shared reference counts and a free list kept as a stack of ids.
 */
#include "kv_pool.h"

#include <stdbool.h>
#include <stdlib.h>

/* One part of every block: its chunks, host or a kv_mem's. */
struct pool_part {
    size_t bytes;              /* per block, rounded up to 64 */
    const struct kv_mem *mem;  /* NULL: host memory */
    uint8_t **chunk;           /* [n_chunks], NULL until needed */
};

struct kv_pool {
    int max_blocks;     /* ids 0 .. max_blocks-1 */
    int n_chunks;
    int n_made;         /* ids handed out at least once: 0 .. n_made-1 */
    int n_used;
    int n_parts;
    struct pool_part part[KV_POOL_MAX_PARTS];
    int32_t *refs;      /* [max_blocks] */
    int32_t *free_ids;  /* a stack of freed ids */
    int n_free;
};

enum ember_status kv_pool_new(size_t block_bytes, int max_blocks, struct kv_pool **out,
                              struct ember_err *err) {
    struct kv_pool_part one = {block_bytes, NULL};
    return kv_pool_new_parts(&one, 1, max_blocks, out, err);
}

static bool parts_valid(const struct kv_pool_part *parts, int n_parts) {
    if (n_parts < 1 || n_parts > KV_POOL_MAX_PARTS) return false;
    for (int i = 0; i < n_parts; i++)
        if (parts[i].bytes < 1 || parts[i].bytes > SIZE_MAX / KV_POOL_CHUNK / KV_POOL_MAX_PARTS - 64)
            return false;
    return true;
}

enum ember_status kv_pool_new_parts(const struct kv_pool_part *parts, int n_parts, int max_blocks,
                                    struct kv_pool **out, struct ember_err *err) {
    *out = NULL;
    if (max_blocks < 1 || !parts_valid(parts, n_parts))
        return ember_fail(err, EMBER_EINVAL, "a KV pool of %d blocks of %zu bytes in %d parts is invalid",
                          max_blocks, n_parts > 0 ? parts[0].bytes : 0, n_parts);
    struct kv_pool *p = calloc(1, sizeof *p);
    bool ok = p != NULL;
    if (p) {
        p->max_blocks = max_blocks;
        p->n_chunks = (max_blocks + KV_POOL_CHUNK - 1) / KV_POOL_CHUNK;
        p->n_parts = n_parts;
        for (int i = 0; i < n_parts; i++) {
            p->part[i] = (struct pool_part){(parts[i].bytes + 63) / 64 * 64, parts[i].mem, NULL};
            ok &= (p->part[i].chunk = calloc((size_t)p->n_chunks, sizeof(uint8_t *))) != NULL;
        }
        p->refs = calloc((size_t)max_blocks, sizeof *p->refs);
        p->free_ids = malloc((size_t)max_blocks * sizeof *p->free_ids);
        ok &= p->refs && p->free_ids;
    }
    if (!ok) {
        kv_pool_free(p);
        return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a KV pool of %d blocks",
                          max_blocks);
    }
    *out = p;
    return EMBER_OK;
}

static void chunk_release(struct pool_part *pt, int c) {
    if (!pt->chunk[c]) return;
    if (pt->mem) pt->mem->release(pt->mem->ctx, pt->chunk[c]);
    else free(pt->chunk[c]);
    pt->chunk[c] = NULL;
}

void kv_pool_free(struct kv_pool *p) {
    if (!p) return;
    for (int i = 0; i < p->n_parts; i++) {
        for (int c = 0; p->part[i].chunk && c < p->n_chunks; c++) chunk_release(&p->part[i], c);
        free(p->part[i].chunk);
    }
    free(p->refs);
    free(p->free_ids);
    free(p);
}

/* Chunk c in every part; false (and none of them kept) when one part's
 * memory is out. A new host chunk is first touched block by block, so the
 * system hands out its pages as they are written. */
static bool chunk_alloc(struct kv_pool *p, int c) {
    for (int i = 0; i < p->n_parts; i++) {
        struct pool_part *pt = &p->part[i];
        size_t n = pt->bytes * KV_POOL_CHUNK;
        if (!pt->chunk[c])
            pt->chunk[c] = pt->mem ? pt->mem->alloc(pt->mem->ctx, n) : aligned_alloc(64, n);
        if (!pt->chunk[c]) {
            for (int j = 0; j < i; j++) chunk_release(&p->part[j], c);
            return false;
        }
    }
    return true;
}

int kv_pool_alloc(struct kv_pool *p) {
    int id;
    if (p->n_free) {
        id = p->free_ids[--p->n_free];
    } else {
        if (p->n_made == p->max_blocks) return -1;
        id = p->n_made;
        if (id % KV_POOL_CHUNK == 0 && !chunk_alloc(p, id / KV_POOL_CHUNK)) return -1;
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

uint8_t *kv_pool_part_block(const struct kv_pool *p, int part, int id) {
    const struct pool_part *pt = &p->part[part];
    return pt->chunk[id / KV_POOL_CHUNK] + (size_t)(id % KV_POOL_CHUNK) * pt->bytes;
}

uint8_t *kv_pool_block(const struct kv_pool *p, int id) { return kv_pool_part_block(p, 0, id); }

int kv_pool_used(const struct kv_pool *p) { return p->n_used; }

size_t kv_pool_bytes(const struct kv_pool *p) {
    size_t chunks = (size_t)((p->n_made + KV_POOL_CHUNK - 1) / KV_POOL_CHUNK);
    return chunks * KV_POOL_CHUNK * kv_pool_block_bytes(p);
}

size_t kv_pool_block_bytes(const struct kv_pool *p) {
    size_t n = 0;
    for (int i = 0; i < p->n_parts; i++) n += p->part[i].bytes;
    return n;
}

size_t kv_pool_part_bytes(const struct kv_pool *p, int part) { return p->part[part].bytes; }

int kv_pool_n_parts(const struct kv_pool *p) { return p->n_parts; }

const struct kv_mem *kv_pool_part_mem(const struct kv_pool *p, int part) { return p->part[part].mem; }
