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

static const struct basic_int8_fmt q4_1_fmt = {
    .code_max = 15,
    .kind = BASIC_AFFINE,
    .w_bytes = sizeof(block_q4_1),
    .x_bytes = sizeof(block_q8_1),
    .x_qs = offsetof(block_q8_1, qs),
    .codes = q4_1_codes,
};

float q4_1_dot_avx2(const void *w, const void *x, int64_t n) {
    return basic_int8_dot_avx2(q4_1_fmt, w, x, n);
}

void q4_1_mul_mat_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    panel_int8_mul_mat_avx2(q4_1_fmt, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                            out_stride);
}
