/*
 * tokenizer_hf.c — tokenizer_load_hf (tokenizer.h): a Hugging Face
 * tokenizer.json as a struct tokenizer_spec, then tokenizer_new.
 *
 * Read: model (BPE only: vocab, merges as "a b" strings or ["a", "b"]
 * pairs, byte_fallback, unk_token, ignore_merges), added_tokens (special ones
 * become control tokens, the others user-defined), normalizer, pre_tokenizer
 * and post_processor. Two shapes are understood, the ones llama.cpp's
 * converter maps to its "llama" and "gpt2" vocabularies:
 *   - SentencePiece-style: a normalizer that replaces ' ' by U+2581 (and
 *     prepends one), or a Metaspace pre-tokenizer; merges by rank with byte
 *     fallback to <0xHH> tokens;
 *   - byte-level: a ByteLevel pre-tokenizer, alone (GPT-2's regex) or after
 *     a Split whose regex is one ember's splitters implement (GPT-2,
 *     Llama 3, Qwen2), matched by its exact text.
 * Anything else is EMBER_EUNSUPPORTED naming the field. The NFC normalizer
 * is accepted and not applied (llama.cpp does not apply it either).
 * Missing ids (and ids up to hints->n_vocab) become "[PAD<id>]" tokens of
 * type unused, as llama.cpp's converter makes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tokenizer.h"

#define MAX_VOCAB (1 << 24)

#define TRY_ST(x) do { enum ember_status st_ = (x); if (st_) return st_; } while (0)

/* The splitter regexes ember implements (unicode_split.c), as tokenizer.json
 * files write them, and the pre-tokenizer names that select them. */
static const struct { const char *regex, *pre; } known_regex[] = {
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "gpt-2"},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "llama-bpe"},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", "qwen2"},
};

#define SPACE_MARK "\xe2\x96\x81" /* U+2581, SentencePiece's space */

struct hf_read {
    const struct json_value *root;
    bool byte_level, spm, prefix_space;
    const char *pre;      /* gpt2 pre-tokenizer name */
    int add_bos, add_eos; /* from the post-processor, -1 unknown */
    const char *bos_text, *eos_text;
};

static bool is_str(const struct json_value *v, const char *s) {
    return v && v->type == JSON_STRING && !strcmp(v->str, s);
}

static const char *type_of(const struct json_value *v) {
    const struct json_value *t = json_get(v, "type");
    return t && t->type == JSON_STRING ? t->str : "?";
}

/* One normalizer (Sequence recursively). */
static enum ember_status normalizer(struct hf_read *r, const struct json_value *n, int depth,
                                    struct ember_err *err) {
    if (!n || n->type == JSON_NULL) return EMBER_OK;
    const char *ty = type_of(n);
    if (!strcmp(ty, "Sequence") && depth < 4) {
        const struct json_value *l = json_get(n, "normalizers");
        if (!l || l->type != JSON_ARRAY)
            return EMBER_CORRUPT(err, "tokenizer.json: normalizer Sequence has no list");
        for (size_t i = 0; i < l->len; i++)
            if (normalizer(r, &l->items[i], depth + 1, err)) return err->status;
        return EMBER_OK;
    }
    if (!strcmp(ty, "NFC")) return EMBER_OK;
    if (!strcmp(ty, "Prepend") && is_str(json_get(n, "prepend"), SPACE_MARK)) {
        r->prefix_space = true;
        return EMBER_OK;
    }
    if (!strcmp(ty, "Replace")) {
        const struct json_value *p = json_get(json_get(n, "pattern"), "String");
        if (is_str(p, " ") && is_str(json_get(n, "content"), SPACE_MARK)) {
            r->spm = true;
            return EMBER_OK;
        }
    }
    return ember_fail(err, EMBER_EUNSUPPORTED,
                      "tokenizer.json: normalizer '%.40s' is not supported (supported: NFC, "
                      "Prepend and Replace of SentencePiece's space)", ty);
}

