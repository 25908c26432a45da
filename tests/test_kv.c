/*
 * test_kv.c — the paged KV cache (src/kv): the block allocator (alloc,
 * free, reference counts, reuse, growth by chunks), the block tables
 * (prepare, truncate, share, copy on write), blocks stored in parts (host
 * layers and "device" layers behind a test kv_mem whose addresses the host
 * cannot dereference: share, copy on write, swap, truncate, export and
 * import against an all-host cache), and the CPU backend's
 * attention through them against attention over a contiguous copy computed
 * here in double precision, for many lengths, block sizes and cache types.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine.h"
#include "kv_cache.h"
#include "kv_pool.h"
#include "rng.h"

static void test_pool(void) {
    struct ember_err err = {0};
    struct kv_pool *p = NULL;
    CHECK(kv_pool_new(100, 20, &p, &err) == EMBER_OK, "pool of 20 blocks %s", err.msg);
    if (!p) return;
    CHECK(kv_pool_block_bytes(p) == 128 && kv_pool_bytes(p) == 0 && kv_pool_used(p) == 0,
          "blocks round up to 64 bytes (%zu), nothing allocated before the first block (%zu)",
          kv_pool_block_bytes(p), kv_pool_bytes(p));
    int id[21], distinct = 1, aligned = 1;
    for (int i = 0; i < 20; i++) {
        id[i] = kv_pool_alloc(p);
        aligned &= ((uintptr_t)kv_pool_block(p, id[i]) % 64) == 0;
        memset(kv_pool_block(p, id[i]), i, 128); /* each block its own bytes */
        for (int j = 0; j < i; j++) distinct &= id[i] != id[j];
    }
    id[20] = kv_pool_alloc(p);
    CHECK(distinct && aligned && id[20] == -1 && kv_pool_used(p) == 20,
          "20 distinct 64-byte aligned blocks, then -1 at the pool's size (got %d)", id[20]);
    int intact = 1;
    for (int i = 0; i < 20; i++) intact &= kv_pool_block(p, id[i])[127] == (uint8_t)i;
    CHECK(intact && kv_pool_bytes(p) == 3 * KV_POOL_CHUNK * 128,
          "blocks do not overlap; memory taken in chunks of %d (%zu bytes)", KV_POOL_CHUNK, kv_pool_bytes(p));
    kv_pool_ref(p, id[3]);
    kv_pool_unref(p, id[3]);
    CHECK(kv_pool_refs(p, id[3]) == 1 && kv_pool_used(p) == 20, "ref then unref keeps a block in use");
    /* fragmentation: free every other block, then take them back */
    for (int i = 0; i < 20; i += 2) kv_pool_unref(p, id[i]);
    CHECK(kv_pool_used(p) == 10, "10 of 20 in use after freeing every other one");
    int back = 1, last = kv_pool_alloc(p);
    back &= last == id[18]; /* most recently freed first */
    for (int i = 0; i < 9; i++) {
        int b = kv_pool_alloc(p);
        back &= b >= 0 && b % 2 == id[0] % 2 && kv_pool_refs(p, b) == 1;
    }
    CHECK(back && kv_pool_alloc(p) == -1 && kv_pool_bytes(p) == 3 * KV_POOL_CHUNK * 128,
          "freed blocks are reused (last freed first) without growing the pool");
    kv_pool_free(p);
    CHECK(kv_pool_new(0, 5, &p, &err) == EMBER_EINVAL && kv_pool_new(64, 0, &p, &err) == EMBER_EINVAL,
          "empty pools are refused: %s", err.msg);
}

static struct kv_layout layout(int block, enum kv_type t) {
    return (struct kv_layout){.n_layer = 2, .n_head_kv = 2, .head_dim = 32, .n_ctx = 100, .n_seq = 3,
                              .block_size = block, .type_k = kv_type_ember(t), .type_v = kv_type_ember(t)};
}

