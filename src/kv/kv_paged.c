/*
 * kv_paged.c — the paged KV cache (kv_cache.h): the block layout, each
 * sequence's block table and length, copy on write, and the parts a block
 * is stored in (one per run of layers in the same memory, kv_layout's
 * layer_mem): a host part is plain bytes, a device part is reached only
 * through its struct kv_mem.
 */
#include "kv_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kv_pool.h"

/* A sequence: its length and its blocks, by id and by address in each
 * part (what views hand to backends). */
struct kv_seq {
    int len;
    int n_blocks;
    int32_t *ids;                       /* [max_blocks] */
    uint8_t **ptrs[KV_POOL_MAX_PARTS];  /* [n_parts][max_blocks] */
};

struct kv_cache {
    struct kv_layout l;
    struct kv_view shape; /* a view's sizes, without blocks or offsets */
    size_t layer_bytes;   /* one layer's keys and values in a block */
    int max_blocks;       /* per sequence: ceil(n_ctx / block_size) */
    struct kv_pool *pool;
    struct kv_seq *seq;   /* [n_seq] */
    int n_parts;
    int part_first[KV_POOL_MAX_PARTS]; /* each part's first layer */
    int8_t *layer_part;   /* [n_layer] */
};

static const struct {
    const char *name;
    enum ember_type type;
} kv_types[KV_TYPE_COUNT] = {
    [KV_F16] = {"f16", EMBER_TYPE_F16}, [KV_F32] = {"f32", EMBER_TYPE_F32}, [KV_Q8_0] = {"q8_0", EMBER_TYPE_Q8_0},
};

const char *kv_type_name(enum kv_type t) { return kv_types[t].name; }

int kv_type_parse(const char *name) {
    for (int t = 0; t < KV_TYPE_COUNT; t++)
        if (!strcmp(name, kv_types[t].name)) return t;
    return -1;
}

enum ember_type kv_type_ember(enum kv_type t) { return kv_types[t].type; }

static uint64_t round64(uint64_t n) { return (n + 63) / 64 * 64; }

/* Bytes per stored row of n values of type t (F32, F16, Q8_0). */
static uint64_t row_bytes(enum ember_type t, int n) {
    return t == EMBER_TYPE_F32 ? 4u * (uint64_t)n : t == EMBER_TYPE_F16 ? 2u * (uint64_t)n
                                                  : (uint64_t)n / 32 * 34;
}

static int block_size_of(const struct kv_layout *l) {
    return l->block_size > 0 ? l->block_size : KV_DEFAULT_BLOCK;
}

const char *kv_layout_problem(const struct kv_layout *l) {
    const enum ember_type t[2] = {l->type_k, l->type_v};
    for (int i = 0; i < 2; i++) {
        if (t[i] != EMBER_TYPE_F32 && t[i] != EMBER_TYPE_F16 && t[i] != EMBER_TYPE_Q8_0)
            return "a KV cache type must be f32, f16 or q8_0";
        if (t[i] == EMBER_TYPE_Q8_0 && l->head_dim % 32)
            return "a q8_0 KV cache needs a head size that is a multiple of 32";
    }
    if (l->n_layer < 1 || l->n_head_kv < 1 || l->head_dim < 1 || l->n_ctx < 1 || l->n_seq < 1 ||
        l->block_size < 0 || l->block_size > 4096)
        return "the KV cache's sizes are out of range";
    int runs = 1;
    for (int i = 1; l->layer_mem && i < l->n_layer; i++) runs += l->layer_mem[i] != l->layer_mem[i - 1];
    if (runs > KV_POOL_MAX_PARTS) return "the KV cache's layers change memory too often";
    return NULL;
}

/* The memory of layer i: NULL for the host. */
static const struct kv_mem *layer_mem(const struct kv_layout *l, int i) {
    return l->layer_mem ? l->layer_mem[i] : NULL;
}

/* A view's sizes for layout l; *layer the bytes of one layer in a block. */
static struct kv_view shape_of(const struct kv_layout *l, uint64_t *layer) {
    struct kv_view v = {.type_k = l->type_k, .type_v = l->type_v, .block_size = block_size_of(l)};
    uint64_t bs = (uint64_t)v.block_size;
    v.v_row = row_bytes(l->type_v, l->head_dim);
    v.v_head = round64(bs * v.v_row);
    if (l->type_k == EMBER_TYPE_Q8_0) {
        v.k_row = row_bytes(l->type_k, l->head_dim);
        v.k_head = round64(bs * v.k_row);
    } else {
        v.k_row = row_bytes(l->type_k, v.block_size);
        v.k_head = round64((uint64_t)l->head_dim * v.k_row);
    }
    v.v_off = (size_t)l->n_head_kv * v.k_head;
    *layer = (uint64_t)l->n_head_kv * (v.k_head + v.v_head);
    return v;
}

