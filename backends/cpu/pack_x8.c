/*
 * pack_x8.c — the interleaved copies of bands of Q4_0, Q8_0 and Q4_K rows
 * that the x86 batch kernels read (layouts in pack_x8.h). Plain C: it only
 * moves bytes, into a thread's scratch, once per band and batch (ops.c).
 *
 * Rows go in groups of PACK_ROWS; for each block, the group's 8 f16 scales,
 * then the codes in 4-byte units, unit-major: unit j of rows 0..7, then
 * unit j+1, ... so one 32-byte load gives 4 codes (or 8 nibbles) of every
 * row. A last, short group repeats its last row. code_xor is applied to
 * every code byte: 0x80 stores Q8_0's codes as unsigned code+128 for the
 * VNNI kernels (VPDPBUSD wants one unsigned operand). Q4_K, whose layout
 * also rearranges its scales, has its own packer at the end; the other
 * K-quants' (block_kq_x8) unpack each block first, with the AVX2
 * unpackers, so theirs are in x86/kq_x8_avx2.c.
 */
#include <string.h>

#include "pack_x8.h"

void quant_pack_x8(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst,
                   size_t block_bytes, size_t qs_bytes, uint8_t code_xor) {
    uint8_t *out = dst;
    const int64_t nb = n / 32;
    /* row by row: each row is read as one stream (8 rows side by side read
     * at half the speed), its units scattered into the group's blocks */
    for (int64_t r0 = 0; r0 < n_rows; r0 += PACK_ROWS)
        for (int r = 0; r < PACK_ROWS; r++)
            for (int64_t i = 0; i < nb; i++) {
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

size_t q4_0x8_pack_bytes(int64_t n_rows, int64_t n) {
    return quant_x8_bytes(n_rows, n / QK4_0, sizeof(block_q4_0x8));
}

void q4_0x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst) {
    quant_pack_x8(n, w, w_stride, n_rows, dst, sizeof(block_q4_0), QK4_0 / 2, 0);
}

size_t q4_kx8_pack_bytes(int64_t n_rows, int64_t n) {
    return quant_x8_bytes(n_rows, n / QK_K, sizeof(block_q4_kx8));
}

void q4_kx8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst) {
    block_q4_kx8 *out = dst;
    const int64_t nb = n / QK_K;
    for (int64_t r0 = 0; r0 < n_rows; r0 += PACK_ROWS)
        for (int64_t i = 0; i < nb; i++, out++)
            for (int r = 0; r < PACK_ROWS; r++) {
                const block_q4_k *b = quant_x8_src(w, w_stride, n_rows, r0, r, i, sizeof(block_q4_k));
                out->d[r] = b->d;
                out->dmin[r] = b->dmin;
                for (int j = 0; j < 8; j++) k_scale_min_get(b->scales, j, &out->sc[j][r], &out->m[j][r]);
                for (int u = 0; u < QK_K / 8; u++) memcpy(out->qs[u][r], b->qs + 4 * u, 4);
            }
}

size_t kq_x8_pack_bytes(int64_t n_rows, int64_t n) {
    return quant_x8_bytes(n_rows, n / QK_K, sizeof(block_kq_x8));
}

size_t q8_0x8_pack_bytes(int64_t n_rows, int64_t n) {
    return quant_x8_bytes(n_rows, n / QK8_0, sizeof(block_q8_0x8));
}

void q8_0x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst) {
    quant_pack_x8(n, w, w_stride, n_rows, dst, sizeof(block_q8_0), QK8_0, 0);
}

void q8_0x8_pack_biased(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst) {
    quant_pack_x8(n, w, w_stride, n_rows, dst, sizeof(block_q8_0), QK8_0, 0x80);
}
