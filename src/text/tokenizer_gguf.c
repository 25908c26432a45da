/*
 * tokenizer_gguf.c — tokenizer_load (tokenizer.h): a GGUF file's
 * tokenizer.ggml.* metadata as a struct tokenizer_spec, every key's type
 * and every array's length checked, then tokenizer_new.
 *
 * The spec borrows the file's strings (an array of pointers and lengths
 * into the mapping); scores and types are copied out, since GGUF arrays
 * need not be aligned.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

static const char *vtype_name(enum gguf_vtype v) {
    static const char *names[] = {"u8", "i8", "u16", "i16", "u32", "i32",
                                  "f32", "bool", "string", "array", "u64",
                                  "i64", "f64"};
    return (unsigned)v < sizeof names / sizeof names[0] ? names[v] : "?";
}

/* Find an array key of the given element type. Returns its index, -1 when
 * absent, -2 (err set) when present with another type. */
static int64_t find_array(const struct gguf_file *f, const char *key,
                          enum gguf_vtype elem, struct ember_err *err) {
    int64_t i = gguf_find_key(f, key);
    if (i < 0) return -1;
    if (gguf_kv_type(f, i) != GGUF_ARR) {
        EMBER_CORRUPT(err, "%s is a %s, expected an array of %s", key,
                      vtype_name(gguf_kv_type(f, i)), vtype_name(elem));
        return -2;
    }
    if (gguf_arr_type(f, i) != elem) {
        EMBER_CORRUPT(err, "%s is an array of %s, expected %s", key,
                      vtype_name(gguf_arr_type(f, i)), vtype_name(elem));
        return -2;
    }
    return i;
}

/* Optional bool key into a spec flag: false (err set) when present with a
 * non-bool type. */
static bool get_flag(const struct gguf_file *f, const char *key, int8_t *v,
                     struct ember_err *err) {
    int64_t i = gguf_find_key(f, key);
    bool b;
    if (i < 0) return true;
    if (!gguf_get_bool(f, key, &b)) {
        EMBER_CORRUPT(err, "%s is a %s, expected a bool", key,
                      vtype_name(gguf_kv_type(f, i)));
        return false;
    }
    *v = b ? 1 : 0;
    return true;
}

/* Optional special-token id: false (err set, naming the key) when not an
 * integer or outside the vocabulary. llama.cpp warns and keeps the default
 * there; ember refuses, since a BOS or EOS that silently disappears changes
 * every prompt and where generation stops. -1, also as the u32 4294967295
 * that llama.cpp's converter writes for "none" (stories260K has two), keeps
 * the default. */
static bool get_id(const struct gguf_file *f, const char *key, uint64_t n_vocab,
                   int64_t *id, struct ember_err *err) {
    int64_t i = gguf_find_key(f, key), v;
    if (i < 0) return true;
    if (!gguf_get_i64(f, key, &v)) {
        EMBER_CORRUPT(err, "%s is a %s, expected an integer", key,
                      vtype_name(gguf_kv_type(f, i)));
        return false;
    }
    if (v == -1 || (v == UINT32_MAX && gguf_kv_type(f, i) == GGUF_U32)) return true;
    if (v < 0 || (uint64_t)v >= n_vocab) {
        EMBER_CORRUPT(err, "%s is %lld, outside the vocabulary of %llu tokens", key,
                      (long long)v, (unsigned long long)n_vocab);
        return false;
    }
    *id = v;
    return true;
}

/* An optional string key: false (err set) when of another type. */
static bool get_str(const struct gguf_file *f, const char *key, struct tok_bytes *s,
                    struct ember_err *err) {
    int64_t i = gguf_find_key(f, key);
    struct gguf_str g;
    if (i < 0) return true;
    if (!gguf_get_str(f, key, &g)) {
        EMBER_CORRUPT(err, "%s is a %s, expected a string", key,
                      vtype_name(gguf_kv_type(f, i)));
        return false;
    }
    *s = (struct tok_bytes){g.p, (size_t)g.len};
    return true;
}

/* The strings of array ki as a malloc'd tok_bytes array (NULL on OOM). */
static struct tok_bytes *str_array(const struct gguf_file *f, int64_t ki) {
    uint64_t n = gguf_arr_len(f, ki);
    struct tok_bytes *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    for (uint64_t i = 0; i < n; i++) {
        struct gguf_str s = gguf_arr_str(f, ki, i);
        v[i] = (struct tok_bytes){s.p, (size_t)s.len};
    }
    return v;
}

/* A numeric array of n 4-byte elements, copied (GGUF arrays may be
 * unaligned); -2 with err set when its length is not n. */
static int copy_array4(const struct gguf_file *f, int64_t ki, const char *key, uint64_t n,
                       void **out, struct ember_err *err) {
    if (gguf_arr_len(f, ki) != n) {
        EMBER_CORRUPT(err, "%s has %llu entries for %llu tokens", key,
                      (unsigned long long)gguf_arr_len(f, ki), (unsigned long long)n);
        return -2;
    }
    *out = malloc(n * 4);
    if (!*out) return -1;
    memcpy(*out, gguf_arr_data(f, ki), n * 4);
    return 0;
}