static void test_tables(void) {
    struct ember_err err = {0};
    struct kv_cache *kv = NULL;
    struct kv_layout l = layout(16, KV_F32);
    CHECK(kv_cache_new(&l, &kv, &err) == EMBER_OK, "cache %s", err.msg);
    if (!kv) return;
    CHECK(kv_cache_blocks_used(kv) == 0 && kv_cache_bytes_allocated(kv) == 0, "a new cache holds no block");
    CHECK(kv_seq_prepare(kv, 0, 0, 40, &err) == EMBER_OK && kv_cache_blocks_used(kv) == 3,
          "40 positions take 3 blocks of 16 (%d)", kv_cache_blocks_used(kv));
    kv_seq_set_len(kv, 0, 40);
    struct kv_view v0 = kv_cache_view(kv, 1, 0);
    for (int b = 0; b < 3; b++) memset(kv_view_k(&v0, b, 0), 0x11 * (b + 1), 64);
    /* sequence 1 shares the first 20 positions: blocks 0 and 1 */
    kv_seq_share(kv, 1, 0, 20);
    struct kv_view v1 = kv_cache_view(kv, 1, 1);
    CHECK(kv_seq_len(kv, 1) == 20 && kv_cache_blocks_used(kv) == 3 && v1.blocks[0] == v0.blocks[0] &&
              v1.blocks[1] == v0.blocks[1],
          "sharing 20 positions shares 2 blocks, copies nothing");
    /* writing position 20 of sequence 1 lands in shared block 1: copy it */
    CHECK(kv_seq_prepare(kv, 1, 20, 1, &err) == EMBER_OK, "prepare a write into a shared block %s", err.msg);
    v1 = kv_cache_view(kv, 1, 1);
    v0 = kv_cache_view(kv, 1, 0);
    CHECK(v1.blocks[1] != v0.blocks[1] && v1.blocks[0] == v0.blocks[0] && kv_cache_blocks_used(kv) == 4,
          "copy on write: block 1 copied (4 blocks in use), block 0 still shared");
    CHECK(kv_view_k(&v1, 1, 0)[5] == 0x22, "the copy holds the shared block's contents");
    memset(kv_view_k(&v1, 1, 0), 0x77, 64);
    CHECK(kv_view_k(&v0, 1, 0)[5] == 0x22, "writing the copy leaves the other sequence's block alone");
    CHECK(kv_seq_shared_blocks(kv, 0, 1) == 1 && kv_seq_shared_blocks(kv, 1, 0) == 1 &&
              kv_seq_blocks(kv, 0) == 3 && kv_seq_blocks(kv, 1) == 2 && kv_seq_shared_blocks(kv, 0, 0) == 3,
          "shared blocks: 1 (block 0) after the copy; sequence 0 holds 3 blocks, sequence 1 holds 2");
    /* swapping exchanges tables and lengths, blocks untouched */
    kv_seq_swap(kv, 0, 1);
    CHECK(kv_seq_len(kv, 0) == 20 && kv_seq_len(kv, 1) == 40 && kv_cache_view(kv, 1, 0).blocks[1] == v1.blocks[1] &&
              kv_cache_view(kv, 1, 1).blocks[2] == v0.blocks[2] && kv_cache_blocks_used(kv) == 4,
          "swap: sequence 0 now holds 20 positions in sequence 1's blocks, sequence 1 holds 40; 4 blocks");
    kv_seq_swap(kv, 0, 1);
    /* a block held by one sequence only is written in place */
    const uint8_t *before = v0.blocks[2];
    CHECK(kv_seq_prepare(kv, 0, 40, 5, &err) == EMBER_OK && kv_cache_view(kv, 0, 0).blocks[2] == before,
          "an unshared block is not copied");
    /* truncation releases whole blocks past the new end */
    kv_seq_set_len(kv, 0, 16);
    CHECK(kv_cache_blocks_used(kv) == 2,
          "truncating sequence 0 to 16 frees its unshared blocks (2 left: the shared block 0, sequence 1's "
          "copy of block 1; %d)",
          kv_cache_blocks_used(kv));
    kv_seq_set_len(kv, 1, 0);
    kv_seq_set_len(kv, 0, 0);
    CHECK(kv_cache_blocks_used(kv) == 0, "emptying both sequences frees every block");
    /* the pool's limit: 3 sequences of 100 positions, 7 blocks each */
    int ok = 1;
    for (int s = 0; s < 3; s++) ok &= kv_seq_prepare(kv, s, 0, 100, &err) == EMBER_OK;
    CHECK(ok && kv_cache_blocks_used(kv) == 21, "every sequence can fill its context (21 blocks)");
    kv_cache_free(kv);
    l = layout(16, KV_Q8_0);
    l.head_dim = 40;
    CHECK(kv_cache_new(&l, &kv, &err) == EMBER_EINVAL, "q8_0 with a head size of 40 is refused: %s", err.msg);
}

/* ------------------------------------------------- blocks in parts */

/* A device for the cache's device parts: host memory, but the addresses
 * it hands out are DEV_SHIFT past the real ones, so a host dereference by
 * the cache faults instead of passing; it counts every call. */
