/*
 * bf16_neon.c — BF16 with NEON: dot product (a bf16 is the top half of a
 * float, so widening is a 16-bit shift and the product of two is exact in
 * float), widening to float, and narrowing with the reference's rounding:
 * nearest even on the dropped 16 bits, NaNs keep their top bits and get
 * bit 6 set. Narrowing is plain integer arithmetic, so it is bit-identical
 * to quant_f32_to_bf16.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

static inline float32x4_t widen_lo(uint16x8_t h) {
    return vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16));
}

static inline float32x4_t widen_hi(uint16x8_t h) {
    return vreinterpretq_f32_u32(vshll_high_n_u16(h, 16));
}

static inline float bf16_scalar(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float bf16_dot_neon(const void *w, const void *x, int64_t n) {
    return neon_half_dot(widen_lo, widen_hi, bf16_scalar, w, x, n);
}

void bf16_dequant_neon(const void *src, float *dst, int64_t n) {
    neon_half_dequant(widen_lo, widen_hi, bf16_scalar, src, dst, n);
}

/* Four floats to bf16 bits in the low halves of 32-bit lanes. */
static inline uint32x4_t narrow4(float32x4_t f) {
    uint32x4_t u = vreinterpretq_u32_f32(f);
    uint32x4_t odd = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(odd, vdupq_n_u32(0x7fff))), 16);
    uint32x4_t nan_bits = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
    uint32x4_t is_nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
    return vbslq_u32(is_nan, nan_bits, rounded);
}

void bf16_quantize_neon(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x4_t lo = vmovn_u32(narrow4(vld1q_f32(src + i)));
        vst1q_u16(h + i, vmovn_high_u32(lo, narrow4(vld1q_f32(src + i + 4))));
    }
    for (; i < n; i++) h[i] = quant_f32_to_bf16(src[i]);
}
