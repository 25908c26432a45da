/*
 * arch.h — what the engine shares with the architecture files (private to
 * models/).
 *
 * An architecture is a descriptor: its name, how to bind its tensors, and
 * its forward pass over a batch. Differences between close relatives
 * (qwen2 is llama with q/k/v biases and NEOX rope) are data in the
 * descriptor, not branches on the name. State is split by lifetime, as
 * llama2.c does: hyper-parameters and weights in struct model (per load),
 * scratch and KV cache in struct model_ctx (per context).
 */
#ifndef EMBER_ARCH_H
#define EMBER_ARCH_H

#include "kv_cache.h"
#include "model.h"

struct layer_weights {
    struct tensor attn_norm;       /* F32 [n_embd]; vectors are 1-row tensors so a
                                      backend can place them with the matrices */
    struct tensor wq, wk, wv, wo;  /* [n_embd -> n_head*hd], [-> n_kv*hd] x2, [n_head*hd -> n_embd] */
    struct tensor bq, bk, bv;      /* q/k/v biases (part[0] NULL when absent) */
    struct tensor ffn_norm;        /* F32 [n_embd] */
    struct tensor w_gate, w_up;    /* [n_embd -> n_ff] */
    struct tensor w_down;          /* [n_ff -> n_embd] */
    /* Relatives' extras (absent ones zeroed). qwen3, gemma3: RMS norms of
     * each head of q and k (F32 [head_dim]); gemma3: norms of the
     * attention's and the FFN's outputs (F32 [n_embd]). */
    struct tensor attn_q_norm, attn_k_norm, attn_post_norm, ffn_post_norm;
    /* Mixture of experts (moe.c): the router [n_embd -> n_expert]; each
     * expert's matrices, views into the 3-D tensors (arrays of
     * model.n_expert, NULL in a dense layer); a shared expert and its
     * gate [n_embd -> 1] (qwen2moe). */
    struct tensor ffn_gate_inp;
    struct tensor *gate_exps, *up_exps, *down_exps;
    struct tensor gate_shexp, up_shexp, down_shexp, ffn_gate_inp_shexp;
};

struct model {
    struct model_info info;
    const struct model_arch *arch;
    struct ember_backend *be;
    float rms_eps;
    struct rope_params rope;       /* rope.freq_factors: &rope_freqs or NULL */
    struct tensor rope_freqs;      /* F32 [n_rot/2] (llama 3.1) or absent */
    struct tensor tok_embd;        /* [n_embd] x n_vocab rows */
    struct tensor output_norm;     /* F32 [n_embd] */
    struct tensor output;          /* [n_embd -> n_vocab]; tok_embd when tied */
    struct layer_weights *layers;  /* [n_layer] */
    int n_expert, n_expert_used;   /* mixture of experts; 0 when dense */
    int n_ff_exp, n_ff_shexp;      /* an expert's and the shared expert's width */
    struct backend_weights *prepared; /* what the backend made of the matrices */
    const char *source_id;         /* the weight source's id (it outlives the model) */
    /* -ngl (offload.c): the device's instance, or NULL; it runs layers
     * dev_first .. n_layer-1 (dev_first == n_layer: none) and, with
     * dev_output, the final norm and the classifier. The token embedding
     * lookup always runs on be. */
    struct ember_backend *dev;
    int dev_first;
    bool dev_output;
    struct backend_weights *dev_prepared;
    /* gemma3 (gemma3.c): local layers attend to the last swa_window
     * positions (0: no local layers; llama.c: every layer, Mistral) with their own rope (rope_swa); layer
     * l is global when l % swa_pattern == swa_pattern - 1. Attention scores
     * scaled by attn_scale; logits soft-capped at logit_softcap (0: not). */
    int swa_window, swa_pattern;
    struct rope_params rope_swa;
    float attn_scale, logit_softcap;
    /* phi3 (phi3.c): F32 [n_rot/2] rope divisors for contexts above /
     * within rope.n_ctx_orig, or absent */
    struct tensor rope_long, rope_short;
};

