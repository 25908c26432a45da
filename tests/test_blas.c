/*
 * test_blas.c — the CPU backend's OpenBLAS route (backends/cpu/blas.c) of
 * a `make BLAS=1` build: F32 and F16 matrices times batches of at least
 * CPU_BLAS_MIN_ROWS rows, one matrix or several as one job, against a
 * double-precision product of the same (F16-exact) weights, on random
 * inputs of shapes that are not multiples of the 256-row bands, the SIMD
 * widths or the threshold. Tolerance: a float dot of n terms is within
 * n * FLT_EPSILON * sum |w_i x_i| of the exact value (the classic forward
 * error bound), so each output is held to that. The F16 checks also show
 * the route was taken: ember's own F16 kernels round the activations to
 * F16, an error hundreds of times that bound.
 *
 * Also: the outputs do not depend on the thread count (each comes from
 * one sgemm of a fixed band), the device string says BLAS is in use, and
 * the scalar set, the oracle of every other, keeps BLAS off. Where
 * OpenBLAS picked pre-AVX2 kernels (and ember so leaves it unused), the
 * test runs itself again with OPENBLAS_CORETYPE=Haswell. Any build
 * without BLAS=1 prints one SKIP line.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cpu_impl.h"
#include "engine.h"
#include "gguf.h"
#include "model.h"
#include "options.h"
#include "rng.h"

#define MAX_ROWS 100
#define MAX_WIDTH 1100

/* The whole-model check: a prompt of N_PROMPT tokens (one batch, so every
 * F32/F16 product goes through sgemm) against the same tokens one at a
 * time (ember's kernels), then N_GREEDY greedy tokens after each. Logit
 * tolerance: test_model_logits.c's 1e-4 for F32, whose two paths differ
 * only in summation order; F16 weights also differ in the activations,
 * which ember's kernels round to F16 and sgemm keeps in F32, so 3e-2 as
 * that test's F16 cache. */
#define N_PROMPT 48
#define N_GREEDY 24
#define MODEL_TOL_F32 1e-4
#define MODEL_TOL_F16 3e-2

/* A random matrix of `type` (F32 or F16) and its values as doubles. */
struct mat {
    struct tensor t;
    void *data;
    double *ref; /* [n_out][n_in], exactly what the tensor holds */
};

static bool mat_new(struct mat *m, int type, int64_t n_in, int64_t n_out) {
    size_t es = type == EMBER_TYPE_F16 ? 2 : 4, count = (size_t)(n_in * n_out);
    m->data = malloc(count * es);
    m->ref = malloc(count * sizeof *m->ref);
    m->t = (struct tensor){.type = type, .n_in = n_in, .n_out = n_out,
                           .row_bytes = (size_t)n_in * es, .n_parts = 1, .part = {m->data}};
    if (!m->data || !m->ref) return false;
    for (size_t i = 0; i < count; i++) {
        float v = rng_gauss();
        if (type == EMBER_TYPE_F16) {
            uint16_t h = quant_f32_to_f16(v);
            ((uint16_t *)m->data)[i] = h;
            m->ref[i] = quant_f16_to_f32(h);
        } else {
            ((float *)m->data)[i] = v;
            m->ref[i] = v;
        }
    }
    return true;
}

static void mat_free(struct mat *m) {
    free(m->data);
    free(m->ref);
}

/* The worst |got - exact| over the bound n_in * FLT_EPSILON * sum |w x|
 * (<= 1 passes) of out = W x for n rows of x. */
static double worst_ratio(const struct mat *m, const float *x, int n, const float *out) {
    int64_t k = m->t.n_in, no = m->t.n_out;
    double worst = 0;
    for (int i = 0; i < n; i++)
        for (int64_t r = 0; r < no; r++) {
            double s = 0, mag = 0;
            for (int64_t e = 0; e < k; e++) {
                double p = m->ref[r * k + e] * x[(size_t)i * (size_t)k + (size_t)e];
                s += p;
                mag += fabs(p);
            }
            double bound = (double)k * FLT_EPSILON * mag + 1e-30;
            worst = fmax(worst, fabs(out[(size_t)i * (size_t)no + (size_t)r] - s) / bound);
        }
    return worst;
}

static struct backend_ctx *ctx_for(struct ember_backend *be, int n_threads) {
    struct ember_err err = {0};
    struct backend_ctx *c = NULL;
    struct backend_ctx_params p = {.n_threads = n_threads, .max_rows = MAX_ROWS,
                                   .max_width = MAX_WIDTH, .n_head = 1, .max_pos = 1,
                                   .head_dim = 64, .kv_block = 16};
    CHECK(be->ops->ctx_new(be, &p, &c, &err) == EMBER_OK, "context of %d threads %s", n_threads,
          err.msg);
    return c;
}

