/*
 * test_quant_isa.c — every instruction-set kernel against the scalar `_ref`
 * kernels, for every type of quant/'s traits table and every kernel set this
 * CPU (and build) supports; the sets it cannot run are printed as SKIP.
 *
 * The test only uses the generic tables: the scalar set's (quant/'s
 * references) and, for each set of cpu_isa_table, that set's own table
 * (cpu_kernels.h), so each set is tested on its own and a type a set does
 * not cover is (trivially) its reference. New types and kernels are
 * covered as soon as they are in the table.
 *
 * Per (set, type) it checks, printing one ok-line per op with the worst
 * error seen:
 *   quantize  byte-identical to the reference (activation formats feed the
 *             integer dots, which need the very same codes): random blocks
 *             of varied scale, zero blocks, exact rounding ties, and for the
 *             float formats NaNs, infinities, subnormals and overflow;
 *   dequant   bit-identical, on quantized and on random-byte blocks; only
 *             NaN payloads may differ (any NaN matches any NaN);
 *   dot       against the reference on odd and even block counts, with
 *             weights both quantized and random bytes;
 *   mul_mat   every shape of 1..33 rows by 1..33 columns against reference
 *             dots, checking that nothing outside the result is written.
 * Dot tolerance: per-block integer sums are exact, F16/BF16 products are
 * exact, only the float scaling and accumulation order differ. The bound is
 *   |got - ref| <= 1e-5 * S,  S = sum over blocks b of max|w_b| * sum|x_b|,
 * with w and x the dequantized weight and activation: S bounds every partial
 * sum a kernel may form (for offset formats each of the two parts is at most
 * about twice max|w| * sum|x|). A reference result that is not finite must
 * be matched by a non-finite one (random-byte scales may be NaN or inf).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "cpu_isa.h"
#include "cpu_kernels.h"
#include "quant.h"
#include "quant_impl.h"

#define DOT_TOL 1e-5
#define MAX_N 2048      /* values per row, at most */
#define MM_MAX 33       /* mul_mat rows and columns, at most */
#define ROW_CAP (MAX_N * 4 + 64)

/* ------------------------------------------------------------------ utils */

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void *xmalloc(size_t n) {
    void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Finite test values in groups of `block`: gaussians with a random scale
 * per group (2^-8 .. 2^8), some all-zero groups, and some groups of exact
 * rounding ties for the Q8 formats (amax 127 gives d = 1, then k + 0.5). */
static void fill_finite(float *x, int64_t n, int block) {
    for (int64_t i = 0; i < n; i += block) {
        int64_t m = n - i < block ? n - i : block;
        uint64_t kind = rng_next() % 8;
        float scale = ldexpf(1.0f, (int)(rng_next() % 17) - 8);
        for (int64_t j = 0; j < m; j++) {
            if (kind == 0)
                x[i + j] = 0.0f;
            else if (kind == 1)
                x[i + j] = j == 0 ? 127.0f : (float)((int)(rng_next() % 254) - 127) + 0.5f;
            else
                x[i + j] = rng_gauss() * scale;
        }
    }
}

/* Float-format edge values: NaNs with payloads, infinities, f32 and f16
 * subnormals, f16 overflow and its boundary, halfway points of f16 and bf16
 * neighbours, negative zero; mixed with ordinary values. */
static float special_value(void) {
    switch (rng_next() % 12) {
    case 0: return from_bits(0x7f800000u | (uint32_t)(1 + rng_next() % 0x7fffff)); /* NaN */
    case 1: return from_bits(0xff800000u | (uint32_t)(1 + rng_next() % 0x7fffff));
    case 2: return rng_next() & 1 ? INFINITY : -INFINITY;
    case 3: return from_bits((uint32_t)(rng_next() % 0x800000)); /* f32 subnormal */
    case 4: return ldexpf(rng_gauss(), -20);                     /* f16 subnormal */
    case 5: return (rng_next() & 1 ? 1 : -1) * (65504.0f + (float)(rng_next() % 48));
    case 6: return from_bits((to_bits(rng_gauss()) & 0xffffe000u) | 0x1000u); /* f16 tie */
    case 7: return from_bits((to_bits(rng_gauss()) & 0xffff0000u) | 0x8000u); /* bf16 tie */
    case 8: return -0.0f;
    default: return rng_gauss() * ldexpf(1.0f, (int)(rng_next() % 41) - 20);
    }
}

static void fill_random_bytes(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rng_next();
}

/* --------------------------------------------------------- the reference */

/* One type's geometry (quant/'s traits) and one set's kernels together. */
struct test_ops {
    const char *name;
    int block_elems, block_bytes;
    struct type_kernels k;
};

/* Type t of a set's table; false when ember does not implement it. */
static bool ops_of(const struct cpu_kernels *tab, int t, struct test_ops *o) {
    const struct quant_traits *q = quant_traits_for(t);
    const struct type_kernels *k = cpu_type_kernels(tab, t);
    if (!q || !k) return false;
    *o = (struct test_ops){q->name, q->block_elems, q->block_bytes, *k};
    return true;
}

static struct test_ops ref_ops[EMBER_TYPE_COUNT]; /* the scalar set: quant/'s references */

static void snapshot_reference(void) {
    const struct cpu_kernels *ref = cpu_kernels_for(CPU_ISA_SCALAR);
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) ops_of(ref, t, &ref_ops[t]);
}

