/*
 * q5_1_neon.c — Q5_1 dot against Q8_1 activations with NEON dot-product
 * instructions. The fifth bits are spread to bytes with a table lookup and
 * a bit test (as in q5_0_neon.c) and ORed in as 16; the codes (0..31) fit
 * int8 for SDOT. The offset m_w enters once per block through the
 * activation's s. Four blocks are reduced and scaled together; each block's
 * term is rounded as in q5_1_dot_ref, only the float summation order
 * differs.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

static inline int32x4_t block_dot(const block_q5_1 *a, const block_q8_1 *b) {
    uint8x16_t m0, m1;
    neon_q5_fifth_bits(a->qh, &m0, &m1);
    uint8x16_t q = vld1q_u8(a->qs), sixteen = vdupq_n_u8(16);
    int8x16_t lo = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), vandq_u8(sixteen, m0)));
    int8x16_t hi = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), vandq_u8(sixteen, m1)));
    int32x4_t p = vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(b->qs));
    return vdotq_s32(p, hi, vld1q_s8(b->qs + 16));
}

float q5_1_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q5_1 *a = w;
    const block_q8_1 *b = x;
    int64_t nb = n / QK5_1, i = 0;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (; i + 4 <= nb; i += 4) {
        int32x4_t s = neon_hsum4(block_dot(&a[i], &b[i]), block_dot(&a[i + 1], &b[i + 1]),
                                 block_dot(&a[i + 2], &b[i + 2]), block_dot(&a[i + 3], &b[i + 3]));
        float32x4_t dd = vmulq_f32(neon_f16x4(a[i].d, a[i + 1].d, a[i + 2].d, a[i + 3].d),
                                   neon_f16x4(b[i].d, b[i + 1].d, b[i + 2].d, b[i + 3].d));
        float32x4_t ms = vmulq_f32(neon_f16x4(a[i].m, a[i + 1].m, a[i + 2].m, a[i + 3].m),
                                   neon_f16x4(b[i].s, b[i + 1].s, b[i + 2].s, b[i + 3].s));
        acc = vaddq_f32(acc, vaddq_f32(vmulq_f32(vcvtq_f32_s32(s), dd), ms));
    }
    float sum = vaddvq_f32(acc);
    for (; i < nb; i++) {
        float dd = neon_f16(a[i].d) * neon_f16(b[i].d);
        sum += (float)vaddvq_s32(block_dot(&a[i], &b[i])) * dd + neon_f16(a[i].m) * neon_f16(b[i].s);
    }
    return sum;
}
