/*
 * weights_hf.c — the Hugging Face directory source of weights_hf.h.
 *
 * hf_open reads the JSON files (json.h), turns config.json into a small
 * table of GGUF-named metadata, opens the safetensors files
 * (safetensors.h) and builds an index of the tensors it knows by their
 * GGUF names, sorted for lookups. The weight-source slots then only look
 * things up. Sections: files and JSON; metadata table; config.json;
 * tensor names; shards; the weight source.
 */
#include "weights_hf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "os.h"
#include "quant.h"
#include "safetensors.h"
#include "weights_hf_gptq.h"

#define HF_MAX_SHARDS 4096
#define HF_MAX_KV 48

struct hf_kv {
    char key[80];
    enum { KV_INT, KV_FLOAT, KV_STR } type;
    int64_t i;
    double f;
    const char *s; /* in one of the JSON docs or a literal */
};

struct hf_tensor {
    char name[96];             /* the GGUF name */
    const struct st_tensor *t; /* NULL: made here (rope_freqs), f32[0..n) */
    float *f32;                /* a converted 1-D copy, or NULL */
    int64_t n;                 /* values of a tensor made here */
    bool gptq;                 /* a GPTQ layer: t is its qweight, d its description */
    struct weight_desc d;
};

struct hf_model {
    const char *dir;
    char *path_buf[HF_MAX_SHARDS]; /* shard paths, kept for st_path */
    struct st_file **files;
    int n_files;
    struct json_doc *config, *tok_config, *gen_config, *quant_config;
    char *chat_template;       /* chat_template.jinja's text, or NULL */
    bool gptq;                 /* quantization_config present */
    struct gptq_config gq;
    char qc_where[64];         /* the file it came from, for messages */
    struct hf_kv kv[HF_MAX_KV];
    int n_kv;
    struct hf_tensor *t;       /* sorted by name */
    int64_t n_t;
    float *rope_freqs;         /* llama3 rope_scaling's divisors, or NULL */
    int64_t n_rope_freqs;
    uint64_t file_bytes;
};

#define TRY(x) do { enum ember_status st_ = (x); if (st_) return st_; } while (0)

/* ------------------------------------------------------ files and JSON */

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Parse dir/name into *doc; an absent optional file leaves *doc NULL. */
static enum ember_status read_json(const char *dir, const char *name, bool optional,
                                   struct json_doc **doc, struct ember_err *err) {
    *doc = NULL;
    char *path = join(dir, name);
    if (!path) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    enum ember_status st = EMBER_OK;
    if (os_path_kind(path) == OS_PATH_NONE) {
        if (!optional) st = ember_fail(err, EMBER_EIO, "%s: no such file", path);
        free(path);
        return st;
    }
    struct os_map m;
    if (!(st = os_map_file(path, &m, err))) {
        struct ember_err je = {0};
        if ((st = json_parse((const char *)m.data, (size_t)m.size, doc, &je)))
            ember_fail(err, st, "%s: %s", path, je.msg);
        else if (json_root(*doc)->type != JSON_OBJECT)
            st = EMBER_CORRUPT(err, "%s: not a JSON object", path);
        os_unmap(&m);
    }
    if (st) {
        json_free(*doc);
        *doc = NULL;
    }
    free(path);
    return st;
}

/* ------------------------------------------------------ metadata table */

static struct hf_kv *kv_add(struct hf_model *h, const char *arch, const char *key) {
    if (h->n_kv == HF_MAX_KV) return NULL; /* fixed set of keys: never */
    struct hf_kv *k = &h->kv[h->n_kv++];
    if (arch) snprintf(k->key, sizeof k->key, "%s.%s", arch, key);
    else snprintf(k->key, sizeof k->key, "%s", key);
    return k;
}
static void kv_int(struct hf_model *h, const char *arch, const char *key, int64_t v) {
    struct hf_kv *k = kv_add(h, arch, key);
    if (k) { k->type = KV_INT; k->i = v; }
}
static void kv_float(struct hf_model *h, const char *arch, const char *key, double v) {
    struct hf_kv *k = kv_add(h, arch, key);
    if (k) { k->type = KV_FLOAT; k->f = v; }
}
static void kv_str(struct hf_model *h, const char *arch, const char *key, const char *v) {
    struct hf_kv *k = kv_add(h, arch, key);
    if (k) { k->type = KV_STR; k->s = v; }
}

static const struct hf_kv *kv_find(const struct hf_model *h, const char *key) {
    for (int i = 0; i < h->n_kv; i++)
        if (!strcmp(h->kv[i].key, key)) return &h->kv[i];
    return NULL;
}

