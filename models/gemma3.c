/*
 * gemma3.c — the Gemma 3 family (Google's gemma-3 text models, 270M to
 * 27B): bind() and forward(), top to bottom as llama.c does, with what
 * Gemma adds to a llama:
 *
 *   - the token embeddings scaled by sqrt(n_embd);
 *   - RMS norms of each head of q and k (before rope), and of the
 *     attention's and the FFN's outputs (before their residual adds);
 *     every norm is a plain RMSNorm: Gemma's (1 + w) is already in the
 *     GGUF (llama.cpp's converter adds the 1 when it writes the file);
 *   - GeGLU: down(gelu(gate(x)) * up(x)), GELU's tanh approximation;
 *   - local layers with a sliding window and their own rope (base
 *     rope.freq_base_swa, 10000 when absent, unscaled), and global layers
 *     every sliding_window_pattern-th (default 6: layers 5, 11, 17, ...)
 *     with rope.freq_base and the file's rope scaling;
 *   - attention scores scaled by 1/sqrt(head_dim), or 1/sqrt(n_embd/n_head)
 *     for the 62-layer 27B model (query_pre_attn_scalar as llama.cpp
 *     derives it: the GGUF does not carry it);
 *   - logits soft-capped (cap * tanh(logit / cap)) where the metadata has
 *     final_logit_softcapping; the output tied to the embeddings unless
 *     output.weight is present.
 *
 * The KV cache holds every position of the local layers too (the window
 * only limits what attention reads); NEOX rope.
 */
#include <math.h>
#include <stdio.h>

#include "arch.h"

/* gemma3.* keys beyond the llama family's (hparams.c has read those). */
static enum ember_status read_gemma3_hparams(struct model *m, const struct weight_source *f,
                                             struct ember_err *err) {
    const struct model_info *in = &m->info;
    int64_t v;
    float x;

    /* Sliding window: absent or 0 means every layer is global. */
    m->swa_window = 0;
    m->swa_pattern = 6; /* llama.cpp's default for gemma3 */
    if (f->ops->has_key(f->impl, "gemma3.attention.sliding_window")) {
        if (!f->ops->get_int(f->impl, "gemma3.attention.sliding_window", &v) || v < 0 || v > (1 << 24))
            return ember_fail(err, EMBER_ECORRUPT,
                              "metadata 'gemma3.attention.sliding_window' is not an integer in [0, %d]",
                              1 << 24);
        m->swa_window = (int)v;
    }
    if (f->ops->has_key(f->impl, "gemma3.attention.sliding_window_pattern")) {
        /* An integer period; a per-layer array (newer converters) is not
         * read yet. */
        if (!f->ops->get_int(f->impl, "gemma3.attention.sliding_window_pattern", &v))
            return ember_fail(err, EMBER_EUNSUPPORTED,
                              "metadata 'gemma3.attention.sliding_window_pattern' is not an integer "
                              "(a per-layer array is not supported)");
        if (v < 0 || v > 4096)
            return ember_fail(err, EMBER_ECORRUPT,
                              "metadata 'gemma3.attention.sliding_window_pattern' = %lld is out of "
                              "range [0, 4096]", (long long)v);
        m->swa_pattern = (int)v;
    }

    /* Local layers' rope: the global one's but for the base, unscaled. */
    m->rope_swa = m->rope;
    m->rope_swa.freq_base = 10000.0f;
    m->rope_swa.freq_scale = 1.0f;
    if (f->ops->has_key(f->impl, "gemma3.rope.freq_base_swa")) {
        if (!f->ops->get_float(f->impl, "gemma3.rope.freq_base_swa", &x) || !isfinite(x) || x <= 0)
            return ember_fail(err, EMBER_ECORRUPT,
                              "metadata 'gemma3.rope.freq_base_swa' is not a positive number");
        m->rope_swa.freq_base = x;
    }

    /* gemma_pytorch's query_pre_attn_scalar: n_embd/n_head for the 27B
     * model (62 layers), head_dim for the others. */
    m->attn_scale = in->n_layer == 62 ? 1.0f / sqrtf((float)(in->n_embd / in->n_head))
                                      : 1.0f / sqrtf((float)in->head_dim);

    m->logit_softcap = 0.0f;
    if (f->ops->has_key(f->impl, "gemma3.final_logit_softcapping")) {
        if (!f->ops->get_float(f->impl, "gemma3.final_logit_softcapping", &x) || !isfinite(x) || x < 0)
            return ember_fail(err, EMBER_ECORRUPT,
                              "metadata 'gemma3.final_logit_softcapping' is not a number >= 0");
        m->logit_softcap = x;
    }
    return EMBER_OK;
}

/* Whether layer l attends through the sliding window (llama.cpp's
 * pattern: the last layer of each period of swa_pattern is global; a
 * pattern of 0 makes every layer local). */
static bool layer_is_local(const struct model *m, int l) {
    if (!m->swa_window) return false;
    int p = m->swa_pattern;
    return p == 0 || l % p < p - 1;
}

