/*
 * gptq_avx2.c — GPTQ INT4/INT8 matrix kernels for AVX2 + FMA + F16C:
 * eight outputs (one 256-bit load of qweight words) at a time, float
 * activations. The body is gptq_simd.h's; this file supplies its vector
 * vocabulary.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "gptq_kernels.h"

typedef __m256 gv;
typedef __m256i gvi;
#define GV_LANES 8
#define GV_WIDE 2 /* 2 x 4 accumulators of 16 ymm */
#define GPTQ_NAME(x) gptq_##x##_avx2

static inline gv gv_zero(void) { return _mm256_setzero_ps(); }
static inline gv gv_fma(gv a, gv b, gv c) { return _mm256_fmadd_ps(a, b, c); }
static inline gv gv_sub(gv a, gv b) { return _mm256_sub_ps(a, b); }
static inline gv gv_set1(float v) { return _mm256_set1_ps(v); }
static inline gv gv_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void gv_storeu(float *p, gv v) { _mm256_storeu_ps(p, v); }
static inline gvi gvi_loadu(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
static inline gv gv_q(gvi q, int sh, int mask) {
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(q, sh), _mm256_set1_epi32(mask)));
}
static inline gv gv_scales(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
static inline void gv_prefetch(const void *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }
static inline gv gv_mul(gv a, gv b) { return _mm256_mul_ps(a, b); }

#include "gptq_simd.h"
