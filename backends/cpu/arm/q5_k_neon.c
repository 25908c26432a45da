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

float q5_k_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q5_k *a = w;
    const block_q8_k *b = x;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), sixteen = vdupq_n_u8(16);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        neon_k_scales_mins(a[i].scales, sc, mn);
        int32_t msum = neon_k_min_sum(mn, b[i].bsums);
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
            acc = neon_k_sub_pair(acc, l0, l1, u0, u1, y, sc[2 * k], sc[2 * k + 1]);
        }
        sum = neon_k_affine_step(sum, b[i].d, a[i].d, a[i].dmin, vaddvq_s32(acc), msum);
    }
    return sum;
}