/* ---------------------------------------------------------- config.json */

/* A present, non-null member. */
static const struct json_value *member(const struct json_value *o, const char *key) {
    const struct json_value *v = json_get(o, key);
    return v && v->type != JSON_NULL ? v : NULL;
}

/* Integer member key of config.json into "<arch>.<gguf>" (required or not). */
static enum ember_status cfg_int(struct hf_model *h, const char *arch, const char *key,
                                 const char *gguf, bool required, struct ember_err *err) {
    const struct json_value *v = member(json_root(h->config), key);
    if (!v) {
        if (!required) return EMBER_OK;
        return EMBER_CORRUPT(err, "%s/config.json: '%s' is missing", h->dir, key);
    }
    if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0 || v->integer > INT32_MAX)
        return EMBER_CORRUPT(err, "%s/config.json: '%s' is not a non-negative integer", h->dir,
                             key);
    kv_int(h, arch, gguf, v->integer);
    return EMBER_OK;
}

static enum ember_status cfg_float(struct hf_model *h, const struct json_value *o,
                                   const char *arch, const char *key, const char *gguf,
                                   struct ember_err *err) {
    const struct json_value *v = member(o, key);
    if (!v) return EMBER_OK;
    if (v->type != JSON_NUMBER || !isfinite(v->num))
        return EMBER_CORRUPT(err, "%s/config.json: '%s' is not a number", h->dir, key);
    kv_float(h, arch, gguf, v->num);
    return EMBER_OK;
}

/* A boolean member that must be false (or absent) for the llama family. */
static enum ember_status cfg_false(const struct hf_model *h, const char *key,
                                   struct ember_err *err) {
    const struct json_value *v = member(json_root(h->config), key);
    if (v && v->type != JSON_FALSE)
        return ember_fail(err, EMBER_EUNSUPPORTED, "%s/config.json: '%s' = true is not supported",
                          h->dir, key);
    return EMBER_OK;
}

/* A positive number member of o, or dflt when absent; NAN when present and
 * not a positive finite number. */
static double pos_num(const struct json_value *o, const char *key, double dflt) {
    const struct json_value *v = member(o, key);
    if (!v) return dflt;
    return v->type == JSON_NUMBER && isfinite(v->num) && v->num > 0 ? v->num : NAN;
}

/* Llama 3.1's rope_scaling (rope_type "llama3"), as GGUF stores it: one
 * divisor per rotated pair (the tensor rope_freqs.weight, which hparams.c
 * reads), from Meta's published rule: with wavelength w = 2 pi / theta_i,
 * pairs with w < original / high_freq_factor keep their frequency, those
 * with w > original / low_freq_factor are divided by factor, and those in
 * between blend the two by s = (original / w - low) / (high - low):
 * divisor 1 / ((1 - s) / factor + s). */
static enum ember_status llama3_freqs(struct hf_model *h, const struct json_value *rs,
                                      struct ember_err *err) {
    const struct json_value *c = json_root(h->config);
    double factor = pos_num(rs, "factor", NAN), lo = pos_num(rs, "low_freq_factor", 1.0),
           hi = pos_num(rs, "high_freq_factor", 4.0),
           orig = pos_num(rs, "original_max_position_embeddings", 8192.0),
           base = pos_num(member(c, "rope_theta") ? c : rs, "rope_theta", 10000.0);
    const struct json_value *hd = member(c, "head_dim"), *hs = member(c, "hidden_size"),
                            *nh = member(c, "num_attention_heads");
    int64_t dim = hd && hd->type == JSON_NUMBER && hd->is_int ? hd->integer
                  : hs && nh && hs->is_int && nh->is_int && nh->integer > 0
                      ? hs->integer / nh->integer
                      : 0;
    if (isnan(factor) || isnan(lo) || isnan(hi) || isnan(orig) || isnan(base) || hi <= lo)
        return EMBER_CORRUPT(err, "%s/config.json: 'rope_scaling' (llama3) needs a positive "
                             "factor and low_freq_factor < high_freq_factor", h->dir);
    if (dim < 2 || dim > (1 << 16) || dim % 2)
        return EMBER_CORRUPT(err, "%s/config.json: head size %lld does not suit rope", h->dir,
                             (long long)dim);
    h->n_rope_freqs = dim / 2;
    h->rope_freqs = malloc((size_t)h->n_rope_freqs * sizeof *h->rope_freqs);
    if (!h->rope_freqs) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    for (int64_t i = 0; i < h->n_rope_freqs; i++) {
        double theta = pow(base, -2.0 * (double)i / (double)dim), w = 2 * M_PI / theta;
        double d = 1.0;
        if (w > orig / lo) {
            d = factor;
        } else if (w >= orig / hi) {
            double sm = (orig / w - lo) / (hi - lo);
            d = 1.0 / ((1.0 - sm) / factor + sm);
        }
        h->rope_freqs[i] = (float)d;
    }
    return EMBER_OK;
}

