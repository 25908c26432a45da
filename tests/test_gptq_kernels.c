/*
 * test_gptq_kernels.c — every kernel set's GPTQ matrix kernel (cpu_kernels.h
 * mul_mat_gptq) against quant/'s scalar reference gptq_mul_mat_ref, on
 * random matrices: INT4 and INT8; group sizes 32, 64, 128 and -1 (one
 * group); act-order (a random permutation in g_idx) and contiguous groups;
 * zeros stored minus one and as is; input counts that are and are not a
 * multiple of the values per word (172: a padded last word); output counts
 * with and without a remainder past the vector width; bands that start
 * inside the matrix; 1 to 9 activation columns. A kernel may keep the
 * activations in float or quantize them to int8 per 32 inputs (d =
 * max|x|/127, codes rounded to nearest: avx512's VNNI kernel); each
 * output must match the reference on the float activations, or on those
 * int8 activations decoded, within 1e-5 of sum |w x| (fused multiply-adds and
 * integer sums are the only difference), and the outputs outside the band
 * must stay untouched. The line says how many cases matched through
 * int8. A hand-made 2x8 INT4 matrix checks the reference itself against
 * values worked out here, and gptq_dequant_row (the fast row ember convert
 * uses) must equal the reference's rows bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_isa.h"
#include "cpu_kernels.h"
#include "quant.h"
#include "rng.h"

#define TOL 1e-5

struct gmat {
    struct gptq_matrix m;
    int32_t *qw, *qz, *gi;
    uint16_t *sc;
};

static void make(struct gmat *g, int bits, int64_t n_in, int64_t n_out, int64_t gs, bool act,
                 int zero_add) {
    int pf = 32 / bits;
    int64_t gsz = gs > 0 ? gs : n_in, ng = (n_in + gsz - 1) / gsz;
    int64_t rows = (n_in + pf - 1) / pf, zc = (n_out + pf - 1) / pf;
    g->qw = malloc((size_t)(rows * n_out) * 4);
    g->qz = malloc((size_t)(ng * zc) * 4);
    g->sc = malloc((size_t)(ng * n_out) * 2);
    g->gi = malloc((size_t)n_in * 4);
    for (int64_t i = 0; i < rows * n_out; i++) g->qw[i] = (int32_t)(uint32_t)rng_next();
    for (int64_t i = 0; i < ng * zc; i++) g->qz[i] = (int32_t)(uint32_t)rng_next();
    for (int64_t i = 0; i < ng * n_out; i++)
        g->sc[i] = quant_f32_to_f16((float)(0.001 + 0.05 * rng_uniform()));
    for (int64_t i = 0; i < n_in; i++) g->gi[i] = (int32_t)(i / gsz);
    for (int64_t i = n_in - 1; act && i > 0; i--) { /* shuffle: act-order */
        int64_t j = (int64_t)(rng_next() % (uint64_t)(i + 1));
        int32_t t = g->gi[i];
        g->gi[i] = g->gi[j];
        g->gi[j] = t;
    }
    g->m = (struct gptq_matrix){{bits, zero_add, gsz, ng}, n_in, n_out, g->qw, g->sc, g->qz,
                                act ? g->gi : NULL};
}

static void unmake(struct gmat *g) {
    free(g->qw);
    free(g->qz);
    free(g->sc);
    free(g->gi);
}

/* x (n values) through int8 per 32: what an int8-activation kernel sees. */
static void int8_round_trip(const float *x, int64_t n, float *out) {
    for (int64_t b = 0; b < n; b += 32) {
        int64_t k = n - b < 32 ? n - b : 32;
        float amax = 0;
        for (int64_t i = 0; i < k; i++) amax = fmaxf(amax, fabsf(x[b + i]));
        float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
        for (int64_t i = 0; i < k; i++) out[b + i] = d * (float)lrintf(x[b + i] * id);
    }
}

/* sum |w x| of output o, column x: the scale of the rounding error. */
static double bound(const struct gptq_matrix *m, int64_t o, const float *x, float *row) {
    gptq_dequant_row_ref(m, o, row);
    double s = 0;
    for (int64_t i = 0; i < m->n_in; i++) s += fabs((double)row[i] * x[i]);
    return s;
}

