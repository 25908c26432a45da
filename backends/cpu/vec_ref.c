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

static void dot_rows_ref(float *s, const float *q, const float *k, long stride, int rows, int n,
                         float scale) {
    for (int t = 0; t < rows; t++) s[t] = dot_ref(q, k + t * stride, n) * scale;
}

static void mad_rows_ref(float *y, const float *v, long stride, const float *w, int rows, int n) {
    for (int t = 0; t < rows; t++) mad_ref(y, v + t * stride, w[t], n);
}

static void mad_rows_h_ref(float *y, const uint16_t *v, long stride, const float *w, int rows, int n) {
    for (int t = 0; t < rows; t++)
        for (int i = 0; i < n; i++) y[i] += w[t] * quant_f16_to_f32(v[t * stride + i]);
}

const struct vec_kernels vec_ref = VEC_KERNELS(ref);