/* Row lengths to test: block counts 1, 2, 3, 5, 8, 33 (within MAX_N), and
 * for the one-value formats lengths around the vector widths. */
static int test_lengths(int block_elems, int64_t *out) {
    static const int blocks[] = {1, 2, 3, 5, 8, 33};
    static const int floats[] = {1, 5, 8, 15, 16, 17, 31, 33, 67, 333, 1001};
    int k = 0;
    if (block_elems == 1) {
        for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++) out[k++] = floats[i];
    } else {
        for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
            if ((int64_t)blocks[i] * block_elems <= MAX_N) out[k++] = (int64_t)blocks[i] * block_elems;
    }
    return k;
}

/* -------------------------------------------------------------- quantize */

static void check_quantize(const char *isa, int t, const struct test_ops *q) {
    const struct test_ops *r = &ref_ops[t];
    if (!q->k.quantize) return;
    float *src = xmalloc(MAX_N * sizeof(float));
    uint8_t *a = xmalloc(ROW_CAP), *b = xmalloc(ROW_CAP);
    int64_t lens[16];
    int nl = test_lengths(q->block_elems, lens);
    long bad = 0, total = 0;
    for (int trial = 0; trial < 20; trial++)
        for (int l = 0; l < nl; l++) {
            int64_t n = lens[l];
            fill_finite(src, n, q->block_elems == 1 ? 8 : q->block_elems);
            if (q->block_elems == 1 && trial % 2)
                for (int64_t i = 0; i < n; i++)
                    if (rng_next() % 4 == 0) src[i] = special_value();
            size_t bytes = quant_row_bytes(t, n);
            memset(a, 0xa5, bytes);
            memset(b, 0x5a, bytes);
            r->k.quantize(src, a, n);
            q->k.quantize(src, b, n);
            for (size_t i = 0; i < bytes; i++) bad += a[i] != b[i];
            total += (long)bytes;
        }
    CHECK(bad == 0, "%s %s quantize: %ld of %ld bytes differ from the reference%s", isa,
          q->name, bad, total, q->k.quantize == r->k.quantize ? " (reference kernel)" : "");
    free(src);
    free(a);
    free(b);
}

/* --------------------------------------------------------------- dequant */

static int same_float(float x, float y) {
    return (isnan(x) && isnan(y)) || to_bits(x) == to_bits(y);
}

