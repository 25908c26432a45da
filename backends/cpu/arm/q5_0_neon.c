/*
 * q5_0_neon.c — Q5_0 dot against Q8_0 activations with NEON dot-product
 * instructions.
 *
 * The 32 fifth bits (qh, a little-endian u32) are spread to one byte per
 * element with a table lookup (byte j/8 of qh into lane j) and a bit test
 * against 1 << (j % 8). With the bit set the code is low + 16, so
 * code - 16 = low - (bit ? 0 : 16): one BIC and one subtract per 16 values.
 * Four blocks are reduced and scaled together; each block's term is rounded
 * as in q5_0_dot_ref, only the float summation order differs.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

static inline int32x4_t block_dot(const block_q5_0 *a, const block_q8_0 *b) {
    uint8x16_t m0, m1;
    neon_q5_fifth_bits(a->qh, &m0, &m1);
    uint8x16_t q = vld1q_u8(a->qs), sixteen = vdupq_n_u8(16);
    int8x16_t lo = vreinterpretq_s8_u8(vsubq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), vbicq_u8(sixteen, m0)));
    int8x16_t hi = vreinterpretq_s8_u8(vsubq_u8(vshrq_n_u8(q, 4), vbicq_u8(sixteen, m1)));
    int32x4_t p = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(b->qs));
    return vdotq_s32(p, hi, vld1q_s8(b->qs + 16));
}

float q5_0_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q5_0 *a = w;
    const block_q8_0 *b = x;
    int64_t nb = n / QK5_0, i = 0;
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
