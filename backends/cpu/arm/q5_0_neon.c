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
#include "int8_neon.h"

static inline void q5_0_codes(const uint8_t *blk, int8x16_t v[2]) {
    uint8x16_t m0, m1;
    neon_q5_fifth_bits(blk + offsetof(block_q5_0, qh), &m0, &m1);
    uint8x16_t q = vld1q_u8(blk + offsetof(block_q5_0, qs)), sixteen = vdupq_n_u8(16);
    v[0] = vreinterpretq_s8_u8(vsubq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), vbicq_u8(sixteen, m0)));
    v[1] = vreinterpretq_s8_u8(vsubq_u8(vshrq_n_u8(q, 4), vbicq_u8(sixteen, m1)));
}

static const struct neon_q8_fmt q5_0_fmt = NEON_Q8_FMT(block_q5_0, block_q8_0, false, q5_0_codes);

NEON_Q8_DOT(q5_0)