/* rope_scaling: null, or {"type"/"rope_type": "linear"|"yarn"|"default"|
 * "llama3", ...}. transformers 5 writes `rope_parameters` instead: the same
 * members plus rope_theta (read by the caller), used when there is no
 * rope_scaling. */
static enum ember_status cfg_rope_scaling(struct hf_model *h, const char *a,
                                          struct ember_err *err) {
    const char *key = "rope_scaling";
    const struct json_value *rs = member(json_root(h->config), key);
    if (!rs) rs = member(json_root(h->config), key = "rope_parameters");
    if (!rs) return EMBER_OK;
    if (rs->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "%s/config.json: '%s' is not an object", h->dir, key);
    const struct json_value *ty = member(rs, "rope_type");
    if (!ty) ty = member(rs, "type");
    if (!ty || ty->type != JSON_STRING)
        return EMBER_CORRUPT(err, "%s/config.json: '%s' has no type", h->dir, key);
    if (!strcmp(ty->str, "default")) return EMBER_OK;
    if (!strcmp(ty->str, "llama3")) return llama3_freqs(h, rs, err);
    if (strcmp(ty->str, "linear") && strcmp(ty->str, "yarn"))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s/config.json: '%s.type' = '%.40s' is not supported "
                          "(supported: linear, yarn, llama3)", h->dir, key, ty->str);
    kv_str(h, a, "rope.scaling.type", ty->str);
    TRY(cfg_float(h, rs, a, "factor", "rope.scaling.factor", err));
    TRY(cfg_float(h, rs, a, "attention_factor", "rope.scaling.attn_factor", err));
    const struct json_value *orig = member(rs, "original_max_position_embeddings");
    if (orig) {
        if (orig->type != JSON_NUMBER || !orig->is_int || orig->integer < 1 ||
            orig->integer > INT32_MAX)
            return EMBER_CORRUPT(err, "%s/config.json: '%s.original_max_position_"
                                 "embeddings' is not a positive integer", h->dir, key);
        kv_int(h, a, "rope.scaling.original_context_length", orig->integer);
    }
    return EMBER_OK;
}

/* The text of a special token in tokenizer_config.json: a string or
 * {"content": string}. */
static const char *token_text(const struct json_value *v) {
    if (v && v->type == JSON_OBJECT) v = json_get(v, "content");
    return v && v->type == JSON_STRING ? v->str : NULL;
}

/* An id (or the first of a list of ids) from generation_config.json, else
 * config.json. */
static void special_id(struct hf_model *h, const char *key, const char *gguf) {
    const struct json_doc *docs[2] = {h->gen_config, h->config};
    for (int d = 0; d < 2; d++) {
        if (!docs[d]) continue;
        const struct json_value *v = member(json_root(docs[d]), key);
        if (v && v->type == JSON_ARRAY && v->len) v = &v->items[0];
        if (v && v->type == JSON_NUMBER && v->is_int && v->integer >= 0) {
            kv_int(h, NULL, gguf, v->integer);
            return;
        }
    }
}

static void tokenizer_keys(struct hf_model *h) {
    special_id(h, "bos_token_id", "tokenizer.ggml.bos_token_id");
    special_id(h, "eos_token_id", "tokenizer.ggml.eos_token_id");
    special_id(h, "pad_token_id", "tokenizer.ggml.padding_token_id");
    const struct json_value *tc = h->tok_config ? json_root(h->tok_config) : NULL;
    if (!tc) return;
    const char *s;
    if ((s = token_text(json_get(tc, "bos_token")))) kv_str(h, NULL, "hf.bos_token", s);
    if ((s = token_text(json_get(tc, "eos_token")))) kv_str(h, NULL, "hf.eos_token", s);
    if ((s = token_text(json_get(tc, "pad_token")))) kv_str(h, NULL, "hf.pad_token", s);
    static const char *const flags[][2] = {{"add_bos_token", "tokenizer.ggml.add_bos_token"},
                                           {"add_eos_token", "tokenizer.ggml.add_eos_token"}};
    for (int i = 0; i < 2; i++) {
        const struct json_value *v = json_get(tc, flags[i][0]);
        if (v && (v->type == JSON_TRUE || v->type == JSON_FALSE))
            kv_int(h, NULL, flags[i][1], v->type == JSON_TRUE);
    }
    /* chat_template: a string, or a list of {name, template}: "default" */
    const struct json_value *ct = json_get(tc, "chat_template");
    if (ct && ct->type == JSON_ARRAY) {
        const struct json_value *pick = NULL;
        for (size_t i = 0; i < ct->len; i++) {
            const struct json_value *n = json_get(&ct->items[i], "name");
            if (n && n->type == JSON_STRING && !strcmp(n->str, "default"))
                pick = json_get(&ct->items[i], "template");
        }
        ct = pick;
    }
    if (ct && ct->type == JSON_STRING) kv_str(h, NULL, "tokenizer.chat_template", ct->str);
}

