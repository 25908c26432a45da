/*
 * f16_neon.c — F16 with NEON: dot product (widen to float, where the product
 * of two halves is exact, and accumulate with fused multiply-add in float),
 * and the conversions both ways with FCVTL/FCVTN. The conversions round like
 * quant_f16_to_f32/quant_f32_to_f16 (nearest even, NaN quieted with its
 * top payload bits), so they are bit-identical to the references as long as
 * FPCR keeps its Linux defaults (no flush-to-zero, no default NaN).
 */
#include "kernels_neon.h"
#include "simd_neon.h"

static inline float32x4_t lo_f32(uint16x8_t h) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h)));
}

static inline float32x4_t hi_f32(uint16x8_t h) {
    return vcvt_high_f32_f16(vreinterpretq_f16_u16(h));
}

float f16_dot_neon(const void *w, const void *x, int64_t n) {
    return neon_half_dot(lo_f32, hi_f32, neon_f16, w, x, n);
}

void f16_dequant_neon(const void *src, float *dst, int64_t n) {
    neon_half_dequant(lo_f32, hi_f32, neon_f16, src, dst, n);
}

void f16_quantize_neon(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x4_t lo = vcvt_f16_f32(vld1q_f32(src + i));
        float16x8_t v = vcvt_high_f16_f32(lo, vld1q_f32(src + i + 4));
        vst1q_u16(h + i, vreinterpretq_u16_f16(v));
    }
    for (; i < n; i++) h[i] = neon_to_f16(src[i]);
}
