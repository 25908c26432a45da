/*
 * tokenizer.c — the tokenizer of tokenizer.h: building it from a vocabulary
 * given as arrays (struct tokenizer_spec; tokenizer_gguf.c and
 * tokenizer_hf.c fill one from a file) and encoding/decoding text the way
 * llama.cpp does.
 *
 * The vocabulary comes from an untrusted file, so building refuses
 * duplicate token texts and malformed byte tokens, and treats
 * special-token ids out of range as absent. Encoding accepts any
 * bytes: invalid UTF-8 becomes U+FFFD where llama.cpp decodes text (BPE,
 * WordPiece) and falls back to byte tokens where it does not (SentencePiece).
 *
 * Sections, in order: types and hashing; loading (token table, merges,
 * special tokens and their attributes, pieces); special-token partition;
 * SentencePiece; byte-level BPE; WordPiece; encode; pieces, decode, stream.
 */
#include "tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

/* ------------------------------------------------------------------------
 * Types and hashing
 * ---------------------------------------------------------------------- */

enum tok_kind { KIND_SPM, KIND_BPE, KIND_WPM };

/* Token attributes, as llama.cpp derives them from tokenizer.ggml.token_type
 * (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). */
enum {
    ATTR_UNDEFINED = 0,
    ATTR_UNKNOWN = 1 << 0,
    ATTR_UNUSED = 1 << 1,
    ATTR_NORMAL = 1 << 2,
    ATTR_CONTROL = 1 << 3,
    ATTR_USER_DEFINED = 1 << 4,
    ATTR_BYTE = 1 << 5,
    ATTR_LSTRIP = 1 << 7, /* a special token eats the spaces before it */
    ATTR_RSTRIP = 1 << 8, /* ... or after it */
};

struct tok_entry {
    size_t text_off;  /* in t->text, NUL-terminated there */
    size_t piece_off; /* in t->pieces */
    uint32_t text_len, piece_len;
    float score;
    uint16_t attr;
};

/* Open-addressing hash set of ids keyed by a string the id names. */
struct strhash {
    uint32_t *slot; /* id + 1; 0 is empty */
    size_t mask;
};

struct tokenizer {
    enum tok_kind kind;
    enum unicode_pre pre;
    int32_t n_vocab;
    struct tok_entry *tok;
    char *text;   /* every token's text, each followed by a NUL */
    char *pieces; /* every token's decoded bytes */
    struct strhash by_text;

    /* BPE merges: "left right" strings, rank = index */
    char *merge_text;
    size_t *merge_off;
    uint32_t *merge_len;
    uint32_t n_merges;
    struct strhash by_merge;

    int32_t bos, eos, eot, eom, unk, sep, pad;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    bool add_bos, add_eos, add_space_prefix, ignore_merges, clean_spaces;
    bool wpm_lowercase, wpm_strip_accents; /* WordPiece normalizer */

    int32_t *special; /* control/user-defined/unknown ids, longest first */
    size_t n_special;
    int32_t *eog;     /* sorted */
    size_t n_eog;
    size_t max_token_len, max_piece_len;
    uint8_t *len_bits; /* bit L: some token is L bytes long (WordPiece) */
};

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define HASH_SEED 0xcbf29ce484222325ULL

static size_t hash_slot(uint64_t h) {
    return (size_t)(h ^ (h >> 29));
}

static bool strhash_init(struct strhash *h, size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    h->slot = calloc(cap, sizeof *h->slot);
    h->mask = cap - 1;
    return h->slot != NULL;
}

static const char *tok_text(const struct tokenizer *t, int32_t id) {
    return t->text + t->tok[id].text_off;
}

/* Id of the token whose text is p[0..n), or -1. */
static int32_t token_lookup(const struct tokenizer *t, const char *p,
                            size_t n) {
    size_t i = hash_slot(hash_bytes(HASH_SEED, p, n)) & t->by_text.mask;
    for (uint32_t s; (s = t->by_text.slot[i]) != 0;
         i = (i + 1) & t->by_text.mask) {
        int32_t id = (int32_t)(s - 1);
        if (t->tok[id].text_len == n && memcmp(tok_text(t, id), p, n) == 0)
            return id;
    }
    return -1;
}

