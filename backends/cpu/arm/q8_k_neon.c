/*
 * q8_k_neon.c — the Q8_K activation quantizer with NEON, bit-identical to
 * q8_k_quantize_ref: the signed value of largest magnitude (first one on a
 * tie, NaNs skipped) maps to -127, iscale = -127/max, codes are
 * FCVTNS(iscale * x) (nearest, ties to even, as quant_nearest_int) clipped
 * at 127, bsums are the sums of each 16 codes and d = 1/iscale. An all-zero
 * (or all-NaN) block is stored as zeros.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

#include <math.h>

/* The first x[j] with |x[j]| == amax; amax came from the same values. */
static float first_with_abs(const float *x, float amax) {
    float32x4_t target = vdupq_n_f32(amax);
    for (int j = 0; j < QK_K; j += 16) {
        uint32x4_t e0 = vceqq_f32(vabsq_f32(vld1q_f32(x + j)), target);
        uint32x4_t e1 = vceqq_f32(vabsq_f32(vld1q_f32(x + j + 4)), target);
        uint32x4_t e2 = vceqq_f32(vabsq_f32(vld1q_f32(x + j + 8)), target);
        uint32x4_t e3 = vceqq_f32(vabsq_f32(vld1q_f32(x + j + 12)), target);
        if (vmaxvq_u32(vorrq_u32(vorrq_u32(e0, e1), vorrq_u32(e2, e3)))) {
            for (int k = j; k < j + 16; k++)
                if (fabsf(x[k]) == amax) return x[k];
        }
    }
    return amax; /* not reached */
}

void q8_k_quantize_neon(const float *src, void *dst, int64_t n) {
    block_q8_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int j = 0; j < QK_K; j += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(src + j)));
        float amax = vmaxnmvq_f32(m);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        float iscale = -127.0f / first_with_abs(src, amax);
        int32x4_t top = vdupq_n_s32(127);
        for (int g = 0; g < QK_K / 16; g++) {
            int32x4_t v[4];
            for (int k = 0; k < 4; k++)
                v[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(src + 16 * g + 4 * k), iscale)), top);
            int16x8_t h0 = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
            int16x8_t h1 = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
            vst1q_s8(b[i].qs + 16 * g, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
            b[i].bsums[g] = (int16_t)vaddvq_s16(vaddq_s16(h0, h1));
        }
        b[i].d = 1.0f / iscale;
    }
}