/* transformers 5 saves the chat template as chat_template.jinja beside
 * tokenizer_config.json instead of inside it: used when tokenizer_config.json
 * has none. */
static enum ember_status chat_template_file(struct hf_model *h, struct ember_err *err) {
    if (kv_find(h, "tokenizer.chat_template")) return EMBER_OK;
    char *path = join(h->dir, "chat_template.jinja");
    if (!path) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    enum ember_status st = EMBER_OK;
    struct os_map m;
    if (os_path_kind(path) != OS_PATH_NONE && !(st = os_map_file(path, &m, err))) {
        if (m.size > (1u << 20)) {
            st = EMBER_CORRUPT(err, "%s: larger than 1 MiB", path);
        } else if (m.size && memchr(m.data, 0, (size_t)m.size)) {
            st = EMBER_CORRUPT(err, "%s: holds a NUL byte", path);
        } else if (!(h->chat_template = malloc((size_t)m.size + 1))) {
            st = ember_fail(err, EMBER_ENOMEM, "out of memory");
        } else {
            if (m.size) memcpy(h->chat_template, m.data, (size_t)m.size);
            h->chat_template[m.size] = 0;
            kv_str(h, NULL, "tokenizer.chat_template", h->chat_template);
        }
        os_unmap(&m);
    }
    free(path);
    return st;
}

/* The architecture config.json names, and its metadata. */
static enum ember_status read_config(struct hf_model *h, struct ember_err *err) {
    const struct json_value *c = json_root(h->config);
    const struct json_value *qc = member(c, "quantization_config");
    snprintf(h->qc_where, sizeof h->qc_where, "config.json");
    if (!qc) {
        TRY(read_json(h->dir, "quantize_config.json", true, &h->quant_config, err));
        if (h->quant_config) qc = json_root(h->quant_config);
        snprintf(h->qc_where, sizeof h->qc_where, "quantize_config.json");
    }
    if (qc) {
        char where[4200];
        snprintf(where, sizeof where, "%s/%s", h->dir, h->qc_where);
        TRY(gptq_read_config(qc, where, &h->gq, err));
        h->gptq = true;
    }
    /* swa: config.json's sliding_window applies (Mistral: llama with a
     * sliding window; null or absent: none) */
    static const struct { const char *cls, *type, *arch; bool swa; } known[] = {
        {"LlamaForCausalLM", "llama", "llama", false},
        {"Qwen2ForCausalLM", "qwen2", "qwen2", false},
        {"MistralForCausalLM", "mistral", "llama", true},
    };
    const struct json_value *archs = member(c, "architectures"), *mt = member(c, "model_type");
    const char *cls = archs && archs->type == JSON_ARRAY && archs->len &&
                              archs->items[0].type == JSON_STRING
                          ? archs->items[0].str
                          : NULL;
    const char *type = mt && mt->type == JSON_STRING ? mt->str : NULL;
    const char *a = NULL;
    bool swa = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0] && !a; i++)
        if (cls ? !strcmp(cls, known[i].cls) : type && !strcmp(type, known[i].type)) {
            a = known[i].arch;
            swa = known[i].swa;
        }
    if (!a)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s/config.json: architecture '%.60s' (model_type '%.40s') is not "
                          "supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, "
                          "MistralForCausalLM)",
                          h->dir, cls ? cls : "?", type ? type : "?");
    kv_str(h, NULL, "general.architecture", a);
    const struct json_value *nm = member(c, "_name_or_path");
    const char *base = strrchr(h->dir, '/');
    kv_str(h, NULL, "general.name",
           nm && nm->type == JSON_STRING ? nm->str : base && base[1] ? base + 1 : h->dir);

    const struct json_value *act = member(c, "hidden_act");
    if (act && (act->type != JSON_STRING || strcmp(act->str, "silu")))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s/config.json: 'hidden_act' = '%.20s' is not supported (silu only)",
                          h->dir, act->type == JSON_STRING ? act->str : "?");
    TRY(cfg_false(h, "mlp_bias", err));
    if (!strcmp(a, "llama")) TRY(cfg_false(h, "attention_bias", err));
    if (!strcmp(a, "qwen2")) TRY(cfg_false(h, "use_sliding_window", err));

    TRY(cfg_int(h, a, "hidden_size", "embedding_length", true, err));
    TRY(cfg_int(h, a, "num_hidden_layers", "block_count", true, err));
    TRY(cfg_int(h, a, "intermediate_size", "feed_forward_length", true, err));
    TRY(cfg_int(h, a, "num_attention_heads", "attention.head_count", true, err));
    TRY(cfg_int(h, a, "num_key_value_heads", "attention.head_count_kv", false, err));
    TRY(cfg_int(h, a, "head_dim", "attention.key_length", false, err));
    TRY(cfg_int(h, a, "head_dim", "attention.value_length", false, err));
    TRY(cfg_int(h, a, "max_position_embeddings", "context_length", false, err));
    const struct json_value *sw = member(c, "sliding_window");
    if (swa && sw && sw->type != JSON_NULL)
        TRY(cfg_int(h, a, "sliding_window", "attention.sliding_window", false, err));
    TRY(cfg_int(h, a, "vocab_size", "vocab_size", false, err));
    TRY(cfg_float(h, c, a, "rms_norm_eps", "attention.layer_norm_rms_epsilon", err));
    /* rope_theta: top level, or inside transformers 5's rope_parameters */
    const struct json_value *rp = member(c, "rope_parameters");
    TRY(cfg_float(h, !member(c, "rope_theta") && rp && rp->type == JSON_OBJECT ? rp : c, a,
                  "rope_theta", "rope.freq_base", err));
    TRY(cfg_rope_scaling(h, a, err));
    tokenizer_keys(h);
    return chat_template_file(h, err);
}

