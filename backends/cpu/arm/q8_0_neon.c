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
#include "int8_neon.h"

static const struct neon_q8_fmt q8_0_fmt =
    NEON_Q8_FMT(block_q8_0, block_q8_0, false, neon_q8_0_block_codes);

NEON_Q8_DOT(q8_0)
NEON_Q8_MUL_MAT_4X4(q8_0)

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

/* Q8_1 is Q8_0 plus the integer sum of the codes, as in the ref. */
void q8_1_quantize_neon(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float d = absmax32(src) / 127;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = round_codes(src, id, b[i].qs);
        b[i].d = neon_to_f16(d);
        b[i].sum = (int16_t)sum;
    }
}