#define DEV_SHIFT ((uintptr_t)1 << 40)
struct test_dev {
    int allocs, releases, copies, reads, writes;
    size_t bytes;
};
static uint8_t *real(const void *dev_addr) { return (uint8_t *)((uintptr_t)dev_addr - DEV_SHIFT); }
static void *dev_alloc(void *ctx, size_t bytes) {
    struct test_dev *d = ctx;
    uint8_t *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) return NULL;
    memset(p, 0xa5, bytes);
    d->allocs++;
    d->bytes += bytes;
    return (void *)((uintptr_t)p + DEV_SHIFT);
}
static void dev_release(void *ctx, void *p) {
    ((struct test_dev *)ctx)->releases++;
    free(real(p));
}
static void dev_copy(void *ctx, void *dst, const void *src, size_t n) {
    ((struct test_dev *)ctx)->copies++;
    memcpy(real(dst), real(src), n);
}
static void dev_read(void *ctx, void *host_dst, const void *src, size_t n) {
    ((struct test_dev *)ctx)->reads++;
    memcpy(host_dst, real(src), n);
}
static void dev_write(void *ctx, void *dst, const void *host_src, size_t n) {
    ((struct test_dev *)ctx)->writes++;
    memcpy(real(dst), host_src, n);
}

/* Layer l's bytes of block b of a view, as the host reaches them. */
static uint8_t *layer_bytes_at(const struct kv_view *v, int b, bool dev) {
    uint8_t *p = kv_view_k(v, b, 0);
    return dev ? real(p) : p;
}

/* Fill layer l of every block of seq with a byte naming (tag, layer, block),
 * in both caches. */
static void fill(struct kv_cache *kv, struct kv_cache *ref, int seq, int tag, const bool *dev, size_t lb) {
    for (int l = 0; l < kv_cache_layout(kv)->n_layer; l++) {
        struct kv_view v = kv_cache_view(kv, l, seq), r = kv_cache_view(ref, l, seq);
        for (int b = 0; b < kv_seq_blocks(kv, seq); b++) {
            memset(layer_bytes_at(&v, b, dev[l]), tag * 64 + l * 8 + b, lb);
            memset(layer_bytes_at(&r, b, false), tag * 64 + l * 8 + b, lb);
        }
    }
}

/* Whether seq holds the same bytes in both caches, every layer and block. */
static bool same(const struct kv_cache *kv, const struct kv_cache *ref, int seq, const bool *dev, size_t lb) {
    bool ok = kv_seq_blocks(kv, seq) == kv_seq_blocks(ref, seq);
    for (int l = 0; ok && l < kv_cache_layout(kv)->n_layer; l++) {
        struct kv_view v = kv_cache_view(kv, l, seq), r = kv_cache_view(ref, l, seq);
        for (int b = 0; ok && b < kv_seq_blocks(kv, seq); b++)
            ok = !memcmp(layer_bytes_at(&v, b, dev[l]), layer_bytes_at(&r, b, false), lb);
    }
    return ok;
}

struct membuf {
    uint8_t *p;
    size_t n, cap, at;
};
static bool buf_write(void *ctx, void *src, size_t n) {
    struct membuf *m = ctx;
    if (m->n + n > m->cap) return false;
    memcpy(m->p + m->n, src, n);
    m->n += n;
    return true;
}
static bool buf_read(void *ctx, void *dst, size_t n) {
    struct membuf *m = ctx;
    if (m->at + n > m->n) return false;
    memcpy(dst, m->p + m->at, n);
    m->at += n;
    return true;
}

