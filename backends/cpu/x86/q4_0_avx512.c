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

static const struct basic_int8_fmt q4_0_fmt = {
    .code_max = 15,
    .kind = BASIC_OFFSET,
    .off = 8,
    .w_bytes = sizeof(block_q4_0),
    .x_bytes = sizeof(block_q8_0),
    .x_qs = offsetof(block_q8_0, qs),
    .codes = q4_0_codes,
};

float q4_0_dot_avx512(const void *w, const void *x, int64_t n) {
    return basic_int8_dot_vnni(q4_0_fmt, w, x, n);
}

void q4_0_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    panel_int8_mul_mat_vnni(q4_0_fmt, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                            out_stride);
}

void q4_0_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                          int n_cols, float *out, size_t out_stride) {
    p16_mul_mat(q4_0_fmt, sizeof(block_q4_0x8), n, wp, n_rows, x, x_stride, n_cols, out, out_stride);
}
