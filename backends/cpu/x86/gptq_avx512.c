/*
 * gptq_avx512.c — GPTQ INT4/INT8 matrix kernels for AVX-512F: sixteen
 * outputs (one 512-bit load of qweight words) at a time, float
 * activations. The body is gptq_simd.h's; this file supplies its vector
 * vocabulary.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "gptq_kernels.h"

typedef __m512 gv;
typedef __m512i gvi;
#define GV_LANES 16
#define GV_WIDE 4 /* 4 x 4 accumulators of 32 registers */
#define GPTQ_NAME(x) gptq_##x##_avx512

static inline gv gv_zero(void) { return _mm512_setzero_ps(); }
static inline gv gv_fma(gv a, gv b, gv c) { return _mm512_fmadd_ps(a, b, c); }
static inline gv gv_sub(gv a, gv b) { return _mm512_sub_ps(a, b); }
static inline gv gv_set1(float v) { return _mm512_set1_ps(v); }
static inline gv gv_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void gv_storeu(float *p, gv v) { _mm512_storeu_ps(p, v); }
static inline gvi gvi_loadu(const int32_t *p) { return _mm512_loadu_si512((const void *)p); }
static inline gv gv_q(gvi q, int sh, int mask) {
    return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(q, (unsigned)sh),
                                               _mm512_set1_epi32(mask)));
}
static inline gv gv_scales(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
static inline void gv_prefetch(const void *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }
static inline gv gv_mul(gv a, gv b) { return _mm512_mul_ps(a, b); }

#include "gptq_simd.h"