/* Rank of the merge "left right", or -1. */
static int32_t merge_lookup(const struct tokenizer *t, const char *l,
                            size_t ln, const char *r, size_t rn) {
    uint64_t h = hash_bytes(HASH_SEED, l, ln);
    h = hash_bytes(h, " ", 1);
    h = hash_bytes(h, r, rn);
    size_t i = hash_slot(h) & t->by_merge.mask;
    for (uint32_t s; (s = t->by_merge.slot[i]) != 0;
         i = (i + 1) & t->by_merge.mask) {
        uint32_t k = s - 1;
        const char *m = t->merge_text + t->merge_off[k];
        if (t->merge_len[k] == ln + 1 + rn && memcmp(m, l, ln) == 0 &&
            m[ln] == ' ' && memcmp(m + ln + 1, r, rn) == 0)
            return (int32_t)k;
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Loading
 * ---------------------------------------------------------------------- */

struct pre_info {
    const char *name;
    enum unicode_pre pre;
    bool ignore_merges, add_bos, keep_spaces, no_bos;
};

/* tokenizer.ggml.pre values and what llama.cpp does for each. */
static const struct pre_info pre_table[] = {
    {"default", UPRE_DEFAULT, false, false, false, false},
    {"llama3", UPRE_LLAMA3, true, true, false, false},
    {"llama-v3", UPRE_LLAMA3, true, true, false, false},
    {"llama-bpe", UPRE_LLAMA3, true, true, false, false},
    {"falcon3", UPRE_LLAMA3, true, true, false, false},
    {"falcon-h1", UPRE_LLAMA3, true, true, false, false},
    {"pixtral", UPRE_LLAMA3, true, true, false, false},
    {"midm-2.0", UPRE_LLAMA3, true, true, false, false},
    {"lfm2", UPRE_LLAMA3, true, true, false, false},
    {"dbrx", UPRE_LLAMA3, false, false, false, false},
    {"smaug-bpe", UPRE_LLAMA3, false, false, false, false},
    {"glm4", UPRE_LLAMA3, true, false, false, true},
    {"glm5", UPRE_LLAMA3, true, false, false, true},
    {"chatglm-bpe", UPRE_LLAMA3, false, false, false, true},
    {"deepseek-llm", UPRE_DEEPSEEK_LLM, false, false, true, false},
    {"deepseek-coder", UPRE_DEEPSEEK_CODER, false, false, true, false},
    {"falcon", UPRE_FALCON, false, false, false, false},
    {"mpt", UPRE_GPT2, false, false, false, false},
    {"starcoder", UPRE_STARCODER, false, false, false, false},
    {"gpt-2", UPRE_GPT2, false, false, false, false},
    {"phi-2", UPRE_GPT2, false, false, false, false},
    {"jina-es", UPRE_GPT2, false, false, false, false},
    {"jina-de", UPRE_GPT2, false, false, false, false},
    {"gigachat", UPRE_GPT2, false, false, false, false},
    {"jina-v2-es", UPRE_GPT2, false, false, false, false},
    {"jina-v2-de", UPRE_GPT2, false, false, false, false},
    {"a.x-4.0", UPRE_GPT2, false, false, false, false},
    {"mellum", UPRE_GPT2, false, false, false, false},
    {"jina-v1-en", UPRE_GPT2, false, false, false, false},
    {"jina-v2-code", UPRE_GPT2, false, false, false, false},
    {"roberta-bpe", UPRE_GPT2, false, false, false, false},
    {"refact", UPRE_STARCODER, false, false, false, false},
    {"command-r", UPRE_STARCODER, false, false, true, false},
    {"qwen2", UPRE_QWEN2, false, false, true, false},
    {"deepseek-r1-qwen", UPRE_QWEN2, false, false, true, false},
    {"kormo", UPRE_QWEN2, false, false, true, false},
    {"f2llmv2", UPRE_QWEN2, false, false, true, false},
    {"grok-2", UPRE_QWEN2, false, false, true, false},
    {"qwen35", UPRE_QWEN35, false, false, true, false},
    {"stablelm2", UPRE_QWEN2, false, false, false, false},
    {"megrez", UPRE_QWEN2, false, false, false, false},
    {"hunyuan", UPRE_QWEN2, false, false, true, false},
    {"olmo", UPRE_GPT2, false, false, false, false},
    {"jais", UPRE_GPT2, false, false, false, false},
    {"trillion", UPRE_GPT2, false, false, true, false},
    {"exaone4", UPRE_GPT2, false, false, false, false},
    {"smollm", UPRE_STARCODER, false, false, true, false},
    {"codeshell", UPRE_STARCODER, false, false, false, false},
    {"exaone", UPRE_STARCODER, false, false, false, false},
    {"minerva-7b", UPRE_STARCODER, false, false, false, false},
    {"poro-chat", UPRE_BLOOM, false, false, true, false},
    {"bloom", UPRE_BLOOM, false, false, false, false},
    {"gpt3-finnish", UPRE_BLOOM, false, false, false, false},
    {"viking", UPRE_VIKING, false, false, true, false},
};

void tokenizer_free(struct tokenizer *t) {
    if (!t) return;
    free(t->tok);
    free(t->text);
    free(t->pieces);
    free(t->by_text.slot);
    free(t->merge_text);
    free(t->merge_off);
    free(t->merge_len);
    free(t->by_merge.slot);
    free(t->special);
    free(t->eog);
    free(t->len_bits);
    free(t);
}

static enum ember_status oom(struct ember_err *err) {
    return ember_fail(err, EMBER_ENOMEM, "out of memory loading tokenizer");
}

/* Copy the token texts into t->text and index them. */
static enum ember_status load_tokens(struct tokenizer *t,
                                     const struct tokenizer_spec *sp,
                                     struct ember_err *err) {
    uint64_t n = sp->n_vocab;
    if (n == 0 || n > INT32_MAX - 1)
        return EMBER_CORRUPT(err, "the vocabulary has %llu tokens",
                             (unsigned long long)n);
    t->n_vocab = (int32_t)n;

    /* sizes: each text plus a NUL; empty texts become "[EMPTY_<id>]" */
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len = sp->tokens[i].len;
        if (len == 0) len = 20;
        if (len > UINT32_MAX - 1 || !ember_add_u64(total, len + 1, &total))
            return EMBER_CORRUPT(err, "token %llu is too long",
                                 (unsigned long long)i);
    }
    if (total > SIZE_MAX / 2) return oom(err);
    t->tok = calloc(n, sizeof *t->tok);
    t->text = malloc(total);
    if (!t->tok || !t->text || !strhash_init(&t->by_text, n)) return oom(err);

    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct tok_bytes s = sp->tokens[i];
        char *dst = t->text + off;
        size_t len;
        if (s.len == 0) {
            len = (size_t)snprintf(dst, 21, "[EMPTY_%llu]",
                                   (unsigned long long)i);
        } else {
            memcpy(dst, s.p, s.len);
            len = s.len;
        }
        dst[len] = '\0';
        t->tok[i].text_off = off;
        t->tok[i].text_len = (uint32_t)len;
        t->tok[i].attr = ATTR_NORMAL;
        off += len + 1;
        if (len > t->max_token_len) t->max_token_len = len;

        size_t h = hash_slot(hash_bytes(HASH_SEED, dst, len)) & t->by_text.mask;
        for (uint32_t sl; (sl = t->by_text.slot[h]) != 0;
             h = (h + 1) & t->by_text.mask) {
            int32_t o = (int32_t)(sl - 1);
            if (t->tok[o].text_len == len && memcmp(tok_text(t, o), dst, len) == 0)
                return EMBER_CORRUPT(err,
                                     "tokens %d and %llu have the same text",
                                     o, (unsigned long long)i);
        }
        t->by_text.slot[h] = (uint32_t)i + 1;
    }
    return EMBER_OK;
}

/* Scores and token types, both optional, both n_vocab long. A type outside
 * llama.cpp's 0-6 or a score that is not finite is refused: either would
 * silently change what the tokenizer does (an unknown type made every token
 * undefined, and empty output followed; a NaN score breaks the SPM merge
 * order). */
static enum ember_status load_scores_types(struct tokenizer *t,
                                           const struct tokenizer_spec *sp,
                                           struct ember_err *err) {
    static const uint16_t attr_of_type[] = {
        ATTR_UNDEFINED, ATTR_NORMAL, ATTR_UNKNOWN, ATTR_CONTROL,
        ATTR_USER_DEFINED, ATTR_UNUSED, ATTR_BYTE};
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (sp->scores) {
            if (!isfinite(sp->scores[i]))
                return EMBER_CORRUPT(err, "token %d has score %g (scores must be finite)", i,
                                     (double)sp->scores[i]);
            t->tok[i].score = sp->scores[i];
        }
        if (sp->types) {
            int32_t ty = sp->types[i];
            if (ty < 0 || ty > 6)
                return EMBER_CORRUPT(err, "token %d has type %d (token types are 0-6)", i, ty);
            t->tok[i].attr = attr_of_type[ty];
        }
    }
    return EMBER_OK;
}

static enum ember_status load_merges(struct tokenizer *t,
                                     const struct tokenizer_spec *sp,
                                     struct ember_err *err) {
    uint64_t n = sp->n_merges, total = 0;
    if (n > INT32_MAX - 1)
        return EMBER_CORRUPT(err, "the vocabulary has %llu merges",
                             (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len = sp->merges[i].len;
        if (len > UINT32_MAX || !ember_add_u64(total, len, &total))
            return EMBER_CORRUPT(err, "merge %llu is too long",
                                 (unsigned long long)i);
    }
    if (total > SIZE_MAX / 2) return oom(err);
    t->n_merges = (uint32_t)n;
    t->merge_text = malloc(total ? total : 1);
    t->merge_off = malloc((n ? n : 1) * sizeof *t->merge_off);
    t->merge_len = malloc((n ? n : 1) * sizeof *t->merge_len);
    if (!t->merge_text || !t->merge_off || !t->merge_len ||
        !strhash_init(&t->by_merge, n))
        return oom(err);
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct tok_bytes s = sp->merges[i];
        memcpy(t->merge_text + off, s.p, s.len);
        t->merge_off[i] = off;
        t->merge_len[i] = (uint32_t)s.len;
        /* Only "left right" with non-empty halves can ever match; the first
         * of duplicate merges keeps its rank. Others are kept but inert. */
        const char *m = t->merge_text + off;
        off += s.len;
        uint64_t h = hash_bytes(HASH_SEED, m, s.len);
        size_t k = hash_slot(h) & t->by_merge.mask;
        bool dup = false;
        for (uint32_t sl; (sl = t->by_merge.slot[k]) != 0;
             k = (k + 1) & t->by_merge.mask) {
            uint32_t o = sl - 1;
            if (t->merge_len[o] == s.len &&
                memcmp(t->merge_text + t->merge_off[o], m, s.len) == 0) {
                dup = true;
                break;
            }
        }
        if (!dup) t->by_merge.slot[k] = (uint32_t)i + 1;
    }
    return EMBER_OK;
}

