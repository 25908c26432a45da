/*
 * llama.c — the llama architecture family: llama (GQA, optional tied output,
 * optional sliding-window attention, Mixtral-style experts when
 * llama.expert_count > 0), qwen2 (llama plus q/k/v biases and NEOX-style
 * rope), qwen3 (NEOX rope, per-head RMS norms of q and k before rope,
 * head_dim from attention.key_length so n_head*hd may differ from n_embd),
 * and the mixture-of-experts relatives qwen2moe (qwen2 with routed experts
 * and a gated shared expert) and qwen3moe (qwen3's q/k norms, routed
 * experts); the experts' FFN is moe.c's. phi3.c binds its fused matrices
 * and reuses llama_forward.
 *
 * bind() maps tensor names to the weights struct with shape checks;
 * forward() runs a pass of tokens through the network, top to bottom, in
 * the order of llama2.c's run.c: attention norm, qkv, rope, attention
 * against the KV cache, output projection and residual, ffn norm, SwiGLU
 * (or the experts'), residual, and at the end the final norm and the classifier. Every step
 * works on all rows of the pass at once and calls only backend.h.
 */
#include <stdio.h>
#include <string.h>

#include "arch.h"

static enum ember_status bind_layer(struct model *m, const struct weight_source *f, int l,
                                    struct ember_err *err) {
    const struct model_info *in = &m->info;
    struct layer_weights *w = &m->layers[l];
    int64_t e = in->n_embd, qd = (int64_t)in->n_head * in->head_dim;
    int64_t kvd = (int64_t)in->n_head_kv * in->head_dim;
    bool bias = m->arch->qkv_bias;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
    TRY(model_bind_vector(f, NAME("attn_norm.weight"), e, false, &w->attn_norm, err));
    TRY(model_bind_matrix(m, f, NAME("attn_q.weight"), e, qd, false, &w->wq, err));
    TRY(model_bind_matrix(m, f, NAME("attn_k.weight"), e, kvd, false, &w->wk, err));
    TRY(model_bind_matrix(m, f, NAME("attn_v.weight"), e, kvd, false, &w->wv, err));
    TRY(model_bind_matrix(m, f, NAME("attn_output.weight"), qd, e, false, &w->wo, err));
    TRY(model_bind_vector(f, NAME("attn_q.bias"), qd, !bias, &w->bq, err));
    TRY(model_bind_vector(f, NAME("attn_k.bias"), kvd, !bias, &w->bk, err));
    TRY(model_bind_vector(f, NAME("attn_v.bias"), kvd, !bias, &w->bv, err));
    bool qkn = m->arch->qk_norm;
    TRY(model_bind_vector(f, NAME("attn_q_norm.weight"), in->head_dim, !qkn, &w->attn_q_norm,
                          err));
    TRY(model_bind_vector(f, NAME("attn_k_norm.weight"), in->head_dim, !qkn, &w->attn_k_norm,
                          err));
    TRY(model_bind_vector(f, NAME("ffn_norm.weight"), e, false, &w->ffn_norm, err));
    if (m->n_expert) return moe_bind_layer(m, f, l, err);
    TRY(model_bind_matrix(m, f, NAME("ffn_gate.weight"), e, in->n_ff, false, &w->w_gate, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_up.weight"), e, in->n_ff, false, &w->w_up, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_down.weight"), in->n_ff, e, false, &w->w_down, err));
#undef NAME
    return EMBER_OK;
}

