/*
 * simd_neon.h — small inline helpers shared by the quant/arm *_neon.c
 * kernels: half-precision scale loads and int32 lane reductions. Include
 * only from files built with the NEON flags (the Makefile's *_neon.c rule).
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

#endif