static bool text_is(const struct tokenizer *t, int32_t id, const char *s) {
    size_t n = strlen(s);
    return n == t->tok[id].text_len && memcmp(tok_text(t, id), s, n) == 0;
}

static bool text_in(const struct tokenizer *t, int32_t id,
                    const char *const *list) {
    char c0 = tok_text(t, id)[0]; /* every listed text starts with one of */
    if (c0 != '<' && c0 != '[' && c0 != '_' && c0 != '\xe2') return false;
    for (; *list; list++)
        if (text_is(t, id, *list)) return true;
    return false;
}

/* If *id is absent, take the lowest id whose text is in list, and make it a
 * control token (llama.cpp's detection of EOT/EOM/FIM tokens by text). */
static void detect_by_text(struct tokenizer *t, int32_t *id,
                           const char *const *list) {
    if (*id >= 0) return;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (text_in(t, i, list)) {
            *id = i;
            t->tok[i].attr |= ATTR_CONTROL;
            return;
        }
    }
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static enum ember_status add_eog(struct tokenizer *t, int32_t id) {
    if (id < 0) return EMBER_OK;
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] == id) return EMBER_OK;
    int32_t *p = realloc(t->eog, (t->n_eog + 1) * sizeof *p);
    if (!p) return EMBER_ENOMEM;
    t->eog = p;
    t->eog[t->n_eog++] = id;
    return EMBER_OK;
}

/* Special ids, end-of-generation set and the attribute fix-ups. */
static enum ember_status load_specials(struct tokenizer *t,
                                       const struct tokenizer_spec *sp,
                                       struct ember_err *err) {
    int32_t *ids[TOK_N_SPECIAL] = {
        [TOK_BOS] = &t->bos, [TOK_EOS] = &t->eos, [TOK_EOT] = &t->eot,
        [TOK_EOM] = &t->eom, [TOK_UNK] = &t->unk, [TOK_SEP] = &t->sep,
        [TOK_PAD] = &t->pad, [TOK_FIM_PRE] = &t->fim_pre,
        [TOK_FIM_SUF] = &t->fim_suf, [TOK_FIM_MID] = &t->fim_mid,
        [TOK_FIM_PAD] = &t->fim_pad, [TOK_FIM_REP] = &t->fim_rep,
        [TOK_FIM_SEP] = &t->fim_sep};
    /* an id outside the vocabulary keeps the default (llama.cpp does the
     * same, with a warning) */
    for (int k = 0; k < TOK_N_SPECIAL; k++)
        if (sp->special[k] >= 0 && sp->special[k] < t->n_vocab)
            *ids[k] = (int32_t)sp->special[k];
    /* defaults that name no token are absent */
    int32_t *all[] = {&t->bos, &t->eos, &t->eot, &t->eom, &t->unk, &t->sep,
                      &t->pad};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i] >= t->n_vocab) *all[i] = -1;

    if (sp->flags[TOKF_ADD_BOS] >= 0) t->add_bos = sp->flags[TOKF_ADD_BOS];
    if (sp->flags[TOKF_ADD_EOS] >= 0) t->add_eos = sp->flags[TOKF_ADD_EOS];

    static const char *const eot_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
        "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
        "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
        "<end_of_utterance>", NULL};
    static const char *const eom_texts[] = {"<|eom_id|>", NULL};
    static const char *const pre_texts[] = {
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>",
        "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
    static const char *const suf_texts[] = {
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>", "<SUF>",
        "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
    static const char *const mid_texts[] = {
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>",
        "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
    static const char *const pad_texts[] = {"<|fim_pad|>", "<fim-pad>",
                                            "<fim_pad>", "<PAD>", "[PAD]",
                                            NULL};
    static const char *const rep_texts[] = {"<|fim_repo|>", "<|repo_name|>",
                                            "<fim-repo>", "<REPO>",
                                            "<reponame>", NULL};
    static const char *const sep_texts[] = {"<|file_sep|>", NULL};
    detect_by_text(t, &t->eot, eot_texts);
    detect_by_text(t, &t->eom, eom_texts);
    detect_by_text(t, &t->fim_pre, pre_texts);
    detect_by_text(t, &t->fim_suf, suf_texts);
    detect_by_text(t, &t->fim_mid, mid_texts);
    detect_by_text(t, &t->fim_pad, pad_texts);
    detect_by_text(t, &t->fim_rep, rep_texts);
    detect_by_text(t, &t->fim_sep, sep_texts);

    static const char *const eog_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
        "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
        "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",
        "[e~[", NULL};
    static const char *const render_texts[] = {
        "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    if (add_eog(t, t->fim_pad) || add_eog(t, t->fim_rep) ||
        add_eog(t, t->fim_sep))
        return oom(err);
    for (int32_t i = 0; i < t->n_vocab; i++) {
        if (text_in(t, i, eog_texts)) {
            if (add_eog(t, i)) return oom(err);
            t->tok[i].attr |= ATTR_CONTROL;
        }
        if (text_in(t, i, render_texts)) t->tok[i].attr = ATTR_USER_DEFINED;
    }
    if (add_eog(t, t->eos) || add_eog(t, t->eot) || add_eog(t, t->eom))
        return oom(err);
    /* gpt-oss / solar-open: with <|return|>+<|call|> or <|call(s)|>+<|flush|>
     * present, <|end|> is not EOG; with <|tool_response> (gemma4) or
     * <|plamo:eos|> present, </s> is an ordinary token. */
    int32_t ret = -1, call = -1, flush = -1, end_at = -1, marker = -1, s_at = -1;
    for (size_t i = 0; i < t->n_eog; i++) {
        int32_t id = t->eog[i];
        if (text_is(t, id, "<|return|>")) ret = id;
        else if (text_is(t, id, "<|call|>") || text_is(t, id, "<|calls|>")) call = id;
        else if (text_is(t, id, "<|flush|>")) flush = id;
        else if (text_is(t, id, "<|end|>")) end_at = (int32_t)i;
        if (text_is(t, id, "<|tool_response>") || text_is(t, id, "<|plamo:eos|>"))
            marker = id;
        else if (text_is(t, id, "</s>")) s_at = (int32_t)i;
    }
    if (end_at >= 0 && call >= 0 && (ret >= 0 || flush >= 0)) {
        t->tok[t->eog[end_at]].attr = ATTR_USER_DEFINED;
        t->eog[end_at] = -1;
    }
    if (marker >= 0 && s_at >= 0) {
        t->tok[t->eog[s_at]].attr = ATTR_NORMAL;
        t->eog[s_at] = -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < t->n_eog; i++)
        if (t->eog[i] >= 0) t->eog[kept++] = t->eog[i];
    t->n_eog = kept;
    if (t->n_eog) qsort(t->eog, t->n_eog, sizeof *t->eog, cmp_i32);
    return EMBER_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Byte of an SPM byte token "<0xHH>", or -1 if the text is not that form. */
static int byte_token_value(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int hi = hexval(s[3]), lo = hexval(s[4]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

/* Append the decoded bytes of token id (llama.cpp's token_to_piece with
 * special = true) to buf at *off; with buf NULL only count. */
static void make_piece(const struct tokenizer *t, int32_t id, char *buf,
                       size_t *off) {
    const struct tok_entry *e = &t->tok[id];
    const char *s = tok_text(t, id);
    size_t n = e->text_len, o = *off;
#define PUT(c) do { if (buf) buf[o] = (char)(c); o++; } while (0)
    if (e->attr & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) {
        for (size_t i = 0; i < n; i++) PUT(s[i]);
    } else if (e->attr & ATTR_NORMAL) {
        if (t->kind != KIND_BPE) { /* U+2581 -> space */
            for (size_t i = 0; i < n; i++) {
                if (i + 2 < n && memcmp(s + i, "\xe2\x96\x81", 3) == 0) {
                    PUT(' ');
                    i += 2;
                } else {
                    PUT(s[i]);
                }
            }
        } else { /* byte-level: each code point stands for one byte */
            for (size_t i = 0; i < n;) {
                size_t adv;
                uint32_t cp = unicode_utf8_decode(s + i, n - i, &adv);
                int b = unicode_cp_to_byte(cp);
                if (b >= 0) {
                    PUT(b);
                } else {
                    /* llama.cpp writes a "[UNK_BYTE_0x..<text>]" marker here,
                     * quadratic in the token length; keep the code point */
                    char u[4];
                    size_t ul = unicode_utf8_encode(cp, u);
                    for (size_t k = 0; k < ul; k++) PUT(u[k]);
                }
                i += adv;
            }
        }
    } else if ((e->attr & ATTR_BYTE) && byte_token_value(s, n) >= 0) {
        PUT(byte_token_value(s, n));
    }
#undef PUT
    *off = o;
}

static enum ember_status build_tables(struct tokenizer *t,
                                      const struct tokenizer_spec *sp,
                                      struct ember_err *err) {
    /* byte tokens must be well-formed: their piece is the byte they name */
    if (t->kind == KIND_SPM) {
        for (int32_t i = 0; i < t->n_vocab; i++)
            if ((t->tok[i].attr & ATTR_BYTE) &&
                byte_token_value(tok_text(t, i), t->tok[i].text_len) < 0)
                return EMBER_CORRUPT(err, "token %d has type byte but its "
                                     "text is not <0xHH>", i);
    }

    /* special tokens, longest text first, ties by id (llama.cpp's sort is
     * not stable; this order is at least deterministic) */
    uint64_t *keys = malloc((size_t)t->n_vocab * sizeof *keys);
    if (!keys) return oom(err);
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->tok[i].attr & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN))
            keys[t->n_special++] =
                (uint64_t)(UINT32_MAX - t->tok[i].text_len) << 32 | (uint32_t)i;
    qsort(keys, t->n_special, sizeof *keys, cmp_u64);
    t->special = malloc((t->n_special ? t->n_special : 1) * sizeof *t->special);
    if (!t->special) { free(keys); return oom(err); }
    for (size_t i = 0; i < t->n_special; i++)
        t->special[i] = (int32_t)(keys[i] & 0xFFFFFFFFu);
    free(keys);

    size_t total = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        size_t before = total;
        make_piece(t, i, NULL, &total);
        if (total < before) return oom(err);
    }
    t->pieces = malloc(total ? total : 1);
    t->len_bits = calloc(t->max_token_len / 8 + 1, 1);
    if (!t->pieces || !t->len_bits) return oom(err);
    for (int32_t i = 0; i < t->n_vocab; i++)
        t->len_bits[t->tok[i].text_len / 8] |= (uint8_t)(1u << (t->tok[i].text_len % 8));
    size_t off = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        t->tok[i].piece_off = off;
        make_piece(t, i, t->pieces, &off);
        size_t len = off - t->tok[i].piece_off;
        t->tok[i].piece_len = (uint32_t)len;
        if (len > t->max_piece_len) t->max_piece_len = len;
    }

    /* Per-model strip rules llama.cpp applies by name. */
    struct tok_bytes name = sp->name, arch = sp->arch;
    char lname[256];
    size_t ln = name.len < sizeof lname - 1 ? (size_t)name.len : sizeof lname - 1;
    for (size_t i = 0; i < ln; i++) {
        char c = name.p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        lname[i] = c;
    }
    lname[ln] = '\0';
    struct tok_bytes pre = sp->pre;
    bool jina = pre.p && (memmem(pre.p, pre.len, "jina-v2-de", 10) ||
                          memmem(pre.p, pre.len, "jina-v2-es", 10) ||
                          memmem(pre.p, pre.len, "jina-v2-code", 12));
    bool nomic = arch.p && memmem(arch.p, arch.len, "nomic-bert-moe", 14);
    if (jina || nomic) {
        int32_t id = token_lookup(t, "<mask>", 6);
        if (id >= 0) t->tok[id].attr |= ATTR_LSTRIP;
    } else if (memmem(lname, ln, "phi-3", 5) || memmem(lname, ln, "phi3", 4)) {
        for (size_t i = 0; i < t->n_special; i++)
            t->tok[t->special[i]].attr |= ATTR_RSTRIP;
        int32_t id = token_lookup(t, "</s>", 4);
        if (id >= 0) t->tok[id].attr |= ATTR_RSTRIP;
        static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
        for (size_t i = 0; i < 3; i++) {
            id = token_lookup(t, keep[i], strlen(keep[i]));
            if (id >= 0) t->tok[id].attr &= (uint16_t)~ATTR_RSTRIP;
        }
    }
    return EMBER_OK;
}

