/*
 * model.h — a language model loaded from a weight source, and the context
 * that runs it: the engine's public face, used by every tool.
 *
 * model_load() reads the hyper-parameters of the source's architecture,
 * checks every tensor's shape and type against them, keeps views into the
 * source (weights are never copied) and lets the backend prepare them
 * (a GPU uploads them; the CPU reads the mapping). A model_ctx owns what decoding needs: the backend's
 * execution context (threads, scratch), the model's scratch and the KV
 * cache of its sequences. model_decode() runs one batch (batch.h): the
 * one entry point of run, perplexity, bench and, later, chat and serve.
 */
#ifndef EMBER_MODEL_H
#define EMBER_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "batch.h"
#include "ember.h"
#include "weights.h"

struct model;
struct model_ctx;

struct model_info {
    const char *arch;   /* "llama", "qwen2" */
    int n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    int n_ctx_train;
    uint64_t n_params;  /* elements of all weight tensors */
    uint64_t n_bytes;   /* bytes of all weight tensors */
};

/* The supported architectures, comma-separated, for messages. */
const char *model_supported_archs(void);

/* The source and the backend must outlive the model. Fails with
 * EMBER_EUNSUPPORTED for an unknown architecture or a tensor type the
 * backend cannot multiply, EMBER_ECORRUPT for inconsistent
 * hyper-parameters or tensors. */
enum ember_status model_load(const struct weight_source *src, struct ember_backend *be,
                             struct model **out, struct ember_err *err);
/* Told of each step of a load: done of total steps, what names the phase.
 * Called on the loading thread; the tools draw it (nothing here prints). */
struct model_progress {
    void (*fn)(void *ud, int64_t done, int64_t total, const char *what);
    void *ud;
};
/* model_load, reporting its steps to *p (NULL: none): the hyper-parameters
 * and binding, each tensor accounted, then the backend's preparation. */
enum ember_status model_load_progress(const struct weight_source *src, struct ember_backend *be,
                                      const struct model_progress *p, struct model **out,
                                      struct ember_err *err);
void model_free(struct model *m);
const struct model_info *model_get_info(const struct model *m);
/* Where the backend reads the weights from, for -v (CPU: "mapped"). */
const char *model_weights_note(const struct model *m);

/* Offloading (-ngl): after model_load, the last n_layers repeating layers
 * (n_layers >= n_layer: all of them and the final norm + classifier) run on
 * a device backend, as far as it supports their weight types (a layer it
 * cannot multiply stays on the host, and with it every layer before it:
 * the device runs a run of last layers) and its free memory holds their
 * weights, their KV cache for a context of n_ctx x n_seq and the scratch
 * (less a margin: 1/16 of the free memory, at most 512 MiB; a device that
 * reports no memory gets what was asked). The device's prepare_weights
 * gets exactly the tensors of what it runs. *plan says what was done;
 * fails only when prepare_weights does (the model then runs on the host). */
struct model_offload {
    struct ember_backend *dev;  /* must outlive the model */
    int n_layers;
    int n_ctx, n_seq, n_batch;  /* the context the plan reserves memory for */
    enum kv_type type_k, type_v;
    int kv_block;
};
struct offload_plan {
    int n_layers, n_layer;      /* layers the device runs, of all */
    bool output;                /* and the output layer */
    uint64_t weight_bytes, kv_bytes, scratch_bytes, free_bytes;
    int kept_layer;             /* -1, or the last layer kept on the host for its type */
    int kept_type;              /* that type (enum ember_type), or -1: an op the
                                   architecture needs is missing */
    bool short_of_memory;       /* fewer layers than asked for: memory */
};
enum ember_status model_offload(struct model *m, const struct model_offload *o,
                                struct offload_plan *plan, struct ember_err *err);

struct model_ctx_params {
    int n_ctx;      /* positions per sequence */
    int n_threads;
    int n_batch;    /* tokens per pass over the weights; 0: MODEL_DEFAULT_BATCH; capped at n_ctx */
    int n_seq;      /* sequences in the KV cache; 0: 1 */
    enum kv_type type_k, type_v; /* KV cache types (zero: f16) */
    int kv_block;   /* positions per KV block; 0: KV_DEFAULT_BLOCK */
};
#define MODEL_DEFAULT_BATCH 512

/* Scratch grows with n_batch (about n_batch * (4 n_embd + 3 n_ff) floats),
 * the KV cache with n_ctx * n_seq. Refuses (EMBER_ENOMEM, with the sizes)
 * a KV cache plus scratch larger than the memory available: physical
 * memory, or less under ulimit -v / -d. */
enum ember_status model_ctx_new(const struct model *m, const struct model_ctx_params *p,
                                struct model_ctx **out, struct ember_err *err);
void model_ctx_free(struct model_ctx *c);
int model_ctx_size(const struct model_ctx *c);
/* Positions the KV cache holds for sequence seq. */
int model_seq_len(const struct model_ctx *c, int seq);
/* KV cache blocks in use and bytes its pool has allocated. */
void model_kv_usage(const struct model_ctx *c, int *blocks, size_t *bytes);
/* The context's KV cache, for saving and restoring a sequence
 * (kv_seq_export / kv_seq_import, kv_cache_layout). */
struct kv_cache *model_kv(struct model_ctx *c);

/* The weights a context's passes read, for -v: passes and rows run so
 * far, the bytes each pass reads whole (every weight but the experts and
 * an untied embedding table, of which a row a token), the experts' bytes
 * all passes read (each chosen expert once a pass and layer), and the
 * file's total. A dense model reads only dense_bytes a pass. */
struct model_reads {
    uint64_t passes, rows, dense_bytes, expert_bytes, file_bytes;
    int n_expert, n_expert_used; /* 0 for a dense model */
    int n_moe_layers;            /* layers with experts */
    uint64_t one_expert_bytes;   /* an expert's gate, up and down */
};
void model_weight_reads(const struct model_ctx *c, struct model_reads *r);

/* Run the batch: every row's token at its position in its sequence, in
 * passes of up to n_batch rows over the weights. For each row that wants
 * logits, n_vocab floats go to `logits`, row after row in batch order.
 * A sequence's rows must have consecutive positions, the first no later
 * than the positions its cache holds (an earlier one rewrites the tail),
 * all below n_ctx. Fails with EMBER_EINVAL, running nothing, when they do
 * not fit, or a token id or sequence id is out of range. */
enum ember_status model_decode(struct model_ctx *c, const struct batch *b, float *logits,
                               struct ember_err *err);

#endif
