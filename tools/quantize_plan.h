/*
 * quantize_plan.h — which type each tensor of a model gets when `ember
 * quantize` makes a given file type: llama.cpp's rules (llama-quant.cpp,
 * read for the facts), so an ember-made Q4_K_M holds the same types, tensor
 * for tensor, as llama-quantize's.
 *
 * A mix names a base type and the file type id GGUF records
 * (general.file_type). Per tensor, in file order: 1-D tensors, norms and a
 * few others keep their type; a --tensor-type pattern wins; otherwise the
 * mix's rules raise sensitive tensors (attn_v, ffn_down, output) to more
 * bits by category and layer; finally a type whose block does not divide
 * the row falls back (Q2_K and Q3_K→Q4_0, Q4_K→Q5_0, Q5_K→Q5_1,
 * Q6_K→Q8_0; F16 when that does not fit either).
 */
#ifndef EMBER_QUANTIZE_PLAN_H
#define EMBER_QUANTIZE_PLAN_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

struct quant_mix {
    const char *name; /* "Q4_K_M" */
    int ftype;        /* llama.cpp's llama_ftype: general.file_type */
    int base;         /* the type most tensors get */
};

/* The mix called name (case-insensitive), or NULL; quant_mix_at(i) lists
 * them (NULL past the end). */
const struct quant_mix *quant_mix_find(const char *name);
const struct quant_mix *quant_mix_at(int i);

struct quant_override {
    regex_t re; /* compiled once (REG_EXTENDED | REG_NOSUB), searched in the name */
    int type;
};

struct quant_plan {
    const struct quant_mix *mix;
    bool pure;                      /* the base type everywhere (--pure) */
    int output_type, embd_type;     /* -1: by the rules */
    const struct quant_override *ov; /* --tensor-type, first match wins */
    int n_ov;
    /* the model: set before the first tensor */
    int n_layer, n_gqa, n_expert;
    bool falcon, tied;              /* tied: no output.weight */
    int n_attn_v;                   /* attn_v/attn_qkv/attn_kv_b tensors */
    /* running counts, in file order */
    int i_attn_v, i_ffn_down, i_ffn_gate, i_ffn_up;
};

/* What plan_tensor decided for one tensor. */
struct quant_choice {
    int type;
    bool fallback;   /* the rules' type did not fit the row: note is why */
    char note[160];
};

/* The type the tensor `name` (n_dims dims, rows of ne0 values, now of type
 * cur) gets. Advances the plan's counters. */
struct quant_choice quant_plan_tensor(struct quant_plan *p, const char *name, int n_dims, int64_t ne0, int cur);

/* The layer N of a tensor named "blk.N.…", -1 for the others. */
int quant_plan_layer(const char *name);

/* Whether the name is an attention-V-like tensor (counted into n_attn_v). */
bool quant_plan_is_attn_v(const char *name);

#endif
