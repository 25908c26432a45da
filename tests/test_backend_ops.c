/*
 * test_backend_ops.c — every op of each GPU backend built in (any backend
 * but the CPU that finds a device) against the CPU backend's scalar kernel
 * set, on random inputs of several shapes including odd sizes, through
 * backend.h only (so the Vulkan and CUDA backends share it): matmul and
 * get_rows per weight type; rmsnorm, softmax, silu_mul, add, add_bias,
 * gelu_mul and scale; gather and scatter_add; rope; store_kv and
 * attention per KV type pair, with sliding windows and a score scale.
 *
 * Each check prints the op, the type and shape, the largest error
 * relative to the largest reference value (|gpu - cpu| / max|cpu|) and the
 * op's tolerance (tol[] below, with why). Without a GPU backend built in,
 * or without its device, it prints SKIP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "rng.h"

/* Tolerances, relative to the largest reference value. */
static const double TOL_EXACT = 1e-5;  /* float ops, same math; GPU exp/sqrt differ in ulps */
static const double TOL_F32_DOT = 1e-5; /* F32 weights: only the summation order differs */
/* Block types: the CPU quantizes the activations for its dot (F16 for F16,
 * Q8_0 for Q8_0/Q4_0, Q8_K for the K types) while the GPU multiplies the
 * float activations, so results differ by the activations' rounding. */
static const double TOL_F16_DOT = 2e-3;
static const double TOL_Q_DOT = 2e-2;
/* get_rows decodes the same values, but a backend may hold a type it has
 * no shader for as F16 (half an f16 ulp). */
static const double TOL_ROWS = 1e-3;
static const double TOL_ATTN = 1e-4;   /* summation order, exp in ulps */
static const double TOL_ATTN_F16 = 2e-3; /* f16 query / probability rounding may fall either way */
/* Q8_0: a code rounded the other way (a product off by an ulp before the
 * rounding) moves a value by a step of 1/127 of its block's range */
static const double TOL_ATTN_Q8 = 5e-3;

struct side {
    struct ember_backend *be;
    struct backend_ctx *c;
};

static const struct backend_ctx_params PARAMS = {.n_threads = 1, .max_rows = 64, .max_width = 1024,
                                                 .n_head = 8, .max_pos = 128, .head_dim = 64,
                                                 .kv_block = 16};

static float *randv(size_t n, float scale) {
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; v && i < n; i++) v[i] = rng_gauss() * scale;
    return v;
}

/* n floats of s's activation memory holding host[] (or zeros). */
static float *dev_in(struct side *s, const float *host, size_t n) {
    float *d = be_alloc(s->c, n * sizeof *d);
    if (d && host) be_copy_in(s->c, d, host, n * sizeof *d);
    return d;
}

static float *host_out(struct side *s, const float *dev, size_t n) {
    float *h = calloc(n, sizeof *h);
    if (h && dev) be_copy_out(s->c, h, dev, n * sizeof *h);
    return h;
}

/* max |a - b| / max |b|, and a line for the table. */
static void compare(const char *be, const char *op, const char *what, const float *got,
                    const float *ref, size_t n, double tol) {
    double err = 0, top = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (d > err || d != d) err = d;
        if (fabs(ref[i]) > top) top = fabs(ref[i]);
    }
    double rel = top > 0 ? err / top : err;
    /* an all-zero reference would pass anything: it means an op did not run */
    CHECK(rel <= tol && top > 0, "%s %-9s %-24s max err %.2e (tol %.0e)", be, op, what, rel, tol);
}

/* A weight tensor of `type` from random values (quantized by quant/). */
static struct tensor make_weight(int type, int64_t n_in, int64_t n_out, void **bytes) {
    const struct quant_traits *q = quant_traits_for(type);
    size_t rb = quant_row_bytes(type, n_in);
    uint8_t *w = malloc(rb * (size_t)n_out);
    float *v = randv((size_t)n_in, 0.5f);
    for (int64_t r = 0; r < n_out; r++) {
        for (int64_t i = 0; i < n_in; i++) v[i] = rng_gauss() * 0.5f;
        if (type == EMBER_TYPE_F32) memcpy(w + (size_t)r * rb, v, rb);
        else q->quantize(v, w + (size_t)r * rb, n_in);
    }
    free(v);
    *bytes = w;
    return (struct tensor){.type = type, .n_in = n_in, .n_out = n_out, .row_bytes = rb, .n_parts = 1,
                           .part = {w}};
}