/* --------------------------------------------------------- tensor names */

/* The GGUF name of an HF tensor name into out; false for a name ember does
 * not use (rotary inv_freq buffers, ...). */
static bool gguf_name(const char *hf, char *out, size_t cap) {
    static const char *const top[][2] = {
        {"model.embed_tokens.weight", "token_embd.weight"},
        {"model.norm.weight", "output_norm.weight"},
        {"lm_head.weight", "output.weight"},
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (!strcmp(hf, top[i][0])) return snprintf(out, cap, "%s", top[i][1]) > 0;
    static const char *const layer[][2] = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    static const char prefix[] = "model.layers.";
    if (strncmp(hf, prefix, sizeof prefix - 1)) return false;
    const char *p = hf + sizeof prefix - 1;
    long l = 0;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '.')) return false;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((l = l * 10 + (*p - '0')) > 1000000) return false;
    if (*p++ != '.') return false;
    for (size_t i = 0; i < sizeof layer / sizeof layer[0]; i++)
        if (!strcmp(p, layer[i][0])) {
            int n = snprintf(out, cap, "blk.%ld.%s", l, layer[i][1]);
            return n > 0 && (size_t)n < cap;
        }
    return false;
}

/* GPTQ's parts of a layer, in gptq_describe_layer's order. */
static const char *const gptq_parts[] = {".qweight", ".scales", ".qzeros", ".g_idx"};

/* Which GPTQ part name is (0..3), or -1. */
static int gptq_part(const char *name) {
    size_t n = strlen(name);
    for (int i = 0; i < 4; i++) {
        size_t k = strlen(gptq_parts[i]);
        if (n > k && !strcmp(name + n - k, gptq_parts[i])) return i;
    }
    return -1;
}

/* The tensor called name in any of the files, or NULL. */
static const struct st_tensor *find_any(const struct hf_model *h, const char *name) {
    for (int f = 0; f < h->n_files; f++) {
        const struct st_tensor *t = st_find(h->files[f], name);
        if (t) return t;
    }
    return NULL;
}

/* The GPTQ layer whose qweight is t (HF name P.qweight) as entry e, under
 * the GGUF name of P.weight; false (skipped) for a layer ember does not
 * use. */
static enum ember_status gptq_entry(struct hf_model *h, const struct st_file *f,
                                    const struct st_tensor *t, struct hf_tensor *e, bool *used,
                                    struct ember_err *err) {
    char base[256], name[300];
    size_t n = strlen(t->name) - strlen(gptq_parts[0]);
    *used = false;
    if (n >= sizeof base) return EMBER_OK;
    memcpy(base, t->name, n);
    base[n] = 0;
    snprintf(name, sizeof name, "%s.weight", base);
    if (!gguf_name(name, e->name, sizeof e->name)) return EMBER_OK;
    const struct st_tensor *part[4] = {t, NULL, NULL, NULL};
    for (int k = 1; k < 4; k++) {
        snprintf(name, sizeof name, "%s%s", base, gptq_parts[k]);
        part[k] = find_any(h, name);
    }
    e->t = t;
    e->gptq = true;
    *used = true;
    return gptq_describe_layer(&h->gq, st_path(f), base, part, &e->d, err);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct hf_tensor *)a)->name, ((const struct hf_tensor *)b)->name);
}

