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

static const struct basic_int8_fmt q5_1_fmt = {
    .code_max = 31,
    .kind = BASIC_AFFINE,
    .w_bytes = sizeof(block_q5_1),
    .x_bytes = sizeof(block_q8_1),
    .x_qs = offsetof(block_q8_1, qs),
    .codes = q5_1_codes,
};

float q5_1_dot_avx512(const void *w, const void *x, int64_t n) {
    return basic_int8_dot_vnni(q5_1_fmt, w, x, n);
}

void q5_1_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    panel_int8_mul_mat_vnni(q5_1_fmt, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                            out_stride);
}
