/*
 * quantize_plan.c — the per-tensor type rules of quantize_plan.h.
 */
#include "quantize_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

enum {
    F32 = EMBER_TYPE_F32, F16 = EMBER_TYPE_F16, BF16 = EMBER_TYPE_BF16, Q4_0 = EMBER_TYPE_Q4_0,
    Q4_1 = EMBER_TYPE_Q4_1, Q5_0 = EMBER_TYPE_Q5_0, Q5_1 = EMBER_TYPE_Q5_1, Q8_0 = EMBER_TYPE_Q8_0,
    Q2_K = EMBER_TYPE_Q2_K, Q3_K = EMBER_TYPE_Q3_K, Q4_K = EMBER_TYPE_Q4_K, Q5_K = EMBER_TYPE_Q5_K,
    Q6_K = EMBER_TYPE_Q6_K,
};

/* llama_ftype ids */
enum {
    FT_F32 = 0, FT_F16 = 1, FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7, FT_Q5_0 = 8, FT_Q5_1 = 9, FT_Q2_K = 10,
    FT_Q3_K_S = 11, FT_Q3_K_M = 12, FT_Q3_K_L = 13, FT_Q4_K_S = 14, FT_Q4_K_M = 15, FT_Q5_K_S = 16,
    FT_Q5_K_M = 17, FT_Q6_K = 18, FT_Q2_K_S = 21, FT_BF16 = 32,
};

static const struct quant_mix mixes[] = {
    {"Q4_0", FT_Q4_0, Q4_0},     {"Q4_1", FT_Q4_1, Q4_1},     {"Q5_0", FT_Q5_0, Q5_0},
    {"Q5_1", FT_Q5_1, Q5_1},     {"Q8_0", FT_Q8_0, Q8_0},     {"Q2_K", FT_Q2_K, Q2_K},
    {"Q2_K_S", FT_Q2_K_S, Q2_K}, {"Q3_K_S", FT_Q3_K_S, Q3_K}, {"Q3_K_M", FT_Q3_K_M, Q3_K},
    {"Q3_K_L", FT_Q3_K_L, Q3_K}, {"Q4_K_S", FT_Q4_K_S, Q4_K}, {"Q4_K_M", FT_Q4_K_M, Q4_K},
    {"Q5_K_S", FT_Q5_K_S, Q5_K}, {"Q5_K_M", FT_Q5_K_M, Q5_K}, {"Q6_K", FT_Q6_K, Q6_K},
    {"F16", FT_F16, F16},        {"BF16", FT_BF16, BF16},     {"F32", FT_F32, F32},
    /* llama-quantize's aliases: the M mixes */
    {"Q3_K", FT_Q3_K_M, Q3_K},   {"Q4_K", FT_Q4_K_M, Q4_K},   {"Q5_K", FT_Q5_K_M, Q5_K},
};

const struct quant_mix *quant_mix_at(int i) {
    return i >= 0 && i < (int)(sizeof mixes / sizeof mixes[0]) ? &mixes[i] : NULL;
}

const struct quant_mix *quant_mix_find(const char *name) {
    for (const struct quant_mix *m = mixes; m < mixes + sizeof mixes / sizeof mixes[0]; m++) {
        size_t i = 0;
        while (name[i] && m->name[i] && toupper((unsigned char)name[i]) == m->name[i]) i++;
        if (!name[i] && !m->name[i]) return m;
    }
    return NULL;
}

enum category { OTHER, OUTPUT, TOKEN_EMBD, ATTN_QKV, ATTN_KV_B, ATTN_V, ATTN_K, ATTN_Q, ATTN_OUT, FFN_UP, FFN_GATE, FFN_DOWN };

static enum category category_of(const char *n) {
    if (!strcmp(n, "output.weight")) return OUTPUT;
    if (!strcmp(n, "token_embd.weight") || !strcmp(n, "per_layer_token_embd.weight")) return TOKEN_EMBD;
    static const struct {
        const char *part;
        enum category c;
    } parts[] = {{"attn_qkv.weight", ATTN_QKV}, {"attn_kv_b.weight", ATTN_KV_B}, {"attn_v.weight", ATTN_V},
                 {"attn_k.weight", ATTN_K},     {"attn_q.weight", ATTN_Q},      {"attn_output.weight", ATTN_OUT},
                 {"ffn_up", FFN_UP},            {"ffn_gate", FFN_GATE},         {"ffn_down", FFN_DOWN}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(n, parts[i].part)) return parts[i].c;
    return OTHER;
}

int quant_plan_layer(const char *name) {
    if (strncmp(name, "blk.", 4) || !isdigit((unsigned char)name[4])) return -1;
    char *end;
    long l = strtol(name + 4, &end, 10);
    return *end == '.' && l < (1L << 30) ? (int)l : -1;
}

static bool attn_v_like(enum category c) { return c == ATTN_V || c == ATTN_QKV || c == ATTN_KV_B; }

bool quant_plan_is_attn_v(const char *name) { return attn_v_like(category_of(name)); }

/* Whether the tensor is quantized at all (llama.cpp's list). */
static bool allows(const char *n, int n_dims) {
    size_t len = strlen(n);
    if (n_dims < 2 || len < 6 || strcmp(n + len - 6, "weight")) return false;
    static const char *const keep[] = {"_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup",
                                       "laurel", "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
                                       "position_embd.weight", "token_types.weight"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strstr(n, keep[i])) return false;
    return true;
}