/* A 1-D tensor as F32 in its own (aligned) copy, when it is not already. */
static enum ember_status to_f32(struct hf_tensor *e, struct ember_err *err) {
    const struct st_tensor *t = e->t;
    if (t->dtype == ST_F32 && (uintptr_t)t->data % sizeof(float) == 0) return EMBER_OK;
    e->f32 = malloc(t->n_elems ? t->n_elems * sizeof(float) : 1);
    if (!e->f32) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    const unsigned char *p = t->data;
    for (uint64_t i = 0; i < t->n_elems; i++) {
        uint16_t h16;
        if (t->dtype == ST_F32) {
            memcpy(&e->f32[i], p + 4 * i, 4);
            continue;
        }
        memcpy(&h16, p + 2 * i, 2);
        e->f32[i] = t->dtype == ST_F16 ? quant_f16_to_f32(h16) : quant_bf16_to_f32(h16);
    }
    return EMBER_OK;
}

/* Index every tensor of every file under its GGUF name. */
static enum ember_status index_tensors(struct hf_model *h, struct ember_err *err) {
    int64_t total = 0;
    for (int f = 0; f < h->n_files; f++) total += st_n_tensors(h->files[f]);
    h->t = calloc((size_t)total + 1, sizeof *h->t); /* + rope_freqs */
    if (!h->t) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    for (int f = 0; f < h->n_files; f++) {
        for (int64_t i = 0; i < st_n_tensors(h->files[f]); i++) {
            const struct st_tensor *t = st_tensor(h->files[f], i);
            struct hf_tensor *e = &h->t[h->n_t];
            int part = gptq_part(t->name);
            if (part >= 0 && !h->gptq)
                return EMBER_CORRUPT(err, "%s: tensor '%s' is part of a GPTQ layer but "
                                     "config.json has no 'quantization_config'",
                                     st_path(h->files[f]), t->name);
            if (part > 0) continue; /* found through its qweight */
            if (part == 0) {
                bool used;
                TRY(gptq_entry(h, h->files[f], t, e, &used, err));
                h->n_t += used;
                continue;
            }
            if (!gguf_name(t->name, e->name, sizeof e->name)) continue;
            if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
                return ember_fail(err, EMBER_EUNSUPPORTED,
                                  "%s: tensor '%s' has dtype %s (weights must be F32, F16 or "
                                  "BF16)", st_path(h->files[f]), t->name,
                                  st_dtype_name(t->dtype));
            if (t->n_dims < 1 || t->n_dims > 2)
                return EMBER_CORRUPT(err, "%s: tensor '%s' has %d dims, expected 1 or 2",
                                     st_path(h->files[f]), t->name, t->n_dims);
            e->t = t;
            if (t->n_dims == 1) TRY(to_f32(e, err));
            h->n_t++;
        }
    }
    if (h->rope_freqs) { /* llama3 rope_scaling's divisors, made here */
        struct hf_tensor *e = &h->t[h->n_t++];
        snprintf(e->name, sizeof e->name, "rope_freqs.weight");
        e->f32 = h->rope_freqs;
        e->n = h->n_rope_freqs;
        h->rope_freqs = NULL; /* the entry owns it now */
    }
    qsort(h->t, (size_t)h->n_t, sizeof *h->t, by_name);
    for (int64_t i = 1; i < h->n_t; i++)
        if (!strcmp(h->t[i - 1].name, h->t[i].name))
            return EMBER_CORRUPT(err, "%s: tensor '%s' appears in more than one file", h->dir,
                                 h->t[i].t ? h->t[i].t->name : h->t[i].name);
    return EMBER_OK;
}

/* --------------------------------------------------------------- shards */

static enum ember_status open_file(struct hf_model *h, const char *name, struct ember_err *err) {
    if (h->n_files == HF_MAX_SHARDS)
        return ember_fail(err, EMBER_EUNSUPPORTED, "%s: more than %d safetensors files", h->dir,
                          HF_MAX_SHARDS);
    char *path = join(h->dir, name);
    if (!path) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    h->path_buf[h->n_files] = path;
    TRY(st_open(path, &h->files[h->n_files], err));
    h->file_bytes += st_file_size(h->files[h->n_files]);
    h->n_files++;
    return EMBER_OK;
}

