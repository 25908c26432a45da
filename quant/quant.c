/*
 * quant.c — the per-type traits table: names and block geometry of every
 * ggml type id, and the kernels of the types ember implements.
 *
 * Geometry is known for all ggml types (so a GGUF loader can size tensors it
 * cannot compute with); kernels only for the types in `traits`, which holds
 * the scalar `_ref` kernels from the per-family files and is const. Ids 4,
 * 5 (Q4_2, Q4_3), 31-33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) and 36-38 (the
 * IQ4_NL_x_x repacks) were removed from ggml and count as unknown.
 */
#include "quant_impl.h"

/* ggml's name and block geometry, indexed by type id; name NULL = unknown. */
static const struct type_info {
    const char *name;
    int block_elems;
    int block_bytes;
} type_info[EMBER_TYPE_COUNT] = {
    [0] = {"F32", 1, 4},          [1] = {"F16", 1, 2},
    [2] = {"Q4_0", 32, 18},       [3] = {"Q4_1", 32, 20},
    [6] = {"Q5_0", 32, 22},       [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},       [9] = {"Q8_1", 32, 36},
    [10] = {"Q2_K", 256, 84},     [11] = {"Q3_K", 256, 110},
    [12] = {"Q4_K", 256, 144},    [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},    [15] = {"Q8_K", 256, 292},
    [16] = {"IQ2_XXS", 256, 66},  [17] = {"IQ2_XS", 256, 74},
    [18] = {"IQ3_XXS", 256, 98},  [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},    [21] = {"IQ3_S", 256, 110},
    [22] = {"IQ2_S", 256, 82},    [23] = {"IQ4_XS", 256, 136},
    [24] = {"I8", 1, 1},          [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},         [27] = {"I64", 1, 8},
    [28] = {"F64", 1, 8},         [29] = {"IQ1_M", 256, 56},
    [30] = {"BF16", 1, 2},        [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},    [39] = {"MXFP4", 32, 17},
    /* ember's multi-part GPTQ matrices: no block geometry (row bytes 0) */
    [40] = {"GPTQ4", 0, 0},       [41] = {"GPTQ8", 0, 0},
};

/* One entry per implemented type. The geometry repeats type_info on purpose
 * (a static initializer cannot read another table); the test checks that
 * the two agree. */
#define OPS(id, t, nm, elems, bytes, vec)                  \
    [id] = {.name = (nm),                                  \
            .block_elems = (elems),                        \
            .block_bytes = (bytes),                        \
            .vec_type = (vec),                             \
            .dequant = t##_dequant_ref,                    \
            .quantize = t##_quantize_ref,                  \
            .dot = t##_dot_ref}

/* Activation-only formats: a quantizer for the dot partner, but no dot. */
#define OPS_VEC(id, t, nm, elems, bytes)                   \
    [id] = {.name = (nm),                                  \
            .block_elems = (elems),                        \
            .block_bytes = (bytes),                        \
            .vec_type = (id),                              \
            .dequant = t##_dequant_ref,                    \
            .quantize = t##_quantize_ref,                  \
            .dot = NULL}

static const struct quant_traits traits[EMBER_TYPE_COUNT] = {
    OPS(EMBER_TYPE_F32, f32, "F32", 1, 4, EMBER_TYPE_F32),
    OPS(EMBER_TYPE_F16, f16, "F16", 1, 2, EMBER_TYPE_F16),
    OPS(EMBER_TYPE_BF16, bf16, "BF16", 1, 2, EMBER_TYPE_BF16),
    OPS(EMBER_TYPE_Q4_0, q4_0, "Q4_0", QK4_0, sizeof(block_q4_0), EMBER_TYPE_Q8_0),
    OPS(EMBER_TYPE_Q4_1, q4_1, "Q4_1", QK4_1, sizeof(block_q4_1), EMBER_TYPE_Q8_1),
    OPS(EMBER_TYPE_Q5_0, q5_0, "Q5_0", QK5_0, sizeof(block_q5_0), EMBER_TYPE_Q8_0),
    OPS(EMBER_TYPE_Q5_1, q5_1, "Q5_1", QK5_1, sizeof(block_q5_1), EMBER_TYPE_Q8_1),
    OPS(EMBER_TYPE_Q8_0, q8_0, "Q8_0", QK8_0, sizeof(block_q8_0), EMBER_TYPE_Q8_0),
    OPS_VEC(EMBER_TYPE_Q8_1, q8_1, "Q8_1", QK8_1, sizeof(block_q8_1)),
    OPS(EMBER_TYPE_Q2_K, q2_k, "Q2_K", QK_K, sizeof(block_q2_k), EMBER_TYPE_Q8_K),
    OPS(EMBER_TYPE_Q3_K, q3_k, "Q3_K", QK_K, sizeof(block_q3_k), EMBER_TYPE_Q8_K),
    OPS(EMBER_TYPE_Q4_K, q4_k, "Q4_K", QK_K, sizeof(block_q4_k), EMBER_TYPE_Q8_K),
    OPS(EMBER_TYPE_Q5_K, q5_k, "Q5_K", QK_K, sizeof(block_q5_k), EMBER_TYPE_Q8_K),
    OPS(EMBER_TYPE_Q6_K, q6_k, "Q6_K", QK_K, sizeof(block_q6_k), EMBER_TYPE_Q8_K),
    OPS_VEC(EMBER_TYPE_Q8_K, q8_k, "Q8_K", QK_K, sizeof(block_q8_k)),
};

const struct quant_traits *quant_traits_for(int type) {
    if (type < 0 || type >= EMBER_TYPE_COUNT) return NULL;
    return traits[type].dequant ? &traits[type] : NULL;
}

const char *quant_type_name(int type) {
    if (type < 0 || type >= EMBER_TYPE_COUNT) return NULL;
    return type_info[type].name;
}

/* Works for every known type, not only those with kernels, so a loader can
 * check tensor extents first. Returns 0 for an unknown type, a negative n or
 * one that is not a whole number of blocks. */
size_t quant_row_bytes(int type, int64_t n) {
    if (type < 0 || type >= EMBER_TYPE_COUNT || !type_info[type].name || n < 0)
        return 0;
    const struct type_info *ti = &type_info[type];
    if (!ti->block_elems || n % ti->block_elems) return 0;
    return (size_t)(n / ti->block_elems) * (size_t)ti->block_bytes;
}
