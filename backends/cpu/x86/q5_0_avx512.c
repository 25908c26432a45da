/*
 * q5_0_avx512.c — Q5_0 weights against Q8_0 activations with AVX-512 VNNI
 * (256-bit VPDPBUSD): the decode dot and the 4x4-tiled batch product. The
 * fifth bits become 0x10 bytes by one masked move (AVX512BW); the -16
 * offset enters as -16*sum(y) (basic_kernels.h has the skeletons).
 */
#include <stddef.h>

#include "panel_avx512.h"

static inline __m256i q5_0_codes(const uint8_t *blk) {
    return _mm256_or_si256(basic_nibbles(blk + offsetof(block_q5_0, qs)),
                           basic_fifth_bits_avx512(blk + offsetof(block_q5_0, qh)));
}

static void q5_0_pair(const uint8_t *a, const uint8_t *b, __m256i *lo, __m256i *hi) {
    uint32_t ml, mh;
    gemv_nibble_pair(a, b, offsetof(block_q5_0, qs), lo, hi);
    gemv_fifth_pair_masks(a, b, offsetof(block_q5_0, qh), &ml, &mh);
    const __m256i five = _mm256_set1_epi8(0x10); /* bit 4 is clear: add is or */
    *lo = _mm256_mask_add_epi8(*lo, (__mmask32)ml, *lo, five);
    *hi = _mm256_mask_add_epi8(*hi, (__mmask32)mh, *hi, five);
}

static const struct basic_int8_fmt q5_0_fmt = BASIC_INT8_FMT_PAIRED(
    BASIC_OFFSET, 16, 31, block_q5_0, block_q8_0, q5_0_codes, q5_0_pair);

BASIC_INT8_KERNELS_AVX512(q5_0)
BASIC_INT8_PACKED_AVX512(q5_0)
