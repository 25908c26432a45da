/*
 * simd_neon.h — small inline helpers shared by the backends/cpu/arm kernels:
 * half-precision scale loads, int32 lane reductions, the F16/BF16 dot and
 * dequant skeletons, the K-quant steps and the driver of the 4x4-tiled
 * batched products (int8_neon.h adds what the 32-wide int8 block types
 * share). Include only from files built with the NEON flags (the
 * Makefile's *_neon.c and *_i8mm.c rules).
 */
#ifndef EMBER_SIMD_NEON_H
#define EMBER_SIMD_NEON_H

#include <arm_neon.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Fully unroll the short fixed loops over sub-blocks, so the bit shifts
 * and scale indices become constants (GCC and clang both read this). */
#define UNROLL _Pragma("GCC unroll 8")

/* One f16 scale to float with the hardware convert; exact, like
 * quant_f16_to_f32. */
static inline float neon_f16(uint16_t h) {
    __fp16 v;
    memcpy(&v, &h, sizeof v);
    return (float)v;
}

/* Float to f16 bits with FCVT: round to nearest even, overflow to inf, NaN
 * quieted with its top payload bits kept -- what quant_f32_to_f16 does. */
static inline uint16_t neon_to_f16(float f) {
    __fp16 v = (__fp16)f;
    uint16_t h;
    memcpy(&h, &v, sizeof h);
    return h;
}

/* Four f16 scales (one per block) as a float vector. */
static inline float32x4_t neon_f16x4(uint16_t a, uint16_t b, uint16_t c, uint16_t d) {
    uint16x4_t v = {a, b, c, d};
    return vcvt_f32_f16(vreinterpret_f16_u16(v));
}

/* Lane i of the result is the sum of the lanes of p_i. */
static inline int32x4_t neon_hsum4(int32x4_t p0, int32x4_t p1, int32x4_t p2, int32x4_t p3) {
    return vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3));
}

/* Q5_0/Q5_1: lane j of m0 (elements 0..15) and m1 (16..31) is 0xff when
 * element j has its fifth bit in the little-endian u32 qh. */
static inline void neon_q5_fifth_bits(const uint8_t qh[4], uint8x16_t *m0, uint8x16_t *m1) {
    static const uint8_t idx0[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    static const uint8_t idx1[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint32_t h;
    memcpy(&h, qh, sizeof h);
    uint8x16_t v = vreinterpretq_u8_u32(vdupq_n_u32(h));
    *m0 = vtstq_u8(vqtbl1q_u8(v, vld1q_u8(idx0)), vld1q_u8(bit));
    *m1 = vtstq_u8(vqtbl1q_u8(v, vld1q_u8(idx1)), vld1q_u8(bit));
}

/* Q4_0: the 32 codes of a block (16 bytes at qs) minus 8, as int8: low
 * nibbles are elements 0..15, high ones 16..31. */
static inline void neon_q4_0_codes(const uint8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    uint8x16_t q = vld1q_u8(qs);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f))), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
}

/* ------------------------------------------- 16-bit float formats */

/* F16 or BF16, as the skeletons below take it: eight values widened to
 * floats (lanes 0..3, 4..7) and one value alone, for the tails. */
typedef float32x4_t (*neon_widen_fn)(uint16x8_t h);
typedef float (*neon_half_fn)(uint16_t h);

/* type_kernels.dot: four FMA accumulators of 4 lanes over 16 values per step
 * (products of two halves are exact in float), then a scalar tail. */
static inline __attribute__((always_inline)) float
neon_half_dot(neon_widen_fn lo, neon_widen_fn hi, neon_half_fn one, const void *w, const void *x,
              int64_t n) {
    const uint16_t *a = w, *b = x;
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint16x8_t a0 = vld1q_u16(a + i), a1 = vld1q_u16(a + i + 8);
        uint16x8_t b0 = vld1q_u16(b + i), b1 = vld1q_u16(b + i + 8);
        s0 = vfmaq_f32(s0, lo(a0), lo(b0));
        s1 = vfmaq_f32(s1, hi(a0), hi(b0));
        s2 = vfmaq_f32(s2, lo(a1), lo(b1));
        s3 = vfmaq_f32(s3, hi(a1), hi(b1));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) sum += one(a[i]) * one(b[i]);
    return sum;
}

/* type_kernels.dequant: eight values per step, then one by one. */
static inline __attribute__((always_inline)) void
neon_half_dequant(neon_widen_fn lo, neon_widen_fn hi, neon_half_fn one, const void *src, float *dst,
                  int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t v = vld1q_u16(h + i);
        vst1q_f32(dst + i, lo(v));
        vst1q_f32(dst + i + 4, hi(v));
    }
    for (; i < n; i++) dst[i] = one(h[i]);
}

/* ------------------------------------------------------------- K-quants */

