/*
 * llama.c — the llama architecture family: llama (GQA, optional tied output)
 * and qwen2 (llama plus q/k/v biases and NEOX-style rope).
 *
 * bind() maps GGUF tensor names to the weights struct with shape checks;
 * forward() runs one token through the network, top to bottom, in the order
 * of llama2.c's run.c: attention norm, qkv, rope, attention against the KV
 * cache, output projection and residual, ffn norm, SwiGLU, residual, and at
 * the end the final norm and the classifier.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"

#define TRY(x) do { enum ember_status st_ = (x); if (st_) return st_; } while (0)

static enum ember_status bind_layer(struct model *m, const struct gguf_file *f, int l,
                                    struct ember_err *err) {
    const struct model_info *in = &m->info;
    struct layer_weights *w = &m->layers[l];
    int64_t e = in->n_embd, qd = (int64_t)in->n_head * in->head_dim;
    int64_t kvd = (int64_t)in->n_head_kv * in->head_dim;
    bool bias = m->arch->qkv_bias;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
    TRY(model_bind_vector(f, NAME("attn_norm.weight"), e, false, &w->attn_norm, err));
    TRY(model_bind_matrix(f, NAME("attn_q.weight"), e, qd, false, &w->wq, err));
    TRY(model_bind_matrix(f, NAME("attn_k.weight"), e, kvd, false, &w->wk, err));
    TRY(model_bind_matrix(f, NAME("attn_v.weight"), e, kvd, false, &w->wv, err));
    TRY(model_bind_matrix(f, NAME("attn_output.weight"), qd, e, false, &w->wo, err));
    TRY(model_bind_vector(f, NAME("attn_q.bias"), qd, !bias, &w->bq, err));
    TRY(model_bind_vector(f, NAME("attn_k.bias"), kvd, !bias, &w->bk, err));
    TRY(model_bind_vector(f, NAME("attn_v.bias"), kvd, !bias, &w->bv, err));
    TRY(model_bind_vector(f, NAME("ffn_norm.weight"), e, false, &w->ffn_norm, err));
    TRY(model_bind_matrix(f, NAME("ffn_gate.weight"), e, in->n_ff, false, &w->w_gate, err));
    TRY(model_bind_matrix(f, NAME("ffn_up.weight"), e, in->n_ff, false, &w->w_up, err));
    TRY(model_bind_matrix(f, NAME("ffn_down.weight"), in->n_ff, e, false, &w->w_down, err));
#undef NAME
    return EMBER_OK;
}

static enum ember_status llama_bind(struct model *m, const struct gguf_file *f,
                                    struct ember_err *err) {
    struct model_info *in = &m->info;
    const struct gguf_tensor *emb = gguf_find_tensor(f, "token_embd.weight");
    if (!emb) return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor 'token_embd.weight'");
    if (emb->n_dims != 2 || emb->ne[0] != in->n_embd || emb->ne[1] > (1 << 24))
        return ember_fail(err, EMBER_ECORRUPT,
                          "tensor 'token_embd.weight' has shape [%lld, %lld], expected [%d, n_vocab]",
                          (long long)emb->ne[0], (long long)emb->ne[1], in->n_embd);
    in->n_vocab = (int)emb->ne[1];
    TRY(model_bind_matrix(f, "token_embd.weight", in->n_embd, in->n_vocab, false, &m->tok_embd, err));
    TRY(model_bind_vector(f, "output_norm.weight", in->n_embd, false, &m->output_norm, err));
    TRY(model_bind_matrix(f, "output.weight", in->n_embd, in->n_vocab, true, &m->output, err));
    if (!m->output.data) m->output = m->tok_embd; /* tied embeddings */
    for (int l = 0; l < in->n_layer; l++) TRY(bind_layer(m, f, l, err));
    return EMBER_OK;
}

/* Add a bias vector to each of n rows. */
static void add_bias(float *x, const float *b, int n_rows, int width) {
    if (!b) return;
    for (int i = 0; i < n_rows; i++) ops_add(x + (size_t)i * width, b, width);
}

/* Rows src[0..n) ([n_kv * hd] each) into a head-major layer cache
 * ([n_kv][n_ctx][hd]) at positions pos..pos+n-1. */