/* model.safetensors, or every file model.safetensors.index.json maps a
 * tensor to (each once; plain names inside the directory only). */
static enum ember_status open_weights(struct hf_model *h, struct ember_err *err) {
    h->files = calloc(HF_MAX_SHARDS, sizeof *h->files);
    if (!h->files) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    struct json_doc *idx = NULL;
    TRY(read_json(h->dir, "model.safetensors.index.json", true, &idx, err));
    if (!idx) {
        char *single = join(h->dir, "model.safetensors");
        bool there = single && os_path_kind(single) != OS_PATH_NONE;
        free(single);
        if (!there)
            return ember_fail(err, EMBER_EIO, "%s: has neither model.safetensors nor "
                              "model.safetensors.index.json", h->dir);
        return open_file(h, "model.safetensors", err);
    }
    enum ember_status st = EMBER_OK;
    const struct json_value *map = json_get(json_root(idx), "weight_map");
    if (!map || map->type != JSON_OBJECT || !map->len)
        st = EMBER_CORRUPT(err, "%s/model.safetensors.index.json: 'weight_map' is missing or "
                           "empty", h->dir);
    for (size_t i = 0; !st && i < map->len; i++) {
        const struct json_value *v = &map->members[i].value;
        if (v->type != JSON_STRING || !v->len || strlen(v->str) != v->len ||
            strchr(v->str, '/') || v->str[0] == '.') {
            st = EMBER_CORRUPT(err, "%s/model.safetensors.index.json: tensor '%.80s' maps to "
                               "a file name that is not a plain name in the directory",
                               h->dir, map->members[i].key);
            break;
        }
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(map->members[j].value.str, v->str);
        if (!seen) st = open_file(h, v->str, err);
    }
    for (size_t i = 0; !st && i < map->len; i++) { /* each listed tensor where it says */
        const char *file = map->members[i].value.str;
        int f = 0;
        while (strcmp(strrchr(st_path(h->files[f]), '/') + 1, file)) f++;
        if (!st_find(h->files[f], map->members[i].key))
            st = EMBER_CORRUPT(err, "%s/model.safetensors.index.json: tensor '%.80s' is not in "
                               "%s", h->dir, map->members[i].key, file);
    }
    json_free(idx);
    return st;
}

/* ---------------------------------------------------------- the source */

static const struct hf_tensor *find(const struct hf_model *h, const char *name) {
    struct hf_tensor key = {0};
    if (snprintf(key.name, sizeof key.name, "%s", name) >= (int)sizeof key.name) return NULL;
    return h->n_t ? bsearch(&key, h->t, (size_t)h->n_t, sizeof *h->t, by_name) : NULL;
}

static bool h_has_key(const void *impl, const char *key) { return kv_find(impl, key) != NULL; }

static bool h_get_int(const void *impl, const char *key, int64_t *v) {
    const struct hf_kv *k = kv_find(impl, key);
    if (!k || k->type != KV_INT) return false;
    *v = k->i;
    return true;
}

static bool h_get_float(const void *impl, const char *key, float *v) {
    const struct hf_kv *k = kv_find(impl, key);
    if (!k || k->type == KV_STR) return false;
    *v = k->type == KV_INT ? (float)k->i : (float)k->f;
    return true;
}

static bool h_get_str(const void *impl, const char *key, const char **s, size_t *len) {
    const struct hf_kv *k = kv_find(impl, key);
    if (!k || k->type != KV_STR) return false;
    *s = k->s;
    *len = strlen(k->s);
    return true;
}

static void describe(const struct hf_tensor *e, struct weight_desc *d) {
    const struct st_tensor *t = e->t;
    if (e->gptq) {
        *d = e->d;
        return;
    }
    if (!t) { /* made here: 1-D F32 */
        *d = (struct weight_desc){.type = EMBER_TYPE_F32, .n_dims = 1, .ne = {e->n, 1, 1, 1},
                                  .n_elems = (uint64_t)e->n,
                                  .n_bytes = (uint64_t)e->n * sizeof(float), .data = e->f32};
        return;
    }
    static const int types[] = {[ST_F32] = EMBER_TYPE_F32, [ST_F16] = EMBER_TYPE_F16,
                                [ST_BF16] = EMBER_TYPE_BF16};
    *d = (struct weight_desc){
        .type = e->f32 ? EMBER_TYPE_F32 : types[t->dtype], .n_dims = t->n_dims,
        .ne = {1, 1, 1, 1}, .n_elems = t->n_elems,
        .n_bytes = e->f32 ? t->n_elems * sizeof(float) : t->n_bytes,
        .data = e->f32 ? (const void *)e->f32 : t->data,
    };
    for (int i = 0; i < t->n_dims; i++) d->ne[i] = t->shape[t->n_dims - 1 - i];
}

