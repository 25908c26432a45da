/*
 * q5_0_avx2.c — Q5_0 weights against Q8_0 activations with AVX2: the
 * decode dot and the tiled batch product. Codes are the low nibbles plus
 * 16 for each set bit of qh (bytes 0..31); the -16 offset is taken off as
 * 16*sum(y) (basic_kernels.h has the shared skeletons).
 */
#include <stddef.h>

#include "panel_avx2.h"

static inline __m256i q5_0_codes(const uint8_t *blk) {
    return _mm256_or_si256(basic_nibbles(blk + offsetof(block_q5_0, qs)),
                           basic_fifth_bits_avx2(blk + offsetof(block_q5_0, qh)));
}

static const struct basic_int8_fmt q5_0_fmt =
    BASIC_INT8_FMT(BASIC_OFFSET, 16, 31, block_q5_0, block_q8_0, q5_0_codes);

BASIC_INT8_KERNELS_AVX2(q5_0)
