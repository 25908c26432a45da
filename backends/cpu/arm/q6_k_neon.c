/*
 * q6_k_neon.c — Q6_K dot against Q8_K activations with NEON dot-product
 * instructions.
 *
 * Each half (128 values) of a super-block reads 64 bytes of ql and 32 of
 * qh. Value l of the half's quarter k (32 values) is the low (k < 2) or high
 * (k >= 2) nibble of ql[32*(k%2) + l] with bits 2k..2k+1 of qh[l] on top,
 * minus 32. Each 16 codes are one SDOT pair, weighted by their int8 scale
 * in integer lanes. Integer work is exact and the float step per
 * super-block is the reference's expression, so the result is
 * bit-identical to q6_k_dot_ref.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

float q6_k_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q6_k *a = w;
    const block_q8_k *b = x;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), m3 = vdupq_n_u8(0x30);
    const int8x16_t bias = vdupq_n_s8(32);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32x4_t acc = vdupq_n_s32(0);
        UNROLL for (int h = 0; h < 2; h++) {
            const uint8_t *ql = a[i].ql + 64 * h, *qh = a[i].qh + 32 * h;
            const int8_t *sc = a[i].scales + 8 * h;
            const int8_t *y = b[i].qs + 128 * h;
            uint8x16_t l[4] = {vld1q_u8(ql), vld1q_u8(ql + 16), vld1q_u8(ql + 32), vld1q_u8(ql + 48)};
            uint8x16_t hb[2] = {vld1q_u8(qh), vld1q_u8(qh + 16)};
            UNROLL for (int k = 0; k < 4; k++) {
                UNROLL for (int s = 0; s < 2; s++) {
                    /* values 32k + 16s .. +15 of this half */
                    uint8x16_t lo = k < 2 ? vandq_u8(l[2 * k + s], m4) : vshrq_n_u8(l[2 * (k - 2) + s], 4);
                    uint8x16_t hi;
                    switch (k) {
                    case 0: hi = vshlq_n_u8(hb[s], 4); break;
                    case 1: hi = vshlq_n_u8(hb[s], 2); break;
                    case 2: hi = hb[s]; break;
                    default: hi = vshrq_n_u8(hb[s], 2); break;
                    }
                    int8x16_t c = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, vandq_u8(hi, m3))), bias);
                    acc = neon_k_sdot16(acc, c, y + 32 * k + 16 * s, sc[2 * k + s]);
                }
            }
        }
        sum += (float)vaddvq_s32(acc) * (neon_f16(a[i].d) * b[i].d);
    }
    return sum;
}