/* One backend's part of a context: its execution context and the scratch
 * for a pass of up to n_batch rows in that context's memory (every buffer
 * holds one row per row of the pass). A CPU-only run has one stage; -ngl
 * adds the device's. */
struct stage {
    struct backend_ctx *be;
    float *x;                      /* [n_batch][n_embd] residual stream */
    float *xb;                     /* [n_batch][max(n_embd, n_head*hd)] */
    float *xb2;                    /* [n_batch][n_embd] */
    float *q;                      /* [n_batch][n_head*hd] */
    float *hb, *hb2;               /* [n_batch][n_ff] */
    float *kb, *vb;                /* [n_batch][n_kv*hd]: a pass's k and v
                                      on their way into the cache */
    float *logits;                 /* [n_batch][n_vocab] when the output layer
                                      runs on a device (copied out to the
                                      caller), else NULL */
    /* mixture of experts (moe.c), NULL when dense: the rows routed to one
     * expert, and the router's logits with the shared expert's gate */
    float *xg;                     /* [n_batch][n_embd] */
    float *router;                 /* [n_batch][n_expert + 1] */
};

struct moe_state; /* moe.c: a context's routing scratch and counts */

/* Per-context state: the stages (stage[0] the host backend's: the
 * embedding lookup and the layers before dev_first; stage[1] the
 * device's), and the KV cache. */
struct model_ctx {
    const struct model *m;
    int n_ctx, n_batch, n_seq;
    struct stage stage[2];
    int n_stages;
    float *x_host;                 /* [n_batch][n_embd], host: x on its way
                                      from one stage to the next */
    struct kv_cache *kv;
    struct kv_view *views;         /* [n_seq]: one layer's, refreshed per layer */
    int32_t *seq_first, *seq_rows; /* [n_seq]: model_decode's checks */
    struct moe_state *moe;         /* mixture of experts: routing (moe.c), or NULL */
    uint64_t n_passes, n_rows;     /* passes run and their rows (weights read, -v) */
};

/* The stage that runs layer l (l == n_layer: the final norm and the
 * classifier), with the residual stream's n rows moved into its memory
 * when cur is another stage (copy_out to x_host, copy_in). */
struct stage *model_stage(struct model_ctx *c, struct stage *cur, int l, int n);

/* One pass: rows [0, n) of a batch's arrays (n <= n_batch), already
 * checked by model_decode. */
struct pass {
    int n;
    const int32_t *token, *pos, *seq;
    const bool *logits;  /* rows whose logits are wanted */
    float *out;          /* n_vocab floats per such row */
};

/* The final norm and the classifier, on the stage that runs the output
 * layer (model_stage), for the rows of the pass p whose logits are wanted,
 * into p->out (p->out != NULL); on a device through its scratch and a copy
 * out. Returns how many rows. Every architecture's forward ends with it. */
int model_output(struct model_ctx *c, struct stage *st, const struct pass *p);

struct model_arch {
    const char *name;
    /* backend ops the forward needs beyond llama's ((1u << EMBER_OP_x),
     * e.g. GELU_MUL): a device without them runs none of the layers */
    uint32_t extra_ops;
    bool qkv_bias;   /* attn_{q,k,v}.bias tensors present */
    bool rope_neox;  /* rotate pairs (i, i+n_rot/2) */
    bool qk_norm;    /* attn_{q,k}_norm.weight: per-head RMS norms before rope
                        (qwen3, qwen3moe) */
    bool swa;        /* llama.c: "<arch>.attention.sliding_window" windows
                        every layer (Mistral 7B v0.1 as llama) */
    /* Mixture of experts (moe.c): moe, expert_count > 0 required and the
     * expert width from expert_feed_forward_length (default n_ff / used;
     * else experts are optional and n_ff wide, Mixtral in llama); moe_norm_w,
     * the top-k weights renormalized to sum 1; moe_shexp, a shared expert
     * gated by sigmoid(ffn_gate_inp_shexp . x) (qwen2moe). */
    bool moe, moe_norm_w, moe_shexp;
    /* Bind the tensors after the engine has read the common hparams. */
    enum ember_status (*bind)(struct model *m, const struct weight_source *src,
                              struct ember_err *err);
    void (*forward)(struct model_ctx *c, const struct pass *p);
};