/* One pre-tokenizer (Sequence recursively). */
static enum ember_status pre_tokenizer(struct hf_read *r, const struct json_value *p, int depth,
                                       struct ember_err *err) {
    if (!p || p->type == JSON_NULL) return EMBER_OK;
    const char *ty = type_of(p);
    if (!strcmp(ty, "Sequence") && depth < 4) {
        const struct json_value *l = json_get(p, "pretokenizers");
        if (!l || l->type != JSON_ARRAY)
            return EMBER_CORRUPT(err, "tokenizer.json: pre_tokenizer Sequence has no list");
        for (size_t i = 0; i < l->len; i++)
            if (pre_tokenizer(r, &l->items[i], depth + 1, err)) return err->status;
        return EMBER_OK;
    }
    if (!strcmp(ty, "ByteLevel")) {
        r->byte_level = true;
        const struct json_value *ur = json_get(p, "use_regex");
        if (!ur || ur->type == JSON_TRUE) {
            if (r->pre)
                return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: a ByteLevel "
                                  "pre_tokenizer with use_regex after a Split is not supported");
            r->pre = "gpt-2";
        }
        const struct json_value *aps = json_get(p, "add_prefix_space");
        if (aps && aps->type == JSON_TRUE)
            return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: pre_tokenizer ByteLevel "
                              "with add_prefix_space = true is not supported");
        return EMBER_OK;
    }
    if (!strcmp(ty, "Split")) {
        const struct json_value *re = json_get(json_get(p, "pattern"), "Regex");
        if (!re || re->type != JSON_STRING)
            return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: pre_tokenizer Split "
                              "without a Regex pattern is not supported");
        if (r->pre)
            return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: more than one regex "
                              "pre_tokenizer is not supported");
        for (size_t i = 0; i < sizeof known_regex / sizeof known_regex[0]; i++)
            if (!strcmp(re->str, known_regex[i].regex)) r->pre = known_regex[i].pre;
        if (!r->pre)
            return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: pre_tokenizer regex "
                              "'%.80s' is not supported (GPT-2's, Llama 3's and Qwen2's are)",
                              re->str);
        return EMBER_OK;
    }
    if (!strcmp(ty, "Metaspace")) {
        if (!is_str(json_get(p, "replacement"), SPACE_MARK))
            return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: pre_tokenizer Metaspace "
                              "with a replacement other than U+2581 is not supported");
        r->spm = true;
        const struct json_value *ps = json_get(p, "prepend_scheme"),
                                *aps = json_get(p, "add_prefix_space");
        r->prefix_space = ps ? !is_str(ps, "never") : !(aps && aps->type == JSON_FALSE);
        return EMBER_OK;
    }
    return ember_fail(err, EMBER_EUNSUPPORTED,
                      "tokenizer.json: pre_tokenizer '%.40s' is not supported (supported: "
                      "ByteLevel, Split with a known regex, Metaspace)", ty);
}

/* TemplateProcessing: a special token first adds BOS, one last adds EOS. */
static void post_processor(struct hf_read *r, const struct json_value *p) {
    if (!p || strcmp(type_of(p), "TemplateProcessing")) return;
    const struct json_value *single = json_get(p, "single");
    if (!single || single->type != JSON_ARRAY || !single->len) return;
    const struct json_value *first = json_get(&single->items[0], "SpecialToken"),
                            *last = json_get(&single->items[single->len - 1], "SpecialToken");
    r->add_bos = first != NULL;
    r->add_eos = last != NULL && single->len > 1;
    const struct json_value *id;
    if (first && (id = json_get(first, "id")) && id->type == JSON_STRING) r->bos_text = id->str;
    if (last && single->len > 1 && (id = json_get(last, "id")) && id->type == JSON_STRING)
        r->eos_text = id->str;
}

/* Is s a byte token "<0xHH>"? */
static bool byte_token(const char *s, size_t n) {
    return n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' &&
           strchr("0123456789ABCDEFabcdef", s[3]) && strchr("0123456789ABCDEFabcdef", s[4]) &&
           s[3] && s[4];
}

/* The id of a token text among the n tokens, or -1 (a linear scan: a few
 * calls per load). */
static int64_t id_of(const struct tok_bytes *tok, uint64_t n, const char *text) {
    if (!text) return -1;
    size_t l = strlen(text);
    for (uint64_t i = 0; i < n; i++)
        if (tok[i].p && tok[i].len == l && !memcmp(tok[i].p, text, l)) return (int64_t)i;
    return -1;
}

