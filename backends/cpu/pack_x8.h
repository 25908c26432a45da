/*
 * pack_x8.h — private to the CPU backend: the repacked layouts that its
 * kernels read faster than a file's row-by-row blocks (8 rows interleaved
 * per block), and the packers that write them (pack_x8.c). The ggml block
 * layouts they are built from live in quant/quant_impl.h.
 */
#ifndef EMBER_PACK_X8_H
#define EMBER_PACK_X8_H

#include "cpu_kernels.h" /* PACK_ROWS */
#include "quant_impl.h"

/* Q4_0 packed by 8 rows (type_kernels.pack; read by the x86 kernels): per
 * block, the 8 rows' f16 scales, then 4 vectors of 32 bytes in which the
 * 4-byte lane r of vector j holds qs[4j..4j+3] of row r, so low nibbles
 * are elements 4j..4j+3 and high nibbles 16+4j..16+4j+3 of the 8 rows:
 * one load, mask or shift gives a 32-bit lane of 4 codes per row. */
typedef struct {
    uint16_t d[PACK_ROWS];
    uint8_t qs[4][PACK_ROWS][4];
} block_q4_0x8;
_Static_assert(sizeof(block_q4_0x8) == 8 * sizeof(block_q4_0), "block_q4_0x8 layout");
size_t q4_0x8_pack_bytes(int64_t n_rows, int64_t n);
void q4_0x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);

/* Q8_0 packed by 8 rows the same way: 8 scales, then 8 vectors whose lane
 * r of vector k holds codes 4k..4k+3 of row r. */
typedef struct {
    uint16_t d[PACK_ROWS];
    int8_t qs[8][PACK_ROWS][4];
} block_q8_0x8;
_Static_assert(sizeof(block_q8_0x8) == 8 * sizeof(block_q8_0), "block_q8_0x8 layout");
size_t q8_0x8_pack_bytes(int64_t n_rows, int64_t n);
void q8_0x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
/* The same with every code stored as code + 128 (VNNI's unsigned operand). */
void q8_0x8_pack_biased(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
/* Q5_0 rows into that biased Q8_0 layout (their values are Q8_0 codes
 * -16..15 with the same scale), for the AVX-512 Q8_0 product
 * (x86/q5_0_avx512.c: it unpacks the fifth bits with AVX-512BW). */
void q5_0_x8_pack_biased_avx512(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);

/* Q4_K packed by 8 rows: the super-scales, the 6-bit scales and mins
 * unpacked to bytes sub-block-major ([j][row]), then the 128 code bytes of
 * each row in 4-byte units, unit-major as above: vector u holds bytes
 * 4u..4u+3 of every row, whose low nibbles are sub-block 2(u/8) and high
 * nibbles sub-block 2(u/8)+1. 32 bytes more than 8 blocks. */
typedef struct {
    uint16_t d[PACK_ROWS], dmin[PACK_ROWS];
    uint8_t sc[8][PACK_ROWS], m[8][PACK_ROWS];
    uint8_t qs[QK_K / 8][PACK_ROWS][4];
} block_q4_kx8;
_Static_assert(sizeof(block_q4_kx8) == 8 * 144 + 32, "block_q4_kx8 layout");
size_t q4_kx8_pack_bytes(int64_t n_rows, int64_t n);
void q4_kx8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);

/* Any other K-quant (Q2_K, Q3_K, Q5_K, Q6_K) packed by 8 rows with its
 * codes widened to one unsigned byte each (as struct kq_unpacked has
 * them): the 256 codes of each row in 4-byte units, unit-major (vector u
 * holds codes 4u..4u+3 of every row), then per 16-value sub-block j the
 * rows' scales, the int16 "mins" in pairs (lane r of m[p] holds mins 2p
 * and 2p+1 of row r, one VPMADDWD/VPDPWSSD operand against the
 * activations' bsums 2p, 2p+1), and the rows' factors d and dmin as
 * floats. A block's dot with a Q8_K block y is then, per row,
 *   y.d * (d * sum_j sc[j] * sum_{e in j} code(e) * y.qs[e]
 *          - dmin * sum_j m[j] * y.bsums[j])
 * (kquant_kernels.h: the symmetric types fold their code offset into m).
 * Bigger than the file's blocks (2496 bytes for 8 rows against 1680 for
 * Q6_K), but it is only ever a band in a thread's scratch, and its kernels
 * need no unpacking at all; a multiple of 64 bytes, so a 64-byte aligned
 * band keeps every block aligned. */
typedef struct {
    uint8_t qs[QK_K / 4][PACK_ROWS][4];
    int8_t sc[QK_K / 16][PACK_ROWS];
    int16_t m[QK_K / 32][PACK_ROWS][2];
    float d[PACK_ROWS], dmin[PACK_ROWS];
} block_kq_x8;
_Static_assert(sizeof(block_kq_x8) == 2496 && sizeof(block_kq_x8) % 64 == 0, "block_kq_x8 layout");
size_t kq_x8_pack_bytes(int64_t n_rows, int64_t n);

/* Bytes of n_rows rows of n_blocks blocks each in a packed layout whose
 * block for 8 rows is x8_bytes: the *_pack_bytes of every layout. */
static inline size_t quant_x8_bytes(int64_t n_rows, int64_t n_blocks, size_t x8_bytes) {
    return (size_t)((n_rows + PACK_ROWS - 1) / PACK_ROWS) * (size_t)n_blocks * x8_bytes;
}

/* Block i of row r0 + r of a matrix of n_rows rows, w_stride bytes apart,
 * with block_bytes blocks: the source of the packers, which fill a last,
 * short group of PACK_ROWS by repeating its last row. */
static inline const void *quant_x8_src(const void *w, size_t w_stride, int64_t n_rows, int64_t r0,
                                       int r, int64_t i, size_t block_bytes) {
    int64_t row = r0 + r < n_rows ? r0 + r : n_rows - 1;
    return (const uint8_t *)w + (size_t)row * w_stride + (size_t)i * block_bytes;
}

/* The shared packer of those layouts: blocks of 32 values, block_bytes
 * each, an f16 scale first and qs_bytes of codes after it (each code byte
 * xor code_xor). */
void quant_pack_x8(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst,
                   size_t block_bytes, size_t qs_bytes, uint8_t code_xor);

#endif
