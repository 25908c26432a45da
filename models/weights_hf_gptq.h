/*
 * weights_hf_gptq.h — GPTQ checkpoints in a Hugging Face directory, for
 * weights_hf.c only: the quantization_config read into quant.h's layout,
 * and one linear layer's four safetensors parts checked against it and
 * against each other before any pointer into them is handed out.
 *
 * Supported: quant_method "gptq", bits 4 and 8, group_size -1 or positive
 * (32/64/128 in practice), desc_act with g_idx (any permutation), sym and
 * asym (the zeros are stored either way), checkpoint_format "gptq" (zeros
 * stored minus one) and "gptq_v2" (as is). Anything else is refused with a
 * message naming the field.
 */
#ifndef EMBER_WEIGHTS_HF_GPTQ_H
#define EMBER_WEIGHTS_HF_GPTQ_H

#include <stdbool.h>

#include "ember.h"
#include "json.h"
#include "quant.h"
#include "safetensors.h"
#include "weights.h"

struct gptq_config {
    int bits, zero_add;
    int64_t group_size; /* -1: one group per matrix */
    bool desc_act;
};

/* The quantization_config object qc (from `where`, a file name for the
 * messages) into *c. EMBER_EUNSUPPORTED or EMBER_ECORRUPT naming the
 * field. */
enum ember_status gptq_read_config(const struct json_value *qc, const char *where,
                                   struct gptq_config *c, struct ember_err *err);

/* The parts of a layer called `layer` (its HF name without the suffix):
 * qweight, scales, qzeros, g_idx (g_idx may be NULL: contiguous groups).
 * Checks dtypes, shapes, alignment and every g_idx value, then describes
 * the matrix in *d (ne = {n_in, n_out}, parts, layout; g_idx NULL when it
 * is i / group_size). Reads the n_in g_idx values once. */
enum ember_status gptq_describe_layer(const struct gptq_config *c, const char *where,
                                      const char *layer, const struct st_tensor *const part[4],
                                      struct weight_desc *d, struct ember_err *err);

#endif
