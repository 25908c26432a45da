/*
 * q5_k_neon.c — Q5_K dot against Q8_K activations with NEON dot-product
 * instructions.
 *
 * As Q4_K (two 32-value sub-blocks per 32 bytes of qs, low then high
 * nibbles), plus the fifth bit: bit j of qh[l] belongs to element l of
 * sub-block j, so a bit test against 1 << j selects 16 to OR in. Integer
 * work is exact and the float step per super-block is the reference's
 * expression, so the result is bit-identical to q5_k_dot_ref.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

/* The 8 scales and 8 mins of the 12-byte field (k_scale_min_get). */
static inline void scales_mins(const uint8_t *p, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = p[j] & 63;
        mn[j] = p[j + 4] & 63;
        sc[j + 4] = (uint8_t)((p[j + 8] & 0xf) | ((p[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((p[j + 8] >> 4) | ((p[j + 4] >> 6) << 4));
    }
}

/* sum over sub-blocks j of mn[j] * (bsums[2j] + bsums[2j+1]). */
static inline int32_t min_sum(const uint8_t mn[8], const int16_t *bsums) {
    int16x8_t bs = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
    int16x8_t m = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
    int32x4_t s = vmull_s16(vget_low_s16(bs), vget_low_s16(m));
    return vaddvq_s32(vmlal_high_s16(s, bs, m));
}

float q5_k_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q5_k *a = w;
    const block_q8_k *b = x;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), sixteen = vdupq_n_u8(16);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        scales_mins(a[i].scales, sc, mn);
        int32_t msum = min_sum(mn, b[i].bsums);
        uint8x16_t h0 = vld1q_u8(a[i].qh), h1 = vld1q_u8(a[i].qh + 16);
        int32x4_t acc = vdupq_n_s32(0);
        const uint8_t *q = a[i].qs;
        const int8_t *y = b[i].qs;
        UNROLL for (int k = 0; k < 4; k++, q += 32, y += 64) {
            uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
            uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << (2 * k)));
            uint8x16_t bh = vdupq_n_u8((uint8_t)(1u << (2 * k + 1)));
            uint8x16_t l0 = vorrq_u8(vandq_u8(q0, m4), vandq_u8(vtstq_u8(h0, bl), sixteen));
            uint8x16_t l1 = vorrq_u8(vandq_u8(q1, m4), vandq_u8(vtstq_u8(h1, bl), sixteen));
            uint8x16_t u0 = vorrq_u8(vshrq_n_u8(q0, 4), vandq_u8(vtstq_u8(h0, bh), sixteen));
            uint8x16_t u1 = vorrq_u8(vshrq_n_u8(q1, 4), vandq_u8(vtstq_u8(h1, bh), sixteen));
            int32x4_t zero = vdupq_n_s32(0);
            int32x4_t pl = vdotq_s32(zero, vreinterpretq_s8_u8(l0), vld1q_s8(y));
            pl = vdotq_s32(pl, vreinterpretq_s8_u8(l1), vld1q_s8(y + 16));
            int32x4_t ph = vdotq_s32(zero, vreinterpretq_s8_u8(u0), vld1q_s8(y + 32));
            ph = vdotq_s32(ph, vreinterpretq_s8_u8(u1), vld1q_s8(y + 48));
            acc = vmlaq_n_s32(acc, pl, sc[2 * k]);
            acc = vmlaq_n_s32(acc, ph, sc[2 * k + 1]);
        }
        int32_t isum = vaddvq_s32(acc);
        float dall = b[i].d * neon_f16(a[i].d);
        float dmin = b[i].d * neon_f16(a[i].dmin);
        sum += dall * (float)isum - dmin * (float)msum;
    }
    return sum;
}