static void check_dequant(const char *isa, int t, const struct test_ops *q) {
    const struct test_ops *r = &ref_ops[t];
    float *src = xmalloc(MAX_N * sizeof(float));
    float *a = xmalloc(MAX_N * sizeof(float)), *b = xmalloc(MAX_N * sizeof(float));
    uint8_t *blocks = xmalloc(ROW_CAP);
    int64_t lens[16];
    int nl = test_lengths(q->block_elems, lens);
    long bad = 0, total = 0;
    for (int trial = 0; trial < 20; trial++)
        for (int l = 0; l < nl; l++) {
            int64_t n = lens[l];
            if (trial % 2 || !r->k.quantize) {
                fill_random_bytes(blocks, quant_row_bytes(t, n));
            } else {
                fill_finite(src, n, q->block_elems == 1 ? 8 : q->block_elems);
                r->k.quantize(src, blocks, n);
            }
            r->k.dequant(blocks, a, n);
            q->k.dequant(blocks, b, n);
            for (int64_t i = 0; i < n; i++) bad += !same_float(a[i], b[i]);
            total += (long)n;
        }
    CHECK(bad == 0, "%s %s dequant: %ld of %ld values differ from the reference%s", isa,
          q->name, bad, total, q->k.dequant == r->k.dequant ? " (reference kernel)" : "");
    free(src);
    free(a);
    free(b);
    free(blocks);
}

/* ------------------------------------------------------- dot and mul_mat */

/* S of the header: sum over blocks of max|w| * sum|x| (NaNs skipped). */
static double dot_bound(const float *w, const float *x, int64_t n, int block) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i += block) {
        double wmax = 0.0, xsum = 0.0;
        for (int j = 0; j < block; j++) {
            if (fabs(w[i + j]) > wmax) wmax = fabs(w[i + j]);
            if (fabs(x[i + j]) > 0) xsum += fabs(x[i + j]);
        }
        s += wmax * xsum;
    }
    return s;
}

/* How far got is from want, as a fraction of the bound S (0 = equal).
 * Non-finite results must match in kind; returns INFINITY when they don't. */
static double dot_error(float got, float want, double bound) {
    if (!isfinite(want) || !isfinite(bound)) return isfinite(got) ? INFINITY : 0.0;
    if (!isfinite(got)) return INFINITY;
    double e = fabs((double)got - (double)want);
    if (e == 0.0) return 0.0;
    return bound > 0.0 ? e / bound : INFINITY;
}

/* One weight row of type t: quantized random values, or (block formats
 * only) random bytes, which reach every code and scale the format has. */
static void make_weight_row(int t, int64_t n, int random_bytes, float *tmp, uint8_t *row) {
    const struct test_ops *r = &ref_ops[t];
    if (random_bytes && r->block_elems > 1) {
        fill_random_bytes(row, quant_row_bytes(t, n));
        return;
    }
    fill_finite(tmp, n, r->block_elems == 1 ? 8 : r->block_elems);
    r->k.quantize(tmp, row, n);
}

/* An activation row in the dot's format, made by the reference quantizer. */
static void make_vec_row(int vt, int64_t n, float *tmp, uint8_t *row) {
    fill_finite(tmp, n, 32);
    ref_ops[vt].k.quantize(tmp, row, n);
}

