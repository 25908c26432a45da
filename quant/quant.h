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
    EMBER_TYPE_COUNT = 40 /* ids at or above this are unknown */
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

/* IEEE half and bfloat16 conversions used by several kernels. */
float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f);

#endif
