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

BASIC_FLOAT_DOT_AVX2(f32, sizeof(float))
BASIC_FLOAT_MUL_MAT(f32, avx2, sizeof(float), F32_AVX2_ROWS, F32_AVX2_COLS)
