/*
 * q4_1_avx2.c — Q4_1 weights against Q8_1 activations with AVX2: the
 * decode dot and the tiled batch product. Codes are unpacked to bytes 0..15;
 * the offset m enters once per block as m * s, s being the Q8_1 block's
 * d*sum(y) (basic_kernels.h has the shared skeletons).
 */
#include <stddef.h>

#include "panel_avx2.h"

static inline __m256i q4_1_codes(const uint8_t *blk) {
    return basic_nibbles(blk + offsetof(block_q4_1, qs));
}

static const struct basic_int8_fmt q4_1_fmt =
    BASIC_INT8_FMT(BASIC_AFFINE, 0, 15, block_q4_1, block_q8_1, q4_1_codes);

BASIC_INT8_KERNELS_AVX2(q4_1)
