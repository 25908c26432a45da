/*
 * simd_neon.h — small inline helpers shared by the quant/arm kernels:
 * half-precision scale loads, int32 lane reductions and the driver of the
 * 4x4-tiled batched products. Include only from files built with the NEON
 * flags (the Makefile's *_neon.c and *_i8mm.c rules).
 */
#ifndef EMBER_SIMD_NEON_H
#define EMBER_SIMD_NEON_H

#include <arm_neon.h>
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

enum { NEON_TILE = 4 }; /* weight rows and activation rows of one tile */

/* One full tile of a batched product: NEON_TILE weight rows (w, w_stride)
 * by NEON_TILE activation rows (x, x_stride) over nb blocks into
 * out[c * out_stride + r]. */
typedef void (*neon_tile_fn)(int64_t nb, const uint8_t *w, size_t w_stride, const uint8_t *x,
                             size_t x_stride, float *out, size_t out_stride);

/* The quant_ops.mul_mat contract for 32-wide block types: full tiles, the
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
