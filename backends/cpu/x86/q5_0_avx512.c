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

static const struct basic_int8_fmt q5_0_fmt =
    BASIC_INT8_FMT(BASIC_OFFSET, 16, 31, block_q5_0, block_q8_0, q5_0_codes);

BASIC_INT8_KERNELS_AVX512(q5_0)
