/*
 * vec_ref.c — scalar reference float kernels (vec.h). Plain loops with
 * libm's expf: the oracle for the SIMD versions.
 */
#include <math.h>

#include "quant.h"
#include "vec.h"

static float dot_ref(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void mad_ref(float *y, const float *x, float a, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static void scale_ref(float *y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] *= a;
}

static void scale_f16_ref(float *y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] = quant_f16_to_f32(quant_f32_to_f16(y[i] * a));
}

static float exp_sub_ref(float *x, float max, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    return sum;
}

static float max_ref(const float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

static void silu_mul_ref(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* Each y value a chain of fused multiply-adds over the rows in order,
 * which is what every SIMD version computes per lane: attention's scores
 * and outputs come out the same under every kernel set, so a tiny model's
 * greedy text (where an f16 rounding of a probability can flip) does not
 * part between them. */
static void mad_rows_m_ref(float *y, long ldy, const float *v, long stride, const float *w, long ldw,
                           int m, int rows, int n) {
    for (int r = 0; r < m; r++)
        for (int t = 0; t < rows; t++)
            for (int i = 0; i < n; i++) y[r * ldy + i] = fmaf(w[r * ldw + t], v[t * stride + i], y[r * ldy + i]);
}

static void mad_rows_mh_ref(float *y, long ldy, const uint16_t *v, long stride, const float *w,
                            long ldw, int m, int rows, int n) {
    for (int r = 0; r < m; r++)
        for (int t = 0; t < rows; t++)
            for (int i = 0; i < n; i++)
                y[r * ldy + i] = fmaf(w[r * ldw + t], quant_f16_to_f32(v[t * stride + i]), y[r * ldy + i]);
}

const struct vec_kernels vec_ref = VEC_KERNELS(ref);