static void test_parts(void) {
    struct ember_err err = {0};
    struct test_dev d = {0};
    const struct kv_mem mem = {&d, dev_alloc, dev_release, dev_copy, dev_read, dev_write};
    const struct kv_mem *where[4] = {NULL, NULL, &mem, &mem};
    const bool dev[4] = {false, false, true, true};
    struct kv_layout l = layout(4, KV_F32), lh;
    l.n_layer = 4;
    l.n_ctx = 40;
    lh = l;
    l.layer_mem = where;
    struct kv_cache *kv = NULL, *ref = NULL;
    CHECK(kv_cache_new(&l, &kv, &err) == EMBER_OK && kv_cache_new(&lh, &ref, &err) == EMBER_OK,
          "a cache in two parts (layers 0-1 host, 2-3 device) %s", err.msg);
    if (!kv || !ref) return;
    size_t lb = kv_cache_block_bytes(kv) / 4;
    CHECK(kv_cache_block_bytes(kv) == kv_cache_block_bytes(ref) && kv_cache_layout(kv)->layer_mem == NULL,
          "a block's bytes do not depend on where its layers live (%zu)", kv_cache_block_bytes(kv));
    bool ok = kv_seq_prepare(kv, 0, 0, 10, &err) == EMBER_OK && kv_seq_prepare(ref, 0, 0, 10, &err) == EMBER_OK;
    kv_seq_set_len(kv, 0, 10);
    kv_seq_set_len(ref, 0, 10);
    fill(kv, ref, 0, 1, dev, lb);
    CHECK(ok && d.allocs == 1 && d.bytes == KV_POOL_CHUNK * 2 * lb &&
              kv_cache_bytes_allocated(kv) == 2 * d.bytes,
          "3 blocks: one device chunk of %d blocks' layers 2-3, the host holds only layers 0-1 (%zu of %zu bytes)",
          KV_POOL_CHUNK, kv_cache_bytes_allocated(kv) - d.bytes, kv_cache_bytes_allocated(kv));
    struct kv_view v0 = kv_cache_view(kv, 3, 0), h0 = kv_cache_view(kv, 1, 0);
    CHECK((uintptr_t)v0.blocks[1] > DEV_SHIFT && v0.k_off == lb && h0.k_off == lb && v0.blocks != h0.blocks,
          "a view's blocks are in its layer's memory, its offset counts from its part's first layer");
    /* share 6 positions (blocks 0, 1), then write position 6: copy block 1 */
    kv_seq_share(kv, 1, 0, 6);
    kv_seq_share(ref, 1, 0, 6);
    ok = kv_seq_prepare(kv, 1, 6, 2, &err) == EMBER_OK && kv_seq_prepare(ref, 1, 6, 2, &err) == EMBER_OK;
    CHECK(ok && d.copies == 1 && same(kv, ref, 1, dev, lb) &&
              kv_cache_view(kv, 2, 1).blocks[1] != kv_cache_view(kv, 2, 0).blocks[1] &&
              kv_cache_view(kv, 2, 1).blocks[0] == kv_cache_view(kv, 2, 0).blocks[0],
          "copy on write copies the device part through kv_mem (%d copy) and the host part, block 0 stays shared",
          d.copies);
    kv_seq_set_len(kv, 1, 8);
    kv_seq_set_len(ref, 1, 8);
    fill(kv, ref, 1, 2, dev, lb);
    CHECK(same(kv, ref, 0, dev, lb) && same(kv, ref, 1, dev, lb),
          "writing the copy leaves sequence 0 as it was in both parts");
    kv_seq_swap(kv, 0, 1);
    kv_seq_swap(ref, 0, 1);
    CHECK(same(kv, ref, 0, dev, lb) && same(kv, ref, 1, dev, lb) && kv_seq_len(kv, 0) == 8,
          "swap exchanges the tables of every part");
    /* export is the all-host cache's bytes; import puts them back in parts */
    struct membuf a = {malloc(1 << 16), 0, 1 << 16, 0}, b = {malloc(1 << 16), 0, 1 << 16, 0};
    if (!a.p || !b.p) {
        free(a.p);
        free(b.p);
        kv_cache_free(kv);
        kv_cache_free(ref);
        return;
    }
    ok = kv_seq_export(kv, 1, 10, buf_write, &a, &err) == EMBER_OK &&
         kv_seq_export(ref, 1, 10, buf_write, &b, &err) == EMBER_OK;
    CHECK(ok && a.n == b.n && a.n == 3 * kv_cache_block_bytes(kv) && !memcmp(a.p, b.p, a.n) && d.reads == 3,
          "export of 3 blocks: the same %zu bytes as an all-host cache, device parts read through kv_mem", a.n);
    ok = ok && kv_seq_import(kv, 2, 10, buf_read, &b, &err) == EMBER_OK;
    b.at = 0;
    ok = ok && kv_seq_import(ref, 2, 10, buf_read, &b, &err) == EMBER_OK;
    CHECK(ok && same(kv, ref, 2, dev, lb) && d.writes == 3 && kv_seq_len(kv, 2) == 10,
          "import into the parted cache holds what the all-host one holds (device parts written through kv_mem)");
    a.n = a.at = 0;
    ok = kv_seq_export(kv, 2, 10, buf_write, &a, &err) == EMBER_OK;
    CHECK(ok && a.n == b.n && !memcmp(a.p, b.p, a.n), "export after import gives the bytes back");
    b.n = kv_cache_block_bytes(kv) + kv_cache_block_bytes(kv) / 2; /* cut inside block 1's device part */
    b.at = 0;
    CHECK(kv_seq_import(kv, 2, 10, buf_read, &b, &err) == EMBER_EIO && kv_seq_len(kv, 2) == 0,
          "a truncated file leaves the sequence empty: %s", err.msg);
    free(a.p);
    free(b.p);
    kv_seq_set_len(kv, 0, 4);
    kv_seq_set_len(kv, 1, 0);
    CHECK(kv_cache_blocks_used(kv) == 1, "truncation frees blocks in every part (1 left)");
    kv_cache_free(kv);
    kv_cache_free(ref);
    CHECK(d.releases == d.allocs, "every device chunk released (%d of %d)", d.releases, d.allocs);
    /* more than 4 runs of memory is refused */
    const struct kv_mem *zig[6] = {NULL, &mem, NULL, &mem, NULL, &mem};
    l.n_layer = 6;
    l.layer_mem = zig;
    CHECK(kv_cache_new(&l, &kv, &err) == EMBER_EINVAL, "6 runs of memory are refused: %s", err.msg);
}

