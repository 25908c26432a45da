/*
 * test_cuda.c — the CUDA backend (make CUDA=1) against the CPU backend,
 * op by op on random data: matmul for every type it reads natively and one
 * it dequantizes (Q5_K), for 1, 3 and 20 rows (the matvec, the small-batch
 * matvec and the tiled kernel); get_rows; rmsnorm; rope (normal, neox,
 * YaRN with freq factors); softmax, silu_mul, add, add_bias; store_kv then
 * attention over a paged cache of F32, F16 and Q8_0 blocks.
 *
 * Without the backend (a default build) or without a device (no driver,
 * no GPU: CI) it prints one SKIP line naming why and passes. Tolerances
 * are relative to the largest reference value: int8 activations and the
 * order of float sums differ from the CPU's, nothing else should.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "rng.h"

static struct ember_backend *cpu, *gpu;
static struct backend_ctx *cc, *gc;

/* ------------------------------------------------------------- helpers */

static float *rand_floats(size_t n, float scale) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = rng_gauss() * scale;
    return x;
}

/* n floats copied into device (GPU context) memory. */
static float *to_gpu(const float *h, size_t n) {
    float *d = be_alloc(gc, n * sizeof *d);
    if (d) be_copy_in(gc, d, h, n * sizeof *d);
    return d;
}

static float *from_gpu(const float *d, size_t n) {
    float *h = malloc(n * sizeof *h);
    be_copy_out(gc, h, d, n * sizeof *h);
    return h;
}

/* max |a - b| over max |b|: the error relative to the reference's scale. */
static double rel_err(const float *a, const float *b, size_t n) {
    double err = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= err)) err = d; /* NaN wins */
        if (fabs(b[i]) > scale) scale = fabs(b[i]);
    }
    return err / scale;
}

/* Drops the GPU's uploads made on first use (release_weights does): the
 * host arrays they were made from are freed, and a new one at the same
 * address must not find the old copy. */
static void flush_uploads(void) {
    struct backend_weights *w = NULL;
    struct ember_err err = {0};
    gpu->ops->prepare_weights(gpu, "flush", NULL, 0, &w, &err);
    gpu->ops->release_weights(w);
}

/* A 1-row F32 tensor (a vector) over host values. */
static struct tensor vec_tensor(const float *v, int n) {
    return (struct tensor){.type = EMBER_TYPE_F32, .n_in = n, .n_out = 1,
                           .row_bytes = (size_t)n * sizeof(float), .n_parts = 1, .part = {v}};
}

/* -------------------------------------------------------------- matmul */

static void test_matmul(int type, int n) {
    const struct quant_traits *q = quant_traits_for(type);
    int64_t n_in = 512, n_out = 100;
    float *wf = rand_floats((size_t)(n_in * n_out), 0.05f), *x = rand_floats((size_t)(n_in * n), 1.0f);
    size_t row = quant_row_bytes(type, n_in);
    uint8_t *wq = malloc(row * (size_t)n_out);
    for (int64_t r = 0; r < n_out; r++) q->quantize(wf + r * n_in, wq + (size_t)r * row, n_in);
    struct tensor t = {.type = type, .n_in = n_in, .n_out = n_out, .row_bytes = row, .n_parts = 1,
                       .part = {wq}};
    struct tensor tg = t, *tgp = &tg;
    struct backend_weights *w = NULL;
    struct ember_err err = {0};
    gpu->ops->prepare_weights(gpu, "test", &tgp, 1, &w, &err);
    float *ref = be_alloc(cc, (size_t)(n_out * n) * sizeof *ref);
    be_matmul(cc, ref, &t, x, n);
    float *xd = to_gpu(x, (size_t)(n_in * n)), *od = be_alloc(gc, (size_t)(n_out * n) * sizeof *od);
    be_matmul(gc, od, &tg, xd, n);
    float *got = from_gpu(od, (size_t)(n_out * n));
    double e = rel_err(got, ref, (size_t)(n_out * n));
    /* the CPU rounds activations to f16 for F16 weights, to int8 for the
     * block types (Q8_K blocks of 256 for the K-quants, the GPU 32s) */
    double tol = type == EMBER_TYPE_F32 ? 1e-5 : type == EMBER_TYPE_F16 ? 2e-3 : 2e-2;
    CHECK(tg.prepared && e < tol, "matmul %s n=%d: error %.2g (tolerance %.0g; %s)", q->name, n, e,
          tol, gpu->ops->weights_note(w));
    gpu->ops->release_weights(w);
    free(got), free(wf), free(x), free(wq);
}