static struct backend_weights *prepare(struct side *s, struct tensor *t) {
    struct backend_weights *w = NULL;
    struct ember_err err;
    struct tensor *list[1] = {t};
    s->be->ops->prepare_weights(s->be, "test", list, 1, &w, &err);
    return w;
}

/* ----------------------------------------------------------- matmul, rows */

static void test_matmul(const char *name, struct side *g, struct side *c, int type, int64_t n_in,
                        int64_t n_out, int n) {
    void *bytes;
    struct tensor base = make_weight(type, n_in, n_out, &bytes);
    struct tensor tg = base, tc = base;
    struct backend_weights *wg = prepare(g, &tg), *wc = prepare(c, &tc);
    float *x = randv((size_t)n * (size_t)n_in, 1.0f);
    float *res[2];
    struct side *sides[2] = {g, c};
    struct tensor *ts[2] = {&tg, &tc};
    for (int k = 0; k < 2; k++) {
        float *dx = dev_in(sides[k], x, (size_t)n * (size_t)n_in);
        float *dout = dev_in(sides[k], NULL, (size_t)n * (size_t)n_out);
        be_matmul(sides[k]->c, dout, ts[k], dx, n);
        res[k] = host_out(sides[k], dout, (size_t)n * (size_t)n_out);
    }
    char what[64];
    snprintf(what, sizeof what, "%s %lldx%lld n=%d", quant_type_name(type), (long long)n_out,
             (long long)n_in, n);
    double tol = type == EMBER_TYPE_F32 ? TOL_F32_DOT : type == EMBER_TYPE_F16 ? TOL_F16_DOT : TOL_Q_DOT;
    compare(name, "matmul", what, res[0], res[1], (size_t)n * (size_t)n_out, tol);
    /* get_rows of the same table: decoding only, exact but for the type's f16 scales */
    int32_t rows[5] = {0, (int32_t)n_out - 1, (int32_t)(n_out / 2), 1 % (int32_t)n_out, 0};
    for (int k = 0; k < 2; k++) {
        float *dout = dev_in(sides[k], NULL, 5 * (size_t)n_in);
        be_get_rows(sides[k]->c, dout, ts[k], rows, 5);
        free(res[k]);
        res[k] = host_out(sides[k], dout, 5 * (size_t)n_in);
    }
    snprintf(what, sizeof what, "%s %lldx%lld", quant_type_name(type), (long long)n_out, (long long)n_in);
    compare(name, "get_rows", what, res[0], res[1], 5 * (size_t)n_in,
            TOL_ROWS);
    g->be->ops->release_weights(wg);
    c->be->ops->release_weights(wc);
    free(res[0]), free(res[1]), free(x), free(bytes);
}

/* ------------------------------------------------------------ float ops */

/* A 1-row F32 tensor (a norm's weights, a bias, freq_factors), prepared. */
static struct tensor vec_tensor(float *v, int64_t n) {
    return (struct tensor){.type = EMBER_TYPE_F32, .n_in = n, .n_out = 1, .row_bytes = (size_t)n * 4,
                           .n_parts = 1, .part = {v}};
}

enum fop { F_RMSNORM, F_SOFTMAX, F_SILU, F_ADD, F_BIAS, F_GELU, F_SCALE };
static const char *const fop_names[] = {"rmsnorm", "softmax", "silu_mul", "add", "add_bias",
                                        "gelu_mul", "scale"};

static void run_fop(struct side *s, enum fop op, const float *x, const float *y, float *wv, int n,
                    int width, float *out) {
    size_t len = (size_t)n * (size_t)width;
    struct tensor t = vec_tensor(wv, width);
    struct backend_weights *w = prepare(s, &t);
    float *dx = dev_in(s, x, len), *dy = dev_in(s, y, len), *dres = dx;
    switch (op) {
    case F_RMSNORM:
        dres = dev_in(s, NULL, len);
        be_rmsnorm(s->c, dres, dx, &t, n, width, 1e-5f);
        break;
    case F_SOFTMAX: s->c->ops->softmax(s->c, dx, (int)len); break;
    case F_SILU: be_silu_mul(s->c, dx, dy, (int)len); break;
    case F_ADD: be_add(s->c, dx, dy, n, width); break;
    case F_BIAS: be_add_bias(s->c, dx, &t, n, width); break;
    case F_GELU: be_gelu_mul(s->c, dx, dy, (int)len); break;
    case F_SCALE: be_scale(s->c, dx, -0.37f, (int)len); break;
    }
    be_copy_out(s->c, out, dres, len * sizeof *out);
    s->be->ops->release_weights(w);
}