static bool bytes_eq(struct tok_bytes b, const char *c) {
    return b.p && strlen(c) == b.len && memcmp(b.p, c, b.len) == 0;
}

/* ------------------------------------------------------------------------
 * Vocabulary against its label: a gpt2-style vocabulary labelled llama, or
 * a llama one labelled bert, loads and then tokenizes into nonsense, so the
 * texts must look like the kind the label names.
 * ---------------------------------------------------------------------- */

/* The first byte of plain text (tab, newline, CR, printable ASCII) with no
 * byte-level token (GPT-2's byte-to-code-point map), or -1. A vocabulary
 * that cannot spell these cannot tokenize ordinary prompts, so it is refused
 * at load. Real vocabularies do lack some other bytes (0xC0, 0xF5-0xFF,
 * SmolLM2 a few control bytes): those fail when a text contains them
 * (tokenizer_encode), as llama.cpp throws. */
static int bpe_missing_byte(const struct tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        char u[4];
        if (b != '\t' && b != '\n' && b != '\r' && (b < 0x20 || b > 0x7E)) continue;
        size_t n = unicode_utf8_encode(unicode_byte_to_cp((uint8_t)b), u);
        if (token_lookup(t, u, n) < 0) return b;
    }
    return -1;
}

/* SentencePiece marks word starts with U+2581 and, with byte fallback,
 * has <0xHH> tokens; a vocabulary with neither is not SentencePiece's.
 * (Without byte tokens, bytes it cannot cover become unk, as before.) */
static bool spm_looks_right(const struct tokenizer *t) {
    for (int32_t i = 0; i < t->n_vocab; i++) {
        const char *s = tok_text(t, i);
        uint32_t n = t->tok[i].text_len;
        if (byte_token_value(s, n) >= 0 || memmem(s, n, "\xe2\x96\x81", 3)) return true;
    }
    return false;
}

/* EMBER_ECORRUPT when the vocabulary does not fit the kind its label names;
 * O(n_vocab) lookups. */
static enum ember_status check_label(const struct tokenizer *t, const struct tokenizer_spec *sp,
                                     struct ember_err *err) {
    if (t->kind == KIND_BPE) {
        int b = bpe_missing_byte(t);
        if (b >= 0)
            return EMBER_CORRUPT(err, "the gpt2 (byte-level BPE) vocabulary has no token for "
                                 "byte 0x%02X, so text cannot be encoded", b);
    } else if (sp->kind_from_format) {
        return EMBER_OK;
    } else if (t->kind == KIND_SPM && !spm_looks_right(t)) {
        return EMBER_CORRUPT(err, "the vocabulary is labelled llama (SentencePiece) but has "
                             "no <0xHH> byte token and no token with U+2581");
    } else if (t->kind == KIND_WPM &&
               (token_lookup(t, "[CLS]", 5) < 0 || token_lookup(t, "[SEP]", 5) < 0)) {
        return EMBER_CORRUPT(err, "the vocabulary is labelled bert (WordPiece) but has no "
                             "[CLS] or no [SEP] token");
    }
    return EMBER_OK;
}