enum ember_status tokenizer_load(const struct gguf_file *f,
                                 struct tokenizer **out,
                                 struct ember_err *err) {
    *out = NULL;
    struct tokenizer_spec sp;
    tokenizer_spec_init(&sp);
    if (gguf_find_key(f, "tokenizer.ggml.model") < 0)
        return EMBER_CORRUPT(err, "tokenizer.ggml.model is missing");
    if (!get_str(f, "tokenizer.ggml.model", &sp.model, err)) return EMBER_ECORRUPT;
    bool bert = sp.model.len == 4 && !memcmp(sp.model.p, "bert", 4);
    bool gpt2 = sp.model.len == 4 && !memcmp(sp.model.p, "gpt2", 4);
    if (gpt2 && !get_str(f, "tokenizer.ggml.pre", &sp.pre, err)) return EMBER_ECORRUPT;
    struct gguf_str g; /* for per-model rules only: ignored when not strings */
    if (gguf_get_str(f, "general.name", &g)) sp.name = (struct tok_bytes){g.p, (size_t)g.len};
    if (gguf_get_str(f, "general.architecture", &g))
        sp.arch = (struct tok_bytes){g.p, (size_t)g.len};
    if (!gpt2 && gguf_get_str(f, "tokenizer.ggml.pre", &g)) /* per-model rules (jina) */
        sp.pre = (struct tok_bytes){g.p, (size_t)g.len};

    static const struct { const char *key; enum tok_special_id id; } ids[] = {
        {"tokenizer.ggml.bos_token_id", TOK_BOS},
        {"tokenizer.ggml.eos_token_id", TOK_EOS},
        {"tokenizer.ggml.eot_token_id", TOK_EOT},
        {"tokenizer.ggml.eom_token_id", TOK_EOM},
        {"tokenizer.ggml.unknown_token_id", TOK_UNK},
        {"tokenizer.ggml.seperator_token_id", TOK_SEP},
        {"tokenizer.ggml.padding_token_id", TOK_PAD},
        {"tokenizer.ggml.fim_pre_token_id", TOK_FIM_PRE},
        {"tokenizer.ggml.fim_suf_token_id", TOK_FIM_SUF},
        {"tokenizer.ggml.fim_mid_token_id", TOK_FIM_MID},
        {"tokenizer.ggml.fim_pad_token_id", TOK_FIM_PAD},
        {"tokenizer.ggml.fim_rep_token_id", TOK_FIM_REP},
        {"tokenizer.ggml.fim_sep_token_id", TOK_FIM_SEP},
        {"tokenizer.ggml.prefix_token_id", TOK_FIM_PRE},
        {"tokenizer.ggml.suffix_token_id", TOK_FIM_SUF},
        {"tokenizer.ggml.middle_token_id", TOK_FIM_MID},
    };
    static const struct { const char *key; enum tok_flag flag; bool bert_only; } flags[] = {
        {"tokenizer.ggml.add_bos_token", TOKF_ADD_BOS, false},
        {"tokenizer.ggml.add_eos_token", TOKF_ADD_EOS, false},
        {"tokenizer.ggml.add_space_prefix", TOKF_ADD_SPACE_PREFIX, false},
        {"tokenizer.ggml.normalizer.lowercase", TOKF_LOWERCASE, true},
        {"tokenizer.ggml.normalizer.strip_accents", TOKF_STRIP_ACCENTS, true},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if ((bert || !flags[i].bert_only) && !get_flag(f, flags[i].key, &sp.flags[flags[i].flag], err))
            return EMBER_ECORRUPT;

    int64_t ki = find_array(f, "tokenizer.ggml.tokens", GGUF_STR, err);
    if (ki == -2) return EMBER_ECORRUPT;
    if (ki < 0) return EMBER_CORRUPT(err, "tokenizer.ggml.tokens is missing");
    sp.n_vocab = gguf_arr_len(f, ki);
    if (sp.n_vocab == 0 || sp.n_vocab > INT32_MAX - 1)
        return EMBER_CORRUPT(err, "tokenizer.ggml.tokens has %llu entries",
                             (unsigned long long)sp.n_vocab);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (!get_id(f, ids[i].key, sp.n_vocab, &sp.special[ids[i].id], err))
            return EMBER_ECORRUPT;

    int64_t si = find_array(f, "tokenizer.ggml.scores", GGUF_F32, err);
    if (si == -2) return EMBER_ECORRUPT;
    int64_t ti = find_array(f, "tokenizer.ggml.token_type", GGUF_I32, err);
    if (ti == -2) return EMBER_ECORRUPT;
    int64_t mi = -1;
    if (gpt2) {
        mi = find_array(f, "tokenizer.ggml.merges", GGUF_STR, err);
        if (mi == -2) return EMBER_ECORRUPT;
        if (mi < 0)
            return EMBER_CORRUPT(err, "tokenizer.ggml.merges is missing "
                                 "(needed by a gpt2 tokenizer)");
    }

    enum ember_status st = EMBER_ENOMEM;
    struct tok_bytes *tokens = str_array(f, ki), *merges = NULL;
    void *scores = NULL, *types = NULL;
    int rs = 0, rt = 0;
    if (!tokens) goto done;
    if (si >= 0 && (rs = copy_array4(f, si, "tokenizer.ggml.scores", sp.n_vocab, &scores, err)))
        goto done;
    if (ti >= 0 && (rt = copy_array4(f, ti, "tokenizer.ggml.token_type", sp.n_vocab, &types, err)))
        goto done;
    if (mi >= 0) {
        if (!(merges = str_array(f, mi))) goto done;
        sp.merges = merges;
        sp.n_merges = gguf_arr_len(f, mi);
    }
    sp.tokens = tokens;
    sp.scores = scores;
    sp.types = types;
    st = tokenizer_new(&sp, out, err);
done:
    if (rs == -2 || rt == -2) st = EMBER_ECORRUPT;
    else if (st == EMBER_ENOMEM && !*out) ember_fail(err, st, "out of memory loading tokenizer");
    free(tokens);
    free(merges);
    free(scores);
    free(types);
    return st;
}
