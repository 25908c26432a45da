/*
 * arch.h — what model.c shares with the architecture files (not public).
 *
 * An architecture is a descriptor: its name, how to bind its tensors, and a
 * forward pass for one token. Differences between close relatives (qwen2 is
 * llama with q/k/v biases and NEOX rope) are data in the descriptor, not
 * branches on the name.
 */
#ifndef EMBER_ARCH_H
#define EMBER_ARCH_H

#include "model.h"
#include "ops.h"
#include "os.h"

struct layer_weights {
    const float *attn_norm;        /* [n_embd] */
    struct tensor wq, wk, wv, wo;  /* [n_embd -> n_head*hd], [-> n_kv*hd] x2, [n_head*hd -> n_embd] */
    const float *bq, *bk, *bv;     /* q/k/v biases or NULL */
    const float *ffn_norm;         /* [n_embd] */
    struct tensor w_gate, w_up;    /* [n_embd -> n_ff] */
    struct tensor w_down;          /* [n_ff -> n_embd] */
};

struct model {
    struct model_info info;
    const struct model_arch *arch;
    float rms_eps;
    struct rope_params rope;
    struct tensor tok_embd;        /* [n_embd] x n_vocab rows */
    const float *output_norm;      /* [n_embd] */
    struct tensor output;          /* [n_embd -> n_vocab]; tok_embd when tied */
    struct layer_weights *layers;  /* [n_layer] */
    void *packed;                  /* the prepacked matrices, one allocation */
    size_t packed_bytes;
    struct os_map pack_map;        /* or the cache file they were mapped from */
    const char *pack_source;       /* model_pack_source */
};

/* Per-sequence state: scratch for a batch of up to n_batch tokens, and the
 * KV cache. Every scratch buffer holds one row per token of the batch. */
struct model_ctx {
    const struct model *m;
    int n_ctx, n_batch;
    struct threadpool *pool;
    struct ops_ctx ops;
    float *x;                      /* [n_batch][n_embd] residual stream */
    float *xb;                     /* [n_batch][max(n_embd, n_head*hd)] */
    float *xb2;                    /* [n_batch][n_embd] */
    float *q;                      /* [n_batch][n_head*hd] */
    float *att;                    /* [n_head][n_ctx] scores, one row per head */
    float *hb, *hb2;               /* [n_batch][n_ff] */
    float *k_cache, *v_cache;      /* [n_layer][n_kv][n_ctx][hd]: head-major, so
                                      attention reads one head's rows as one
                                      block that stays in L2 */
    float *kb, *vb;                /* [n_batch][n_kv*hd]: a batch's k and v
                                      on their way into the caches */
};

struct model_arch {
    const char *name;
    bool qkv_bias;   /* attn_{q,k,v}.bias tensors present */
    bool rope_neox;  /* rotate pairs (i, i+n_rot/2) */
    /* Bind the layer tensors after model.c has read the common hparams. */
    enum ember_status (*bind)(struct model *m, const struct gguf_file *f,
                              struct ember_err *err);
    /* n tokens (n <= n_batch) at positions pos..pos+n-1. Writes n_vocab
     * logits per token when `all`, else for the last one only; none when
     * logits is NULL. */
    void (*forward)(struct model_ctx *c, const int32_t *tokens, int n, int pos,
                    bool all, float *logits);
};

extern const struct model_arch llama_arch, qwen2_arch;

/* Shared by architecture files: a weight matrix checked against its shape
 * (n_in x n_out), or a 1-D F32 vector of n values. */
enum ember_status model_bind_matrix(const struct gguf_file *f, const char *name,
                                    int64_t n_in, int64_t n_out, bool optional,
                                    struct tensor *t, struct ember_err *err);
enum ember_status model_bind_vector(const struct gguf_file *f, const char *name,
                                    int64_t n, bool optional, const float **v,
                                    struct ember_err *err);

#endif