struct built {
    struct tok_bytes *tokens, *merges;
    int32_t *types;
    char *pad_text, *merge_text;
};

static void built_free(struct built *b) {
    free(b->tokens);
    free(b->merges);
    free(b->types);
    free(b->pad_text);
    free(b->merge_text);
}

/* vocab + added_tokens into tokens/types; ids nobody names become pads. */
static enum ember_status build_vocab(const struct hf_read *r, const struct json_value *vocab,
                                     const struct json_value *added, int64_t n_min,
                                     struct tokenizer_spec *sp, struct built *b,
                                     struct ember_err *err) {
    int64_t n = n_min > 0 ? n_min : 0;
    for (size_t i = 0; i < vocab->len; i++) {
        const struct json_value *v = &vocab->members[i].value;
        if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0 || v->integer >= MAX_VOCAB)
            return EMBER_CORRUPT(err, "tokenizer.json: vocab entry '%.40s' has no valid id",
                                 vocab->members[i].key);
        if (v->integer >= n) n = v->integer + 1;
    }
    for (size_t i = 0; added && i < added->len; i++) {
        const struct json_value *id = json_get(&added->items[i], "id"),
                                *c = json_get(&added->items[i], "content");
        if (!id || id->type != JSON_NUMBER || !id->is_int || id->integer < 0 ||
            id->integer >= MAX_VOCAB || !c || c->type != JSON_STRING)
            return EMBER_CORRUPT(err, "tokenizer.json: added_tokens[%zu] has no valid id and "
                                 "content", i);
        if (id->integer >= n) n = id->integer + 1;
    }
    if (n == 0) return EMBER_CORRUPT(err, "tokenizer.json: the vocabulary is empty");
    b->tokens = calloc((size_t)n, sizeof *b->tokens);
    b->types = calloc((size_t)n, sizeof *b->types);
    if (!b->tokens || !b->types) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    for (size_t i = 0; i < vocab->len; i++) {
        const struct json_member *m = &vocab->members[i];
        int64_t id = m->value.integer;
        if (b->tokens[id].p)
            return EMBER_CORRUPT(err, "tokenizer.json: id %lld is given to '%.40s' and '%.40s'",
                                 (long long)id, b->tokens[id].p, m->key);
        b->tokens[id] = (struct tok_bytes){m->key, m->key_len};
        b->types[id] = r->spm && byte_token(m->key, m->key_len) ? 6 : 1;
    }
    for (size_t i = 0; added && i < added->len; i++) {
        const struct json_value *a = &added->items[i], *c = json_get(a, "content");
        int64_t id = json_get(a, "id")->integer;
        if (b->tokens[id].p && (b->tokens[id].len != c->len || memcmp(b->tokens[id].p, c->str, c->len)))
            return EMBER_CORRUPT(err, "tokenizer.json: added token %lld '%.40s' is '%.40s' in "
                                 "the vocab", (long long)id, c->str, b->tokens[id].p);
        b->tokens[id] = (struct tok_bytes){c->str, c->len};
        const struct json_value *sp_ = json_get(a, "special");
        b->types[id] = sp_ && sp_->type == JSON_TRUE ? 3 : 4;
    }
    size_t pads = 0;
    for (int64_t i = 0; i < n; i++) pads += !b->tokens[i].p;
    b->pad_text = malloc(pads * 20 + 1);
    if (!b->pad_text) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    char *o = b->pad_text;
    for (int64_t i = 0; i < n; i++) {
        if (b->tokens[i].p) continue;
        int k = snprintf(o, 20, "[PAD%lld]", (long long)i);
        b->tokens[i] = (struct tok_bytes){o, (size_t)k};
        b->types[i] = 5;
        o += k;
    }
    sp->n_vocab = (uint64_t)n;
    sp->tokens = b->tokens;
    sp->types = b->types;
    return EMBER_OK;
}

