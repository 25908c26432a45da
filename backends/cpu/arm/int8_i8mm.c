/*
 * int8_i8mm.c — the batched products (type_kernels.mul_mat) of Q4_0 and Q8_0
 * weights against Q8_0 activations with the int8 matrix multiply of
 * Armv8.6 (SMMLA, "i8mm"). install_arm.c puts them in place of the SDOT
 * tiles of q4_0_neon.c / q8_0_neon.c when the CPU has the extension.
 *
 * SMMLA multiplies a 2x8 int8 matrix by the transpose of another into a
 * 2x2 int32 one: rows (r, r+1) of 8 weight codes against columns (c, c+1)
 * of 8 activation codes, 32 products per instruction where SDOT gives 16,
 * and the four sums land in one register with no reduction step (the SDOT
 * tile needs one across lanes per block). A 4x4 tile is four such 2x2
 * blocks; a 32-code block takes four SMMLA per 2x2 block, on operands that
 * pair two rows' (or columns') 8-byte runs (ZIP1/ZIP2 of 64-bit lanes).
 *
 * Each block's integer sum is exact; it is converted, scaled by
 * d_x * d_w and added in block order with the same float operations as the
 * SDOT tiles, so the two sets give the same bits. Edges (rows or columns
 * short of a tile) go to the dot kernels, as there.
 */
#include <string.h>

#include "kernels_neon.h"
#include "quant_impl.h"
#include "int8_neon.h"

_Static_assert(NEON_TILE == 4, "the tile below is 2x2 SMMLA blocks of 2x2");

/* SMMLA operands of two code rows a and b: p[k] = (a[8k..8k+7], b[8k..8k+7]). */
static inline void pair_runs(const int8x16_t a[2], const int8x16_t b[2], int8x16_t p[4]) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        int64x2_t x = vreinterpretq_s64_s8(a[h]), y = vreinterpretq_s64_s8(b[h]);
        p[2 * h] = vreinterpretq_s8_s64(vzip1q_s64(x, y));
        p[2 * h + 1] = vreinterpretq_s8_s64(vzip2q_s64(x, y));
    }
}

/* One full tile, 4x4 (NEON_TILE): acc[i][j] holds rows 2i, 2i+1 against
 * columns 2j, 2j+1 as (r0 c0, r0 c1, r1 c0, r1 c1), SMMLA's own order. */
static inline __attribute__((always_inline)) void tile(neon_codes_fn codes, size_t w_bytes, int64_t nb,
                                                       const uint8_t *w, size_t w_stride,
                                                       const uint8_t *x, size_t x_stride,
                                                       float *out, size_t out_stride) {
    /* every loop below but the one over blocks is unrolled, so that the
     * operands stay in registers (AArch64 has 32) */
    float32x4_t acc[2][2];
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
#pragma GCC unroll 2
        for (int j = 0; j < 2; j++) acc[i][j] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t wc[NEON_TILE][2], xc[NEON_TILE][2], wp[2][4], xp[2][4];
        uint16_t hw[NEON_TILE], hx[NEON_TILE];
#pragma GCC unroll 4
        for (int r = 0; r < NEON_TILE; r++) {
            const uint8_t *blk = w + (size_t)r * w_stride + (size_t)b * w_bytes;
            codes(blk, wc[r]);
            hw[r] = neon_h16(blk);
        }
#pragma GCC unroll 4
        for (int c = 0; c < NEON_TILE; c++) {
            const uint8_t *blk = x + (size_t)c * x_stride + (size_t)b * sizeof(block_q8_0);
            neon_q8_0_block_codes(blk, xc[c]);
            hx[c] = neon_h16(blk);
        }
#pragma GCC unroll 2
        for (int i = 0; i < 2; i++) {
            pair_runs(wc[2 * i], wc[2 * i + 1], wp[i]);
            pair_runs(xc[2 * i], xc[2 * i + 1], xp[i]);
        }
        /* scales in SMMLA's lane order: rows (2i, 2i, 2i+1, 2i+1) and
         * columns (2j, 2j+1, 2j, 2j+1) */
        const float32x4_t dw = neon_f16x4(hw[0], hw[1], hw[2], hw[3]);
        const float32x4_t dx = neon_f16x4(hx[0], hx[1], hx[2], hx[3]);
        const float32x4_t dwi[2] = {vzip1q_f32(dw, dw), vzip2q_f32(dw, dw)};
        const float32x4_t dxj[2] = {vcombine_f32(vget_low_f32(dx), vget_low_f32(dx)),
                                    vcombine_f32(vget_high_f32(dx), vget_high_f32(dx))};
#pragma GCC unroll 2
        for (int i = 0; i < 2; i++)
#pragma GCC unroll 2
            for (int j = 0; j < 2; j++) {
                int32x4_t s = vdupq_n_s32(0);
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++) s = vmmlaq_s32(s, wp[i][k], xp[j][k]);
                float32x4_t dd = vmulq_f32(dxj[j], dwi[i]);
                acc[i][j] = vaddq_f32(acc[i][j], vmulq_f32(vcvtq_f32_s32(s), dd));
            }
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; i++)
#pragma GCC unroll 2
        for (int j = 0; j < 2; j++) {
            float *o = out + (size_t)(2 * j) * out_stride + 2 * i;
            o[0] = vgetq_lane_f32(acc[i][j], 0);
            o[out_stride] = vgetq_lane_f32(acc[i][j], 1);
            o[1] = vgetq_lane_f32(acc[i][j], 2);
            o[out_stride + 1] = vgetq_lane_f32(acc[i][j], 3);
        }
}

static void tile_q4_0(int64_t nb, const uint8_t *w, size_t w_stride, const uint8_t *x,
                      size_t x_stride, float *out, size_t out_stride) {
    tile(neon_q4_0_block_codes, sizeof(block_q4_0), nb, w, w_stride, x, x_stride, out, out_stride);
}

static void tile_q8_0(int64_t nb, const uint8_t *w, size_t w_stride, const uint8_t *x,
                      size_t x_stride, float *out, size_t out_stride) {
    tile(neon_q8_0_block_codes, sizeof(block_q8_0), nb, w, w_stride, x, x_stride, out, out_stride);
}

void q4_0_mul_mat_i8mm(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    neon_mul_mat_4x4(tile_q4_0, q4_0_dot_neon, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                     out_stride);
}

void q8_0_mul_mat_i8mm(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    neon_mul_mat_4x4(tile_q8_0, q8_0_dot_neon, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                     out_stride);
}
