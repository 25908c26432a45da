/*
 * q4_0_neon.c — Q4_0 with NEON dot-product instructions: the dot against
 * Q8_0 activations, a 4x4 tiled product for batches, and the dequantizer.
 *
 * A block's 16 bytes unpack to two int8 vectors (low nibbles are elements
 * 0..15, high nibbles 16..31) with 8 subtracted; two SDOTs against the Q8_0
 * codes give the block's integer sum in four lanes. Four blocks' sums are
 * reduced together into one vector, converted to float (exact) and scaled
 * by d_w*d_x, so each block's term is rounded exactly as in
 * q4_0_dot_ref; only the order of the float additions differs.
 */
#include "kernels_neon.h"
#include "quant_impl.h"
#include "int8_neon.h"

static const struct neon_q8_fmt q4_0_fmt =
    NEON_Q8_FMT(block_q4_0, block_q8_0, false, neon_q4_0_block_codes);

NEON_Q8_DOT(q4_0)
NEON_Q8_MUL_MAT_4X4(q4_0)

void q4_0_dequant_neon(const void *src, float *dst, int64_t n) {
    const block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = neon_f16(b[i].d);
        int8x16_t lo, hi;
        neon_q4_0_codes(b[i].qs, &lo, &hi);
        int16x8_t h[4] = {vmovl_s8(vget_low_s8(lo)), vmovl_high_s8(lo),
                          vmovl_s8(vget_low_s8(hi)), vmovl_high_s8(hi)};
        for (int k = 0; k < 4; k++) {
            vst1q_f32(dst + 8 * k, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[k]))), d));
            vst1q_f32(dst + 8 * k + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(h[k])), d));
        }
    }
}