static float *random_rows(int n, int64_t k) {
    float *x = malloc((size_t)n * (size_t)k * sizeof *x);
    for (size_t i = 0; x && i < (size_t)n * (size_t)k; i++) x[i] = rng_gauss();
    return x;
}

/* One matrix per shape, each type, against the exact product; then the
 * same with one thread, which must match bit for bit. */
static void check_shapes(struct backend_ctx *c2, struct backend_ctx *c1) {
    static const struct { int64_t n_in, n_out; int n; } shapes[] = {
        {64, 256, 32}, {96, 300, 33}, {257, 517, 47}, {1000, 130, 64}, {1088, 129, 100},
        {48, 1, 40},
    };
    static const int types[] = {EMBER_TYPE_F32, EMBER_TYPE_F16};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t t = 0; t < 2; t++) {
            struct mat m;
            int n = shapes[s].n;
            float *x = random_rows(n, shapes[s].n_in);
            size_t no = (size_t)n * (size_t)shapes[s].n_out;
            float *o2 = calloc(no, sizeof *o2), *o1 = calloc(no, sizeof *o1);
            if (mat_new(&m, types[t], shapes[s].n_in, shapes[s].n_out) && x && o2 && o1) {
                be_matmul(c2, o2, &m.t, x, n);
                be_matmul(c1, o1, &m.t, x, n);
                double r = worst_ratio(&m, x, n, o2);
                CHECK(r <= 1.0, "blas %s %lldx%lld times %d rows: worst error %.2g of the bound",
                      quant_type_name(types[t]), (long long)shapes[s].n_out,
                      (long long)shapes[s].n_in, n, r);
                CHECK(!memcmp(o1, o2, no * sizeof *o1),
                      "blas %s %lldx%lld times %d rows: 1 and 2 threads agree bit for bit",
                      quant_type_name(types[t]), (long long)shapes[s].n_out,
                      (long long)shapes[s].n_in, n);
            }
            mat_free(&m);
            free(x);
            free(o2);
            free(o1);
        }
}

/* q, k, v of mixed types and heights as one matmul_many job. */
static void check_many(struct backend_ctx *c) {
    enum { K = 200, N = 37 };
    static const int64_t heights[3] = {300, 40, 513};
    static const int types[3] = {EMBER_TYPE_F16, EMBER_TYPE_F32, EMBER_TYPE_F16};
    struct mat m[3];
    float *out[3] = {0};
    const struct tensor *w[3];
    float *x = random_rows(N, K);
    bool ok = x != NULL;
    for (int i = 0; i < 3; i++) {
        ok &= mat_new(&m[i], types[i], K, heights[i]);
        out[i] = calloc((size_t)N * (size_t)heights[i], sizeof(float));
        ok &= out[i] != NULL;
        w[i] = &m[i].t;
    }
    if (ok) {
        be_matmul_many(c, 3, out, w, x, N);
        double r = 0;
        for (int i = 0; i < 3; i++) r = fmax(r, worst_ratio(&m[i], x, N, out[i]));
        CHECK(r <= 1.0, "blas F16/F32/F16 as one job (300, 40, 513 rows of %d) times %d rows: "
              "worst error %.2g of the bound", K, N, r);
    }
    for (int i = 0; i < 3; i++) {
        mat_free(&m[i]);
        free(out[i]);
    }
    free(x);
}

/* The default set names OpenBLAS; the scalar set does not use it. */
static void check_devices(struct ember_backend *be) {
    CHECK(strstr(be->ops->device(be), "+openblas") != NULL, "blas device string \"%s\"",
          be->ops->device(be));
    struct ember_options o;
    struct ember_err err = {0};
    struct ember_backend *sb = NULL;
    tool_options_init(&o);
    o.cpu_isa = "scalar";
    CHECK(ember_backend_new(&o, &sb, &err) == EMBER_OK && !strcmp(sb->ops->device(sb), "scalar"),
          "blas: the scalar set stays without it (\"%s\")", sb ? sb->ops->device(sb) : err.msg);
    ember_backend_free(sb);
}

/* The greedy continuation of n_gen tokens after the prompt's last
 * logits (last), one token at a time, into ids. */
static void greedy(struct model_ctx *c, const float *last, int nv, int pos, int32_t *ids,
                   int n_gen, float *scratch) {
    struct ember_err err = {0};
    for (int g = 0; g < n_gen; g++) {
        int best = 0;
        for (int v = 1; v < nv; v++)
            if (last[v] > last[best]) best = v;
        ids[g] = best;
        if (test_eval(c, &ids[g], 1, pos + g, false, scratch, &err)) return;
        last = scratch;
    }
}