static void test_get_rows(int type) {
    const struct quant_traits *q = quant_traits_for(type);
    int64_t n_in = 256, n_out = 10;
    float *wf = rand_floats((size_t)(n_in * n_out), 1.0f);
    size_t row = quant_row_bytes(type, n_in);
    uint8_t *wq = malloc(row * (size_t)n_out);
    for (int64_t r = 0; r < n_out; r++) q->quantize(wf + r * n_in, wq + (size_t)r * row, n_in);
    struct tensor t = {.type = type, .n_in = n_in, .n_out = n_out, .row_bytes = row, .n_parts = 1,
                       .part = {wq}};
    const int32_t rows[3] = {3, 0, 9};
    float *ref = be_alloc(cc, 3 * (size_t)n_in * sizeof *ref);
    be_get_rows(cc, ref, &t, rows, 3);
    float *od = be_alloc(gc, 3 * (size_t)n_in * sizeof *od);
    be_get_rows(gc, od, &t, rows, 3); /* unprepared: uploaded on first use */
    float *got = from_gpu(od, 3 * (size_t)n_in);
    double e = rel_err(got, ref, 3 * (size_t)n_in);
    CHECK(e < 1e-6, "get_rows %s: error %.2g", q->name, e);
    flush_uploads();
    free(got), free(wf), free(wq);
}

/* ---------------------------------------------------- the float ops */

static void test_float_ops(void) {
    int n = 3, width = 384;
    size_t len = (size_t)n * width;
    float *x = rand_floats(len, 1.0f), *y = rand_floats(len, 1.0f), *wv = rand_floats((size_t)width, 1.0f);
    struct tensor wt = vec_tensor(wv, width);
    float *a = be_alloc(cc, len * 4), *b = be_alloc(cc, len * 4);
    float *ad = to_gpu(x, len), *bd = be_alloc(gc, len * 4), *yd = to_gpu(y, len);
    memcpy(a, x, len * 4);

    be_rmsnorm(cc, b, a, &wt, n, width, 1e-5f);
    be_rmsnorm(gc, bd, ad, &wt, n, width, 1e-5f);
    float *got = from_gpu(bd, len);
    CHECK(rel_err(got, b, len) < 1e-5, "rmsnorm: error %.2g", rel_err(got, b, len));
    free(got);

    be_add(cc, a, y, n, width);
    be_add(gc, ad, yd, n, width);
    be_add_bias(cc, a, &wt, n, width);
    be_add_bias(gc, ad, &wt, n, width);
    be_silu_mul(cc, a, y, (int)len);
    be_silu_mul(gc, ad, yd, (int)len);
    got = from_gpu(ad, len);
    CHECK(rel_err(got, a, len) < 1e-5, "add, add_bias, silu_mul: error %.2g", rel_err(got, a, len));
    free(got);

    cc->ops->softmax(cc, a, width);
    gc->ops->softmax(gc, ad, width);
    got = from_gpu(ad, (size_t)width);
    CHECK(rel_err(got, a, (size_t)width) < 1e-5, "softmax: error %.2g", rel_err(got, a, (size_t)width));
    flush_uploads();
    free(got), free(x), free(y), free(wv);
}

