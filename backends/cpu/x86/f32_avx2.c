/*
 * f32_avx2.c — F32 weights against F32 activations with AVX2 FMA: the dot
 * and the tiled batch product (the activation "quantizer" is a copy and
 * stays the reference memcpy).
 */
#include "basic_kernels.h"

/* 3 rows x 4 columns: 12 accumulators + 3 weight vectors + 1 activation. */
#define F32_AVX2_ROWS 3
#define F32_AVX2_COLS 4

static inline __m256 f32_load8(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }

float f32_dot_avx2(const void *w, const void *x, int64_t n) {
    return basic_float_dot_avx2(f32_load8, sizeof(float), w, x, n);
}

void f32_mul_mat_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                      size_t x_stride, int n_cols, float *out, size_t out_stride) {
    basic_float_mul_mat_avx2(f32_load8, sizeof(float), F32_AVX2_ROWS, F32_AVX2_COLS, n, w,
                             w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
}
