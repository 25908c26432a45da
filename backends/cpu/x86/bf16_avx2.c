/*
 * bf16_avx2.c — BF16 with AVX2: weights against BF16 activations (dot and
 * tiled batch product; a bfloat16 widens to float by a 16-bit shift), the
 * F32 -> BF16 activation conversion and the dequantizer, both bit-identical
 * to the reference (integer round-to-nearest-even, NaNs kept quiet).
 */
#include "basic_kernels.h"

#define BF16_AVX2_ROWS 3
#define BF16_AVX2_COLS 4

static inline __m256 bf16_load8(const uint8_t *p) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

BASIC_FLOAT_DOT_AVX2(bf16, sizeof(uint16_t))
BASIC_FLOAT_MUL_MAT(bf16, avx2, sizeof(uint16_t), BF16_AVX2_ROWS, BF16_AVX2_COLS)

/* quant_f32_to_bf16 on 8 lanes: u + 0x7fff + (bit 16 of u), or for a NaN
 * its top half with the quiet bit (0x40) set. */
static inline __m128i bf16_round8(__m256i u) {
    const __m256i abs = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    __m256i r = _mm256_add_epi32(
        u, _mm256_add_epi32(_mm256_set1_epi32(0x7fff),
                            _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1))));
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs), inf);
    __m256i q = _mm256_or_si256(u, _mm256_set1_epi32(0x00400000));
    r = _mm256_srli_epi32(_mm256_blendv_epi8(r, q, nan), 16);
    /* pack the 8 low halves in order (packus works per 128-bit lane) */
    __m256i p = _mm256_packus_epi32(r, r);
    p = _mm256_permute4x64_epi64(p, _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_castsi256_si128(p);
}

void bf16_quantize_avx2(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i),
                         bf16_round8(_mm256_loadu_si256((const __m256i *)(src + i))));
    for (; i < n; i++) h[i] = quant_f32_to_bf16(src[i]);
}

void bf16_dequant_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, bf16_load8((const uint8_t *)(h + i)));
    for (; i < n; i++) dst[i] = quant_bf16_to_f32(h[i]);
}