/* merges: "a b" strings kept as they are, ["a", "b"] pairs joined. */
static enum ember_status build_merges(const struct json_value *m, struct tokenizer_spec *sp,
                                      struct built *b, struct ember_err *err) {
    if (!m || m->type != JSON_ARRAY)
        return EMBER_CORRUPT(err, "tokenizer.json: model.merges is missing or not a list");
    size_t bytes = 1;
    for (size_t i = 0; i < m->len; i++) {
        const struct json_value *x = &m->items[i];
        if (x->type == JSON_ARRAY && x->len == 2 && x->items[0].type == JSON_STRING &&
            x->items[1].type == JSON_STRING)
            bytes += x->items[0].len + x->items[1].len + 1;
        else if (x->type != JSON_STRING)
            return EMBER_CORRUPT(err, "tokenizer.json: model.merges[%zu] is neither \"a b\" nor "
                                 "[\"a\", \"b\"]", i);
    }
    b->merges = malloc((m->len ? m->len : 1) * sizeof *b->merges);
    b->merge_text = malloc(bytes);
    if (!b->merges || !b->merge_text) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    char *o = b->merge_text;
    for (size_t i = 0; i < m->len; i++) {
        const struct json_value *x = &m->items[i];
        if (x->type == JSON_STRING) {
            b->merges[i] = (struct tok_bytes){x->str, x->len};
            continue;
        }
        size_t l0 = x->items[0].len, l1 = x->items[1].len;
        memcpy(o, x->items[0].str, l0);
        o[l0] = ' ';
        memcpy(o + l0 + 1, x->items[1].str, l1);
        b->merges[i] = (struct tok_bytes){o, l0 + 1 + l1};
        o += l0 + 1 + l1;
    }
    sp->merges = b->merges;
    sp->n_merges = m->len;
    return EMBER_OK;
}

/* The model object: BPE with no subword prefix or suffix. */
static enum ember_status check_model(const struct json_value *model, struct ember_err *err) {
    if (!model || model->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "tokenizer.json: 'model' is missing");
    const struct json_value *ty = json_get(model, "type");
    if (ty && !is_str(ty, "BPE"))
        return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: model.type '%.40s' is not "
                          "supported (BPE only)", ty->type == JSON_STRING ? ty->str : "?");
    static const char *const empty[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const struct json_value *v = json_get(model, empty[i]);
        if (v && v->type != JSON_NULL && !(v->type == JSON_STRING && !v->len))
            return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: model.%s is not "
                              "supported", empty[i]);
    }
    const struct json_value *vocab = json_get(model, "vocab");
    if (!vocab || vocab->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "tokenizer.json: model.vocab is missing or not an object");
    return EMBER_OK;
}

struct tokenizer_hf_vocab {
    struct json_doc *doc; /* the texts the spec points into */
    struct built b;
    struct tokenizer_spec sp;
};

void tokenizer_hf_vocab_free(struct tokenizer_hf_vocab *v) {
    if (!v) return;
    built_free(&v->b);
    json_free(v->doc);
    free(v);
}

const struct tokenizer_spec *tokenizer_hf_spec(const struct tokenizer_hf_vocab *v) { return &v->sp; }

/* The normalizer and pre-tokenizer into r: which of the two shapes. */
static enum ember_status read_shape(struct hf_read *r, const struct json_value *model,
                                    const struct json_value *added, struct ember_err *err) {
    if (r->root->type != JSON_OBJECT) return EMBER_CORRUPT(err, "tokenizer.json: not an object");
    TRY_ST(check_model(model, err));
    if (added && added->type != JSON_ARRAY)
        return EMBER_CORRUPT(err, "tokenizer.json: added_tokens is not a list");
    TRY_ST(normalizer(r, json_get(r->root, "normalizer"), 0, err));
    TRY_ST(pre_tokenizer(r, json_get(r->root, "pre_tokenizer"), 0, err));
    if (r->byte_level == r->spm)
        return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: %s", r->spm
                          ? "both byte-level and SentencePiece-style: not supported"
                          : "neither byte-level (ByteLevel) nor SentencePiece-style (U+2581 "
                            "normalizer or Metaspace): not supported");
    if (r->byte_level && !r->pre)
        return ember_fail(err, EMBER_EUNSUPPORTED, "tokenizer.json: ByteLevel without a regex "
                          "pre_tokenizer is not supported");
    post_processor(r, json_get(r->root, "post_processor"));
    return EMBER_OK;
}

