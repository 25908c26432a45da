/*
 * q8_0_neon.c — Q8_0 with NEON: the dot against Q8_0 activations, a 4x4
 * tiled product for batches, the dequantizer, and the activation quantizer.
 *
 * Dots: two SDOTs per block; four blocks' lane sums are reduced into one
 * vector, converted to float (exact) and scaled by d_w*d_x, so each block's
 * term is rounded as in q8_0_dot_ref and only the float summation order
 * differs. The quantizer is bit-identical to q8_0_quantize_ref: the same
 * float absmax/127 and 1/d, FCVTAS for roundf's halves-away-from-zero, and
 * FCVT for the f16 scale; NaN inputs are skipped by the max (FMAXNM) and
 * become code 0, as in the reference.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

/* Rows and columns of one register tile of q8_0_mul_mat_neon_4x4. */
enum { TILE_ROWS = NEON_TILE, TILE_COLS = NEON_TILE };

static inline int32x4_t block_dot(const block_q8_0 *a, const block_q8_0 *b) {
    int32x4_t p = vdotq_s32(vdupq_n_s32(0), vld1q_s8(a->qs), vld1q_s8(b->qs));
    return vdotq_s32(p, vld1q_s8(a->qs + 16), vld1q_s8(b->qs + 16));
}

float q8_0_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q8_0 *a = w, *b = x;
    int64_t nb = n / QK8_0, i = 0;
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

/* One full 4x4 tile; acc[r] holds weight row r against columns 0..3. */
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
            const block_q8_0 *wb = (const block_q8_0 *)(w + (size_t)r * w_stride) + i;
            int8x16_t w0 = vld1q_s8(wb->qs), w1 = vld1q_s8(wb->qs + 16);
            int32x4_t p[TILE_COLS];
            for (int c = 0; c < TILE_COLS; c++)
                p[c] = vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, y0[c]), w1, y1[c]);
            int32x4_t s = neon_hsum4(p[0], p[1], p[2], p[3]);
            float32x4_t dd = vmulq_n_f32(dx, neon_f16(wb->d));
            acc[r] = vaddq_f32(acc[r], vmulq_f32(vcvtq_f32_s32(s), dd));
        }
    }
    for (int r = 0; r < TILE_ROWS; r++)
        for (int c = 0; c < TILE_COLS; c++) out[(size_t)c * out_stride + r] = acc[r][c];
}

void q8_0_mul_mat_neon_4x4(int64_t n, const void *w, size_t w_stride, int n_rows,
                           const void *x, size_t x_stride, int n_cols, float *out,
                           size_t out_stride) {
    neon_mul_mat_4x4(tile_4x4, q8_0_dot_neon, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                     out_stride);
}

void q8_0_dequant_neon(const void *src, float *dst, int64_t n) {
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        float d = neon_f16(b[i].d);
        for (int k = 0; k < 2; k++) {
            int8x16_t q = vld1q_s8(b[i].qs + 16 * k);
            int16x8_t h[2] = {vmovl_s8(vget_low_s8(q)), vmovl_high_s8(q)};
            for (int j = 0; j < 2; j++) {
                float *o = dst + 16 * k + 8 * j;
                vst1q_f32(o, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[j]))), d));
                vst1q_f32(o + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(h[j])), d));
            }
        }
    }
}

/* Largest |x| of 32 values, NaNs ignored (FMAXNM against a zero start),
 * like the reference's `fabsf(x) > amax` scan. */
static inline float absmax32(const float *x) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int k = 0; k < 8; k++) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + 4 * k)));
    return vmaxnmvq_f32(m);
}

/* roundf(x * id) for 32 values into int8 codes; returns their sum. The
 * narrowing truncates like the reference's (int8_t) cast on AArch64. */
static inline int round_codes(const float *x, float id, int8_t *qs) {
    int32x4_t sum = vdupq_n_s32(0);
    for (int k = 0; k < 2; k++) {
        int32x4_t v[4];
        for (int j = 0; j < 4; j++) v[j] = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + 16 * k + 4 * j), id));
        int16x8_t h0 = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
        int16x8_t h1 = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
        int8x16_t q = vcombine_s8(vmovn_s16(h0), vmovn_s16(h1));
        vst1q_s8(qs + 16 * k, q);
        sum = vpadalq_s16(sum, vpaddlq_s8(q));
    }
    return vaddvq_s32(sum);
}

void q8_0_quantize_neon(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        float d = absmax32(src) / 127;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = neon_to_f16(d);
        round_codes(src, id, b[i].qs);
    }
}

/* Q8_1 is Q8_0 plus s = f16(sum(codes) * d), d unrounded as in the ref. */
void q8_1_quantize_neon(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float d = absmax32(src) / 127;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = round_codes(src, id, b[i].qs);
        b[i].d = neon_to_f16(d);
        b[i].s = neon_to_f16((float)sum * d);
    }
}