static void cache_store(float *cache, const float *src, int n, int pos, int n_ctx, int n_kv, int hd) {
    for (int i = 0; i < n; i++)
        for (int h = 0; h < n_kv; h++)
            memcpy(cache + ((size_t)h * n_ctx + (size_t)(pos + i)) * hd,
                   src + ((size_t)i * n_kv + h) * hd, (size_t)hd * sizeof *src);
}

/* n tokens at positions pos..pos+n-1; each step below works on all n rows. */
static void llama_forward(struct model_ctx *c, const int32_t *tokens, int n, int pos,
                          bool all, float *logits) {
    const struct model *m = c->m;
    const struct model_info *in = &m->info;
    int e = in->n_embd, hd = in->head_dim, kv_dim = in->n_head_kv * hd;
    int q_dim = in->n_head * hd, ff = in->n_ff;
    float *x = c->x;

    for (int i = 0; i < n; i++) ops_get_row(x + (size_t)i * e, &m->tok_embd, tokens[i]);
    for (int l = 0; l < in->n_layer; l++) {
        const struct layer_weights *w = &m->layers[l];
        size_t layer = (size_t)l * c->n_ctx * kv_dim;

        /* attention norm, then q, k, v */
        for (int i = 0; i < n; i++)
            ops_rmsnorm(c->xb + (size_t)i * e, x + (size_t)i * e, w->attn_norm, e, m->rms_eps);
        float *const qkv[3] = {c->q, c->kb, c->vb};
        const struct tensor *const wqkv[3] = {&w->wq, &w->wk, &w->wv};
        ops_matmul_many(&c->ops, 3, qkv, wqkv, c->xb, n);
        add_bias(c->q, w->bq, n, q_dim);
        add_bias(c->kb, w->bk, n, kv_dim);
        add_bias(c->vb, w->bv, n, kv_dim);

        /* rotary position embedding of q and k, then k and v into the cache */
        for (int i = 0; i < n; i++) {
            ops_rope(c->q + (size_t)i * q_dim, in->n_head, hd, pos + i, &m->rope);
            ops_rope(c->kb + (size_t)i * kv_dim, in->n_head_kv, hd, pos + i, &m->rope);
        }
        cache_store(c->k_cache + layer, c->kb, n, pos, c->n_ctx, in->n_head_kv, hd);
        cache_store(c->v_cache + layer, c->vb, n, pos, c->n_ctx, in->n_head_kv, hd);

        /* causal attention over the cache, output projection, residual */
        struct attn_args aa = {
            .q = c->q, .k = c->k_cache + layer, .v = c->v_cache + layer, .out = c->xb,
            .scores = c->att, .n = n, .pos = pos, .n_ctx = c->n_ctx,
            .n_head = in->n_head, .n_head_kv = in->n_head_kv, .head_dim = hd,
        };
        ops_attention(&c->ops, &aa);
        ops_matmul(&c->ops, c->xb2, &w->wo, c->xb, n);
        ops_add(x, c->xb2, n * e);

        /* ffn norm, SwiGLU: down(silu(gate(x)) * up(x)), residual */
        for (int i = 0; i < n; i++)
            ops_rmsnorm(c->xb + (size_t)i * e, x + (size_t)i * e, w->ffn_norm, e, m->rms_eps);
        float *const gu[2] = {c->hb, c->hb2};
        const struct tensor *const wgu[2] = {&w->w_gate, &w->w_up};
        ops_matmul_many(&c->ops, 2, gu, wgu, c->xb, n);
        ops_silu_mul(c->hb, c->hb2, n * ff);
        ops_matmul(&c->ops, c->xb2, &w->w_down, c->hb, n);
        ops_add(x, c->xb2, n * e);
    }
    if (!logits) return; /* prompt tokens whose logits nobody reads */

    /* final norm and classifier, for every row or just the last */
    int first = all ? 0 : n - 1;
    for (int i = first; i < n; i++)
        ops_rmsnorm(c->xb + (size_t)(i - first) * e, x + (size_t)i * e, m->output_norm, e,
                    m->rms_eps);
    ops_matmul(&c->ops, logits, &m->output, c->xb, n - first);
}

const struct model_arch llama_arch = {
    .name = "llama",
    .qkv_bias = false,
    .rope_neox = false,
    .bind = llama_bind,
    .forward = llama_forward,
};

const struct model_arch qwen2_arch = {
    .name = "qwen2",
    .qkv_bias = true,
    .rope_neox = true,
    .bind = llama_bind,
    .forward = llama_forward,
};