/* A prompt's logits as one batch, or token by token; then its greedy
 * continuation. logits: [N_PROMPT][nv]. */
static bool run_prompt(const struct model *m, bool batch, float *logits, int32_t *ids) {
    struct ember_err err = {0};
    struct model_ctx *c = NULL;
    int nv = model_get_info(m)->n_vocab;
    int32_t tokens[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++) tokens[i] = i ? 3 + (int32_t)(i * 37 % (nv - 3)) : 1;
    float *scratch = malloc((size_t)nv * sizeof *scratch);
    bool ok = scratch && test_ctx_kv(m, 128, 2, KV_F32, KV_F32, 0, &c, &err) == EMBER_OK;
    for (int i = 0; ok && i < (batch ? 1 : N_PROMPT); i++)
        ok = test_eval(c, tokens + i, batch ? N_PROMPT : 1, i, true, logits + (size_t)i * nv,
                       &err) == EMBER_OK;
    if (ok) greedy(c, logits + (size_t)(N_PROMPT - 1) * nv, nv, N_PROMPT, ids, N_GREEDY, scratch);
    CHECK(ok, "blas model: %s %s", batch ? "batch" : "token by token", err.msg);
    model_ctx_free(c);
    free(scratch);
    return ok;
}

/* stories260K F32 and F16: the batched prompt's logits and greedy text
 * match the token-by-token ones. */
static void check_model(struct ember_backend *be, const char *path, double tol) {
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    struct model *m = NULL;
    CHECK(gguf_open(path, &f, &err) == EMBER_OK && test_load(f, be, &m, &err) == EMBER_OK,
          "blas model: load %s %s", path, err.msg);
    size_t nv = m ? (size_t)model_get_info(m)->n_vocab : 0;
    float *lb = calloc(N_PROMPT * nv + 1, sizeof *lb), *lt = calloc(N_PROMPT * nv + 1, sizeof *lt);
    int32_t gb[N_GREEDY] = {0}, gt[N_GREEDY] = {0};
    if (m && lb && lt && run_prompt(m, true, lb, gb) && run_prompt(m, false, lt, gt)) {
        double d = 0;
        for (size_t i = 0; i < N_PROMPT * nv; i++) d = fmax(d, fabs((double)lb[i] - lt[i]));
        CHECK(d <= tol, "blas model %s: %d-token batch logits within %.0e of token by token "
              "(max abs diff %.2e)", path, N_PROMPT, tol, d);
        CHECK(!memcmp(gb, gt, sizeof gb), "blas model %s: the %d greedy tokens after it agree",
              path, N_GREEDY);
    }
    free(lb);
    free(lt);
    model_free(m);
    gguf_close(f);
}

/* OpenBLAS chose kernels too old for ember to use (a release older than
 * the CPU): the test runs itself again on its AVX2 ones, which every CPU
 * of an x86 SIMD set has. Returns only when it could not. */
static void rerun_on_haswell(char **argv, const char *device) {
    if (getenv("OPENBLAS_CORETYPE")) return;
    printf("# %s: running again with OPENBLAS_CORETYPE=Haswell\n", device);
    fflush(stdout);
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv) {
    (void)argc;
    if (!cpu_blas_built()) {
        SKIP("blas: built without BLAS=1");
        return 0;
    }
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    enum ember_status st = test_backend(&be, &err);
    if (!st && strstr(be->ops->device(be), "unused")) rerun_on_haswell(argv, be->ops->device(be));
    CHECK(st == EMBER_OK, "backend %s", err.msg);
    if (!be) return CHECK_DONE();
    if (!strcmp(be->ops->device(be), "scalar")) { /* no SIMD set here (or EMBER_ISA=scalar) */
        SKIP("blas: the kernel set here is scalar, which keeps BLAS off");
        ember_backend_free(be);
        return CHECK_DONE();
    }
    check_devices(be);
    struct backend_ctx *c2 = ctx_for(be, 2), *c1 = ctx_for(be, 1);
    if (c2 && c1) {
        check_shapes(c2, c1);
        check_many(c2);
    }
    check_model(be, "tests/data/models/stories260K.gguf", MODEL_TOL_F32);
    check_model(be, "tests/data/models/stories260K-F16.gguf", MODEL_TOL_F16);
    if (c2) be->ops->ctx_free(c2);
    if (c1) be->ops->ctx_free(c1);
    ember_backend_free(be);
    return CHECK_DONE();
}