enum ember_status tokenizer_new(const struct tokenizer_spec *sp,
                                struct tokenizer **out,
                                struct ember_err *err) {
    *out = NULL;
    struct tokenizer *t = calloc(1, sizeof *t);
    if (!t) return oom(err);
    t->eot = t->eom = t->sep = t->pad = -1;
    t->fim_pre = t->fim_suf = t->fim_mid = -1;
    t->fim_pad = t->fim_rep = t->fim_sep = -1;
    enum ember_status st;

    if (bytes_eq(sp->model, "llama")) {
        t->kind = KIND_SPM;
        t->bos = 1; t->eos = 2; t->unk = 0;
        t->add_space_prefix = true;
        t->add_bos = true;
    } else if (bytes_eq(sp->model, "bert")) {
        t->kind = KIND_WPM;
        t->bos = 101; t->eos = -1; t->unk = 100; t->sep = 102; t->pad = 0;
        t->add_bos = true;
        t->clean_spaces = true;
        t->wpm_lowercase = sp->flags[TOKF_LOWERCASE] != 0;
        t->wpm_strip_accents = sp->flags[TOKF_STRIP_ACCENTS] >= 0
                                   ? sp->flags[TOKF_STRIP_ACCENTS] != 0
                                   : t->wpm_lowercase;
    } else if (bytes_eq(sp->model, "gpt2")) {
        t->kind = KIND_BPE;
        t->bos = 11; t->eos = 11; t->unk = -1;
        t->clean_spaces = true;
        const struct pre_info *pi = &pre_table[0];
        if (sp->pre.p) {
            pi = NULL;
            for (size_t i = 0; i < sizeof pre_table / sizeof pre_table[0]; i++)
                if (bytes_eq(sp->pre, pre_table[i].name)) pi = &pre_table[i];
            if (!pi) {
                st = ember_fail(err, EMBER_EUNSUPPORTED,
                                "pre-tokenizer '%.*s' is not supported",
                                (int)(sp->pre.len > 64 ? 64 : sp->pre.len),
                                sp->pre.p);
                goto fail;
            }
        }
        t->pre = pi->pre;
        t->ignore_merges = pi->ignore_merges;
        t->add_bos = pi->add_bos;
        if (pi->keep_spaces) t->clean_spaces = false;
        if (pi->no_bos) t->bos = -1;
    } else {
        st = ember_fail(err, EMBER_EUNSUPPORTED,
                        "tokenizer model '%.*s' is not supported",
                        (int)(sp->model.len > 64 ? 64 : sp->model.len),
                        sp->model.p ? sp->model.p : "");
        goto fail;
    }
    if (sp->flags[TOKF_ADD_SPACE_PREFIX] >= 0)
        t->add_space_prefix = sp->flags[TOKF_ADD_SPACE_PREFIX];
    if (sp->flags[TOKF_IGNORE_MERGES] >= 0)
        t->ignore_merges = sp->flags[TOKF_IGNORE_MERGES];
    if ((st = load_tokens(t, sp, err)) != EMBER_OK) goto fail;
    if ((st = load_scores_types(t, sp, err)) != EMBER_OK) goto fail;
    if ((st = check_label(t, sp, err)) != EMBER_OK) goto fail;
    if (t->kind == KIND_BPE && !sp->merges) {
        st = EMBER_CORRUPT(err, "the vocabulary has no merges (needed by a "
                           "gpt2 tokenizer)");
        goto fail;
    }
    if (t->kind != KIND_WPM && sp->merges &&
        (st = load_merges(t, sp, err)) != EMBER_OK)
        goto fail;
    if ((st = load_specials(t, sp, err)) != EMBER_OK) goto fail;
    if ((st = build_tables(t, sp, err)) != EMBER_OK) goto fail;
    *out = t;
    return EMBER_OK;
fail:
    tokenizer_free(t);
    return st;
}

void tokenizer_spec_init(struct tokenizer_spec *sp) {
    memset(sp, 0, sizeof *sp);
    for (int k = 0; k < TOK_N_SPECIAL; k++) sp->special[k] = -1;
    for (int k = 0; k < TOKF_N; k++) sp->flags[k] = -1;
}

int32_t tokenizer_n_vocab(const struct tokenizer *t) { return t->n_vocab; }
int32_t tokenizer_bos(const struct tokenizer *t) { return t->bos; }
int32_t tokenizer_eos(const struct tokenizer *t) { return t->eos; }
bool tokenizer_add_bos(const struct tokenizer *t) {
    return t->kind == KIND_WPM || t->add_bos;
}

bool tokenizer_is_eog(const struct tokenizer *t, int32_t id) {
    return id >= 0 && t->n_eog &&
           bsearch(&id, t->eog, t->n_eog, sizeof id, cmp_i32) != NULL;
}

bool tokenizer_is_control(const struct tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab &&
           (t->tok[id].attr & (ATTR_CONTROL | ATTR_UNKNOWN));
}

/* ------------------------------------------------------------------------
 * Encoding state: the output vector and reusable scratch buffers. Any
 * allocation failure sets `failed`; callers check it once per fragment.
 * ---------------------------------------------------------------------- */

struct ids_vec {
    int32_t *v;
    size_t n, cap;
    bool failed;
    int missing; /* BPE: 1 + the first input byte no token covers, or 0 */
};

static void push_id(struct ids_vec *o, int32_t id) {
    if (o->failed) return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        int32_t *p = realloc(o->v, cap * sizeof *p);
        if (!p) { o->failed = true; return; }
        o->v = p;
        o->cap = cap;
    }
    o->v[o->n++] = id;
}

/* Grow *buf to hold n elements of size sz. */
static bool reserve(void *buf, size_t *cap, size_t n, size_t sz) {
    void **b = buf;
    if (n <= *cap) return true;
    if (n > SIZE_MAX / sz / 2) return false;
    size_t c = *cap ? *cap : 16;
    while (c < n) c *= 2;
    void *p = realloc(*b, c * sz);
    if (!p) return false;
    *b = p;
    *cap = c;
    return true;
}

/* Indexes are 64-bit: a word of 2^30 invalid bytes has 3 * 2^30 symbols. */
struct symbol {
    int64_t prev, next;
    size_t off, n; /* bytes of the text buffer */
};

/* A bigram waiting to be merged. key orders the queue, smallest first:
 * SPM puts the best score first, BPE the lowest rank, and both break ties
 * by the leftmost position (llama.cpp's comparators). */
struct bigram {
    uint64_t key;
    int64_t left, right;
    uint32_t ln, rn; /* sizes of the halves when queued */
};

static uint64_t spm_key(float score, int64_t left) {
    uint32_t b;
    if (score == 0.0f || score != score) score = 0.0f; /* -0 and NaN as 0 */
    memcpy(&b, &score, 4);
    b = (b & 0x80000000u) ? ~b : (b | 0x80000000u); /* ascending as float */
    return (uint64_t)(~b) << 32 | (uint32_t)left;  /* higher score first */
}

static uint64_t bpe_key(int32_t rank, int64_t left) {
    return (uint64_t)(uint32_t)rank << 32 | (uint32_t)left;
}

struct scratch {
    char *buf; size_t buf_cap;
    struct symbol *sym; size_t sym_cap;
    struct bigram *heap; size_t heap_cap, heap_n;
    uint32_t *cps; size_t cps_cap;
    uint16_t *fl; size_t fl_cap;
    uint32_t *lens; size_t lens_cap;
    uint32_t *lens2; size_t lens2_cap;
};

