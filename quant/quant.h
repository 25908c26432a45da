/*
 * quant.h — the tensor types ember reads: the bottom floor, number formats
 * only, needing nothing else of ember and holding no state.
 *
 * Type ids are ggml's (they are what GGUF files store). Each supported type
 * has one const `struct quant_traits`: its block geometry, a scalar
 * reference dequantizer, an optional quantizer, and a dot product of one
 * weight row against an activation row already converted to `vec_type` (as
 * ggml pairs Q4_0 with Q8_0 and the K-quants with Q8_K). The scalar `_ref`
 * kernels live one family per file (q4_0.c, q4_k.c, ...) and are the oracle
 * that faster kernels are tested against; a backend builds its own kernel
 * table from these (backends/cpu/cpu_kernels.h) and never writes here.
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
    /* ember's own, above ggml's ids (a GGUF never stores them): GPTQ
     * matrices of several parts (gptq.c), INT4 and INT8 */
    EMBER_TYPE_GPTQ4 = 40,
    EMBER_TYPE_GPTQ8 = 41,
    EMBER_TYPE_COUNT = 42 /* ids at or above this are unknown */
};

struct quant_traits {
    const char *name;
    int block_elems;          /* values per block */
    int block_bytes;          /* bytes per block */
    enum ember_type vec_type; /* the activation format `dot` expects */
    /* Scalar reference kernels, the oracle for every faster one. */
    /* Decode n values (n a multiple of block_elems). */
    void (*dequant)(const void *src, float *dst, int64_t n);
    /* Encode n values; NULL when ember cannot write this type. */
    void (*quantize)(const float *src, void *dst, int64_t n);
    /* Dot of one row `w` of this type with `x` (n values in vec_type);
     * NULL for the activation-only types (Q8_1, Q8_K). */
    float (*dot)(const void *w, const void *x, int64_t n);
};


/* The traits of a supported type, or NULL (unknown id, or a ggml type such
 * as IQ2_XXS that ember does not implement). The table is const and static:
 * no free, safe from any thread. */
const struct quant_traits *quant_traits_for(int type);

/* ggml's name of any type id ("Q4_K", "IQ2_XXS", ...), or NULL if unknown. */
const char *quant_type_name(int type);

/* Bytes of a row of n values of a supported type (n % block_elems == 0). */
size_t quant_row_bytes(int type, int64_t n);

/* ---------------------------------------------------------------- GPTQ */

/* A GPTQ matrix is not a block type (quant_traits_for returns NULL for its
 * ids, so no GGUF can claim one): W[o][i], o < n_out, i < n_in, lives in
 * four arrays of a checkpoint, read where they are:
 *   qweight int32 [ceil(n_in/pf)][n_out], pf = 32/bits values a word along
 *           the input dim, lowest bits first (input r*pf + j in bits
 *           [j*bits, (j+1)*bits));
 *   scales  f16 [n_groups][n_out];
 *   qzeros  int32 [n_groups][ceil(n_out/pf)], packed along the output dim;
 *   g_idx   int32 [n_in], the group of each input, or NULL: i / group_size.
 * W[o][i] = scale[g][o] * (q[i][o] - (qzero[g][o] + zero_add)), g = g(i).
 * Padding slots past n_in / n_out are never read. */
struct gptq_layout {
    int bits;           /* 4 or 8 */
    int zero_add;       /* 1: zeros stored minus one (AutoGPTQ's "gptq"), 0: as is */
    int64_t group_size; /* inputs per group (n_in for group_size -1) */
    int64_t n_groups;
};

struct gptq_matrix {
    struct gptq_layout l;
    int64_t n_in, n_out;
    const int32_t *qweight;
    const uint16_t *scales;
    const int32_t *qzeros;
    const int32_t *g_idx; /* NULL: contiguous groups (i / group_size) */
};

/* The scalar references (gptq.c), the oracle of the CPU kernels. */
/* Row o of W (n_in values) into dst. */
void gptq_dequant_row_ref(const struct gptq_matrix *m, int64_t o, float *dst);
/* The same row, bit for bit, at the cost of a conversion rather than of a
 * reference: each packed word read once, each group's scale and zero
 * decoded once into scale_tmp and zero_tmp (n_groups each, the caller's). */
void gptq_dequant_row(const struct gptq_matrix *m, int64_t o, float *dst, float *scale_tmp, int *zero_tmp);
/* For o0 <= o < o1 and c < n_cols: out[c*out_stride + o] = W[o] . x[c*x_stride ..],
 * float activations; per output, each group's sum of (q - z) x in input
 * order, times the group's scale, added in order of first appearance. */
void gptq_mul_mat_ref(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                      size_t x_stride, int n_cols, float *out, size_t out_stride);
/* The zero point (z + zero_add) of output o in group g. */
static inline int gptq_zero(const struct gptq_matrix *m, int64_t g, int64_t o) {
    int pf = 32 / m->l.bits;
    int64_t zw = (m->n_out + pf - 1) / pf;
    uint32_t w = (uint32_t)m->qzeros[g * zw + o / pf];
    return (int)((w >> (o % pf * m->l.bits)) & ((1u << m->l.bits) - 1)) + m->l.zero_add;
}

/* IEEE half and bfloat16 conversions used by several kernels. */
float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f);

#endif