static void check_kernel(const char *isa, const struct type_kernels *k, int bits) {
    static const int64_t ins[] = {64, 172, 256, 512};
    static const int64_t outs[] = {64, 172, 20};
    static const int64_t gss[] = {32, 64, 128, -1};
    int cases = 0, via_int8 = 0;
    double worst = 0;
    int clobbered = 0;
    for (size_t a = 0; a < sizeof ins / sizeof ins[0]; a++)
        for (size_t b = 0; b < sizeof outs / sizeof outs[0]; b++)
            for (size_t c = 0; c < sizeof gss / sizeof gss[0]; c++)
                for (int act = 0; act < 2; act++) {
                    struct gmat g;
                    int64_t n_in = ins[a], n_out = outs[b];
                    make(&g, bits, n_in, n_out, gss[c], act, (int)(rng_next() & 1));
                    int n_cols = 1 + (int)(rng_next() % 9);
                    int64_t o0 = rng_next() & 1 ? 16 : 0;
                    if (o0 >= n_out) o0 = 0;
                    size_t xs = (size_t)n_in + 3, os = (size_t)n_out + 5;
                    float *x = calloc(xs * (size_t)n_cols, sizeof *x);
                    float *want = malloc(os * (size_t)n_cols * sizeof *want);
                    float *want8 = malloc(os * (size_t)n_cols * sizeof *want8);
                    float *x8 = malloc(xs * (size_t)n_cols * sizeof *x8);
                    float *got = malloc(os * (size_t)n_cols * sizeof *got);
                    float *row = malloc((size_t)n_in * sizeof *row);
                    for (size_t i = 0; i < xs * (size_t)n_cols; i++) x[i] = rng_gauss();
                    for (size_t i = 0; i < os * (size_t)n_cols; i++) want[i] = got[i] = -777.0f;
                    gptq_mul_mat_ref(&g.m, o0, n_out, x, xs, n_cols, want, os);
                    for (int cc = 0; cc < n_cols; cc++)
                        int8_round_trip(x + (size_t)cc * xs, n_in, x8 + (size_t)cc * xs);
                    gptq_mul_mat_ref(&g.m, o0, n_out, x8, xs, n_cols, want8, os);
                    k->mul_mat_gptq(&g.m, o0, n_out, x, xs, n_cols, got, os);
                    double ef = 0, e8 = 0; /* worst error; outputs matching int8 */
                    for (int cc = 0; cc < n_cols; cc++)
                        for (int64_t o = 0; o < (int64_t)os; o++) {
                            size_t at = (size_t)cc * os + (size_t)o;
                            if (o < o0 || o >= n_out) {
                                clobbered += got[at] != -777.0f;
                                continue;
                            }
                            double s = bound(&g.m, o, x + (size_t)cc * xs, row);
                            double e = fabs((double)got[at] - want[at]) / (s > 0 ? s : 1);
                            double e2 = fabs((double)got[at] - want8[at]) / (s > 0 ? s : 1);
                            /* per output: a kernel may finish a band's
                             * last few outputs another way */
                            double eo = e2 < e ? e2 : e;
                            if (!(eo <= ef)) ef = eo; /* NaN counts as worst */
                            e8 += e2 < e;
                        }
                    via_int8 += e8 > 0;
                    if (!(ef <= worst)) worst = ef;
                    free(x);
                    free(x8);
                    free(want8);
                    free(want);
                    free(got);
                    free(row);
                    unmake(&g);
                    cases++;
                }
    CHECK(worst <= TOL && !clobbered,
          "%s GPTQ%d: %d random matrices (%d matched through int8 activations), max "
          "|err|/sum|wx| = %.2e (tol %.0e), %d outputs outside the band written",
          isa, bits, cases, via_int8, worst, TOL, clobbered);
}

