/*
 * q4_1_neon.c — Q4_1 dot against Q8_1 activations with NEON dot-product
 * instructions. The unsigned 4-bit codes (0..15) fit int8, so SDOT works on
 * them directly; the block offset m_w enters once per block through the
 * activation's s = d_x*sum(q). Four blocks are reduced and scaled together;
 * each block's term is rounded as in q4_1_dot_ref, only the float summation
 * order differs.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "int8_neon.h"

static inline void q4_1_codes(const uint8_t *blk, int8x16_t v[2]) {
    uint8x16_t q = vld1q_u8(blk + offsetof(block_q4_1, qs));
    v[0] = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0f)));
    v[1] = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
}

static const struct neon_q8_fmt q4_1_fmt = NEON_Q8_FMT(block_q4_1, block_q8_1, true, q4_1_codes);

NEON_Q8_DOT(q4_1)
