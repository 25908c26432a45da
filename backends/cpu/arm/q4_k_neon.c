/*
 * q4_k_neon.c — Q4_K dot against Q8_K activations with NEON dot-product
 * instructions.
 *
 * Each 32 bytes of qs hold two 32-value sub-blocks (low nibbles, then high
 * nibbles); four SDOTs give their sums, which are weighted by the 6-bit
 * scales in integer lanes. The minimums use the activation's bsums. All
 * integer work is exact and the float step per super-block is the
 * reference's expression, so the result is bit-identical to q4_k_dot_ref.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

float q4_k_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        neon_k_scales_mins(a[i].scales, sc, mn);
        int32_t msum = neon_k_min_sum(mn, b[i].bsums);
        int32x4_t acc = vdupq_n_s32(0);
        const uint8_t *q = a[i].qs;
        const int8_t *y = b[i].qs;
        UNROLL for (int k = 0; k < 4; k++, q += 32, y += 64) {
            uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
            acc = neon_k_sub_pair(acc, vandq_u8(q0, m4), vandq_u8(q1, m4), vshrq_n_u8(q0, 4),
                                  vshrq_n_u8(q1, 4), y, sc[2 * k], sc[2 * k + 1]);
        }
        sum = neon_k_affine_step(sum, b[i].d, a[i].d, a[i].dmin, vaddvq_s32(acc), msum);
    }
    return sum;
}
