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
#include "int8_neon.h"

static inline void q5_1_codes(const uint8_t *blk, int8x16_t v[2]) {
    uint8x16_t m0, m1;
    neon_q5_fifth_bits(blk + offsetof(block_q5_1, qh), &m0, &m1);
    uint8x16_t q = vld1q_u8(blk + offsetof(block_q5_1, qs)), sixteen = vdupq_n_u8(16);
    v[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0f)), vandq_u8(sixteen, m0)));
    v[1] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), vandq_u8(sixteen, m1)));
}

static const struct neon_q8_fmt q5_1_fmt = NEON_Q8_FMT(block_q5_1, block_q8_1, true, q5_1_codes);

NEON_Q8_DOT(q5_1)