extern const struct model_arch llama_arch, qwen2_arch, qwen3_arch, phi3_arch;
extern const struct model_arch qwen2moe_arch, qwen3moe_arch, gemma3_arch;

/* llama.c's forward pass and its binding of the token embedding, final
 * norm and classifier (n_vocab from token_embd), which phi3.c reuses;
 * llama_qkv, a layer's normed q, k, v (with biases and q/k norms where
 * bound), which gemma3.c reuses. */
void llama_forward(struct model_ctx *c, const struct pass *p);
void llama_qkv(const struct model *m, struct stage *st, const struct layer_weights *w, int n);
enum ember_status llama_bind_io(struct model *m, const struct weight_source *src,
                                struct ember_err *err);

/* Shared by architecture files (bind.c): a weight matrix checked against
 * its shape (n_in x n_out) and the backend's support, or a 1-D F32 vector
 * of n values (a tensor of one row). Optional ones that are absent leave t
 * zeroed. */
enum ember_status model_bind_matrix(const struct model *m, const struct weight_source *src,
                                    const char *name, int64_t n_in, int64_t n_out, bool optional,
                                    struct tensor *t, struct ember_err *err);
enum ember_status model_bind_vector(const struct weight_source *src, const char *name, int64_t n,
                                   bool optional, struct tensor *t, struct ember_err *err);
/* Rows [first, first+n) of a bound matrix as a matrix of its own, pointing
 * into the same mapping (fused q|k|v, gate|up): no copy. EMBER_EUNSUPPORTED
 * for a type without whole rows (GPTQ); name is for the message. */
enum ember_status model_bind_rows(const struct tensor *whole, const char *name, int64_t first,
                                  int64_t n, struct tensor *t, struct ember_err *err);

/* Every tensor layer l runs with (absent ones left out), matrices and
 * vectors, into out (room for model_layer_tensors_max); returns how many.
 * What the backends prepare and -ngl uploads. */
int model_layer_tensors(struct model *m, int l, struct tensor **out);
int model_layer_tensors_max(const struct model *m);

/* bind.c: the n_expert experts of a 3-D tensor [n_in, n_out, n_expert]
 * (GGUF's ffn_*_exps) as 2-D views into it, zero-copy: expert e's rows
 * start e * n_out rows in. out: an array of n_expert the caller owns. */
enum ember_status model_bind_experts(const struct model *m, const struct weight_source *src,
                                     const char *name, int64_t n_in, int64_t n_out, int n_expert,
                                     struct tensor *out, struct ember_err *err);

/* moe.c: a layer's mixture-of-experts FFN. moe_bind_layer binds the router,
 * experts and shared expert of layer l. moe_ffn adds the FFN of the n rows
 * of st->xb (the normed input) to st->x: the router on the backend, top-k
 * on the host, then per chosen expert its rows gathered, SwiGLU, and
 * scattered back weighted (each expert's weights read once per pass). */
enum ember_status moe_bind_layer(struct model *m, const struct weight_source *src, int l,
                                 struct ember_err *err);
void moe_ffn(struct model_ctx *c, struct stage *st, const struct layer_weights *w, int n);
enum ember_status moe_state_new(const struct model *m, int n_batch, struct moe_state **out);
void moe_state_free(struct moe_state *s);

/* hparams.c: the llama family's common hyper-parameters and rope. */
enum ember_status model_read_hparams(struct model *m, const struct weight_source *src,
                                     struct ember_err *err);

#define TRY(x) do { enum ember_status st_ = (x); if (st_) return st_; } while (0)

#endif
