/*
 * q8_0_avx512.c — Q8_0 weights against Q8_0 activations with AVX-512 VNNI
 * (256-bit VPDPBUSD): the decode dot (|w| against y with w's sign) and the
 * 4x4-tiled batch product, which instead shifts each activation block to
 * unsigned (y + 128, once per block for all rows) and takes 128*sum(w) off
 * through the accumulator input (once per weight block for all columns).
 */
#include <stddef.h>

#include "panel_avx512.h"

static inline __m256i q8_0_codes(const uint8_t *blk) {
    return _mm256_loadu_si256((const __m256i *)(blk + offsetof(block_q8_0, qs)));
}

static const struct basic_int8_fmt q8_0_fmt =
    BASIC_INT8_FMT(BASIC_SIGNED, 0, 0, block_q8_0, block_q8_0, q8_0_codes);

BASIC_INT8_KERNELS_AVX512(q8_0)
BASIC_INT8_PACKED_AVX512(q8_0)
