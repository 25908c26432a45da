/*
 * model.h — a language model loaded from a GGUF file, and the per-sequence
 * context that runs it.
 *
 * model_load() reads the hyper-parameters of the file's architecture, checks
 * every tensor's shape and type against them, and keeps views into the
 * mapping (weights are never copied). A model_ctx owns what one sequence
 * needs: the thread pool, scratch buffers and the KV cache.
 */
#ifndef EMBER_MODEL_H
#define EMBER_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "ember.h"
#include "gguf.h"

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

/* The file must outlive the model. Fails with EMBER_EUNSUPPORTED for an
 * unknown architecture and EMBER_ECORRUPT for inconsistent hyper-parameters
 * or tensors. */
enum ember_status model_load(const struct gguf_file *f, struct model **out,
                             struct ember_err *err);
/* The same, keeping the repacked matrices in a cache file under cache_dir
 * (pack_cache.h; NULL: none) and mapping them from there on later loads. */
enum ember_status model_load_cached(const struct gguf_file *f, const char *cache_dir,
                                    struct model **out, struct ember_err *err);
/* How the load got the repacked matrices, for -v: "none", "repacked",
 * "repacked, cache written", "repacked, cache not writable", "cache". */
const char *model_pack_source(const struct model *m);
void model_free(struct model *m);
const struct model_info *model_get_info(const struct model *m);

/* A context of n_ctx positions with n_threads threads. Refuses (EMBER_ENOMEM,
 * with the sizes) a KV cache plus scratch larger than the memory available:
 * physical memory, or less under ulimit -v / -d. */
enum ember_status model_ctx_new(const struct model *m, int n_ctx, int n_threads,
                                struct model_ctx **out, struct ember_err *err);
/* The same with the prompt batch size: model_eval runs up to n_batch tokens
 * per pass over the weights (0: MODEL_DEFAULT_BATCH; capped at n_ctx).
 * Scratch memory grows with it (about n_batch * (4 n_embd + 3 n_ff) floats). */
#define MODEL_DEFAULT_BATCH 512
enum ember_status model_ctx_new_batch(const struct model *m, int n_ctx, int n_threads,
                                      int n_batch, struct model_ctx **out,
                                      struct ember_err *err);
void model_ctx_free(struct model_ctx *c);
int model_ctx_size(const struct model_ctx *c);

/* Run tokens[0..n) at positions pos..pos+n-1 (earlier positions must already
 * be in the cache). Writes n_vocab logits for the last token to `logits`, or
 * for every token (n * n_vocab) when `all` is set. Fails with EMBER_EINVAL
 * when the positions exceed the context or a token id is out of range. */
enum ember_status model_eval(struct model_ctx *c, const int32_t *tokens, int n,
                             int pos, bool all, float *logits,
                             struct ember_err *err);

#endif
