/*
 * weights.h — where a model's hyper-parameters and weights come from: the
 * weight-source interface. GGUF is one source (weights_gguf.c); Hugging
 * Face safetensors with config.json join in issue [6] behind the same
 * slots, so models/ never names a file format.
 *
 * Metadata is asked for by GGUF's key names ("llama.block_count"), the
 * vocabulary ember's architectures are written against; another format
 * translates its own keys to these. Tensors are asked for by GGUF's names
 * ("blk.0.attn_q.weight") and come back as views into the source's memory,
 * which must outlive every model loaded from it. weights_hf.h opens the
 * second source, a Hugging Face directory.
 */
#ifndef EMBER_WEIGHTS_H
#define EMBER_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "quant.h"

struct gguf_file;

struct weight_desc {
    int type;          /* enum ember_type */
    int n_dims;        /* 1..4 */
    int64_t ne[4];     /* ne[0] fastest; unused dims 1 */
    uint64_t n_elems, n_bytes;
    const void *data;  /* n_bytes, checked against the source's bounds */
    /* GPTQ types (quant.h): ne = {n_in, n_out}, data = qweight, parts =
     * qweight, scales, qzeros, g_idx (NULL: contiguous groups), every
     * shape already checked by the source. n_parts 0 otherwise. */
    int n_parts;
    const void *parts[4];
    struct gptq_layout gptq;
};

struct weight_source_ops {
    const char *format; /* "gguf", "safetensors" */
    /* q/k rows of each head in Hugging Face's rotate_half order (row i pairs
     * with row i + head_dim/2), not GGUF's interleaved pairs: rope must
     * rotate (i, i + n_rot/2) whatever the architecture's default. */
    bool qk_rotate_half;
    /* Metadata: has_key whether it is present at all; the getters false
     * when absent or of another type. Strings are not NUL-terminated. */
    bool (*has_key)(const void *impl, const char *key);
    bool (*get_int)(const void *impl, const char *key, int64_t *v);
    bool (*get_float)(const void *impl, const char *key, float *v);
    bool (*get_str)(const void *impl, const char *key, const char **s, size_t *len);
    /* The tensor called name, false when absent. */
    bool (*find)(const void *impl, const char *name, struct weight_desc *d);
    /* All tensors, for totals. */
    int64_t (*n_tensors)(const void *impl);
    void (*tensor_at)(const void *impl, int64_t i, struct weight_desc *d);
};

struct weight_source {
    const struct weight_source_ops *ops;
    const void *impl;
    const char *id; /* the path: names the weights for caches */
};

/* Whether a metadata string (len bytes at s, not NUL-terminated) is c. */
static inline bool weight_str_is(const char *s, size_t len, const char *c) {
    return strlen(c) == len && !memcmp(s, c, len);
}

/* A source reading an open GGUF file (which must outlive it). */
struct weight_source weight_source_gguf(const struct gguf_file *f);

#endif