static bool same(const float *a, const float *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* The reference on a matrix worked out by hand: 8 inputs, 2 outputs,
 * groups of 4, INT4, zeros stored minus one. */
static void check_reference_by_hand(void) {
    /* q[i][o] = i + o; packed along inputs: word o holds q[0..7][o] */
    int32_t qw[2];
    for (int o = 0; o < 2; o++) {
        uint32_t w = 0;
        for (int i = 0; i < 8; i++) w |= (uint32_t)(i + o) << (4 * i);
        qw[o] = (int32_t)w;
    }
    /* zeros (stored) 1 and 2 in group 0, 3 and 0 in group 1 -> z = 2, 3, 4, 1 */
    int32_t qz[2] = {1 | 2 << 4, 3 | 0 << 4};
    uint16_t sc[4] = {quant_f32_to_f16(0.5f), quant_f32_to_f16(0.25f), quant_f32_to_f16(2.0f),
                      quant_f32_to_f16(1.0f)};
    struct gptq_matrix m = {{4, 1, 4, 2}, 8, 2, qw, sc, qz, NULL};
    float row[8], x[8] = {1, 1, 1, 1, 1, 1, 1, 1}, y[2];
    gptq_dequant_row_ref(&m, 1, row);
    /* output 1: group 0 (z 3, s .25): q 1..4 -> -.5 -.25 0 .25; group 1 (z 1, s 1): q 5..8 -> 4..7 */
    static const float want1[8] = {-0.5f, -0.25f, 0, 0.25f, 4, 5, 6, 7};
    CHECK(same(row, want1, 8), "reference dequant of a hand-made INT4 row");
    gptq_mul_mat_ref(&m, 0, 2, x, 8, 1, y, 2);
    /* output 0: group 0 (z 2, s .5): q 0..3 -> -1 -.5 0 .5; group 1 (z 4, s 2): q 4..7 -> 0 2 4 6 */
    CHECK(y[0] == 11.0f && y[1] == 21.5f, "reference product by hand: %g %g (want 11, 21.5)", y[0],
          y[1]);
    int32_t g_idx[8] = {1, 0, 1, 0, 1, 0, 1, 0}; /* act-order: alternate groups */
    m.g_idx = g_idx;
    gptq_dequant_row_ref(&m, 0, row);
    static const float want0[8] = {(0 - 4) * 2.0f, (1 - 2) * 0.5f, (2 - 4) * 2.0f, (3 - 2) * 0.5f,
                                   (4 - 4) * 2.0f, (5 - 2) * 0.5f, (6 - 4) * 2.0f, (7 - 2) * 0.5f};
    CHECK(same(row, want0, 8), "reference dequant through g_idx");
}

/* gptq_dequant_row (ember convert's) equals the reference bit for bit on
 * every row of every shape the kernels are checked on. */
static void check_dequant_row(void) {
    static const int64_t ins[] = {64, 172, 256, 512};
    static const int64_t gss[] = {32, 64, 128, -1};
    int cases = 0, bad = 0;
    for (int bits = 4; bits <= 8; bits += 4)
        for (size_t a = 0; a < sizeof ins / sizeof ins[0]; a++)
            for (size_t c = 0; c < sizeof gss / sizeof gss[0]; c++)
                for (int act = 0; act < 2; act++) {
                    struct gmat g;
                    make(&g, bits, ins[a], 20, gss[c], act, (int)(rng_next() & 1));
                    float *want = malloc((size_t)ins[a] * sizeof *want), *got = malloc((size_t)ins[a] * sizeof *got);
                    float *st = malloc((size_t)g.m.l.n_groups * sizeof *st);
                    int *zt = malloc((size_t)g.m.l.n_groups * sizeof *zt);
                    for (int64_t o = 0; o < g.m.n_out; o++) {
                        gptq_dequant_row_ref(&g.m, o, want);
                        gptq_dequant_row(&g.m, o, got, st, zt);
                        bad += memcmp(want, got, (size_t)ins[a] * sizeof *got) != 0;
                    }
                    cases++;
                    free(want), free(got), free(st), free(zt);
                    unmake(&g);
                }
    CHECK(!bad, "gptq_dequant_row: %d matrices (INT4/INT8, groups 32..-1, act-order), every row equal to the "
                "reference bit for bit (%d rows differ)", cases, bad);
}

int main(void) {
    rng_state = 0x9e7;
    check_reference_by_hand();
    check_dequant_row();
    for (int i = 0; i < cpu_isa_table_len; i++) {
        const struct cpu_isa_entry *e = &cpu_isa_table[i];
        if (!cpu_isa_supported(e->isa)) {
            SKIP("%s: not supported by this CPU or build", cpu_isa_name(e->isa));
            continue;
        }
        const struct cpu_kernels *tab = cpu_kernels_for(e->isa);
        for (int bits = 4; bits <= 8; bits += 4) {
            const struct type_kernels *k =
                cpu_type_kernels(tab, bits == 4 ? EMBER_TYPE_GPTQ4 : EMBER_TYPE_GPTQ8);
            CHECK(k && k->mul_mat_gptq, "%s GPTQ%d: a kernel", cpu_isa_name(e->isa), bits);
            if (k && k->mul_mat_gptq) check_kernel(cpu_isa_name(e->isa), k, bits);
        }
    }
    return CHECK_DONE();
}