/* acc + scale * (the 16 codes c . the 16 activation codes at y): one SDOT
 * weighted in integer lanes (Q2_K, Q3_K, Q6_K: one scale per 16 values). */
static inline int32x4_t neon_k_sdot16(int32x4_t acc, int8x16_t c, const int8_t *y, int32_t scale) {
    int32x4_t p = vdotq_s32(vdupq_n_s32(0), c, vld1q_s8(y));
    return vmlaq_n_s32(acc, p, scale);
}

/* The 8 scales and 8 mins of the 12-byte Q4_K/Q5_K field (k_scale_min_get). */
static inline void neon_k_scales_mins(const uint8_t *p, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = p[j] & 63;
        mn[j] = p[j + 4] & 63;
        sc[j + 4] = (uint8_t)((p[j + 8] & 0xf) | ((p[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((p[j + 8] >> 4) | ((p[j + 4] >> 6) << 4));
    }
}

/* Q4_K/Q5_K: sum over sub-blocks j of mn[j] * (bsums[2j] + bsums[2j+1]). */
static inline int32_t neon_k_min_sum(const uint8_t mn[8], const int16_t *bsums) {
    int16x8_t bs = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    int16x8_t m = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
    int32x4_t s = vmull_s16(vget_low_s16(bs), vget_low_s16(m));
    return vaddvq_s32(vmlal_high_s16(s, bs, m));
}

/* Q4_K/Q5_K: acc + sc_lo * (codes l0, l1 . y[0..31]) + sc_hi * (codes h0,
 * h1 . y[32..63]), the two 32-value sub-blocks of one 32-byte run of qs. */
static inline int32x4_t neon_k_sub_pair(int32x4_t acc, uint8x16_t l0, uint8x16_t l1, uint8x16_t h0,
                                        uint8x16_t h1, const int8_t *y, int32_t sc_lo,
                                        int32_t sc_hi) {
    int32x4_t zero = vdupq_n_s32(0);
    int32x4_t pl = vdotq_s32(zero, vreinterpretq_s8_u8(l0), vld1q_s8(y));
    pl = vdotq_s32(pl, vreinterpretq_s8_u8(l1), vld1q_s8(y + 16));
    int32x4_t ph = vdotq_s32(zero, vreinterpretq_s8_u8(h0), vld1q_s8(y + 32));
    ph = vdotq_s32(ph, vreinterpretq_s8_u8(h1), vld1q_s8(y + 48));
    acc = vmlaq_n_s32(acc, pl, sc_lo);
    return vmlaq_n_s32(acc, ph, sc_hi);
}

/* The float step of an affine K-quant super-block (Q2_K, Q4_K, Q5_K), the
 * reference's expression: sum + (dy*d * isum - dy*dmin * msum). */
static inline float neon_k_affine_step(float sum, float dy, uint16_t d, uint16_t dmin, int32_t isum,
                                       int32_t msum) {
    float dall = dy * neon_f16(d);
    float dm = dy * neon_f16(dmin);
    return sum + (dall * (float)isum - dm * (float)msum);
}

/* ------------------------------------------------------ batched products */

enum { NEON_TILE = 4 }; /* weight rows and activation rows of one tile */

/* One full tile of a batched product: NEON_TILE weight rows (w, w_stride)
 * by NEON_TILE activation rows (x, x_stride) over nb blocks into
 * out[c * out_stride + r]. */
typedef void (*neon_tile_fn)(int64_t nb, const uint8_t *w, size_t w_stride, const uint8_t *x,
                             size_t x_stride, float *out, size_t out_stride);

/* The type_kernels.mul_mat contract for 32-wide block types: full tiles, the
 * dot kernel for rows and columns short of one. */
static inline __attribute__((always_inline)) void
neon_mul_mat_4x4(neon_tile_fn tile, float (*dot)(const void *, const void *, int64_t), int64_t n,
                 const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                 int n_cols, float *out, size_t out_stride) {
    const uint8_t *wp = w, *xp = x;
    const int64_t nb = n / 32;
    int r = 0;
    for (; r + NEON_TILE <= n_rows; r += NEON_TILE) {
        int c = 0;
        for (; c + NEON_TILE <= n_cols; c += NEON_TILE)
            tile(nb, wp + (size_t)r * w_stride, w_stride, xp + (size_t)c * x_stride, x_stride,
                 out + (size_t)c * out_stride + r, out_stride);
        for (; c < n_cols; c++)
            for (int rr = r; rr < r + NEON_TILE; rr++)
                out[(size_t)c * out_stride + rr] =
                    dot(wp + (size_t)rr * w_stride, xp + (size_t)c * x_stride, n);
    }
    for (; r < n_rows; r++)
        for (int c = 0; c < n_cols; c++)
            out[(size_t)c * out_stride + r] = dot(wp + (size_t)r * w_stride, xp + (size_t)c * x_stride, n);
}

#endif
