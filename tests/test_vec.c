/*
 * test_vec.c — every float vector kernel set this CPU supports against the
 * scalar reference (vec_ref) on random inputs of odd lengths 1..300.
 * Bounds: dot/mad/scale within 1e-5 relative to the sum of |terms| (only the
 * summation order differs); exp-based kernels within 4e-6 relative
 * (polynomial exp against libm); max exact.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_features.h"
#include "cpu_kernels.h"
#include "quant.h"
#include "vec.h"

static float rnd(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return ((float)(*s >> 8) / 16777216.0f - 0.5f) * 8.0f;
}

/* mad_rows_m over m rows of y and w (every remainder of the 6- and 8-row
 * register tiles), strided as attention lays them out, against the
 * reference; nothing past each row's n may change. */
static void check_rows_m(const char *nm, const struct vec_kernels *k) {
    const struct vec_kernels *r = &vec_ref;
    enum { M = 37, ROWS = 41, W = 200, STRIDE = 211, LDY = 203, LDW = 45 };
    static float kv[ROWS * STRIDE], w[M * LDW], y0[M * LDY], y1[M * LDY];
    static uint16_t kvh[ROWS * STRIDE];
    unsigned seed = 4242;
    for (int i = 0; i < ROWS * STRIDE; i++) kv[i] = rnd(&seed);
    for (int i = 0; i < ROWS * STRIDE; i++) kvh[i] = quant_f32_to_f16(kv[i]);
    for (int i = 0; i < M * LDW; i++) w[i] = rnd(&seed);
    double err[2] = {0, 0};
    int guard = 0;
    /* under make sanitize (about 10x slower) every n to 33 (each remainder
     * of 8 and 16 lanes, twice), then wide steps: a memory check there */
    int n_dense = getenv("EMBER_SANITIZE") ? 34 : 70, n_step = getenv("EMBER_SANITIZE") ? 23 : 9;
    for (int half = 0; half < 2; half++)
        for (int n = 1; n <= W; n += (n < n_dense ? 1 : n_step))
            for (int rows = 1; rows <= ROWS; rows += (rows < 17 ? 3 : 8))
                for (int m = 1; m <= M; m += (m < 18 ? 1 : 6)) {
                    for (int i = 0; i < M * LDY; i++) y0[i] = y1[i] = rnd(&seed);
                    if (half) {
                        k->mad_rows_mh(y0, LDY, kvh, STRIDE, w, LDW, m, rows, n);
                        r->mad_rows_mh(y1, LDY, kvh, STRIDE, w, LDW, m, rows, n);
                    } else {
                        k->mad_rows_m(y0, LDY, kv, STRIDE, w, LDW, m, rows, n);
                        r->mad_rows_m(y1, LDY, kv, STRIDE, w, LDW, m, rows, n);
                    }
                    for (int i = 0; i < M * LDY; i++) {
                        int row = i / LDY, col = i % LDY;
                        if (row >= m || col >= n) {
                            guard += y0[i] != y1[i];
                            continue;
                        }
                        double mag = fabs(y1[i]);
                        for (int t = 0; t < rows; t++) {
                            float vt = half ? quant_f16_to_f32(kvh[t * STRIDE + col]) : kv[t * STRIDE + col];
                            mag += fabs(w[row * LDW + t] * vt);
                        }
                        err[half] = fmax(err[half], fabs(y0[i] - y1[i]) / (mag + 1e-30));
                    }
                }
    CHECK(err[0] <= 1e-5 && err[1] <= 1e-5 && guard == 0,
          "%s mad_rows_m, mad_rows_mh: max rel err %.2e, %.2e, %d writes outside the tile", nm, err[0],
          err[1], guard);
}

static void check_set(enum cpu_isa isa, const struct vec_kernels *k) {
    const struct vec_kernels *r = &vec_ref;
    unsigned seed = 12345;
    double e_dot = 0, e_mad = 0, e_exp = 0, e_silu = 0, e_sum = 0;
    int max_bad = 0, f16_bad = 0;
    float a[300], b[300], y0[300], y1[300];
    for (int n = 1; n <= 300; n += (n < 40 ? 1 : 13)) {
        double mag = 0;
        for (int i = 0; i < n; i++) {
            a[i] = rnd(&seed);
            b[i] = rnd(&seed);
            mag += fabs(a[i] * b[i]);
        }
        e_dot = fmax(e_dot, fabs(k->dot(a, b, n) - r->dot(a, b, n)) / (mag + 1e-30));
        for (int i = 0; i < n; i++) y0[i] = y1[i] = b[i];
        k->mad(y0, a, 0.37f, n);
        r->mad(y1, a, 0.37f, n);
        k->scale(y0, -1.7f, n);
        r->scale(y1, -1.7f, n);
        for (int i = 0; i < n; i++) e_mad = fmax(e_mad, fabs(y0[i] - y1[i]) / (fabs(y1[i]) + 1e-3));
        max_bad += k->max(a, n) != r->max(a, n);
        float m = r->max(a, n);
        for (int i = 0; i < n; i++) y0[i] = y1[i] = a[i] * 4;
        float s0 = k->exp_sub(y0, m * 4, n), s1 = r->exp_sub(y1, m * 4, n);
        e_sum = fmax(e_sum, fabs(s0 - s1) / s1);
        for (int i = 0; i < n; i++) e_exp = fmax(e_exp, fabs(y0[i] - y1[i]) / (y1[i] + 1e-30));
        for (int i = 0; i < n; i++) y0[i] = y1[i] = a[i] * (i % 5 ? 1.0f : 1e-5f);
        k->scale_f16(y0, 0.37f, n);
        r->scale_f16(y1, 0.37f, n);
        for (int i = 0; i < n; i++) { /* bit patterns, so -0 and 0 differ */
            uint32_t u0, u1;
            memcpy(&u0, &y0[i], 4);
            memcpy(&u1, &y1[i], 4);
            f16_bad += u0 != u1;
        }
        for (int i = 0; i < n; i++) y0[i] = y1[i] = a[i] * 3;
        k->silu_mul(y0, b, n);
        r->silu_mul(y1, b, n);
        for (int i = 0; i < n; i++) e_silu = fmax(e_silu, fabs(y0[i] - y1[i]) / (fabs(y1[i]) + 1e-6));
    }
    const char *nm = cpu_isa_name(isa);
    CHECK(e_dot <= 1e-5, "%s dot: max rel err %.2e", nm, e_dot);
    CHECK(e_mad <= 1e-5, "%s mad+scale: max rel err %.2e", nm, e_mad);
    CHECK(max_bad == 0, "%s max: exact", nm);
    CHECK(f16_bad == 0, "%s scale_f16: the reference's bits, subnormal halves included (%d differ)", nm, f16_bad);
    CHECK(e_exp <= 4e-6 && e_sum <= 4e-6, "%s exp_sub: max rel err %.2e (sum %.2e)", nm, e_exp, e_sum);
    CHECK(e_silu <= 4e-6, "%s silu_mul: max rel err %.2e", nm, e_silu);
    check_rows_m(nm, k);
}

int main(void) {
    for (int i = 1; i < CPU_ISA_COUNT; i++) {
        const struct cpu_kernels *tab = cpu_kernels_for((enum cpu_isa)i);
        const struct vec_kernels *k = tab ? &tab->vec : NULL;
        if (k) check_set((enum cpu_isa)i, k);
        else printf("(vec kernels: %s not supported here, skipped)\n", cpu_isa_name((enum cpu_isa)i));
    }
    return CHECK_DONE();
}
