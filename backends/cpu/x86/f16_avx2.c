/*
 * f16_avx2.c — F16 with AVX2 and F16C: weights against F16 activations
 * (dot and tiled batch product, converting 8 halves per instruction), the
 * F32 -> F16 activation conversion and the F16 -> F32 dequantizer, both
 * bit-identical to the reference (F16C rounds to nearest even and quiets
 * NaNs the way quant_f32_to_f16 does; widening needs one fix-up, below).
 */
#include "basic_kernels.h"

#define F16_AVX2_ROWS 3
#define F16_AVX2_COLS 4

static inline __m256 f16_load8(const uint8_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

BASIC_FLOAT_DOT_AVX2(f16, sizeof(uint16_t))
BASIC_FLOAT_MUL_MAT(f16, avx2, sizeof(uint16_t), F16_AVX2_ROWS, F16_AVX2_COLS)

void f16_quantize_avx2(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = quant_f32_to_f16(src[i]);
}

/* VCVTPH2PS quiets a signalling NaN, the reference keeps its payload as is:
 * clear the quiet bit again in exactly those lanes. */
void f16_dequant_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    const __m256i exp_q = _mm256_set1_epi32(0x7e00), inf = _mm256_set1_epi32(0x7c00);
    const __m256i payload = _mm256_set1_epi32(0x01ff), zero = _mm256_setzero_si256();
    const __m256i quiet = _mm256_set1_epi32(0x00400000);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i raw = _mm_loadu_si128((const __m128i *)(h + i));
        __m256i v = _mm256_castps_si256(_mm256_cvtph_ps(raw));
        __m256i w = _mm256_cvtepu16_epi32(raw);
        __m256i snan = _mm256_andnot_si256(
            _mm256_cmpeq_epi32(_mm256_and_si256(w, payload), zero),
            _mm256_cmpeq_epi32(_mm256_and_si256(w, exp_q), inf));
        v = _mm256_andnot_si256(_mm256_and_si256(snan, quiet), v);
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(v));
    }
    for (; i < n; i++) dst[i] = quant_f16_to_f32(h[i]);
}