static void check_dot(const char *isa, int t, const struct test_ops *q) {
    const struct test_ops *r = &ref_ops[t];
    const int vt = q->k.vec_type;
    float *tmp = xmalloc(MAX_N * sizeof(float));
    float *wf = xmalloc(MAX_N * sizeof(float)), *xf = xmalloc(MAX_N * sizeof(float));
    uint8_t *w = xmalloc(ROW_CAP), *x = xmalloc(ROW_CAP);
    int64_t lens[16];
    int nl = test_lengths(q->block_elems, lens);
    double worst = 0.0;
    int fails = 0;
    for (int trial = 0; trial < 40; trial++)
        for (int l = 0; l < nl; l++) {
            int64_t n = lens[l];
            make_weight_row(t, n, trial % 2, tmp, w);
            make_vec_row(vt, n, tmp, x);
            r->k.dequant(w, wf, n);
            ref_ops[vt].k.dequant(x, xf, n);
            double bound = dot_bound(wf, xf, n, q->block_elems);
            double e = dot_error(q->k.dot(w, x, n), r->k.dot(w, x, n), bound);
            if (e > worst) worst = e;
            if (e > DOT_TOL && fails++ < 3)
                printf("# %s %s dot n=%lld: got %.9g want %.9g (bound %.3g)\n", isa, q->name,
                       (long long)n, q->k.dot(w, x, n), r->k.dot(w, x, n), bound);
        }
    CHECK(worst <= DOT_TOL, "%s %s dot: max |err|/S = %.3g (tol %.0e)%s", isa, q->name, worst,
          DOT_TOL, q->k.dot == r->k.dot ? " (reference kernel)" : "");
    free(tmp);
    free(wf);
    free(xf);
    free(w);
    free(x);
}

/* mul_mat of every shape up to mm_rows x mm_cols over one set of rows and
 * columns of n values, against reference dots computed once. The output
 * has a stride wider than the rows and is pre-filled with a canary that
 * must survive outside the result. */
static void check_mul_mat_n(const char *isa, int t, const struct test_ops *q, int64_t n,
                            int mm_rows, int mm_cols) {
    const struct test_ops *r = &ref_ops[t];
    const int vt = q->k.vec_type;
    const size_t row_bytes = quant_row_bytes(t, n);
    const size_t w_stride = row_bytes + 4; /* keeps 4-byte alignment, not 32 */
    const size_t x_stride = (quant_row_bytes(vt, n) + 63) / 64 * 64 + 64;
    const size_t out_stride = MM_MAX + 3;
    uint8_t *w = xmalloc(w_stride * MM_MAX), *x = xmalloc(x_stride * MM_MAX);
    float *tmp = xmalloc((size_t)n * sizeof(float));
    float *wf = xmalloc((size_t)n * MM_MAX * sizeof(float));
    float *xf = xmalloc((size_t)n * MM_MAX * sizeof(float));
    float *out = xmalloc(out_stride * MM_MAX * sizeof(float));
    static float want[MM_MAX][MM_MAX];
    static double bound[MM_MAX][MM_MAX];
    const float canary = from_bits(0x7fc0dead);

    for (int i = 0; i < MM_MAX; i++) {
        make_weight_row(t, n, i % 3 == 2, tmp, w + (size_t)i * w_stride);
        r->k.dequant(w + (size_t)i * w_stride, wf + (size_t)i * n, n);
        make_vec_row(vt, n, tmp, x + (size_t)i * x_stride);
        ref_ops[vt].k.dequant(x + (size_t)i * x_stride, xf + (size_t)i * n, n);
    }
    for (int c = 0; c < MM_MAX; c++)
        for (int i = 0; i < MM_MAX; i++) {
            want[c][i] = r->k.dot(w + (size_t)i * w_stride, x + (size_t)c * x_stride, n);
            bound[c][i] = dot_bound(wf + (size_t)i * n, xf + (size_t)c * n, n, q->block_elems);
        }

    /* variant 0: mul_mat on the rows as stored; with a packed layout also
     * 1: mul_mat_packed from row 0 and 2: from the band at row PACK_ROWS */
    uint8_t *packed = NULL;
    if (q->k.pack && q->k.mul_mat_packed) {
        packed = xmalloc(q->k.pack_bytes(MM_MAX, n));
        q->k.pack(n, w, w_stride, MM_MAX, packed);
    }
    static const char *const what[3] = {"mul_mat", "mul_mat_packed", "mul_mat_packed (band at row 8)"};
    for (int v = 0; v < (packed ? 3 : 1); v++) {
        const int r0 = v == 2 ? PACK_ROWS : 0;
        double worst = 0.0;
        long clobbered = 0;
        int fails = 0;
        for (int rows = 1; rows <= mm_rows && r0 + rows <= MM_MAX; rows++)
            for (int cols = 1; cols <= mm_cols; cols++) {
                for (size_t i = 0; i < out_stride * MM_MAX; i++) out[i] = canary;
                if (v == 0)
                    q->k.mul_mat(n, w, w_stride, rows, x, x_stride, cols, out, out_stride);
                else
                    q->k.mul_mat_packed(n, packed + (r0 ? q->k.pack_bytes(PACK_ROWS, n) : 0), rows, x,
                                      x_stride, cols, out, out_stride);
                for (int c = 0; c < MM_MAX; c++)
                    for (size_t i = 0; i < out_stride; i++) {
                        float got = out[(size_t)c * out_stride + i];
                        if (c < cols && i < (size_t)rows) {
                            double e = dot_error(got, want[c][i + r0], bound[c][i + r0]);
                            if (e > worst) worst = e;
                            if (e > DOT_TOL && fails++ < 3)
                                printf("# %s %s %s %dx%d [%d][%zu]: got %.9g want %.9g\n", isa,
                                       q->name, what[v], rows, cols, c, i, got, want[c][i + r0]);
                        } else {
                            clobbered += to_bits(got) != to_bits(canary);
                        }
                    }
            }
        CHECK(worst <= DOT_TOL && clobbered == 0,
              "%s %s %s: 1..%d x 1..%d, n=%lld, max |err|/S = %.3g (tol %.0e), %ld writes "
              "outside the result",
              isa, q->name, what[v], mm_rows, mm_cols, (long long)n, worst, DOT_TOL, clobbered);
    }
    free(packed);
    free(w);
    free(x);
    free(tmp);
    free(wf);
    free(xf);
    free(out);
}