static void test_fop(const char *name, struct side *g, struct side *c, enum fop op, int n, int width) {
    size_t len = (size_t)n * (size_t)width;
    float *x = randv(len, 2.0f), *y = randv(len, 1.0f), *wv = randv((size_t)width, 1.0f);
    float *a = calloc(len, sizeof *a), *b = calloc(len, sizeof *b);
    if (op == F_GELU && len >= 3) x[0] = -30.0f, x[1] = 30.0f, x[2] = 0.0f; /* tanh's tails, zero */
    run_fop(g, op, x, y, wv, n, width, a);
    run_fop(c, op, x, y, wv, n, width, b);
    char what[64];
    snprintf(what, sizeof what, "F32 %dx%d", n, width);
    compare(name, fop_names[op], what, a, b, len, TOL_EXACT);
    free(x), free(y), free(wv), free(a), free(b);
}

/* ------------------------------------------------------ gather, scatter_add */

/* k of n_rows rows of width, picked out of order (rows[i] = (n_rows - 1 -
 * 3 i) mod n_rows: distinct while 3 and n_rows are coprime, k <= n_rows):
 * gather must copy them exactly; scatter_add adds w[i] times y row i back
 * into them, leaving the other rows as they were. */
static void test_rows(const char *name, struct side *g, struct side *c, int n_rows, int k, int width) {
    size_t len = (size_t)n_rows * (size_t)width, klen = (size_t)k * (size_t)width;
    float *x = randv(len, 1.0f), *y = randv(klen, 1.0f), *w = randv((size_t)k, 1.0f);
    int32_t *rows = malloc((size_t)k * sizeof *rows);
    for (int i = 0; i < k; i++) rows[i] = (int32_t)(((n_rows - 1 - 3 * i) % n_rows + n_rows) % n_rows);
    float *gat[2], *sca[2];
    struct side *sides[2] = {g, c};
    for (int s = 0; s < 2; s++) {
        float *dx = dev_in(sides[s], x, len), *dy = dev_in(sides[s], y, klen);
        float *dout = dev_in(sides[s], NULL, klen);
        be_gather(sides[s]->c, dout, dx, rows, k, width);
        gat[s] = host_out(sides[s], dout, klen);
        be_scatter_add(sides[s]->c, dx, dy, rows, w, k, width);
        sca[s] = host_out(sides[s], dx, len);
    }
    char what[64];
    snprintf(what, sizeof what, "F32 %d of %dx%d", k, n_rows, width);
    compare(name, "gather", what, gat[0], gat[1], klen, 0.0);
    compare(name, "scatter+", what, sca[0], sca[1], len, TOL_EXACT);
    /* and the CPU's own: gather's rows are x's, scatter_add's others untouched */
    bool same = true;
    for (int i = 0; i < k; i++)
        same = same && !memcmp(gat[0] + (size_t)i * width, x + (size_t)rows[i] * width,
                               (size_t)width * sizeof *x);
    for (int r = 0; r < n_rows; r++) {
        bool hit = false;
        for (int i = 0; i < k; i++) hit = hit || rows[i] == r;
        if (!hit) same = same && !memcmp(sca[0] + (size_t)r * width, x + (size_t)r * width,
                                         (size_t)width * sizeof *x);
    }
    CHECK(same, "%s gather/scatter_add %s: gathered rows are x's, rows not scattered to unchanged",
          name, what);
    free(gat[0]), free(gat[1]), free(sca[0]), free(sca[1]), free(x), free(y), free(w), free(rows);
}

/* ------------------------------------------------------------------ rope */

