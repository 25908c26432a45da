/*
 * pack_x8.c — the interleaved copies of Q4_0 and Q8_0 matrices that the x86
 * kernels read (quant_ops.pack; layouts in quant_impl.h). Plain C: it only
 * moves bytes, once, at load.
 *
 * Rows go in groups of PACK_ROWS; for each block, the group's 8 f16 scales,
 * then the codes in 4-byte units, unit-major: unit j of rows 0..7, then
 * unit j+1, ... so one 32-byte load gives 4 codes (or 8 nibbles) of every
 * row. A last, short group repeats its last row. code_xor is applied to
 * every code byte: 0x80 stores Q8_0's codes as unsigned code+128 for the
 * VNNI kernels (VPDPBUSD wants one unsigned operand). Q5_0 and Q4_K, whose
 * layouts also rearrange bits and scales, have their packers in q5_0.c and
 * q4_k.c.
 */
#include <string.h>

#include "quant_impl.h"

void quant_pack_x8(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst,
                   size_t block_bytes, size_t qs_bytes, uint8_t code_xor) {
    uint8_t *out = dst;
    const int64_t nb = n / 32;
    for (int64_t r0 = 0; r0 < n_rows; r0 += PACK_ROWS)
        for (int64_t i = 0; i < nb; i++)
            for (int r = 0; r < PACK_ROWS; r++) {
                const uint8_t *b = quant_x8_src(w, w_stride, n_rows, r0, r, i, block_bytes);
                uint8_t *o = out + (size_t)(r0 / PACK_ROWS * nb + i) * PACK_ROWS * block_bytes;
                memcpy(o + 2 * r, b, 2);
                for (size_t j = 0; j < qs_bytes / 4; j++) {
                    uint32_t v;
                    memcpy(&v, b + 2 + 4 * j, 4);
                    v ^= code_xor * 0x01010101u;
                    memcpy(o + 2 * PACK_ROWS + (j * PACK_ROWS + (size_t)r) * 4, &v, 4);
                }
            }
}
