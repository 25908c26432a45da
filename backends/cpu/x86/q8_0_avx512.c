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

static const struct basic_int8_fmt q8_0_fmt = {
    .kind = BASIC_SIGNED,
    .w_bytes = sizeof(block_q8_0),
    .x_bytes = sizeof(block_q8_0),
    .x_qs = offsetof(block_q8_0, qs),
    .codes = q8_0_codes,
};

float q8_0_dot_avx512(const void *w, const void *x, int64_t n) {
    return basic_int8_dot_vnni(q8_0_fmt, w, x, n);
}

void q8_0_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    panel_int8_mul_mat_vnni(q8_0_fmt, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                            out_stride);
}

void q8_0_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                          int n_cols, float *out, size_t out_stride) {
    p16_mul_mat(q8_0_fmt, sizeof(block_q8_0x8), n, wp, n_rows, x, x_stride, n_cols, out, out_stride);
}