static void test_rope(const char *name, struct side *g, struct side *c, bool neox, float freq_scale,
                      float ext, bool factors, int n_rot) {
    enum { N = 5, HEADS = 3, HD = 64 };
    int32_t pos[N] = {0, 1, 17, 511, 4000};
    float *x = randv((size_t)N * HEADS * HD, 1.0f), *ff = randv(HD / 2, 0.0f);
    for (int i = 0; i < HD / 2; i++) ff[i] = 1.0f + (float)i * 0.25f;
    struct tensor tff = vec_tensor(ff, HD / 2);
    struct rope_params rp = {.n_rot = n_rot, .neox = neox, .freq_base = 10000.0f,
                             .freq_scale = freq_scale, .ext_factor = ext, .attn_factor = 1.0f,
                             .beta_fast = 32.0f, .beta_slow = 1.0f, .n_ctx_orig = 2048,
                             .freq_factors = factors ? &tff : NULL};
    float *res[2];
    struct side *sides[2] = {g, c};
    for (int k = 0; k < 2; k++) {
        float *dx = dev_in(sides[k], x, (size_t)N * HEADS * HD);
        be_rope(sides[k]->c, dx, N, HEADS, HD, pos, &rp);
        res[k] = host_out(sides[k], dx, (size_t)N * HEADS * HD);
    }
    char what[64];
    snprintf(what, sizeof what, "%s rot=%d fs=%.2g ext=%.1g%s", neox ? "neox" : "norm", n_rot,
             (double)freq_scale, (double)ext, factors ? " ff" : "");
    compare(name, "rope", what, res[0], res[1], (size_t)N * HEADS * HD, TOL_EXACT);
    free(res[0]), free(res[1]), free(x), free(ff);
}

/* ------------------------------------------------------------ attention */

enum { BS = 16, SEQS = 2 };

struct kv_side {
    uint8_t *blocks[SEQS][8];
    struct kv_view view[SEQS];
};

/* One layer's view shape, as kv_paged.c lays blocks out. */
static struct kv_view shape(enum ember_type tk, enum ember_type tv, int hkv, int hd, size_t *block) {
    struct kv_view v = {.type_k = tk, .type_v = tv, .block_size = BS};
    v.v_row = quant_row_bytes(tv, hd);
    v.v_head = (BS * v.v_row + 63) / 64 * 64;
    if (tk == EMBER_TYPE_Q8_0) { /* by position */
        v.k_row = quant_row_bytes(tk, hd);
        v.k_head = (BS * v.k_row + 63) / 64 * 64;
    } else { /* transposed */
        v.k_row = quant_row_bytes(tk, BS);
        v.k_head = ((size_t)hd * v.k_row + 63) / 64 * 64;
    }
    v.v_off = (size_t)hkv * v.k_head;
    *block = (size_t)hkv * (v.k_head + v.v_head);
    return v;
}

static bool kv_setup(struct side *s, struct kv_side *k, struct kv_view v, size_t block, int nb) {
    const struct kv_mem *m = s->be->ops->kv_memory(s->be);
    for (int q = 0; q < SEQS; q++) {
        k->view[q] = v;
        k->view[q].blocks = k->blocks[q];
        for (int b = 0; b < nb; b++) {
            k->blocks[q][b] = m ? m->alloc(m->ctx, block) : aligned_alloc(64, block);
            if (!k->blocks[q][b]) return false;
        }
    }
    return true;
}

static void kv_teardown(struct side *s, struct kv_side *k, int nb) {
    const struct kv_mem *m = s->be->ops->kv_memory(s->be);
    for (int q = 0; q < SEQS; q++)
        for (int b = 0; b < nb; b++) {
            if (m) m->release(m->ctx, k->blocks[q][b]);
            else free(k->blocks[q][b]);
        }
}

/* An attention variant: the sliding window and the score scale
 * (attn_args'; 0 and 0: causal over everything, 1/sqrt(head_dim)). */
struct attn_opt {
    int window;
    float scale;
};

/* Fill both sequences with store_kv (positions 0..len-1, the rows of the
 * two interleaved), then attention for a batch of rows from both. */
