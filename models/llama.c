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

static void add_bias(float *x, const float *b, int n) {
    if (b) ops_add(x, b, n);
}

/* Multi-head attention of the current token (q) over positions 0..pos of
 * layer l's cache; writes n_head*hd values to out. Query head h reads KV head
 * h / (n_head / n_head_kv) (grouped-query attention). */
static void attention(struct model_ctx *c, int l, int pos, float *out) {
    const struct model_info *in = &c->m->info;
    int hd = in->head_dim, kv_dim = in->n_head_kv * hd, group = in->n_head / in->n_head_kv;
    size_t layer_off = (size_t)l * c->n_ctx * kv_dim;
    float scale = 1.0f / sqrtf((float)hd);
    for (int h = 0; h < in->n_head; h++) {
        const float *q = c->q + (size_t)h * hd;
        int kvh = h / group;
        for (int t = 0; t <= pos; t++) {
            const float *k = c->k_cache + layer_off + (size_t)t * kv_dim + (size_t)kvh * hd;
            float s = 0.0f;
            for (int i = 0; i < hd; i++) s += q[i] * k[i];
            c->att[t] = s * scale;
        }
        ops_softmax(c->att, pos + 1);
        float *o = out + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof *o);
        for (int t = 0; t <= pos; t++) {
            const float *v = c->v_cache + layer_off + (size_t)t * kv_dim + (size_t)kvh * hd;
            float a = c->att[t];
            for (int i = 0; i < hd; i++) o[i] += a * v[i];
        }
    }
}

static void llama_forward(struct model_ctx *c, int32_t token, int pos, float *logits) {
    const struct model *m = c->m;
    const struct model_info *in = &m->info;
    int e = in->n_embd, hd = in->head_dim, kv_dim = in->n_head_kv * hd;
    int q_dim = in->n_head * hd;
    float *x = c->x;

    ops_get_row(x, &m->tok_embd, token);
    for (int l = 0; l < in->n_layer; l++) {
        const struct layer_weights *w = &m->layers[l];
        float *kc = c->k_cache + ((size_t)l * c->n_ctx + pos) * kv_dim;
        float *vc = c->v_cache + ((size_t)l * c->n_ctx + pos) * kv_dim;

        /* attention norm, then q, k, v (k and v go straight into the cache) */
        ops_rmsnorm(c->xb, x, w->attn_norm, e, m->rms_eps);
        ops_matmul(&c->ops, c->q, &w->wq, c->xb);
        ops_matmul(&c->ops, kc, &w->wk, c->xb);
        ops_matmul(&c->ops, vc, &w->wv, c->xb);
        add_bias(c->q, w->bq, q_dim);
        add_bias(kc, w->bk, kv_dim);
        add_bias(vc, w->bv, kv_dim);

        /* rotary position embedding of q and k */
        ops_rope(c->q, in->n_head, hd, pos, &m->rope);
        ops_rope(kc, in->n_head_kv, hd, pos, &m->rope);

        /* attention over the cache, output projection, residual */
        attention(c, l, pos, c->xb);
        ops_matmul(&c->ops, c->xb2, &w->wo, c->xb);
        ops_add(x, c->xb2, e);

        /* ffn norm, SwiGLU: down(silu(gate(x)) * up(x)), residual */
        ops_rmsnorm(c->xb, x, w->ffn_norm, e, m->rms_eps);
        ops_matmul(&c->ops, c->hb, &w->w_gate, c->xb);
        ops_matmul(&c->ops, c->hb2, &w->w_up, c->xb);
        ops_silu_mul(c->hb, c->hb2, in->n_ff);
        ops_matmul(&c->ops, c->xb2, &w->w_down, c->hb);
        ops_add(x, c->xb2, e);
    }
    if (!logits) return; /* prompt tokens whose logits nobody reads */

    /* final norm and classifier */
    ops_rmsnorm(c->xb, x, m->output_norm, e, m->rms_eps);
    ops_matmul(&c->ops, logits, &m->output, c->xb);
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
