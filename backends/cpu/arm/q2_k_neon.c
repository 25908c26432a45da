/*
 * q2_k_neon.c — Q2_K dot against Q8_K activations with NEON dot-product
 * instructions.
 *
 * Each half (128 values) of a super-block reads 32 bytes of qs; its quarter
 * k (32 values) is bits 2k..2k+1 of those bytes. Each 16 codes (0..3) are
 * one SDOT, weighted by the low nibble of their scale byte in integer
 * lanes; the high nibbles (minimums) meet the activation's bsums. Integer
 * work is exact and the float step per super-block is the reference's
 * expression, so the result is bit-identical to q2_k_dot_ref.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

/* sum over j of (scales[j] >> 4) * bsums[j], j < 16. */
static inline int32_t min_sum(const uint8_t *scales, const int16_t *bsums) {
    uint8x16_t m = vshrq_n_u8(vld1q_u8(scales), 4);
    int16x8_t m0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(m)));
    int16x8_t m1 = vreinterpretq_s16_u16(vmovl_high_u8(m));
    int16x8_t b0 = vld1q_s16(bsums), b1 = vld1q_s16(bsums + 8);
    int32x4_t s = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
    s = vmlal_high_s16(s, m0, b0);
    s = vmlal_s16(s, vget_low_s16(m1), vget_low_s16(b1));
    return vaddvq_s32(vmlal_high_s16(s, m1, b1));
}

float q2_k_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q2_k *a = w;
    const block_q8_k *b = x;
    const uint8x16_t m2 = vdupq_n_u8(3);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t msum = min_sum(a[i].scales, b[i].bsums);
        int32x4_t acc = vdupq_n_s32(0);
        UNROLL for (int h = 0; h < 2; h++) {
            uint8x16_t q[2] = {vld1q_u8(a[i].qs + 32 * h), vld1q_u8(a[i].qs + 32 * h + 16)};
            const uint8_t *sc = a[i].scales + 8 * h;
            const int8_t *y = b[i].qs + 128 * h;
            UNROLL for (int k = 0; k < 4; k++) {
                UNROLL for (int s = 0; s < 2; s++) {
                    uint8x16_t c = vandq_u8(q[s], m2);
                    q[s] = vshrq_n_u8(q[s], 2);
                    acc = neon_k_sdot16(acc, vreinterpretq_s8_u8(c), y + 32 * k + 16 * s,
                                        sc[2 * k + s] & 0xf);
                }
            }
        }
        sum = neon_k_affine_step(sum, b[i].d, a[i].d, a[i].dmin, vaddvq_s32(acc), msum);
    }
    return sum;
}