static void attention_on(struct side *s, struct kv_side *k, int n_head, int hkv, int hd,
                         const int32_t *len, const float *kx, const float *vx, const float *q,
                         const int32_t *apos, const int32_t *aseq, int an, struct attn_opt opt,
                         float *out) {
    int n = len[0] + len[1];
    int32_t *pos = malloc((size_t)n * sizeof *pos), *seq = malloc((size_t)n * sizeof *seq);
    int at[SEQS] = {0, 0};
    for (int i = 0; i < n; i++) {
        int q2 = (i % 2 && at[1] < len[1]) || at[0] >= len[0];
        seq[i] = q2, pos[i] = at[q2]++;
    }
    size_t kvw = (size_t)hkv * (size_t)hd, qw = (size_t)n_head * (size_t)hd;
    float *dk = dev_in(s, kx, (size_t)n * kvw), *dv = dev_in(s, vx, (size_t)n * kvw);
    be_store_kv(s->c, k->view, dk, dv, pos, seq, n, hkv, hd);
    float *dq = dev_in(s, q, (size_t)an * qw), *dout = dev_in(s, NULL, (size_t)an * qw);
    struct attn_args a = {.q = dq, .out = dout, .kv = k->view, .pos = apos, .seq = aseq,
                          .n = an, .n_head = n_head, .n_head_kv = hkv, .head_dim = hd,
                          .scale = opt.scale, .window = opt.window};
    be_attention(s->c, &a);
    be_copy_out(s->c, out, dout, (size_t)an * qw * sizeof *out);
    free(pos), free(seq);
}

static void test_attention(const char *name, struct side *g, struct side *c, enum ember_type tk,
                           enum ember_type tv, int n_head, int hkv, int hd, struct attn_opt opt) {
    if (!g->be->ops->supports(g->be, EMBER_OP_ATTENTION, tk) ||
        !g->be->ops->supports(g->be, EMBER_OP_ATTENTION, tv)) {
        SKIP("%s attention K %s V %s: not supported (the CPU keeps such caches)", name,
             quant_type_name(tk), quant_type_name(tv));
        return;
    }
    const int32_t len[SEQS] = {37, 20};
    enum { AN = 6 };
    const int32_t apos[AN] = {36, 10, 19, 0, 0, 15}, aseq[AN] = {0, 0, 1, 1, 0, 1};
    int nb = (len[0] + BS - 1) / BS;
    size_t block, kvw = (size_t)hkv * (size_t)hd, qw = (size_t)n_head * (size_t)hd;
    struct kv_view v = shape(tk, tv, hkv, hd, &block);
    struct kv_side kg = {0}, kc = {0};
    float *kx = randv((size_t)(len[0] + len[1]) * kvw, 1.0f);
    float *vx = randv((size_t)(len[0] + len[1]) * kvw, 1.0f), *q = randv(AN * qw, 1.0f);
    float *a = calloc(AN * qw, sizeof *a), *b = calloc(AN * qw, sizeof *b);
    if (kv_setup(g, &kg, v, block, nb) && kv_setup(c, &kc, v, block, nb)) {
        attention_on(g, &kg, n_head, hkv, hd, len, kx, vx, q, apos, aseq, AN, opt, a);
        attention_on(c, &kc, n_head, hkv, hd, len, kx, vx, q, apos, aseq, AN, opt, b);
        char what[80];
        int at = snprintf(what, sizeof what, "K %s V %s h=%d/%d d=%d", quant_type_name(tk),
                          quant_type_name(tv), n_head, hkv, hd);
        if (opt.window) at += snprintf(what + at, sizeof what - (size_t)at, " win=%d", opt.window);
        if (opt.scale > 0) snprintf(what + at, sizeof what - (size_t)at, " scale=%g", (double)opt.scale);
        bool f16 = tk == EMBER_TYPE_F16 || tv == EMBER_TYPE_F16;
        bool q8 = tk == EMBER_TYPE_Q8_0 || tv == EMBER_TYPE_Q8_0;
        compare(name, "attention", what, a, b, AN * qw, q8 ? TOL_ATTN_Q8 : f16 ? TOL_ATTN_F16 : TOL_ATTN);
    } else {
        CHECK(0, "%s attention: KV blocks allocated", name);
    }
    kv_teardown(g, &kg, nb);
    kv_teardown(c, &kc, nb);
    free(kx), free(vx), free(q), free(a), free(b);
}

/* ----------------------------------------------------------------- main */

static bool side_open(struct side *s, const char *backend, const char *isa) {
    struct ember_options o = {.backend = backend, .cpu_isa = isa};
    struct ember_err err;
    memset(s, 0, sizeof *s);
    if (ember_backend_new(&o, &s->be, &err)) return false;
    if (s->be->ops->ctx_new(s->be, &PARAMS, &s->c, &err)) {
        ember_backend_free(s->be);
        return false;
    }
    return true;
}

static void side_close(struct side *s) {
    if (s->c) s->be->ops->ctx_free(s->c);
    ember_backend_free(s->be);
}