enum ember_status llama_bind_io(struct model *m, const struct weight_source *f,
                                struct ember_err *err) {
    struct model_info *in = &m->info;
    struct weight_desc emb;
    if (!f->ops->find(f->impl, "token_embd.weight", &emb))
        return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor 'token_embd.weight'");
    if (emb.n_dims != 2 || emb.ne[0] != in->n_embd || emb.ne[1] > (1 << 24))
        return ember_fail(err, EMBER_ECORRUPT,
                          "tensor 'token_embd.weight' has shape [%lld, %lld], expected [%d, n_vocab]",
                          (long long)emb.ne[0], (long long)emb.ne[1], in->n_embd);
    in->n_vocab = (int)emb.ne[1];
    TRY(model_bind_matrix(m, f, "token_embd.weight", in->n_embd, in->n_vocab, false, &m->tok_embd, err));
    TRY(model_bind_vector(f, "output_norm.weight", in->n_embd, false, &m->output_norm, err));
    TRY(model_bind_matrix(m, f, "output.weight", in->n_embd, in->n_vocab, true, &m->output, err));
    if (!m->output.part[0]) m->output = m->tok_embd; /* tied embeddings */
    return EMBER_OK;
}

static enum ember_status llama_bind(struct model *m, const struct weight_source *f,
                                    struct ember_err *err) {
    TRY(llama_bind_io(m, f, err));
    if (m->arch->swa) { /* llama.cpp 0.3.36 ignores the key for llama;
                           transformers' Mistral applies it to every layer */
        char key[96];
        int64_t v;
        snprintf(key, sizeof key, "%s.attention.sliding_window", m->arch->name);
        if (f->ops->has_key(f->impl, key)) {
            if (!f->ops->get_int(f->impl, key, &v) || v < 0 || v > (1 << 24))
                return ember_fail(err, EMBER_ECORRUPT,
                                  "metadata '%s' is not an integer in [0, %d]", key, 1 << 24);
            m->swa_window = (int)v;
        }
    }
    for (int l = 0; l < m->info.n_layer; l++) TRY(bind_layer(m, f, l, err));
    return EMBER_OK;
}

/* The pass's rows, every step on all of them. Each layer runs on its
 * stage (model_stage: the host's, or with -ngl the device's, x crossing
 * over where they change); the KV views are in that layer's memory. */
/* A layer's attention inputs for n rows: st->x normed into st->xb, then
 * q, k, v into st->q, st->kb, st->vb, with the biases (qwen2) and the
 * per-head RMS norms of q and k (qwen3, qwen3moe, gemma3) where the layer
 * has them. */
void llama_qkv(const struct model *m, struct stage *st, const struct layer_weights *w, int n) {
    const struct model_info *in = &m->info;
    struct backend_ctx *be = st->be;
    int hd = in->head_dim, q_dim = in->n_head * hd, kv_dim = in->n_head_kv * hd;
    be_rmsnorm(be, st->xb, st->x, &w->attn_norm, n, in->n_embd, m->rms_eps);
    float *const qkv[3] = {st->q, st->kb, st->vb};
    const struct tensor *const wqkv[3] = {&w->wq, &w->wk, &w->wv};
    be_matmul_many(be, 3, qkv, wqkv, st->xb, n);
    if (w->bq.part[0]) be_add_bias(be, st->q, &w->bq, n, q_dim);
    if (w->bk.part[0]) be_add_bias(be, st->kb, &w->bk, n, kv_dim);
    if (w->bv.part[0]) be_add_bias(be, st->vb, &w->bv, n, kv_dim);
    if (w->attn_q_norm.part[0])
        be_rmsnorm(be, st->q, st->q, &w->attn_q_norm, n * in->n_head, hd, m->rms_eps);
    if (w->attn_k_norm.part[0])
        be_rmsnorm(be, st->kb, st->kb, &w->attn_k_norm, n * in->n_head_kv, hd, m->rms_eps);
}

