/*
 * f16_avx512.c — the F16 batch product for AVX-512 machines: the AVX2
 * skeleton (F16C conversion, FMA) with a 4x4 tile in AVX512VL's 32
 * registers, so 8 conversions feed 16 FMAs instead of 7 feeding 12.
 */
#include "basic_kernels.h"

#define F16_AVX512_ROWS 4
#define F16_AVX512_COLS 4

static inline __m256 f16_load8(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

BASIC_FLOAT_MUL_MAT(f16, avx512, sizeof(uint16_t), F16_AVX512_ROWS, F16_AVX512_COLS)
