/*
 * q4_0_neon.c — Q4_0 with NEON dot-product instructions: the dot against
 * Q8_0 activations, a 4x4 tiled product for batches, and the dequantizer.
 *
 * A block's 16 bytes unpack to two int8 vectors (low nibbles are elements
 * 0..15, high nibbles 16..31) with 8 subtracted; two SDOTs against the Q8_0
 * codes give the block's integer sum in four lanes. Four blocks' sums are
 * reduced together into one vector, converted to float (exact) and scaled
 * by d_w*d_x, so each block's term is rounded exactly as in
 * q4_0_dot_ref; only the order of the float additions differs.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

/* Rows and columns of one register tile of q4_0_mul_mat_neon_4x4. */
enum { TILE_ROWS = NEON_TILE, TILE_COLS = NEON_TILE };

/* The 32 codes of a block minus 8, as int8 (elements 0..15, 16..31). */
static inline void unpack(const block_q4_0 *b, int8x16_t *lo, int8x16_t *hi) {
    neon_q4_0_codes(b->qs, lo, hi);
}

/* Lane sums of the block's integer dot product. */
static inline int32x4_t block_dot(const block_q4_0 *a, const block_q8_0 *b) {
    int8x16_t lo, hi;
    unpack(a, &lo, &hi);
    int32x4_t p = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(b->qs));
    return vdotq_s32(p, hi, vld1q_s8(b->qs + 16));
}

float q4_0_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q4_0 *a = w;
    const block_q8_0 *b = x;
    int64_t nb = n / QK4_0, i = 0;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (; i + 4 <= nb; i += 4) {
        int32x4_t s = neon_hsum4(block_dot(&a[i], &b[i]), block_dot(&a[i + 1], &b[i + 1]),
                                 block_dot(&a[i + 2], &b[i + 2]), block_dot(&a[i + 3], &b[i + 3]));
        float32x4_t da = neon_f16x4(a[i].d, a[i + 1].d, a[i + 2].d, a[i + 3].d);
        float32x4_t db = neon_f16x4(b[i].d, b[i + 1].d, b[i + 2].d, b[i + 3].d);
        acc = vaddq_f32(acc, vmulq_f32(vcvtq_f32_s32(s), vmulq_f32(da, db)));
    }
    float sum = vaddvq_f32(acc);
    for (; i < nb; i++)
        sum += (float)vaddvq_s32(block_dot(&a[i], &b[i])) * (neon_f16(a[i].d) * neon_f16(b[i].d));
    return sum;
}

/* One full 4x4 tile: every weight block is unpacked once and used against
 * four activation rows. acc[r] holds row r against columns 0..3. */
static void tile_4x4(int64_t nb, const uint8_t *w, size_t w_stride, const uint8_t *x,
                     size_t x_stride, float *out, size_t out_stride) {
    float32x4_t acc[TILE_ROWS];
    for (int r = 0; r < TILE_ROWS; r++) acc[r] = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < nb; i++) {
        const block_q8_0 *xb[TILE_COLS];
        for (int c = 0; c < TILE_COLS; c++)
            xb[c] = (const block_q8_0 *)(x + (size_t)c * x_stride) + i;
        int8x16_t y0[TILE_COLS], y1[TILE_COLS];
        for (int c = 0; c < TILE_COLS; c++) {
            y0[c] = vld1q_s8(xb[c]->qs);
            y1[c] = vld1q_s8(xb[c]->qs + 16);
        }
        float32x4_t dx = neon_f16x4(xb[0]->d, xb[1]->d, xb[2]->d, xb[3]->d);
        for (int r = 0; r < TILE_ROWS; r++) {
            const block_q4_0 *wb = (const block_q4_0 *)(w + (size_t)r * w_stride) + i;
            int8x16_t lo, hi;
            unpack(wb, &lo, &hi);
            int32x4_t p[TILE_COLS];
            for (int c = 0; c < TILE_COLS; c++)
                p[c] = vdotq_s32(vdotq_s32(vdupq_n_s32(0), lo, y0[c]), hi, y1[c]);
            int32x4_t s = neon_hsum4(p[0], p[1], p[2], p[3]);
            float32x4_t dd = vmulq_n_f32(dx, neon_f16(wb->d));
            acc[r] = vaddq_f32(acc[r], vmulq_f32(vcvtq_f32_s32(s), dd));
        }
    }
    for (int r = 0; r < TILE_ROWS; r++)
        for (int c = 0; c < TILE_COLS; c++) out[(size_t)c * out_stride + r] = acc[r][c];
}

void q4_0_mul_mat_neon_4x4(int64_t n, const void *w, size_t w_stride, int n_rows,
                           const void *x, size_t x_stride, int n_cols, float *out,
                           size_t out_stride) {
    neon_mul_mat_4x4(tile_4x4, q4_0_dot_neon, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                     out_stride);
}

void q4_0_dequant_neon(const void *src, float *dst, int64_t n) {
    const block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = neon_f16(b[i].d);
        int8x16_t lo, hi;
        unpack(&b[i], &lo, &hi);
        int16x8_t h[4] = {vmovl_s8(vget_low_s8(lo)), vmovl_high_s8(lo),
                          vmovl_s8(vget_low_s8(hi)), vmovl_high_s8(hi)};
        for (int k = 0; k < 4; k++) {
            vst1q_f32(dst + 8 * k, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[k]))), d));
            vst1q_f32(dst + 8 * k + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(h[k])), d));
        }
    }
}