void llama_forward(struct model_ctx *c, const struct pass *p) {
    const struct model *m = c->m;
    const struct model_info *in = &m->info;
    int n = p->n, e = in->n_embd, hd = in->head_dim, ff = in->n_ff;
    struct stage *st = &c->stage[0]; /* the token embedding lookup: on the host */
    /* phi3's long rope factors when a sequence's context exceeds the
     * trained one, as llama.cpp chooses them (per context, not per token) */
    struct rope_params rope = m->rope;
    if (m->rope_long.part[0])
        rope.freq_factors = c->n_ctx / c->n_seq > rope.n_ctx_orig ? &m->rope_long : &m->rope_short;

    be_get_rows(st->be, st->x, &m->tok_embd, p->token, n);
    for (int l = 0; l < in->n_layer; l++) {
        const struct layer_weights *w = &m->layers[l];
        st = model_stage(c, st, l, n);
        struct backend_ctx *be = st->be;
        float *x = st->x;
        for (int s = 0; s < c->n_seq; s++) c->views[s] = kv_cache_view(c->kv, l, s);

        llama_qkv(m, st, w, n);

        /* rotary position embedding of q and k, then k and v into the cache */
        be_rope(be, st->q, n, in->n_head, hd, p->pos, &rope);
        be_rope(be, st->kb, n, in->n_head_kv, hd, p->pos, &rope);
        be_store_kv(be, c->views, st->kb, st->vb, p->pos, p->seq, n, in->n_head_kv, hd);

        /* causal attention over the cache (its last swa_window positions
         * with a sliding window), output projection, residual */
        struct attn_args aa = {
            .q = st->q, .out = st->xb, .kv = c->views, .pos = p->pos, .seq = p->seq, .n = n,
            .n_head = in->n_head, .n_head_kv = in->n_head_kv, .head_dim = hd,
            .window = m->swa_window,
        };
        be_attention(be, &aa);
        be_matmul(be, st->xb2, &w->wo, st->xb, n);
        be_add(be, x, st->xb2, n, e);

        /* ffn norm, then the experts' FFN added to x (moe.c), or SwiGLU:
         * down(silu(gate(x)) * up(x)), residual */
        be_rmsnorm(be, st->xb, x, &w->ffn_norm, n, e, m->rms_eps);
        if (w->gate_exps) {
            moe_ffn(c, st, w, n);
            continue;
        }
        float *const gu[2] = {st->hb, st->hb2};
        const struct tensor *const wgu[2] = {&w->w_gate, &w->w_up};
        be_matmul_many(be, 2, gu, wgu, st->xb, n);
        be_silu_mul(be, st->hb, st->hb2, n * ff);
        be_matmul(be, st->xb2, &w->w_down, st->hb, n);
        be_add(be, x, st->xb2, n, e);
    }
    if (!p->out) return; /* prompt tokens whose logits nobody reads */

    model_output(c, st, p);
}

/* The family's members differ only in data. Experts need gather and
 * scatter_add: llama's optional ones are checked per layer by offload.c.
 * Top-k weights renormalized or not, as llama.cpp's graphs fix them.
 * qwen2/qwen3 GGUFs may carry sliding_window too, but their configs say
 * use_sliding_window false and llama.cpp ignores it: swa false. */
#define MOE_OPS ((1u << EMBER_OP_GATHER) | (1u << EMBER_OP_SCATTER_ADD))
#define LLAMA_FAMILY(nm, bias, neox, qkn, win, ops, moe_, norm_w, shexp)                      \
    {.name = (nm), .extra_ops = (ops), .qkv_bias = (bias), .rope_neox = (neox), .qk_norm = (qkn), \
     .swa = (win), .moe = (moe_), .moe_norm_w = (norm_w), .moe_shexp = (shexp),                \
     .bind = llama_bind, .forward = llama_forward}

const struct model_arch llama_arch = LLAMA_FAMILY("llama", false, false, false, true, 0, false, true, false);
const struct model_arch qwen2_arch = LLAMA_FAMILY("qwen2", true, true, false, false, 0, false, false, false);
const struct model_arch qwen3_arch = LLAMA_FAMILY("qwen3", false, true, true, false, 0, false, false, false);
const struct model_arch qwen2moe_arch =
    LLAMA_FAMILY("qwen2moe", true, true, false, false, MOE_OPS, true, false, true);
const struct model_arch qwen3moe_arch =
    LLAMA_FAMILY("qwen3moe", false, true, true, false, MOE_OPS, true, true, false);
