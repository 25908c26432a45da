/*
 * q8_0_avx2.c — Q8_0 with AVX2: the activation quantizer (bit-identical to
 * q8_0_quantize_ref, since every integer dot relies on the same codes), the
 * dequantizer, and Q8_0 weights against Q8_0 activations (decode dot and
 * tiled batch product, by the sign trick: |w| times y with w's sign).
 */
#include <stddef.h>

#include "panel_avx2.h"


void q8_0_quantize_avx2(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    int sum;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        float d = basic_q8_block_avx2(src, b[i].qs, &sum);
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    }
}

void q8_0_dequant_avx2(const void *src, float *dst, int64_t n) {
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        const __m256 d = _mm256_set1_ps(basic_f16((const uint8_t *)&b[i].d));
        for (int k = 0; k < QK8_0; k += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b[i].qs + k)));
            _mm256_storeu_ps(dst + k, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

static inline __m256i q8_0_codes(const uint8_t *blk) {
    return _mm256_loadu_si256((const __m256i *)(blk + offsetof(block_q8_0, qs)));
}

static const struct basic_int8_fmt q8_0_fmt =
    BASIC_INT8_FMT(BASIC_SIGNED, 0, 0, block_q8_0, block_q8_0, q8_0_codes);

BASIC_INT8_KERNELS_AVX2(q8_0)
BASIC_INT8_PACKED_AVX2(q8_0)
