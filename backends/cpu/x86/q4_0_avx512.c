/*
 * q4_0_avx512.c — Q4_0 weights against Q8_0 activations with AVX-512 VNNI
 * (256-bit VPDPBUSD, AVX512VL): the decode dot and the 4x4-tiled batch
 * product. Codes are unpacked to bytes 0..15 (unsigned, as VPDPBUSD
 * wants); the -8 offset enters as -8*sum(y), folded into the accumulator
 * input (basic_kernels.h has the shared skeletons).
 */
#include <stddef.h>

#include "panel_avx512.h"

static inline __m256i q4_0_codes(const uint8_t *blk) {
    return basic_nibbles(blk + offsetof(block_q4_0, qs));
}

static void q4_0_pair(const uint8_t *a, const uint8_t *b, __m256i *lo, __m256i *hi) {
    gemv_nibble_pair(a, b, offsetof(block_q4_0, qs), lo, hi);
}

static const struct basic_int8_fmt q4_0_fmt = BASIC_INT8_FMT_PAIRED(
    BASIC_OFFSET, 8, 15, block_q4_0, block_q8_0, q4_0_codes, q4_0_pair);

BASIC_INT8_KERNELS_AVX512(q4_0)
BASIC_INT8_PACKED_AVX512(q4_0)
