/*
 * hparams.c — the hyper-parameters the llama family shares, read from a
 * weight source's metadata ("<arch>.embedding_length", ...) into struct
 * model, each range-checked, and the rope parameters with their scaling.
 */
#include <math.h>
#include <stdio.h>

#include "arch.h"
#include "moe.h"

/* Read "<arch>.<suffix>" as an integer in [lo, hi]. */
static enum ember_status hp_int(const struct weight_source *src, const char *arch,
                                const char *suffix, bool optional, int64_t lo,
                                int64_t hi, int *v, struct ember_err *err) {
    char key[128];
    int64_t x;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!src->ops->get_int(src->impl, key, &x)) {
        if (optional && !src->ops->has_key(src->impl, key)) return EMBER_OK;
        return ember_fail(err, EMBER_ECORRUPT, "metadata '%s' is missing or not an integer", key);
    }
    if (x < lo || x > hi)
        return ember_fail(err, EMBER_ECORRUPT, "metadata '%s' = %lld is out of range [%lld, %lld]",
                          key, (long long)x, (long long)lo, (long long)hi);
    *v = (int)x;
    return EMBER_OK;
}

static enum ember_status hp_float(const struct weight_source *src, const char *arch,
                                  const char *suffix, float *v, struct ember_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!src->ops->has_key(src->impl, key)) return EMBER_OK; /* keep the default */
    if (!src->ops->get_float(src->impl, key, v) || !isfinite(*v) || *v <= 0)
        return ember_fail(err, EMBER_ECORRUPT, "metadata '%s' is not a positive number", key);
    return EMBER_OK;
}

static enum ember_status read_rope(struct model *m, const struct weight_source *src,
                                  const char *a, struct ember_err *err) {
    struct rope_params *r = &m->rope;
    r->n_rot = m->info.head_dim;
    r->freq_base = 10000.0f;
    r->freq_scale = 1.0f;
    r->attn_factor = 1.0f;
    r->beta_fast = 32.0f;
    r->beta_slow = 1.0f;
    r->n_ctx_orig = m->info.n_ctx_train;
    r->neox = m->arch->rope_neox || src->ops->qk_rotate_half;
    TRY(hp_int(src, a, "rope.dimension_count", true, 2, m->info.head_dim, &r->n_rot, err));
    if (r->n_rot % 2)
        return ember_fail(err, EMBER_ECORRUPT, "rope dimension count %d is odd", r->n_rot);
    TRY(hp_float(src, a, "rope.freq_base", &r->freq_base, err));
    char key[128];
    const char *type = "none";
    size_t type_len = 4;
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    src->ops->get_str(src->impl, key, &type, &type_len);
    float factor = 1.0f;
    TRY(hp_float(src, a, "rope.scale_linear", &factor, err));
    TRY(hp_float(src, a, "rope.scaling.factor", &factor, err));
    TRY(hp_float(src, a, "rope.scaling.attn_factor", &r->attn_factor, err));
    TRY(hp_int(src, a, "rope.scaling.original_context_length", true, 1, 1 << 24,
               &r->n_ctx_orig, err));
    if (weight_str_is(type, type_len, "none")) {
        factor = 1.0f;
    } else if (weight_str_is(type, type_len, "yarn")) {
        r->ext_factor = 1.0f;
    } else if (!weight_str_is(type, type_len, "linear")) {
        return ember_fail(err, EMBER_EUNSUPPORTED, "rope scaling type '%.*s' is not supported",
                          (int)(type_len > 64 ? 64 : type_len), type);
    }
    r->freq_scale = 1.0f / factor;
    /* Llama 3.1 style per-frequency divisors. */
    TRY(model_bind_vector(src, "rope_freqs.weight", r->n_rot / 2, true, &m->rope_freqs, err));
    r->freq_factors = m->rope_freqs.part[0] ? &m->rope_freqs : NULL;
    return EMBER_OK;
}