/* Attention of 2*nq query rows through a cache of the given block size and
 * type: positions len-nq .. len-1 of sequence 1, then the same positions
 * of sequence 0 (holding the same keys and values) in the same batch, so
 * a tile of rows meets a change of sequence. Against float64 attention
 * over the same keys and values; returns the largest absolute error (the
 * values are N(0,1)). NH query heads over NKV KV heads. */
static double paged_vs_contiguous(struct ember_backend *be, int len, int nq, int block, enum kv_type t,
                                  int NH, int NKV, int HD, int window, float scale) {
    struct ember_err err = {0};
    struct kv_layout l = {.n_layer = 1, .n_head_kv = NKV, .head_dim = HD, .n_ctx = len, .n_seq = 2,
                          .block_size = block, .type_k = kv_type_ember(t), .type_v = kv_type_ember(t)};
    struct kv_cache *kv = NULL;
    struct backend_ctx *c = NULL;
    struct backend_ctx_params bp = {.n_threads = 2, .max_rows = 2 * len, .max_width = HD * NH, .n_head = NH,
                                    .max_pos = len, .head_dim = HD, .kv_block = block};
    size_t kvn = (size_t)len * NKV * HD, qn = (size_t)2 * nq * NH * HD;
    float *k = malloc(kvn * sizeof *k), *v = malloc(kvn * sizeof *v), *q = malloc(qn * sizeof *q),
          *out = malloc(qn * sizeof *out);
    int32_t *pos = malloc((size_t)3 * len * sizeof *pos), *seq = calloc((size_t)3 * len, sizeof *seq);
    double worst = INFINITY;
    if (kv_cache_new(&l, &kv, &err) || be->ops->ctx_new(be, &bp, &c, &err) || !k || !v || !q || !out || !pos ||
        !seq)
        goto done;
    for (size_t i = 0; i < kvn; i++) k[i] = rng_gauss(), v[i] = rng_gauss();
    for (size_t i = 0; i < qn; i++) q[i] = rng_gauss();
    for (int i = 0; i < len; i++) pos[i] = pos[len + i] = i, seq[i] = 1, seq[len + i] = 0;
    if (kv_seq_prepare(kv, 1, 0, len, &err) || kv_seq_prepare(kv, 0, 0, len, &err)) goto done;
    struct kv_view views[2] = {kv_cache_view(kv, 0, 0), kv_cache_view(kv, 0, 1)};
    /* positions in two calls: the second starts inside a block */
    int third = len / 3;
    for (int s = 0; s < 2; s++) {
        be_store_kv(c, views, k, v, pos + s * len, seq + s * len, third, NKV, HD);
        be_store_kv(c, views, k + (size_t)third * NKV * HD, v + (size_t)third * NKV * HD,
                    pos + s * len + third, seq + s * len + third, len - third, NKV, HD);
    }
    /* the batch: the last nq rows of sequence 1, then of sequence 0 */
    int32_t *bpos = pos + len, *bseq = seq + len - nq;
    for (int i = 0; i < nq; i++) bpos[i] = bpos[nq + i] = len - nq + i;
    for (int i = 0; i < 2 * nq; i++) bseq[i] = i < nq;
    struct attn_args aa = {.q = q, .out = out, .kv = views, .pos = bpos, .seq = bseq, .n = 2 * nq,
                           .n_head = NH, .n_head_kv = NKV, .head_dim = HD, .window = window,
                           .scale = scale};
    be_attention(c, &aa);
    worst = 0;
    double *s = malloc((size_t)len * sizeof *s);
    for (int i = 0; s && i < 2 * nq; i++) {
        int p = len - nq + i % nq;
        for (int h = 0; h < NH; h++) {
            const float *qi = q + ((size_t)i * NH + h) * HD;
            int g = h / (NH / NKV);
            double mx = -INFINITY, sum = 0;
            int lo = window > 0 && p - window + 1 > 0 ? p - window + 1 : 0;
            for (int t = lo; t <= p; t++) {
                double d = 0;
                for (int e = 0; e < HD; e++) d += (double)qi[e] * k[((size_t)t * NKV + g) * HD + e];
                s[t] = d * (scale > 0 ? scale : 1.0 / sqrt((double)HD));
                mx = fmax(mx, s[t]);
            }
            for (int t = lo; t <= p; t++) sum += s[t] = exp(s[t] - mx);
            for (int e = 0; e < HD; e++) {
                double o = 0;
                for (int t = lo; t <= p; t++) o += s[t] / sum * v[((size_t)t * NKV + g) * HD + e];
                worst = fmax(worst, fabs(o - out[((size_t)i * NH + h) * HD + e]));
            }
        }
    }
    free(s);
done:
    if (c) c->ops->ctx_free(c);
    kv_cache_free(kv);
    free(k), free(v), free(q), free(out), free(pos), free(seq);
    return worst;
}