static void scratch_free(struct scratch *s) {
    free(s->buf); free(s->sym); free(s->heap); free(s->cps); free(s->fl);
    free(s->lens); free(s->lens2);
}

/* Binary min-heap on bigram.key. */
static bool heap_push(struct scratch *s, const struct bigram *b) {
    if (!reserve(&s->heap, &s->heap_cap, s->heap_n + 1, sizeof *s->heap))
        return false;
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (b->key >= s->heap[p].key) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = *b;
    return true;
}

static struct bigram heap_pop(struct scratch *s) {
    struct bigram top = s->heap[0], last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && s->heap[c + 1].key < s->heap[c].key) c++;
        if (s->heap[c].key >= last.key) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------------
 * Special-token partition: cut the text at every occurrence of a special
 * token's text, longest tokens first (llama.cpp's tokenizer_st_partition).
 * ---------------------------------------------------------------------- */

struct frag {
    int32_t id;   /* the token, or -1 for raw text */
    size_t off, len;
};

struct frags {
    struct frag *v;
    size_t n, cap;
};

static bool frag_add(struct frags *fr, int32_t id, size_t off, size_t len) {
    if (!reserve(&fr->v, &fr->cap, fr->n + 1, sizeof *fr->v)) return false;
    fr->v[fr->n++] = (struct frag){id, off, len};
    return true;
}

static bool is_c_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Split one raw fragment at the occurrences of special token id. */
static bool cut_fragment(const struct tokenizer *t, const char *text,
                         const struct frag *src, int32_t id,
                         struct frags *out) {
    const char *tt = tok_text(t, id);
    size_t tl = t->tok[id].text_len;
    uint16_t attr = t->tok[id].attr;
    size_t off = src->off, len = src->len;
    for (;;) {
        const char *m = len >= tl ? memmem(text + off, len, tt, tl) : NULL;
        if (!m) return len == 0 || frag_add(out, -1, off, len);
        size_t at = (size_t)(m - text);
        size_t left = at - off;
        if (attr & ATTR_LSTRIP)
            while (left > 0 && is_c_space(text[off + left - 1])) left--;
        if (left > 0 && !frag_add(out, -1, off, left)) return false;
        if (!frag_add(out, id, 0, 0)) return false;
        size_t roff = at + tl, rlen = off + len - roff;
        if (attr & ATTR_RSTRIP)
            while (rlen > 0 && is_c_space(text[roff])) { roff++; rlen--; }
        off = roff;
        len = rlen;
    }
}

static enum ember_status partition(const struct tokenizer *t, const char *text,
                                   size_t len, bool parse_special,
                                   struct frags *fr) {
    struct frags tmp = {0};
    fr->n = 0;
    if (len == 0) return EMBER_OK;
    if (!frag_add(fr, -1, 0, len)) return EMBER_ENOMEM;

    /* Byte pairs present in the text: a cheap test that skips most special
     * tokens without searching. */
    uint64_t *pairs = calloc(65536 / 64, sizeof *pairs);
    uint64_t seen[4] = {0};
    if (!pairs) return EMBER_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        unsigned a = (unsigned char)text[i];
        seen[a >> 6] |= 1ULL << (a & 63);
        if (i + 1 < len) {
            unsigned p = a << 8 | (unsigned char)text[i + 1];
            pairs[p >> 6] |= 1ULL << (p & 63);
        }
    }
    enum ember_status st = EMBER_OK;
    for (size_t k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        const struct tok_entry *e = &t->tok[id];
        if (!parse_special && (e->attr & (ATTR_CONTROL | ATTR_UNKNOWN)))
            continue;
        if (e->text_len > len) continue;
        const unsigned char *s = (const unsigned char *)tok_text(t, id);
        if (!(seen[s[0] >> 6] >> (s[0] & 63) & 1)) continue;
        if (e->text_len >= 2) {
            unsigned p = (unsigned)s[0] << 8 | s[1];
            if (!(pairs[p >> 6] >> (p & 63) & 1)) continue;
        }
        tmp.n = 0;
        for (size_t i = 0; i < fr->n; i++) {
            bool ok = fr->v[i].id >= 0
                          ? frag_add(&tmp, fr->v[i].id, 0, 0)
                          : cut_fragment(t, text, &fr->v[i], id, &tmp);
            if (!ok) { st = EMBER_ENOMEM; goto done; }
        }
        struct frags sw = *fr; *fr = tmp; tmp = sw;
    }
done:
    free(pairs);
    free(tmp.v);
    return st;
}

/* ------------------------------------------------------------------------
 * SentencePiece (llama): merge the adjacent pair whose joined text is the
 * best-scoring token until none is left; what is not a token becomes bytes.
 * ---------------------------------------------------------------------- */

static bool spm_try_add(const struct tokenizer *t, struct scratch *s,
                        int64_t l, int64_t r) {
    if (l < 0 || r < 0) return true;
    const struct symbol *L = &s->sym[l], *R = &s->sym[r];
    int32_t id = token_lookup(t, s->buf + L->off, L->n + R->n);
    if (id < 0) return true;
    struct bigram b = {spm_key(t->tok[id].score, l), l, r, (uint32_t)L->n,
                       (uint32_t)R->n};
    return heap_push(s, &b);
}

/* s->buf[0..n) as a list of symbols, one per UTF-8 character (a cut-off
 * sequence at the end is one symbol), linked in order: the start of both
 * SentencePiece's and BPE's merging. Returns the count, -1 on out of
 * memory. */
static int64_t split_symbols(struct scratch *s, size_t n) {
    if (!reserve(&s->sym, &s->sym_cap, n, sizeof *s->sym)) return -1;
    int64_t ns = 0;
    for (size_t off = 0; off < n; ns++) {
        size_t cl = unicode_utf8_len((unsigned char)s->buf[off]);
        if (cl > n - off) cl = n - off;
        s->sym[ns] = (struct symbol){ns - 1, -1, off, cl};
        off += cl;
        if (off < n) s->sym[ns].next = ns + 1;
    }
    return ns;
}

/* Join the pair b's right symbol into its left one and unlink it. */
static void merge_symbols(struct scratch *s, const struct bigram *b) {
    struct symbol *L = &s->sym[b->left], *R = &s->sym[b->right];
    L->n += R->n;
    R->n = 0;
    L->next = R->next;
    if (R->next >= 0) s->sym[R->next].prev = b->left;
}

/* A token standing for byte b: "<0xHH>", else the byte itself, else unk. */
static int32_t spm_byte_token(const struct tokenizer *t, unsigned char b) {
    static const char hx[] = "0123456789ABCDEF";
    char name[6] = {'<', '0', 'x', hx[b >> 4], hx[b & 15], '>'};
    int32_t id = token_lookup(t, name, 6);
    if (id < 0) id = token_lookup(t, (const char *)&b, 1);
    return id >= 0 ? id : t->unk;
}

static bool bpe_try_add(const struct tokenizer *t, struct scratch *s,
                        int64_t l, int64_t r);