uint64_t kv_block_bytes(const struct kv_layout *l) {
    uint64_t layer, out;
    if (kv_layout_problem(l)) return UINT64_MAX;
    shape_of(l, &layer);
    return ember_mul_u64(layer, (uint64_t)l->n_layer, &out) ? out : UINT64_MAX;
}

uint64_t kv_cache_bytes(const struct kv_layout *l) {
    uint64_t b = kv_block_bytes(l), per_seq = ((uint64_t)l->n_ctx + (uint64_t)block_size_of(l) - 1) /
                                             (uint64_t)block_size_of(l), out;
    if (b == UINT64_MAX || !ember_mul_u64(b, per_seq, &out) || !ember_mul_u64(out, (uint64_t)l->n_seq, &out))
        return UINT64_MAX;
    return out;
}

/* The parts of kv's blocks: one per run of layers of the same memory, in
 * layer order, so the concatenation of a block's parts is the block as a
 * single host part would hold it. EMBER_ENOMEM for the layer table. */
static enum ember_status split_parts(struct kv_cache *kv, const struct kv_layout *l,
                                     struct kv_pool_part *parts) {
    if (!(kv->layer_part = malloc((size_t)l->n_layer))) return EMBER_ENOMEM;
    kv->n_parts = 0;
    for (int i = 0; i < l->n_layer; i++) {
        if (!i || layer_mem(l, i) != layer_mem(l, i - 1)) {
            kv->part_first[kv->n_parts] = i;
            parts[kv->n_parts++] = (struct kv_pool_part){0, layer_mem(l, i)};
        }
        kv->layer_part[i] = (int8_t)(kv->n_parts - 1);
        parts[kv->n_parts - 1].bytes += kv->layer_bytes;
    }
    return EMBER_OK;
}

enum ember_status kv_cache_new(const struct kv_layout *l, struct kv_cache **out,
                               struct ember_err *err) {
    *out = NULL;
    const char *why = kv_layout_problem(l);
    if (why) return ember_fail(err, EMBER_EINVAL, "%s", why);
    uint64_t bytes = kv_block_bytes(l), total = kv_cache_bytes(l), layer;
    int bs = block_size_of(l);
    int max_blocks = (l->n_ctx + bs - 1) / bs;
    if (bytes == UINT64_MAX || bytes > SIZE_MAX / 2 || total == UINT64_MAX ||
        (uint64_t)max_blocks * (uint64_t)l->n_seq > INT32_MAX)
        return ember_fail(err, EMBER_EINVAL, "a KV cache of %d sequences of %d positions is too large",
                          l->n_seq, l->n_ctx);
    struct kv_cache *kv = calloc(1, sizeof *kv);
    if (!kv) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    kv->l = *l;
    kv->l.block_size = bs;
    kv->shape = shape_of(l, &layer);
    kv->layer_bytes = (size_t)layer;
    kv->max_blocks = max_blocks;
    kv->l.layer_mem = NULL; /* the caller's array is read here only */
    struct kv_pool_part parts[KV_POOL_MAX_PARTS];
    enum ember_status st = split_parts(kv, l, parts);
    if (!st) st = kv_pool_new_parts(parts, kv->n_parts, max_blocks * l->n_seq, &kv->pool, err);
    if (!st && !(kv->seq = calloc((size_t)l->n_seq, sizeof *kv->seq))) st = EMBER_ENOMEM;
    for (int s = 0; !st && s < l->n_seq; s++) {
        kv->seq[s].ids = malloc((size_t)max_blocks * sizeof *kv->seq[s].ids);
        if (!kv->seq[s].ids) st = EMBER_ENOMEM;
        for (int p = 0; p < kv->n_parts; p++)
            if (!(kv->seq[s].ptrs[p] = malloc((size_t)max_blocks * sizeof(uint8_t *)))) st = EMBER_ENOMEM;
    }
    if (st) {
        kv_cache_free(kv);
        return st == EMBER_ENOMEM ? ember_fail(err, st, "out of memory allocating a KV cache's block tables")
                                  : st;
    }
    *out = kv;
    return EMBER_OK;
}