static void test_rope(bool neox, bool yarn) {
    int n = 4, heads = 3, hd = 64;
    size_t len = (size_t)n * heads * hd;
    float *x = rand_floats(len, 1.0f), *ff = malloc(16 * sizeof *ff);
    for (int i = 0; i < 16; i++) ff[i] = 1.0f + (float)i * 0.5f;
    struct tensor fft = vec_tensor(ff, 16);
    struct rope_params rp = {.n_rot = 32, .neox = neox, .freq_base = 10000.0f, .freq_scale = 1.0f,
                             .attn_factor = 1.0f, .beta_fast = 32.0f, .beta_slow = 1.0f,
                             .n_ctx_orig = 4096};
    if (yarn) {
        rp.freq_scale = 0.25f;
        rp.ext_factor = 1.0f;
        rp.freq_factors = &fft;
    }
    const int32_t pos[4] = {0, 1, 77, 1500};
    float *a = be_alloc(cc, len * 4), *ad = to_gpu(x, len);
    memcpy(a, x, len * 4);
    be_rope(cc, a, n, heads, hd, pos, &rp);
    be_rope(gc, ad, n, heads, hd, pos, &rp);
    float *got = from_gpu(ad, len);
    /* the CPU's roundings step by step: only cosf/sinf may differ (ulps) */
    double e = rel_err(got, a, len);
    CHECK(e < 1e-5, "rope%s%s: error %.2g", neox ? " neox" : "", yarn ? " yarn+freq_factors" : "", e);
    flush_uploads();
    free(got), free(x), free(ff);
}

/* ------------------------------------------------ store_kv, attention */

/* One layer's view over nb blocks of bs positions (kv_cache.h's layout),
 * the blocks made by alloc (host memory, or the GPU's kv_memory). */
static struct kv_view make_view(int type_k, int type_v, int bs, int n_head_kv, int hd,
                                uint8_t **blocks, int nb, const struct kv_mem *mem) {
    struct kv_view v = {.type_k = type_k, .type_v = type_v, .block_size = bs, .blocks = blocks};
    size_t esz_k = type_k == EMBER_TYPE_F32 ? 4 : 2, esz_v = type_v == EMBER_TYPE_F32 ? 4 : 2;
    v.k_row = type_k == EMBER_TYPE_Q8_0 ? (size_t)hd / 32 * 34 : (size_t)bs * esz_k;
    v.k_head = type_k == EMBER_TYPE_Q8_0 ? (size_t)bs * v.k_row : (size_t)hd * v.k_row;
    v.v_row = type_v == EMBER_TYPE_Q8_0 ? (size_t)hd / 32 * 34 : (size_t)hd * esz_v;
    v.v_head = (size_t)bs * v.v_row;
    v.k_off = 0;
    v.v_off = (size_t)n_head_kv * v.k_head;
    size_t bytes = v.v_off + (size_t)n_head_kv * v.v_head;
    for (int b = 0; b < nb; b++) blocks[b] = mem ? mem->alloc(mem->ctx, bytes) : calloc(1, bytes);
    return v;
}