static bool spm_encode(const struct tokenizer *t, struct scratch *s,
                       const char *text, size_t len, bool prefix,
                       struct ids_vec *out) {
    /* escape: optional leading space, then every ' ' becomes U+2581 */
    size_t n = 0;
    if (!reserve(&s->buf, &s->buf_cap, 3 * (len + 1), 1)) return false;
    if (prefix) { memcpy(s->buf, "\xe2\x96\x81", 3); n = 3; }
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') { memcpy(s->buf + n, "\xe2\x96\x81", 3); n += 3; }
        else s->buf[n++] = text[i];
    }
    if (n == 0) return true;
    int64_t ns = split_symbols(s, n);
    if (ns < 0) return false;
    /* a vocabulary with merges (Hugging Face's BPE with byte fallback)
     * merges by rank, as gpt2 does, instead of by score */
    bool (*try_add)(const struct tokenizer *, struct scratch *, int64_t,
                    int64_t) = t->merge_text ? bpe_try_add : spm_try_add;
    s->heap_n = 0;
    for (int64_t i = 1; i < ns; i++)
        if (!try_add(t, s, i - 1, i)) return false;
    while (s->heap_n) {
        struct bigram b = heap_pop(s);
        struct symbol *L = &s->sym[b.left], *R = &s->sym[b.right];
        if (L->n == 0 || R->n == 0 || L->n != b.ln || R->n != b.rn) continue;
        merge_symbols(s, &b);
        if (!try_add(t, s, L->prev, b.left) ||
            !try_add(t, s, b.left, L->next))
            return false;
    }
    for (int64_t i = 0; i != -1; i = s->sym[i].next) {
        const struct symbol *y = &s->sym[i];
        int32_t id = token_lookup(t, s->buf + y->off, y->n);
        if (id >= 0) {
            push_id(out, id);
        } else {
            for (size_t k = 0; k < y->n; k++) {
                id = spm_byte_token(t, (unsigned char)s->buf[y->off + k]);
                if (id >= 0) push_id(out, id);
            }
        }
    }
    return !out->failed;
}

/* ------------------------------------------------------------------------
 * Byte-level BPE (gpt2): pre-tokenize into words, map each byte to its
 * stand-in code point, then merge the lowest-ranked adjacent pair first.
 * ---------------------------------------------------------------------- */

static bool bpe_try_add(const struct tokenizer *t, struct scratch *s,
                        int64_t l, int64_t r) {
    if (l < 0 || r < 0) return true;
    const struct symbol *L = &s->sym[l], *R = &s->sym[r];
    int32_t rank = merge_lookup(t, s->buf + L->off, L->n, s->buf + R->off,
                                R->n);
    if (rank < 0) return true;
    struct bigram b = {bpe_key(rank, l), l, r, (uint32_t)L->n, (uint32_t)R->n};
    return heap_push(s, &b);
}

/* Merge one word, already in byte-level form in s->buf[0..n). */
static bool bpe_word(const struct tokenizer *t, struct scratch *s, size_t n,
                     struct ids_vec *out) {
    if (t->ignore_merges) {
        int32_t id = token_lookup(t, s->buf, n);
        if (id >= 0) { push_id(out, id); return !out->failed; }
    }
    int64_t ns = split_symbols(s, n);
    if (ns < 0) return false;
    s->heap_n = 0;
    for (int64_t i = 1; i < ns; i++)
        if (!bpe_try_add(t, s, i - 1, i)) return false;
    while (s->heap_n) {
        struct bigram b = heap_pop(s);
        struct symbol *L = &s->sym[b.left], *R = &s->sym[b.right];
        if (L->n == 0 || R->n == 0 || L->n != b.ln || R->n != b.rn) continue;
        merge_symbols(s, &b);
        if (!bpe_try_add(t, s, L->prev, b.left) ||
            !bpe_try_add(t, s, b.left, L->next))
            return false;
    }
    for (int64_t i = 0; i < ns; i++) {
        const struct symbol *y = &s->sym[i];
        if (y->n == 0) continue;
        int32_t id = token_lookup(t, s->buf + y->off, y->n);
        if (id >= 0) {
            push_id(out, id);
            continue;
        }
        /* one token per byte-level character; llama.cpp throws when one
         * is missing, and dropping it would lose text silently */
        for (size_t k = 0; k < y->n;) {
            size_t adv;
            uint32_t cp = unicode_utf8_decode(s->buf + y->off + k, y->n - k, &adv);
            id = token_lookup(t, s->buf + y->off + k, adv);
            if (id >= 0) push_id(out, id);
            else if (!out->missing) out->missing = 1 + unicode_cp_to_byte(cp);
            k += adv;
        }
    }
    return !out->failed;
}

/* Decode text into s->cps / s->fl; returns the number of code points. */
static size_t decode_cps(struct scratch *s, const char *text, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        uint32_t cp = unicode_utf8_decode(text + i, len - i, &adv);
        s->cps[n] = cp;
        s->fl[n] = (uint16_t)unicode_flags(cp);
        n++;
        i += adv;
    }
    return n;
}