static void test_backend(const char *name) {
    struct side g, c;
    struct ember_options o = {.backend = name};
    struct backend_device dev[4];
    if (!side_open(&g, name, NULL) || g.be->ops->devices(&o, dev, 4) < 1) {
        SKIP("backend ops %s: no device", name);
        if (g.be) side_close(&g);
        return;
    }
    CHECK(side_open(&c, "cpu", "scalar"), "%s: the CPU scalar reference opens", name);
    printf("# %s on %s (%s)\n", name, g.be->ops->device(g.be), dev[0].description);
    const int types[] = {EMBER_TYPE_F32, EMBER_TYPE_F16, EMBER_TYPE_Q8_0, EMBER_TYPE_Q4_0,
                         EMBER_TYPE_Q4_K, EMBER_TYPE_Q6_K, EMBER_TYPE_Q5_K, EMBER_TYPE_Q4_1};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        int t = types[i];
        if (!g.be->ops->supports(g.be, EMBER_OP_MATMUL, t)) {
            SKIP("%s matmul %s: not supported", name, quant_type_name(t));
            continue;
        }
        bool k = t == EMBER_TYPE_Q4_K || t == EMBER_TYPE_Q6_K || t == EMBER_TYPE_Q5_K;
        bool any = t == EMBER_TYPE_F32 || t == EMBER_TYPE_F16;
        test_matmul(name, &g, &c, t, k ? 256 : 64, 33, 1);
        test_matmul(name, &g, &c, t, k ? 512 : 96, 17, 3);
        test_matmul(name, &g, &c, t, k ? 256 : 160, 70, 19);
        if (any) test_matmul(name, &g, &c, t, 37, 5, 9);
    }
    for (int op = F_RMSNORM; op <= F_SCALE; op++) {
        test_fop(name, &g, &c, (enum fop)op, 1, 37);
        test_fop(name, &g, &c, (enum fop)op, 7, 288);
    }
    test_rope(name, &g, &c, false, 1.0f, 0.0f, false, 64);
    test_rope(name, &g, &c, true, 1.0f, 0.0f, false, 64);
    test_rope(name, &g, &c, true, 0.25f, 1.0f, false, 64);
    test_rope(name, &g, &c, false, 0.5f, 0.0f, true, 32);
    /* gather / scatter_add: one row, a few out of order, every row (a permutation) */
    test_rows(name, &g, &c, 7, 1, 37);
    test_rows(name, &g, &c, 37, 11, 67);
    test_rows(name, &g, &c, 20, 20, 288);
    /* Attention as the models call it, then with sliding windows (rows at
     * positions 0..36, blocks of 16): 1 (a row sees itself only), 5
     * (shorter than a block: position 36 sees 32..36, blocks 0 and 1
     * unread), 23 (across block boundaries: 36 sees 14..36), 64 (longer
     * than any sequence: the same as none), and a score scale other than
     * 1/sqrt(head_dim), alone and with a window; for every KV type pair. */
    const struct attn_opt opts[] = {{0, 0}, {1, 0}, {5, 0}, {23, 0}, {64, 0}, {0, 0.3f}, {7, 0.05f}};
    for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
        struct attn_opt op = opts[o];
        const enum ember_type kt[3] = {EMBER_TYPE_F32, EMBER_TYPE_F16, EMBER_TYPE_Q8_0};
        for (int i = 0; i < 3; i++) test_attention(name, &g, &c, kt[i], kt[i], 4, 2, 64, op);
        test_attention(name, &g, &c, EMBER_TYPE_F16, EMBER_TYPE_F32, 6, 2, 48, op);
        test_attention(name, &g, &c, EMBER_TYPE_F32, EMBER_TYPE_F16, 3, 3, 32, op);
        test_attention(name, &g, &c, EMBER_TYPE_Q8_0, EMBER_TYPE_F16, 6, 2, 96, op);
        test_attention(name, &g, &c, EMBER_TYPE_F16, EMBER_TYPE_Q8_0, 4, 1, 32, op);
    }
    side_close(&c);
    side_close(&g);
}

int main(void) {
    char list[128];
    snprintf(list, sizeof list, "%s", ember_backend_list());
    int gpus = 0;
    for (char *save = NULL, *name = strtok_r(list, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
        if (!strcmp(name, "cpu")) continue;
        gpus++;
        test_backend(name);
    }
    if (!gpus) SKIP("backend ops: no GPU backend built in (make VULKAN=1 / CUDA=1)");
    return CHECK_DONE();
}