/* Short rows at every shape up to MM_MAX x MM_MAX; for the 32-wide block
 * types also rows of 517 blocks, longer than the chunks in which the panel
 * kernels walk K (64 blocks, 512 for packed bands, 256 for the decode
 * kernels), at fewer shapes. */
static void check_mul_mat(const char *isa, int t, const struct test_ops *q) {
    const int64_t n = q->block_elems == 1 ? 67 : q->block_elems * (q->block_elems > 32 ? 3 : 7);
    check_mul_mat_n(isa, t, q, n, MM_MAX, MM_MAX);
    /* long rows: several K chunks of the packed kernels (512 blocks of 32,
     * 64 super-blocks of Q4_K), with a short last one */
    if (q->block_elems == 32) check_mul_mat_n(isa, t, q, 32 * 517, 17, 9);
    if (q->block_elems == 256) check_mul_mat_n(isa, t, q, 256 * 131, 17, 9);
}

/* ------------------------------------------------------------------- main */

static void check_set(const struct cpu_isa_entry *e) {
    const char *isa = cpu_isa_name(e->isa);
    const struct cpu_kernels *tab = cpu_kernels_for(e->isa);
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        struct test_ops ops, *q = &ops;
        if (!ops_of(tab, t, q)) continue;
        check_quantize(isa, t, q);
        check_dequant(isa, t, q);
        if (q->k.dot) check_dot(isa, t, q);
        if (q->k.mul_mat) check_mul_mat(isa, t, q);
    }
}

int main(void) {
    rng_state = 0x5eed;
    snapshot_reference();
    printf("# scalar is the reference itself: nothing to compare\n");
    for (int i = 0; i < cpu_isa_table_len; i++) {
        const struct cpu_isa_entry *e = &cpu_isa_table[i];
        if (!cpu_isa_supported(e->isa)) {
            SKIP("%s: not supported by this CPU or build", cpu_isa_name(e->isa));
            continue;
        }
        check_set(e);
    }
    return CHECK_DONE();
}