static bool bpe_encode(const struct tokenizer *t, struct scratch *s,
                       const char *text, size_t len, struct ids_vec *out) {
    if (!reserve(&s->cps, &s->cps_cap, len, sizeof *s->cps) ||
        !reserve(&s->fl, &s->fl_cap, len, sizeof *s->fl) ||
        !reserve(&s->lens, &s->lens_cap, len, sizeof *s->lens) ||
        !reserve(&s->lens2, &s->lens2_cap, len, sizeof *s->lens2))
        return false;
    size_t ncp = decode_cps(s, text, len);
    size_t nw = unicode_split(t->pre, s->cps, s->fl, ncp, s->lens, s->lens2);
    size_t beg = 0;
    for (size_t w = 0; w < nw; w++) {
        size_t wl = s->lens[w];
        /* each code point -> up to 4 bytes -> up to 2 bytes each */
        if (!reserve(&s->buf, &s->buf_cap, 8 * wl, 1)) return false;
        size_t n = 0;
        for (size_t i = beg; i < beg + wl; i++) {
            char u[4];
            size_t ul = unicode_utf8_encode(s->cps[i], u);
            for (size_t k = 0; k < ul; k++)
                n += unicode_utf8_encode(unicode_byte_to_cp((uint8_t)u[k]),
                                         s->buf + n);
        }
        if (!bpe_word(t, s, n, out)) return false;
        beg += wl;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * WordPiece (bert): NFD-strip, lowercase, split at spaces and punctuation,
 * then greedy longest match of "\u2581word" against the vocabulary.
 * ---------------------------------------------------------------------- */

static bool is_chinese_char(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Greedy longest-match of one word (s->buf[0..n), starting with U+2581). */
static void wpm_word(const struct tokenizer *t, struct scratch *s, size_t n,
                     struct ids_vec *out) {
    size_t start = out->n;
    for (size_t i = 0; i < n; i++) {
        size_t j = i + t->max_token_len + 1;
        if (j > n) j = n;
        bool found = false;
        for (; j > i; j--) {
            size_t l = j - i; /* skip lengths no token has */
            if (l > t->max_token_len || !(t->len_bits[l / 8] >> (l % 8) & 1))
                continue;
            int32_t id = token_lookup(t, s->buf + i, l);
            if (id >= 0) {
                push_id(out, id);
                found = true;
                i = j - 1;
                break;
            }
        }
        if (!found) { out->n = start; break; }
    }
    if (out->n == start && t->unk >= 0) push_id(out, t->unk);
}

static bool wpm_encode(const struct tokenizer *t, struct scratch *s,
                       const char *text, size_t len, struct ids_vec *out) {
    if (!reserve(&s->cps, &s->cps_cap, len, sizeof *s->cps) ||
        !reserve(&s->fl, &s->fl_cap, len, sizeof *s->fl) ||
        !reserve(&s->buf, &s->buf_cap, 4 * len + 3, 1))
        return false;
    size_t ncp = decode_cps(s, text, len);
    size_t n = 0; /* current word in s->buf, after the U+2581 */
    memcpy(s->buf, "\xe2\x96\x81", 3);
    for (size_t i = 0; i <= ncp; i++) {
        uint32_t cp = 0;
        unsigned f = UCP_SPACE;
        if (i < ncp) {
            cp = s->cps[i];
            if (t->wpm_strip_accents) cp = unicode_nfd_first(cp);
            f = unicode_flags(cp);
        }
        bool single = false;
        if (!(f & UCP_SPACE)) {
            if (cp == 0 || cp == 0xFFFD || (f & UCP_CONTROL)) continue;
            if (t->wpm_strip_accents && (f & UCP_MARK)) continue;
            uint32_t low = t->wpm_lowercase ? unicode_tolower(cp) : cp;
            single = (f & UCP_PUNCT) || (cp < 0x7F && (f & UCP_SYMBOL)) ||
                     is_chinese_char(cp);
            cp = low;
            if (!single) {
                n += unicode_utf8_encode(cp, s->buf + 3 + n);
                continue;
            }
        }
        if (n) wpm_word(t, s, 3 + n, out);
        n = 0;
        if (single) {
            n = unicode_utf8_encode(cp, s->buf + 3);
            wpm_word(t, s, 3 + n, out);
            n = 0;
        }
    }
    return !out->failed;
}

/* ------------------------------------------------------------------------
 * Encode
 * ---------------------------------------------------------------------- */

enum ember_status tokenizer_encode(const struct tokenizer *t, const char *text,
                                   size_t len, bool add_special,
                                   bool parse_special, int32_t **ids,
                                   size_t *n, struct ember_err *err) {
    *ids = NULL;
    *n = 0;
    if (len >= (size_t)1 << 30)
        return ember_fail(err, EMBER_EINVAL, "text to tokenize is too long "
                          "(%zu bytes)", len);
    struct ids_vec out = {0};
    struct frags fr = {0};
    struct scratch s = {0};
    enum ember_status st = partition(t, text, len, parse_special, &fr);
    if (st != EMBER_OK) goto done;

    if (add_special && (t->kind == KIND_WPM || t->add_bos) && t->bos >= 0)
        push_id(&out, t->bos);
    bool prev_special = true; /* SPM: a space prefix at the start */
    for (size_t i = 0; i < fr.n && !out.failed; i++) {
        const struct frag *g = &fr.v[i];
        if (g->id >= 0) {
            push_id(&out, g->id);
            prev_special = true;
            continue;
        }
        bool ok;
        const char *p = text + g->off;
        switch (t->kind) {
        case KIND_SPM:
            ok = spm_encode(t, &s, p, g->len,
                            t->add_space_prefix && prev_special, &out);
            break;
        case KIND_BPE: ok = bpe_encode(t, &s, p, g->len, &out); break;
        default: ok = wpm_encode(t, &s, p, g->len, &out); break;
        }
        prev_special = false;
        if (!ok) out.failed = true;
    }
    if (add_special) {
        if (t->kind == KIND_WPM) {
            if (t->sep >= 0) push_id(&out, t->sep);
        } else if (t->add_eos && t->eos >= 0) {
            push_id(&out, t->eos);
        }
    }
    if (out.failed) st = EMBER_ENOMEM;
    else if (out.missing) st = EMBER_EINVAL;
done:
    free(fr.v);
    scratch_free(&s);
    if (st != EMBER_OK) {
        free(out.v);
        if (st == EMBER_EINVAL && out.missing)
            return ember_fail(err, st, "the vocabulary has no token for byte 0x%02X of the text",
                              (unsigned)(out.missing - 1));
        return ember_fail(err, st, "out of memory tokenizing %zu bytes", len);
    }
    *ids = out.v;
    *n = out.n;
    return EMBER_OK;
}

/* ------------------------------------------------------------------------
 * Pieces, decode, stream
 * ---------------------------------------------------------------------- */

const char *tokenizer_piece(const struct tokenizer *t, int32_t id,
                            size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        *len = 0;
        return NULL;
    }
    *len = t->tok[id].piece_len;
    return t->pieces + t->tok[id].piece_off;
}

size_t tokenizer_max_piece(const struct tokenizer *t) {
    return t->max_piece_len;
}

/* llama.cpp's clean-up of detokenized BPE/WordPiece text: drop the space in
 * " ?", " !", " .", " ,", around a lone "'", and before 's 'm 're 've. */
static size_t clean_spaces(char *text, size_t total) {
    size_t t1 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < t1; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ','))
            total--;
        text[total++] = x;
    }
    size_t t2 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < t2; i++) {
        char x = text[i];
        if (x == '\'' && i + 1 < t2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
            total--;
            text[++i] = '\0';
        }
        text[total++] = x;
    }
    size_t t3 = total;
    total = total ? 1 : 0;
    for (size_t i = 1; i < t3; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && x == '\'' && i + 1 < t3) {
            char x1 = text[i + 1];
            if (x1 == 's' || x1 == 'm') {
                total--;
            } else if (x1 != 't' && x1 != 'd' && i + 2 < t3) {
                char x2 = text[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e'))
                    total--;
            }
        }
        text[total++] = x;
    }
    return total;
}

enum ember_status tokenizer_decode(const struct tokenizer *t,
                                   const int32_t *ids, size_t n,
                                   bool render_special, char **out,
                                   size_t *len, struct ember_err *err) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pl;
        if (tokenizer_piece(t, ids[i], &pl) &&
            (render_special || !tokenizer_is_control(t, ids[i])))
            total += pl;
    }
    char *buf = malloc(total + 1);
    if (!buf)
        return ember_fail(err, EMBER_ENOMEM, "out of memory detokenizing");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t pl;
        const char *p = tokenizer_piece(t, ids[i], &pl);
        if (!p || (!render_special && tokenizer_is_control(t, ids[i])))
            continue;
        if (i == 0 && t->add_space_prefix && pl && p[0] == ' ') { p++; pl--; }
        memcpy(buf + o, p, pl);
        o += pl;
    }
    if (t->clean_spaces) o = clean_spaces(buf, o);
    buf[o] = '\0';
    *out = buf;
    *len = o;
    return EMBER_OK;
}

/* Bytes at the end of b[0..n) that start a UTF-8 sequence not yet complete
 * (0 when the text ends on a boundary or on bytes that can never complete). */
static size_t incomplete_tail(const unsigned char *b, size_t n) {
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned char c = b[n - k];
        if ((c & 0xC0) == 0x80) continue;  /* continuation: look further */
        if (c < 0xC2 || c > 0xF4) return 0; /* ASCII or never a lead */
        return unicode_utf8_len(c) > k ? k : 0;
    }
    return 0;
}

size_t tokenizer_stream_push(const struct tokenizer *t, struct tok_stream *s,
                             int32_t id, char *out, size_t cap) {
    size_t pl = 0;
    const unsigned char *p = NULL;
    if (!tokenizer_is_control(t, id))
        p = (const unsigned char *)tokenizer_piece(t, id, &pl);
    if (!p) {
        p = (const unsigned char *)"";
        pl = 0;
    }
    /* the text is pending ++ piece; hold back its incomplete tail */
    unsigned char tail[4];
    size_t total = s->n_pending + pl, nt = 0;
    for (size_t k = total > 4 ? total - 4 : 0; k < total; k++)
        tail[nt++] = k < s->n_pending ? s->pending[k] : p[k - s->n_pending];
    size_t hold = incomplete_tail(tail, nt);
    size_t ready = total - hold;
    if (ready > cap) return ready;
    size_t o = 0;
    for (size_t k = 0; k < ready; k++)
        out[o++] = (char)(k < s->n_pending ? s->pending[k]
                                           : p[k - s->n_pending]);
    for (size_t k = 0; k < hold; k++) s->pending[k] = tail[nt - hold + k];
    s->n_pending = (uint8_t)hold;
    return ready;
}

size_t tokenizer_stream_flush(struct tok_stream *s, char *out, size_t cap) {
    size_t n = s->n_pending;
    if (n > cap) return n;
    memcpy(out, s->pending, n);
    s->n_pending = 0;
    return n;
}