/* Mixture of experts, as llama.cpp reads it: expert_count (absent or 0:
 * dense; an moe architecture needs it), expert_used_count, the widths of
 * an expert (expert_feed_forward_length, default n_ff / used, in the moe
 * architectures; Mixtral-style llama experts are n_ff wide) and of the
 * shared expert (expert_shared_feed_forward_length, default n_ff). Whether
 * the top-k weights are renormalized is the architecture's (llama.cpp
 * fixes it per architecture and reads no key for these). */
static enum ember_status read_experts(struct model *m, const struct weight_source *src,
                                      const char *a, struct ember_err *err) {
    const struct model_arch *arch = m->arch;
    int n_ff = m->info.n_ff;
    TRY(hp_int(src, a, "expert_count", true, 0, 4096, &m->n_expert, err));
    if (!m->n_expert) {
        if (arch->moe)
            return ember_fail(err, EMBER_ECORRUPT, "metadata '%s.expert_count' is missing or 0", a);
        return EMBER_OK;
    }
    int max_used = m->n_expert < MOE_MAX_USED ? m->n_expert : MOE_MAX_USED;
    TRY(hp_int(src, a, "expert_used_count", false, 1, max_used, &m->n_expert_used, err));
    m->n_ff_exp = arch->moe ? n_ff / m->n_expert_used : n_ff;
    if (arch->moe) TRY(hp_int(src, a, "expert_feed_forward_length", true, 1, 1 << 22, &m->n_ff_exp, err));
    m->n_ff_shexp = n_ff;
    if (arch->moe_shexp)
        TRY(hp_int(src, a, "expert_shared_feed_forward_length", true, 1, 1 << 22, &m->n_ff_shexp, err));
    if (m->n_ff_exp < 1)
        return ember_fail(err, EMBER_ECORRUPT, "experts of width %d (feed_forward_length %d, %d used)",
                          m->n_ff_exp, n_ff, m->n_expert_used);
    return EMBER_OK;
}

enum ember_status model_read_hparams(struct model *m, const struct weight_source *src,
                                      struct ember_err *err) {
    const char *a = m->arch->name;
    struct model_info *in = &m->info;
    in->arch = a;
    TRY(hp_int(src, a, "embedding_length", false, 1, 1 << 20, &in->n_embd, err));
    TRY(hp_int(src, a, "block_count", false, 1, 4096, &in->n_layer, err));
    TRY(hp_int(src, a, "feed_forward_length", false, 1, 1 << 22, &in->n_ff, err));
    TRY(hp_int(src, a, "attention.head_count", false, 1, 4096, &in->n_head, err));
    in->n_head_kv = in->n_head;
    TRY(hp_int(src, a, "attention.head_count_kv", true, 1, in->n_head, &in->n_head_kv, err));
    if (in->n_head % in->n_head_kv)
        return ember_fail(err, EMBER_ECORRUPT, "head_count %d is not a multiple of head_count_kv %d",
                          in->n_head, in->n_head_kv);
    in->head_dim = in->n_embd / in->n_head;
    TRY(hp_int(src, a, "attention.key_length", true, 2, 1 << 16, &in->head_dim, err));
    int vlen = in->head_dim;
    TRY(hp_int(src, a, "attention.value_length", true, 2, 1 << 16, &vlen, err));
    if (vlen != in->head_dim || in->head_dim < 2 || in->head_dim % 2)
        return ember_fail(err, EMBER_EUNSUPPORTED, "head size %d (value %d) is not supported",
                          in->head_dim, vlen);
    in->n_ctx_train = 2048;
    TRY(hp_int(src, a, "context_length", true, 1, 1 << 24, &in->n_ctx_train, err));
    m->rms_eps = 1e-5f;
    TRY(hp_float(src, a, "attention.layer_norm_rms_epsilon", &m->rms_eps, err));
    TRY(read_experts(m, src, a, err));
    return read_rope(m, src, a, err);
}
