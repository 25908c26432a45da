/*
 * quant.h — the tensor types ember reads, and the table of their kernels.
 *
 * Type ids are ggml's (they are what GGUF files store). Each supported type
 * has one `struct quant_ops`: its block geometry, a scalar reference
 * dequantizer, an optional quantizer, and a dot product of one weight row
 * against an activation row already converted to `vec_type` (as ggml pairs
 * Q4_0 with Q8_0 and the K-quants with Q8_K). The scalar `_ref` kernels live
 * one family per file (q4_0.c, q4_k.c, ...) and are the oracle that faster
 * kernels are tested against; a CPU dispatcher may later replace entries.
 */
#ifndef EMBER_QUANT_H
#define EMBER_QUANT_H

#include <stddef.h>
#include <stdint.h>

enum ember_type {
    EMBER_TYPE_F32 = 0,
    EMBER_TYPE_F16 = 1,
    EMBER_TYPE_Q4_0 = 2,
    EMBER_TYPE_Q4_1 = 3,
    EMBER_TYPE_Q5_0 = 6,
    EMBER_TYPE_Q5_1 = 7,
    EMBER_TYPE_Q8_0 = 8,
    EMBER_TYPE_Q8_1 = 9,
    EMBER_TYPE_Q2_K = 10,
    EMBER_TYPE_Q3_K = 11,
    EMBER_TYPE_Q4_K = 12,
    EMBER_TYPE_Q5_K = 13,
    EMBER_TYPE_Q6_K = 14,
    EMBER_TYPE_Q8_K = 15,
    EMBER_TYPE_BF16 = 30,
    EMBER_TYPE_COUNT = 40 /* ids at or above this are unknown */
};

struct quant_ops {
    const char *name;
    int block_elems;          /* values per block */
    int block_bytes;          /* bytes per block */
    enum ember_type vec_type; /* the activation format `dot` expects */
    /* Decode n values (n a multiple of block_elems). */
    void (*dequant)(const void *src, float *dst, int64_t n);
    /* Encode n values; NULL when ember cannot write this type. */
    void (*quantize)(const float *src, void *dst, int64_t n);
    /* Dot of one row `w` of this type with `x` (n values in vec_type);
     * NULL for the activation-only types (Q8_1, Q8_K). */
    float (*dot)(const void *w, const void *x, int64_t n);
    /* Optional tiled product for batches: for r < n_rows and c < n_cols,
     * out[c * out_stride + r] = dot(w + r * w_stride, x + c * x_stride, n).
     * NULL: callers loop over dot. A kernel may assume n_rows, n_cols > 0. */
    void (*mul_mat)(int64_t n, const void *w, size_t w_stride, int n_rows,
                    const void *x, size_t x_stride, int n_cols, float *out,
                    size_t out_stride);
    /* Optional interleaved copy of a weight matrix that a kernel set reads
     * faster than the file's row-by-row layout (NULL: none). Rows go in
     * groups of PACK_ROWS, the last one padded by repeating its last row;
     * pack_bytes(n_rows, n) is the size of n_rows rows, so a band starting
     * at row r0 (a multiple of PACK_ROWS) starts r0 / PACK_ROWS *
     * pack_bytes(PACK_ROWS, n) bytes in. mul_mat_packed is mul_mat reading
     * such a band. */
    size_t (*pack_bytes)(int64_t n_rows, int64_t n);
    void (*pack)(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
    void (*mul_mat_packed)(int64_t n, const void *wp, int n_rows, const void *x,
                           size_t x_stride, int n_cols, float *out, size_t out_stride);
};

#define PACK_ROWS 8

/* The ops of a supported type, or NULL (unknown id, or a ggml type such as
 * IQ2_XXS that ember does not implement). The table is static: no free. */
const struct quant_ops *quant_ops_for(int type);

/* ggml's name of any type id ("Q4_K", "IQ2_XXS", ...), or NULL if unknown. */
const char *quant_type_name(int type);

/* Bytes of a row of n values of a supported type (n % block_elems == 0). */
size_t quant_row_bytes(int type, int64_t n);

/* IEEE half and bfloat16 conversions used by several kernels. */
float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f);

#endif