static void test_attention(void) {
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    CHECK(test_backend(&be, &err) == EMBER_OK, "backend %s", err.msg);
    if (!be) return;
    /* values are N(0,1): outputs are averages of them, errors absolute */
    static const struct {
        enum kv_type t;
        double tol;
    } types[] = {{KV_F32, 2e-5}, {KV_F16, 5e-3}, {KV_Q8_0, 5e-2}};
    static const int lens[] = {1, 2, 15, 16, 17, 33, 100, 257};
    static const int blocks[] = {1, 3, 16, 32, 300};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        double worst = 0;
        int runs = 0;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++) {
                /* a few rows, 4 heads over 2 (tiles of many rows); every
                 * row, 14 heads over 2 (GQA groups of 7, as Qwen2.5) */
                int nq = lens[li] < 5 ? lens[li] : 5;
                worst = fmax(worst, paged_vs_contiguous(be, lens[li], nq, blocks[bi], types[ti].t, 4, 2, 64, 0, 0));
                worst = fmax(worst, paged_vs_contiguous(be, lens[li], lens[li], blocks[bi], types[ti].t, 14, 2, 64, 0, 0));
                runs += 2;
                if (types[ti].t == KV_Q8_0) continue;
                /* stories260K's shape: 8 heads of 8 over 4 */
                worst = fmax(worst, paged_vs_contiguous(be, lens[li], lens[li], blocks[bi], types[ti].t, 8, 4, 8, 0, 0));
                runs++;
            }
        CHECK(worst <= types[ti].tol,
              "%s cache: paged attention = contiguous float64 attention over %d batches, lengths x block sizes x head groups (max abs err %.2e, tol %.0e)",
              kv_type_name(types[ti].t), runs, worst, types[ti].tol);
    }
    /* sliding windows (of 1, shorter than a block, a block and longer,
     * longer than the sequence) and a scale of the model's: every row of
     * a prefill, so tiles start inside, at and before the window */
    static const int windows[] = {1, 5, 16, 40, 300};
    double worst = 0;
    int runs = 0;
    for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; bi++, runs += 2) {
                int L = lens[li], B = blocks[bi], W = windows[wi];
                worst = fmax(worst, paged_vs_contiguous(be, L, L, B, KV_F32, 8, 4, 8, W, 0));
                worst = fmax(worst, paged_vs_contiguous(be, L, L < 5 ? L : 5, B, KV_F32, 4, 2, 64, W, 0.0625f));
            }
    CHECK(worst <= 2e-5,
          "f32 cache: sliding-window attention (windows 1..300) with and without a model scale = float64 reference over %d batches (max abs err %.2e, tol 2e-05)",
          runs, worst);
    ember_backend_free(be);
}

int main(void) {
    test_pool();
    test_tables();
    test_parts();
    test_attention();
    return CHECK_DONE();
}
