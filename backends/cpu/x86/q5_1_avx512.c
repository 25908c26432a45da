/*
 * q5_1_avx512.c — Q5_1 weights against Q8_1 activations with AVX-512 VNNI
 * (256-bit VPDPBUSD): the decode dot and the 4x4-tiled batch product. The
 * fifth bits become 0x10 bytes by one masked move (AVX512BW); the offset m
 * enters once per block as m * s (basic_kernels.h has the skeletons).
 */
#include <stddef.h>

#include "panel_avx2.h"

static inline __m256i q5_1_codes(const uint8_t *blk) {
    return _mm256_or_si256(basic_nibbles(blk + offsetof(block_q5_1, qs)),
                           basic_fifth_bits_avx512(blk + offsetof(block_q5_1, qh)));
}

static const struct basic_int8_fmt q5_1_fmt =
    BASIC_INT8_FMT(BASIC_AFFINE, 0, 31, block_q5_1, block_q8_1, q5_1_codes);

BASIC_INT8_KERNELS_AVX512(q5_1)
