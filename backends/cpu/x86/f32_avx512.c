/*
 * f32_avx512.c — the F32 batch product for AVX-512 machines: the AVX2
 * skeleton with a 4x4 tile, which AVX512VL's 32 vector registers hold
 * without spilling. 256-bit vectors on purpose: Zen 4 splits 512-bit FMAs
 * into two halves, so wider vectors would add no throughput there.
 */
#include "basic_kernels.h"

#define F32_AVX512_ROWS 4
#define F32_AVX512_COLS 4

static inline __m256 f32_load8(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }

BASIC_FLOAT_MUL_MAT(f32, avx512, sizeof(float), F32_AVX512_ROWS, F32_AVX512_COLS)