static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static int rule_output(const struct quant_plan *p, int t, int64_t ne0) {
    if (p->output_type >= 0) return p->output_type;
    if (p->falcon || ne0 % quant_traits_for(t)->block_elems) return Q8_0;
    return t == Q8_0 ? Q8_0 : Q6_K;
}

static int rule_attn_v(struct quant_plan *p, int t) {
    int ft = p->mix->ftype;
    if (ft == FT_Q2_K) t = p->n_gqa >= 4 ? Q4_K : Q3_K;
    else if (ft == FT_Q2_K_S && p->n_gqa >= 4) t = Q4_K;
    else if (ft == FT_Q3_K_M) t = p->i_attn_v < 2 ? Q5_K : Q4_K;
    else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) && more_bits(p->i_attn_v, p->n_attn_v)) t = Q6_K;
    else if (ft == FT_Q3_K_L || (ft == FT_Q4_K_S && p->i_attn_v < 4)) t = Q5_K;
    if (p->n_expert == 8) t = Q8_0;
    p->i_attn_v++;
    return t;
}

static int rule_ffn_down(struct quant_plan *p, int t, const char *name) {
    int ft = p->mix->ftype, i = p->i_ffn_down++, n = p->n_layer;
    int named = quant_plan_layer(name);
    if (p->n_expert > 1 && named >= 0) i = named; /* experts' tensors are not in layer order */
    if (ft == FT_Q2_K) t = Q3_K;
    else if (ft == FT_Q2_K_S) t = i < n / 8 ? Q4_K : t;
    else if (ft == FT_Q3_K_M) t = i < n / 16 ? Q5_K : !p->falcon || more_bits(i, n) ? Q4_K : Q3_K;
    else if (ft == FT_Q3_K_L) t = p->falcon ? Q4_K : Q5_K;
    else if (ft == FT_Q4_K_M)
        t = p->falcon ? (i < n / 16 ? Q6_K : more_bits(i, n) ? Q5_K : Q4_K) : more_bits(i, n) ? Q6_K : t;
    else if (ft == FT_Q5_K_M && more_bits(i, n)) t = Q6_K;
    else if (ft == FT_Q4_K_S && !p->falcon && i < n / 8) t = Q5_K;
    return t;
}

static int rule_attn_out(const struct quant_plan *p, int t) {
    int ft = p->mix->ftype;
    if (p->falcon) return ft == FT_Q3_K_L ? Q4_K : t;
    if (p->n_expert == 8)
        return ft == FT_Q2_K || ft == FT_Q3_K_S || ft == FT_Q3_K_M || ft == FT_Q4_K_S || ft == FT_Q4_K_M ? Q5_K : t;
    return ft == FT_Q2_K ? Q3_K : ft == FT_Q3_K_M ? Q4_K : ft == FT_Q3_K_L ? Q5_K : t;
}

/* The mix's type for a tensor of this category (llama_tensor_get_type_impl,
 * without the IQ and MXFP4 types ember does not write). */
static int by_rules(struct quant_plan *p, enum category c, const char *name, int64_t ne0) {
    int t = p->mix->base;
    if (c == OUTPUT || (p->tied && c == TOKEN_EMBD)) return rule_output(p, t, ne0);
    if (c == TOKEN_EMBD) return p->embd_type >= 0 ? p->embd_type : t;
    if (attn_v_like(c)) return rule_attn_v(p, t);
    if (c == ATTN_K) return p->n_expert == 8 ? Q8_0 : t;
    if (c == FFN_DOWN) return rule_ffn_down(p, t, name);
    if (c == ATTN_OUT) return rule_attn_out(p, t);
    if (c == FFN_GATE) p->i_ffn_gate++;
    if (c == FFN_UP) p->i_ffn_up++;
    return t;
}

/* A type whose block does not divide the row: the next that does. */
static int fit(int t, int64_t ne0, struct quant_choice *ch, const char *name) {
    int blk = quant_traits_for(t)->block_elems;
    if (ne0 % blk == 0) return t;
    int f = t == Q2_K || t == Q3_K ? Q4_0 : t == Q4_K ? Q5_0 : t == Q5_K ? Q5_1 : t == Q6_K ? Q8_0 : t;
    if (ne0 % quant_traits_for(f)->block_elems) f = F16;
    ch->fallback = true;
    snprintf(ch->note, sizeof ch->note, "%s: rows of %lld values are not a multiple of %d (%s): %s instead", name,
             (long long)ne0, blk, quant_type_name(t), quant_type_name(f));
    return f;
}

static bool quantized(int t) { return t != F32 && t != F16 && t != BF16; }

struct quant_choice quant_plan_tensor(struct quant_plan *p, const char *name, int n_dims, int64_t ne0, int cur) {
    struct quant_choice ch = {.type = cur};
    if (!allows(name, n_dims)) return ch;
    enum category c = category_of(name);
    if (c == TOKEN_EMBD && p->embd_type >= 0) return (ch.type = p->embd_type, ch);
    if (c == OUTPUT && p->output_type >= 0) return (ch.type = p->output_type, ch);
    int t = p->mix->base;
    if (!quantized(t)) return (ch.type = t, ch);
    bool manual = false;
    for (int i = 0; i < p->n_ov && !manual; i++)
        if (!regexec(&p->ov[i].re, name, 0, NULL, 0)) t = p->ov[i].type, manual = true;
    if (!manual && !p->pure) t = by_rules(p, c, name, ne0);
    ch.type = fit(t, ne0, &ch, name);
    return ch;
}