/* Model kind, flags and special ids of the spec, once its vocabulary is
 * built. */
static void spec_ids(const struct hf_read *r, const struct json_value *model,
                     const struct tokenizer_hf_hints *hints, struct tokenizer_spec *sp,
                     struct built *b) {
    sp->model = r->spm ? (struct tok_bytes){"llama", 5} : (struct tok_bytes){"gpt2", 4};
    sp->kind_from_format = true; /* tokenizer.json's model type, not a label */
    if (r->pre) sp->pre = (struct tok_bytes){r->pre, strlen(r->pre)};
    if (r->spm) sp->flags[TOKF_ADD_SPACE_PREFIX] = r->prefix_space ? 1 : 0;
    const struct json_value *im = json_get(model, "ignore_merges");
    if (im && (im->type == JSON_TRUE || im->type == JSON_FALSE))
        sp->flags[TOKF_IGNORE_MERGES] = im->type == JSON_TRUE ? 1 : 0;
    const struct json_value *unk = json_get(model, "unk_token");
    sp->special[TOK_UNK] = id_of(b->tokens, sp->n_vocab, unk && unk->type == JSON_STRING
                                                             ? unk->str : NULL);
    if (sp->special[TOK_UNK] >= 0 && b->types[sp->special[TOK_UNK]] != 3)
        b->types[sp->special[TOK_UNK]] = 2;
    /* BOS/EOS: the hints' ids, else their texts, else the post-processor's */
    sp->special[TOK_BOS] = hints && hints->bos >= 0 ? hints->bos
                           : id_of(b->tokens, sp->n_vocab, hints && hints->bos_text
                                                               ? hints->bos_text : r->bos_text);
    sp->special[TOK_EOS] = hints && hints->eos >= 0 ? hints->eos
                           : id_of(b->tokens, sp->n_vocab, hints && hints->eos_text
                                                               ? hints->eos_text : r->eos_text);
    sp->flags[TOKF_ADD_BOS] = (int8_t)(hints && hints->add_bos >= 0 ? hints->add_bos : r->add_bos);
    sp->flags[TOKF_ADD_EOS] = (int8_t)(hints && hints->add_eos >= 0 ? hints->add_eos : r->add_eos);
}

enum ember_status tokenizer_hf_read(const char *json, size_t len,
                                    const struct tokenizer_hf_hints *hints,
                                    struct tokenizer_hf_vocab **out, struct ember_err *err) {
    *out = NULL;
    struct tokenizer_hf_vocab *v = calloc(1, sizeof *v);
    if (!v) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    struct ember_err je = {0};
    if (json_parse(json, len, &v->doc, &je)) {
        free(v);
        return ember_fail(err, je.status, "tokenizer.json: %s", je.msg);
    }
    struct hf_read r = {.root = json_root(v->doc), .add_bos = -1, .add_eos = -1};
    tokenizer_spec_init(&v->sp);
    const struct json_value *model = json_get(r.root, "model");
    const struct json_value *added = json_get(r.root, "added_tokens");
    enum ember_status st = read_shape(&r, model, added, err);
    if (!st) st = build_vocab(&r, json_get(model, "vocab"), added, hints ? hints->n_vocab : 0,
                              &v->sp, &v->b, err);
    if (!st) st = build_merges(json_get(model, "merges"), &v->sp, &v->b, err);
    if (st) {
        tokenizer_hf_vocab_free(v);
        return st;
    }
    spec_ids(&r, model, hints, &v->sp, &v->b);
    *out = v;
    return EMBER_OK;
}

enum ember_status tokenizer_load_hf(const char *json, size_t len,
                                    const struct tokenizer_hf_hints *hints,
                                    struct tokenizer **out, struct ember_err *err) {
    *out = NULL;
    struct tokenizer_hf_vocab *v = NULL;
    enum ember_status st = tokenizer_hf_read(json, len, hints, &v, err);
    if (st) return st;
    st = tokenizer_new(&v->sp, out, err);
    if (st) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        ember_fail(err, st, "tokenizer.json: %s", msg);
    }
    tokenizer_hf_vocab_free(v);
    return st;
}
