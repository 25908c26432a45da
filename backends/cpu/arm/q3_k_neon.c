/*
 * q3_k_neon.c — Q3_K dot against Q8_K activations with NEON dot-product
 * instructions.
 *
 * Codes are low2 + 4*high - 4: the low two bits come as in Q2_K (quarter k
 * of each half is bits 2k..2k+1 of 32 qs bytes), the high bit of value e is
 * bit e/32 of hmask[e % 32], so a bit test gives a mask and
 * code = low2 - (high ? 0 : 4). Each 16 codes are one SDOT weighted by
 * their signed 6-bit scale. Integer work is exact and the float step per
 * super-block is the reference's expression, so the result is bit-identical
 * to q3_k_dot_ref.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "simd_neon.h"

/* The 16 scales, unbiased (-32..31), from the packed 12 bytes. */
static inline void unpack_scales(const uint8_t *p, int32_t sc[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = (j < 8 ? p[j] : p[j - 8] >> 4) & 0xf;
        int hi = (p[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (lo | hi << 4) - 32;
    }
}

float q3_k_dot_neon(const void *w, const void *x, int64_t n) {
    const block_q3_k *a = w;
    const block_q8_k *b = x;
    const uint8x16_t m2 = vdupq_n_u8(3), four = vdupq_n_u8(4);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t sc[16];
        unpack_scales(a[i].scales, sc);
        uint8x16_t hm[2] = {vld1q_u8(a[i].hmask), vld1q_u8(a[i].hmask + 16)};
        int32x4_t acc = vdupq_n_s32(0);
        UNROLL for (int h = 0; h < 2; h++) {
            uint8x16_t q[2] = {vld1q_u8(a[i].qs + 32 * h), vld1q_u8(a[i].qs + 32 * h + 16)};
            const int8_t *y = b[i].qs + 128 * h;
            UNROLL for (int k = 0; k < 4; k++) {
                uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << (4 * h + k)));
                UNROLL for (int s = 0; s < 2; s++) {
                    uint8x16_t c = vsubq_u8(vandq_u8(q[s], m2), vbicq_u8(four, vtstq_u8(hm[s], bit)));
                    q[s] = vshrq_n_u8(q[s], 2);
                    acc = neon_k_sdot16(acc, vreinterpretq_s8_u8(c), y + 32 * k + 16 * s,
                                        sc[8 * h + 2 * k + s]);
                }
            }
        }
        sum += (float)vaddvq_s32(acc) * (neon_f16(a[i].d) * b[i].d);
    }
    return sum;
}