static bool h_find(const void *impl, const char *name, struct weight_desc *d) {
    const struct hf_tensor *e = find(impl, name);
    if (e) describe(e, d);
    return e != NULL;
}

static int64_t h_n_tensors(const void *impl) { return ((const struct hf_model *)impl)->n_t; }

static void h_tensor_at(const void *impl, int64_t i, struct weight_desc *d) {
    describe(&((const struct hf_model *)impl)->t[i], d);
}

static const struct weight_source_ops hf_source_ops = {
    .format = "safetensors",
    .qk_rotate_half = true,
    .has_key = h_has_key,
    .get_int = h_get_int,
    .get_float = h_get_float,
    .get_str = h_get_str,
    .find = h_find,
    .n_tensors = h_n_tensors,
    .tensor_at = h_tensor_at,
};

struct weight_source weight_source_hf(const struct hf_model *h) {
    return (struct weight_source){&hf_source_ops, h, h->dir};
}

uint64_t hf_file_bytes(const struct hf_model *h) { return h->file_bytes; }
int hf_n_files(const struct hf_model *h) { return h->n_files; }

const char *hf_meta_at(const struct hf_model *h, int i, char *val, size_t cap) {
    if (i < 0 || i >= h->n_kv) return NULL;
    const struct hf_kv *k = &h->kv[i];
    if (k->type == KV_INT) snprintf(val, cap, "%lld", (long long)k->i);
    else if (k->type == KV_FLOAT) snprintf(val, cap, "%g", k->f);
    else snprintf(val, cap, "%s", k->s);
    return k->key;
}

const char *hf_tensor_name(const struct hf_model *h, int64_t i, const char **hf_name) {
    if (i < 0 || i >= h->n_t) return NULL;
    *hf_name = h->t[i].t ? h->t[i].t->name : "(from config.json rope_scaling)";
    return h->t[i].name;
}

/* Cross-checks config.json cannot make alone: the embedding against
 * vocab_size, and an output matrix when embeddings are not tied. */
static enum ember_status check_tensors(struct hf_model *h, struct ember_err *err) {
    const struct hf_tensor *emb = find(h, "token_embd.weight");
    const char *a = kv_find(h, "general.architecture")->s;
    char key[80];
    snprintf(key, sizeof key, "%s.vocab_size", a);
    const struct hf_kv *vs = kv_find(h, key);
    if (emb && vs && emb->t->n_dims == 2 && emb->t->shape[0] != vs->i)
        return EMBER_CORRUPT(err, "%s: 'vocab_size' is %lld but model.embed_tokens.weight has "
                             "%lld rows", h->dir, (long long)vs->i, (long long)emb->t->shape[0]);
    const struct json_value *tie = member(json_root(h->config), "tie_word_embeddings");
    if (tie && tie->type == JSON_FALSE && !find(h, "output.weight"))
        return EMBER_CORRUPT(err, "%s: 'tie_word_embeddings' is false but there is no "
                             "lm_head.weight", h->dir);
    return EMBER_OK;
}

enum ember_status hf_open(const char *dir, struct hf_model **out, struct ember_err *err) {
    *out = NULL;
    struct hf_model *h = calloc(1, sizeof *h);
    if (!h) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    h->dir = dir;
    enum ember_status st = read_json(dir, "config.json", false, &h->config, err);
    if (!st) st = read_json(dir, "tokenizer_config.json", true, &h->tok_config, err);
    if (!st) st = read_json(dir, "generation_config.json", true, &h->gen_config, err);
    if (!st) st = read_config(h, err);
    if (!st) st = open_weights(h, err);
    if (!st) st = index_tensors(h, err);
    if (!st) st = check_tensors(h, err);
    if (st) {
        hf_close(h);
        return st;
    }
    *out = h;
    return EMBER_OK;
}

void hf_close(struct hf_model *h) {
    if (!h) return;
    for (int64_t i = 0; i < h->n_t; i++) free(h->t[i].f32);
    free(h->t);
    free(h->rope_freqs);
    for (int f = 0; f < h->n_files; f++) st_close(h->files[f]);
    for (int f = 0; f < HF_MAX_SHARDS; f++) free(h->path_buf[f]);
    free(h->files);
    json_free(h->config);
    json_free(h->tok_config);
    json_free(h->gen_config);
    json_free(h->quant_config);
    free(h->chat_template);
    free(h);
}