static void test_attention(int type_k, int type_v) {
    enum { N = 37, BS = 16, NB = 3, HEADS = 4, KVH = 2, HD = 64 };
    size_t q_len = (size_t)N * HEADS * HD, kv_len = (size_t)N * KVH * HD;
    float *q = rand_floats(q_len, 1.0f), *k = rand_floats(kv_len, 1.0f), *v = rand_floats(kv_len, 1.0f);
    int32_t pos[N], seq[N];
    for (int i = 0; i < N; i++) pos[i] = i, seq[i] = 0;
    uint8_t *hb[NB], *db[NB];
    const struct kv_mem *mem = gpu->ops->kv_memory(gpu);
    struct kv_view hv = make_view(type_k, type_v, BS, KVH, HD, hb, NB, NULL);
    struct kv_view dv = make_view(type_k, type_v, BS, KVH, HD, db, NB, mem);
    float *kc = be_alloc(cc, kv_len * 4), *vc = be_alloc(cc, kv_len * 4), *qc = be_alloc(cc, q_len * 4);
    memcpy(kc, k, kv_len * 4), memcpy(vc, v, kv_len * 4), memcpy(qc, q, q_len * 4);
    float *oc = be_alloc(cc, q_len * 4), *od = be_alloc(gc, q_len * 4);
    float *kd = to_gpu(k, kv_len), *vd = to_gpu(v, kv_len), *qd = to_gpu(q, q_len);
    be_store_kv(cc, &hv, kc, vc, pos, seq, N, KVH, HD);
    be_store_kv(gc, &dv, kd, vd, pos, seq, N, KVH, HD);
    struct attn_args a = {.q = qc, .out = oc, .kv = &hv, .pos = pos, .seq = seq, .n = N,
                          .n_head = HEADS, .n_head_kv = KVH, .head_dim = HD};
    be_attention(cc, &a);
    a.q = qd, a.out = od, a.kv = &dv;
    be_attention(gc, &a);
    float *got = from_gpu(od, q_len);
    double e = rel_err(got, oc, q_len);
    /* F16 values: the CPU rounds the probabilities to f16, the GPU not */
    double tol = type_v == EMBER_TYPE_F16 ? 2e-3 : 1e-4;
    CHECK(e < tol, "store_kv + attention, K %s V %s: error %.2g", quant_type_name(type_k),
          quant_type_name(type_v), e);
    for (int b = 0; b < NB; b++) free(hb[b]), mem->release(mem->ctx, db[b]);
    free(got), free(q), free(k), free(v);
}

/* ---------------------------------------------------------------- main */

int main(void) {
    struct ember_options o = {.backend = "cuda"};
    struct ember_err err = {0};
    if (!strstr(ember_backend_list(), "cuda")) {
        SKIP("cuda: not built in (make CUDA=1)");
        return 0;
    }
    if (ember_backend_new(&o, &gpu, &err)) {
        SKIP("cuda: %s", err.msg);
        return 0;
    }
    o.backend = "cpu";
    struct backend_ctx_params p = {.n_threads = 2, .max_rows = 64, .max_width = 1024,
                                   .n_head = 4, .max_pos = 64, .head_dim = 64, .kv_block = 16};
    if (ember_backend_new(&o, &cpu, &err) || cpu->ops->ctx_new(cpu, &p, &cc, &err) ||
        gpu->ops->ctx_new(gpu, &p, &gc, &err)) {
        CHECK(0, "contexts: %s", err.msg);
        return 1;
    }
    printf("# %s\n", gpu->ops->device(gpu));
    rng_state = 42;
    const int types[] = {EMBER_TYPE_F32, EMBER_TYPE_F16, EMBER_TYPE_Q8_0, EMBER_TYPE_Q4_0,
                         EMBER_TYPE_Q4_K, EMBER_TYPE_Q6_K, EMBER_TYPE_Q5_K};
    const int rows[] = {1, 3, 20};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++)
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) test_matmul(types[t], rows[r]);
    test_get_rows(EMBER_TYPE_F16);
    test_get_rows(EMBER_TYPE_Q4_K);
    test_get_rows(EMBER_TYPE_Q6_K);
    test_float_ops();
    test_rope(false, false);
    test_rope(true, false);
    test_rope(true, true);
    test_attention(EMBER_TYPE_F32, EMBER_TYPE_F32);
    test_attention(EMBER_TYPE_F16, EMBER_TYPE_F16);
    test_attention(EMBER_TYPE_Q8_0, EMBER_TYPE_Q8_0);
    gc->ops->ctx_free(gc);
    cc->ops->ctx_free(cc);
    ember_backend_free(gpu);
    ember_backend_free(cpu);
    return CHECK_DONE();
}
