/*
 * phi3.c — the phi3 architecture (Phi-3, Phi-3.5, Phi-4 mini): a llama with
 * fused weights, NEOX rope and optional long/short rope factors.
 *
 * Only the binding differs: blk.N.attn_qkv holds the q, k and v rows one
 * after another and blk.N.ffn_up the gate rows then the up rows (llama.cpp's
 * SwiGLU over halves: silu(first) * second). Rows of GGUF block types are
 * independent, so each part is a row view of the fused matrix (bind.c's
 * model_bind_rows): the mapping is read in place, nothing is copied. The
 * forward pass is llama.c's. Separate attn_q/k/v tensors are accepted too,
 * as llama.cpp does.
 *
 * rope_factors_long/short (Phi-3 128k, "longrope"): per-pair divisors of
 * theta, the long ones when a sequence's context exceeds
 * rope.scaling.original_context_length (llama_forward picks them per
 * context); rope.scaling.attn_factor scales cos and sin (hparams.c).
 * Sliding window: llama.cpp 0.3.36 disables it for phi3 (the converter
 * writes Phi-3's config value, which its authors distrust), and so does
 * ember (.swa false), to give the same output as llama.cpp.
 */
#include <stdio.h>

#include "arch.h"

static enum ember_status bind_layer(struct model *m, const struct weight_source *f, int l,
                                    struct ember_err *err) {
    const struct model_info *in = &m->info;
    struct layer_weights *w = &m->layers[l];
    int64_t e = in->n_embd, qd = (int64_t)in->n_head * in->head_dim;
    int64_t kvd = (int64_t)in->n_head_kv * in->head_dim, ff = in->n_ff;
    char n[96];
    struct weight_desc d;
    struct tensor fused;
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
    TRY(model_bind_vector(f, NAME("attn_norm.weight"), e, false, &w->attn_norm, err));
    if (f->ops->find(f->impl, NAME("attn_qkv.weight"), &d)) {
        TRY(model_bind_matrix(m, f, n, e, qd + 2 * kvd, false, &fused, err));
        TRY(model_bind_rows(&fused, n, 0, qd, &w->wq, err));
        TRY(model_bind_rows(&fused, n, qd, kvd, &w->wk, err));
        TRY(model_bind_rows(&fused, n, qd + kvd, kvd, &w->wv, err));
    } else {
        TRY(model_bind_matrix(m, f, NAME("attn_q.weight"), e, qd, false, &w->wq, err));
        TRY(model_bind_matrix(m, f, NAME("attn_k.weight"), e, kvd, false, &w->wk, err));
        TRY(model_bind_matrix(m, f, NAME("attn_v.weight"), e, kvd, false, &w->wv, err));
    }
    TRY(model_bind_matrix(m, f, NAME("attn_output.weight"), qd, e, false, &w->wo, err));
    TRY(model_bind_vector(f, NAME("ffn_norm.weight"), e, false, &w->ffn_norm, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_up.weight"), e, 2 * ff, false, &fused, err));
    TRY(model_bind_rows(&fused, n, 0, ff, &w->w_gate, err));
    TRY(model_bind_rows(&fused, n, ff, ff, &w->w_up, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_down.weight"), ff, e, false, &w->w_down, err));
#undef NAME
    return EMBER_OK;
}

static enum ember_status phi3_bind(struct model *m, const struct weight_source *f,
                                   struct ember_err *err) {
    TRY(llama_bind_io(m, f, err));
    for (int l = 0; l < m->info.n_layer; l++) TRY(bind_layer(m, f, l, err));
    int half = m->rope.n_rot / 2;
    TRY(model_bind_vector(f, "rope_factors_long.weight", half, true, &m->rope_long, err));
    TRY(model_bind_vector(f, "rope_factors_short.weight", half, true, &m->rope_short, err));
    if (!m->rope_long.part[0] != !m->rope_short.part[0])
        return ember_fail(err, EMBER_ECORRUPT,
                          "model has only one of rope_factors_long and rope_factors_short");
    if (m->rope_short.part[0]) m->rope.freq_factors = &m->rope_short;
    return EMBER_OK;
}

const struct model_arch phi3_arch = {
    .name = "phi3", .qkv_bias = false, .rope_neox = true, .qk_norm = false, .swa = false,
    .bind = phi3_bind, .forward = llama_forward,
};