static enum ember_status bind_layer(struct model *m, const struct weight_source *f, int l,
                                    struct ember_err *err) {
    const struct model_info *in = &m->info;
    struct layer_weights *w = &m->layers[l];
    int64_t e = in->n_embd, hd = in->head_dim, qd = (int64_t)in->n_head * hd;
    int64_t kvd = (int64_t)in->n_head_kv * hd;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
    TRY(model_bind_vector(f, NAME("attn_norm.weight"), e, false, &w->attn_norm, err));
    TRY(model_bind_matrix(m, f, NAME("attn_q.weight"), e, qd, false, &w->wq, err));
    TRY(model_bind_matrix(m, f, NAME("attn_k.weight"), e, kvd, false, &w->wk, err));
    TRY(model_bind_matrix(m, f, NAME("attn_v.weight"), e, kvd, false, &w->wv, err));
    TRY(model_bind_vector(f, NAME("attn_q_norm.weight"), hd, false, &w->attn_q_norm, err));
    TRY(model_bind_vector(f, NAME("attn_k_norm.weight"), hd, false, &w->attn_k_norm, err));
    TRY(model_bind_matrix(m, f, NAME("attn_output.weight"), qd, e, false, &w->wo, err));
    TRY(model_bind_vector(f, NAME("post_attention_norm.weight"), e, false, &w->attn_post_norm, err));
    TRY(model_bind_vector(f, NAME("ffn_norm.weight"), e, false, &w->ffn_norm, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_gate.weight"), e, in->n_ff, false, &w->w_gate, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_up.weight"), e, in->n_ff, false, &w->w_up, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_down.weight"), in->n_ff, e, false, &w->w_down, err));
    TRY(model_bind_vector(f, NAME("post_ffw_norm.weight"), e, false, &w->ffn_post_norm, err));
#undef NAME
    return EMBER_OK;
}

static enum ember_status gemma3_bind(struct model *m, const struct weight_source *f,
                                     struct ember_err *err) {
    struct model_info *in = &m->info;
    TRY(read_gemma3_hparams(m, f, err));
    TRY(llama_bind_io(m, f, err)); /* embedding, final norm, (tied) output */
    for (int l = 0; l < in->n_layer; l++) TRY(bind_layer(m, f, l, err));
    return EMBER_OK;
}

/* The pass's rows, every step on all of them, each layer on its stage
 * (model_stage), as in llama.c. */
static void gemma3_forward(struct model_ctx *c, const struct pass *p) {
    const struct model *m = c->m;
    const struct model_info *in = &m->info;
    int n = p->n, e = in->n_embd, hd = in->head_dim, ff = in->n_ff;
    struct stage *st = &c->stage[0]; /* the token embedding lookup: on the host */

    /* embeddings, scaled by sqrt(n_embd) */
    be_get_rows(st->be, st->x, &m->tok_embd, p->token, n);
    be_scale(st->be, st->x, sqrtf((float)e), n * e);
    for (int l = 0; l < in->n_layer; l++) {
        const struct layer_weights *w = &m->layers[l];
        bool local = layer_is_local(m, l);
        const struct rope_params *rope = local ? &m->rope_swa : &m->rope;
        st = model_stage(c, st, l, n);
        struct backend_ctx *be = st->be;
        float *x = st->x;
        for (int s = 0; s < c->n_seq; s++) c->views[s] = kv_cache_view(c->kv, l, s);

        /* attention norm, then q, k, v; each head of q and k normed (the
         * norms are required: bind_layer) */
        llama_qkv(m, st, w, n);

        /* rope (the layer's kind: local or global), k and v into the cache */
        be_rope(be, st->q, n, in->n_head, hd, p->pos, rope);
        be_rope(be, st->kb, n, in->n_head_kv, hd, p->pos, rope);
        be_store_kv(be, c->views, st->kb, st->vb, p->pos, p->seq, n, in->n_head_kv, hd);

        /* attention (a local layer's through its window), output
         * projection, post-attention norm, residual */
        struct attn_args aa = {
            .q = st->q, .out = st->xb, .kv = c->views, .pos = p->pos, .seq = p->seq, .n = n,
            .n_head = in->n_head, .n_head_kv = in->n_head_kv, .head_dim = hd,
            .scale = m->attn_scale, .window = local ? m->swa_window : 0,
        };
        be_attention(be, &aa);
        be_matmul(be, st->xb2, &w->wo, st->xb, n);
        be_rmsnorm(be, st->xb2, st->xb2, &w->attn_post_norm, n, e, m->rms_eps);
        be_add(be, x, st->xb2, n, e);

        /* ffn norm, GeGLU: down(gelu(gate(x)) * up(x)), post-FFN norm, residual */
        be_rmsnorm(be, st->xb, x, &w->ffn_norm, n, e, m->rms_eps);
        float *const gu[2] = {st->hb, st->hb2};
        const struct tensor *const wgu[2] = {&w->w_gate, &w->w_up};
        be_matmul_many(be, 2, gu, wgu, st->xb, n);
        be_gelu_mul(be, st->hb, st->hb2, n * ff);
        be_matmul(be, st->xb2, &w->w_down, st->hb, n);
        be_rmsnorm(be, st->xb2, st->xb2, &w->ffn_post_norm, n, e, m->rms_eps);
        be_add(be, x, st->xb2, n, e);
    }
    if (!p->out) return; /* prompt tokens whose logits nobody reads */

    int n_out = model_output(c, st, p);

    /* soft-capping, on the host: p->out is the caller's memory, complete
     * once the classifier (or the copy out of a device) has returned */
    float cap = m->logit_softcap;
    if (cap > 0)
        for (size_t i = 0; i < (size_t)n_out * (size_t)in->n_vocab; i++)
            p->out[i] = cap * tanhf(p->out[i] / cap);
}

const struct model_arch gemma3_arch = {
    .name = "gemma3",
    .extra_ops = (1u << EMBER_OP_GELU_MUL) | (1u << EMBER_OP_SCALE),
    .qkv_bias = false,
    .rope_neox = true,
    .bind = gemma3_bind,
    .forward = gemma3_forward,
};