void kv_cache_free(struct kv_cache *kv) {
    if (!kv) return;
    for (int s = 0; kv->seq && s < kv->l.n_seq; s++) {
        free(kv->seq[s].ids);
        for (int p = 0; p < kv->n_parts; p++) free(kv->seq[s].ptrs[p]);
    }
    free(kv->seq);
    kv_pool_free(kv->pool);
    free(kv->layer_part);
    free(kv);
}

const struct kv_layout *kv_cache_layout(const struct kv_cache *kv) { return &kv->l; }

struct kv_view kv_cache_view(const struct kv_cache *kv, int layer, int seq) {
    struct kv_view v = kv->shape;
    int part = kv->layer_part[layer];
    size_t at = (size_t)(layer - kv->part_first[part]) * kv->layer_bytes;
    v.k_off = at;
    v.v_off += at;
    v.blocks = kv->seq[seq].ptrs[part];
    return v;
}

int kv_seq_len(const struct kv_cache *kv, int seq) { return kv->seq[seq].len; }

/* Drop seq's blocks from index keep on. */
static void release_from(struct kv_cache *kv, struct kv_seq *s, int keep) {
    for (int b = keep; b < s->n_blocks; b++) kv_pool_unref(kv->pool, s->ids[b]);
    if (keep < s->n_blocks) s->n_blocks = keep;
}

/* Block src's bytes into block dst, part by part (copy on write). */
static void copy_block(struct kv_cache *kv, int dst, int src) {
    for (int p = 0; p < kv->n_parts; p++) {
        const struct kv_mem *m = kv_pool_part_mem(kv->pool, p);
        uint8_t *d = kv_pool_part_block(kv->pool, p, dst);
        const uint8_t *sp = kv_pool_part_block(kv->pool, p, src);
        size_t n = kv_pool_part_bytes(kv->pool, p);
        if (m) m->copy(m->ctx, d, sp, n);
        else memcpy(d, sp, n);
    }
}

/* Entry b of s's table: block id, at its address in every part. */
static void set_block(const struct kv_cache *kv, struct kv_seq *s, int b, int id) {
    s->ids[b] = id;
    for (int p = 0; p < kv->n_parts; p++) s->ptrs[p][b] = kv_pool_part_block(kv->pool, p, id);
}

enum ember_status kv_seq_prepare(struct kv_cache *kv, int seq, int first, int n,
                                 struct ember_err *err) {
    struct kv_seq *s = &kv->seq[seq];
    int bs = kv->l.block_size;
    int b0 = first / bs, b1 = n > 0 ? (first + n - 1) / bs : b0 - 1;
    for (int b = b0; b <= b1; b++) {
        if (b < s->n_blocks && kv_pool_refs(kv->pool, s->ids[b]) == 1) continue;
        int id = kv_pool_alloc(kv->pool);
        if (id < 0)
            return ember_fail(err, EMBER_ENOMEM,
                              "out of memory for the KV cache (%d blocks of %.1f KiB in use)",
                              kv_pool_used(kv->pool), (double)kv_pool_block_bytes(kv->pool) / 1024.0);
        if (b < s->n_blocks) { /* shared: copy, then let go of the original */
            copy_block(kv, id, s->ids[b]);
            kv_pool_unref(kv->pool, s->ids[b]);
        } else {
            s->n_blocks = b + 1; /* b == n_blocks: blocks are taken in order */
        }
        set_block(kv, s, b, id);
    }
    return EMBER_OK;
}

void kv_seq_set_len(struct kv_cache *kv, int seq, int len) {
    struct kv_seq *s = &kv->seq[seq];
    s->len = len;
    release_from(kv, s, (len + kv->l.block_size - 1) / kv->l.block_size);
}

void kv_seq_share(struct kv_cache *kv, int dst, int src, int len) {
    if (dst == src) {
        kv_seq_set_len(kv, dst, len);
        return;
    }
    struct kv_seq *d = &kv->seq[dst], *s = &kv->seq[src];
    int nb = (len + kv->l.block_size - 1) / kv->l.block_size;
    release_from(kv, d, 0);
    for (int b = 0; b < nb; b++) {
        kv_pool_ref(kv->pool, s->ids[b]);
        set_block(kv, d, b, s->ids[b]);
    }
    d->n_blocks = nb;
    d->len = len;
}

void kv_seq_swap(struct kv_cache *kv, int a, int b) {
    struct kv_seq t = kv->seq[a];
    kv->seq[a] = kv->seq[b];
    kv->seq[b] = t;
}

