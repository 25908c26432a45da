/*
 * encode.h — the step `ember quantize` and `ember convert` share: a list of
 * tensors, each readable as rows of floats, given llama.cpp's per-tensor
 * types (quantize_plan.h) and written into a GGUF (gguf_write.h), the rows
 * of each tensor split over threads.
 *
 * The caller fills the list, calls encode_plan (the order, each tensor's
 * type, the writer's tensor table), adds the metadata, then encode_write
 * (PATH.tmp renamed to PATH when complete). Both print their errors
 * (cli_error) and return an exit status, 0 on success.
 */
#ifndef EMBER_ENCODE_H
#define EMBER_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "gguf_write.h"
#include "quantize_plan.h"
#include "threadpool.h"
#include "weights.h"

struct encode_tensor {
    const char *name; /* the GGUF name, name_len bytes, not NUL-terminated */
    size_t name_len;
    int n_dims;
    int64_t ne[4]; /* ne[0] fastest; unused dims 1 */
    uint64_t n_elems;
    int type;         /* what the plan sees: the stored type, or F32 for
                         rows that only `read` gives */
    const void *data; /* n_bytes of `type`, copied as they are when the
                         plan keeps the type and there is no `read` */
    uint64_t n_bytes;
    /* Rows r0 .. r0+n into x (ne[0] floats each); NULL: the type's
     * dequantizer on data. Called from several threads at once. */
    void (*read)(const struct encode_tensor *t, int64_t r0, int64_t n, float *x);
    const void *ctx; /* for read */
    /* set by encode_plan */
    int layer; /* "blk.N.": N, else -1 */
    int to;    /* the type written */
};

struct encode_job {
    const char *tool;       /* "quantize": messages say "ember quantize: ..." */
    const char *in, *out;   /* for messages; out is written */
    struct quant_plan *plan; /* mix and flags set; the model's facts from
                                encode_plan_model */
    bool requant;           /* re-encode tensors already quantized */
    struct encode_tensor *t;
    int64_t n;
};

/* The model facts the plan's rules need, from the metadata (GGUF keys). */
void encode_plan_model(struct quant_plan *p, const struct weight_source *src);

/* Sorts j->t into llama-quantize's order (by layer, the others first, then
 * by name: the mixes count attn_v and ffn_down in it), gives each tensor its
 * type (fallbacks printed) and adds it to w's table. */
int encode_plan(struct encode_job *j, struct gguf_writer *w, struct ember_err *err);

/* After the metadata: begins the file, writes every tensor's data (copied,
 * or read, encoded on pool's threads) and ends it; one summary line on
 * stderr. */
int encode_write(const struct encode_job *j, struct gguf_writer *w, struct threadpool *pool,
                 struct ember_err *err);

#endif