int kv_seq_shared_blocks(const struct kv_cache *kv, int a, int b) {
    const struct kv_seq *x = &kv->seq[a], *y = &kv->seq[b];
    int n = 0;
    while (n < x->n_blocks && n < y->n_blocks && x->ids[n] == y->ids[n]) n++;
    return a == b ? x->n_blocks : n;
}

int kv_seq_blocks(const struct kv_cache *kv, int seq) { return kv->seq[seq].n_blocks; }

/* A host buffer for the largest device part, for moving one block's part
 * to or from a file; NULL with nothing to allocate (all parts host) or out
 * of memory (*ok false). */
static uint8_t *staging(const struct kv_cache *kv, bool *ok) {
    size_t n = 0;
    for (int p = 0; p < kv->n_parts; p++)
        if (kv_pool_part_mem(kv->pool, p) && kv_pool_part_bytes(kv->pool, p) > n)
            n = kv_pool_part_bytes(kv->pool, p);
    uint8_t *buf = n ? malloc(n) : NULL;
    *ok = !n || buf;
    return buf;
}

/* Block b of s through write, part after part: the same bytes as one host
 * part would give, so files do not depend on where layers ran. */
static bool export_block(const struct kv_cache *kv, const struct kv_seq *s, int b, uint8_t *stage,
                         kv_io_fn write, void *ctx) {
    for (int p = 0; p < kv->n_parts; p++) {
        const struct kv_mem *m = kv_pool_part_mem(kv->pool, p);
        size_t n = kv_pool_part_bytes(kv->pool, p);
        if (m) m->read(m->ctx, stage, s->ptrs[p][b], n);
        if (!write(ctx, m ? stage : s->ptrs[p][b], n)) return false;
    }
    return true;
}

static bool import_block(struct kv_cache *kv, struct kv_seq *s, int b, uint8_t *stage, kv_io_fn read,
                         void *ctx) {
    for (int p = 0; p < kv->n_parts; p++) {
        const struct kv_mem *m = kv_pool_part_mem(kv->pool, p);
        size_t n = kv_pool_part_bytes(kv->pool, p);
        if (!read(ctx, m ? stage : s->ptrs[p][b], n)) return false;
        if (m) m->write(m->ctx, s->ptrs[p][b], stage, n);
    }
    return true;
}

enum ember_status kv_seq_export(const struct kv_cache *kv, int seq, int len, kv_io_fn write, void *ctx,
                               struct ember_err *err) {
    const struct kv_seq *s = &kv->seq[seq];
    int nb = (len + kv->l.block_size - 1) / kv->l.block_size;
    if (len < 0 || len > s->len)
        return ember_fail(err, EMBER_EINVAL, "sequence %d holds %d positions, not %d", seq, s->len, len);
    bool ok;
    uint8_t *stage = staging(kv, &ok);
    if (!ok) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    enum ember_status st = EMBER_OK;
    for (int b = 0; b < nb && !st; b++)
        if (!export_block(kv, s, b, stage, write, ctx))
            st = ember_fail(err, EMBER_EIO, "cannot write the KV cache");
    free(stage);
    return st;
}

enum ember_status kv_seq_import(struct kv_cache *kv, int seq, int len, kv_io_fn read, void *ctx,
                                struct ember_err *err) {
    kv_seq_set_len(kv, seq, 0);
    if (len < 0 || len > kv->l.n_ctx)
        return ember_fail(err, EMBER_EINVAL, "%d positions do not fit a context of %d", len, kv->l.n_ctx);
    if (len == 0) return EMBER_OK;
    bool ok;
    uint8_t *stage = staging(kv, &ok);
    if (!ok) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    enum ember_status st = kv_seq_prepare(kv, seq, 0, len, err);
    struct kv_seq *s = &kv->seq[seq];
    for (int b = 0; !st && b < (len + kv->l.block_size - 1) / kv->l.block_size; b++)
        if (!import_block(kv, s, b, stage, read, ctx))
            st = ember_fail(err, EMBER_EIO, "cannot read the KV cache: the file is truncated or unreadable");
    free(stage);
    kv_seq_set_len(kv, seq, st ? 0 : len);
    return st;
}

int kv_cache_blocks_used(const struct kv_cache *kv) { return kv_pool_used(kv->pool); }

size_t kv_cache_bytes_allocated(const struct kv_cache *kv) { return kv_pool_bytes(kv->pool); }

size_t kv_cache_block_bytes(const struct kv_cache *kv) { return kv_pool_block_bytes(kv->pool); }
