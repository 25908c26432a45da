/*
 * test_tokenizer_hf.c — tokenizers from Hugging Face tokenizer.json
 * (src/text/tokenizer_hf.c) on the byte-level path: a tokenizer.json is
 * written here from llama.cpp's GPT-2 test vocabulary (vocab, merges in
 * both the "a b" and the ["a", "b"] form, <|endoftext|> as an added special
 * token, a ByteLevel pre-tokenizer, and once as a Split with GPT-2's regex
 * followed by ByteLevel without one) and must tokenize every llama.cpp test
 * case to the expected ids, exactly as the GGUF does. Then unsupported and
 * malformed files are refused with a message naming the field. (The
 * SentencePiece-style path is tested on stories260K by test_hf.)
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf.h"
#include "json_mini.h"
#include "tokenizer.h"

#define VOCAB "tests/data/vocab/ggml-vocab-gpt-2.gguf"
#define MODELS_DIR "models-cache/"

/* A growing string. */
struct sb {
    char *p;
    size_t n, cap;
};
static void sb_put(struct sb *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void sb_cat(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }
/* s[0..n) as a JSON string literal. */
static void sb_jstr(struct sb *b, const char *s, size_t n) {
    sb_cat(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_cat(b, esc);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_cat(b, "\"");
}

/* tokenizer.json for the vocabulary of f, with pre as its pre_tokenizer. */
static char *hf_json(const struct gguf_file *f, bool pair_merges, const char *pre) {
    struct sb b = {0};
    int64_t ki = gguf_find_key(f, "tokenizer.ggml.tokens"), ti = gguf_find_key(f, "tokenizer.ggml.token_type"),
            mi = gguf_find_key(f, "tokenizer.ggml.merges");
    uint64_t n = gguf_arr_len(f, ki);
    sb_cat(&b, "{\"version\": \"1.0\", \"added_tokens\": [");
    bool first = true;
    for (uint64_t i = 0; i < n; i++) {
        int64_t ty = gguf_arr_i64(f, ti, i);
        if (ty != 3 && ty != 4) continue;
        struct gguf_str s = gguf_arr_str(f, ki, i);
        char head[64];
        snprintf(head, sizeof head, "%s{\"id\": %llu, \"content\": ", first ? "" : ", ",
                 (unsigned long long)i);
        sb_cat(&b, head);
        sb_jstr(&b, s.p, s.len);
        sb_cat(&b, ty == 3 ? ", \"special\": true}" : ", \"special\": false}");
        first = false;
    }
    sb_cat(&b, "], \"normalizer\": null, \"pre_tokenizer\": ");
    sb_cat(&b, pre);
    sb_cat(&b, ", \"post_processor\": {\"type\": \"ByteLevel\"}, \"decoder\": {\"type\": \"ByteLevel\"}, "
               "\"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, \"byte_fallback\": false, "
               "\"vocab\": {");
    for (uint64_t i = 0; i < n; i++) {
        struct gguf_str s = gguf_arr_str(f, ki, i);
        if (i) sb_cat(&b, ", ");
        sb_jstr(&b, s.p, s.len);
        char id[32];
        snprintf(id, sizeof id, ": %llu", (unsigned long long)i);
        sb_cat(&b, id);
    }
    sb_cat(&b, "}, \"merges\": [");
    for (uint64_t i = 0; i < gguf_arr_len(f, mi); i++) {
        struct gguf_str s = gguf_arr_str(f, mi, i);
        if (i) sb_cat(&b, ", ");
        const char *sp = memchr(s.p, ' ', s.len);
        if (pair_merges && sp) {
            sb_cat(&b, "[");
            sb_jstr(&b, s.p, (size_t)(sp - s.p));
            sb_cat(&b, ", ");
            sb_jstr(&b, sp + 1, s.len - (size_t)(sp - s.p) - 1);
            sb_cat(&b, "]");
        } else {
            sb_jstr(&b, s.p, s.len);
        }
    }
    sb_cat(&b, "]}}");
    return b.p;
}

/* Every case of base's .inp/.out (texts separated by __ggml_vocab_test__
 * lines, one line of ids each) through t, as llama.cpp's test does it. */
static void check_cases(const char *label, const char *base, const struct tokenizer *t) {
    char path[512];
    snprintf(path, sizeof path, "%s.inp", base);
    char *inp = json_slurp(path);
    snprintf(path, sizeof path, "%s.out", base);
    char *out = json_slurp(path);
    if (!inp || !out) {
        CHECK(0, "%s: %s.inp/.out readable", label, base);
        free(inp);
        free(out);
        return;
    }
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t n_cases = 0, n_ok = 0, li = strlen(inp);
    char *line = out;
    for (size_t pos = 0; pos < li && line;) {
        const char *m = strstr(inp + pos, sep);
        size_t end = m ? (size_t)(m - inp) : li;
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        int32_t *ids = NULL;
        size_t n = 0, k = 0;
        struct ember_err err = {0};
        bool same = tokenizer_encode(t, inp + pos, end - pos, false, false, &ids, &n, &err) == EMBER_OK;
        for (char *p = line, *e; same; p = e, k++) {
            long v = strtol(p, &e, 10);
            if (e == p) break;
            same = k < n && ids[k] == v;
        }
        n_ok += same && k == n;
        n_cases++;
        free(ids);
        line = nl ? nl + 1 : NULL;
        pos = m ? end + strlen(sep) : li;
    }
    CHECK(n_cases > 20 && n_ok == n_cases, "%s: %zu/%zu llama.cpp cases", label, n_ok, n_cases);
    free(inp);
    free(out);
}

static struct tokenizer *load_json(const char *json, struct ember_err *err) {
    struct tokenizer *t = NULL;
    tokenizer_load_hf(json, strlen(json), NULL, &t, err);
    return t;
}

#define SPLIT_BL(re)                                                                           \
    "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \"" re \
    "\"}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", "                 \
    "\"add_prefix_space\": false, \"use_regex\": false}]}"

/* Real models in models-cache/ (scripts/get-models.sh) whose GGUF says
 * pre-tokenizer qwen2 or llama-bpe: their vocabulary as a tokenizer.json
 * with the family's regex, on llama.cpp's cases for that family. */
static void test_real_models(void) {
    static const struct { const char *pre, *cases, *pre_json; } fam[] = {
        {"qwen2", "tests/data/vocab/ggml-vocab-qwen2.gguf",
         SPLIT_BL("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| "
                  "?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+")},
        {"llama-bpe", "tests/data/vocab/ggml-vocab-llama-bpe.gguf",
         SPLIT_BL("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| "
                  "?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+")},
    };
    bool found[2] = {false, false};
    DIR *d = opendir(MODELS_DIR);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 5, ".gguf")) continue;
        char path[512];
        snprintf(path, sizeof path, MODELS_DIR "%s", e->d_name);
        struct gguf_file *f = NULL;
        struct ember_err err = {0};
        struct gguf_str pre;
        if (gguf_open(path, &f, &err) || !gguf_get_str(f, "tokenizer.ggml.pre", &pre)) {
            gguf_close(f);
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (found[k] || !gguf_str_eq(pre, fam[k].pre)) continue;
            found[k] = true;
            char *json = hf_json(f, true, fam[k].pre_json);
            struct tokenizer *t = load_json(json, &err);
            char label[600];
            snprintf(label, sizeof label, "%s via tokenizer.json (Split + ByteLevel)", path);
            CHECK(t != NULL, "%s loads %s", label, t ? "" : err.msg);
            if (t) check_cases(label, fam[k].cases, t);
            tokenizer_free(t);
            free(json);
        }
        gguf_close(f);
    }
    if (d) closedir(d);
    for (int k = 0; k < 2; k++)
        if (!found[k])
            SKIP("%s regex on a real vocabulary: no model with tokenizer.ggml.pre=%s in " MODELS_DIR
                 " (scripts/get-models.sh)", fam[k].pre, fam[k].pre);
}

/* json must be refused with want and a message holding substr. */
static void refused(enum ember_status want, const char *substr, const char *json, const char *what) {
    struct ember_err err = {0};
    struct tokenizer *t = NULL;
    enum ember_status st = tokenizer_load_hf(json, strlen(json), NULL, &t, &err);
    CHECK(st == want && !t && strstr(err.msg, substr) && !strncmp(err.msg, "tokenizer.json: ", 16),
          "%s: refused (%s)", what, err.msg);
    tokenizer_free(t);
}

#define SPM_NORM "{\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\\u2581\"}"
#define MODEL(extra) "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\"]" extra "}"

int main(void) {
    struct gguf_file *f = NULL;
    struct ember_err err = {0};
    struct tokenizer *g = NULL;
    CHECK(gguf_open(VOCAB, &f, &err) == EMBER_OK && tokenizer_load(f, &g, &err) == EMBER_OK,
          "GGUF vocabulary %s %s", VOCAB, err.msg);
    if (!g) return CHECK_DONE();
    static const struct { const char *label, *pre; bool pairs; } forms[] = {
        {"ByteLevel, \"a b\" merges",
         "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}", false},
        {"ByteLevel, [a, b] merges",
         "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}", true},
        {"Split(GPT-2 regex) + ByteLevel",
         "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": "
         "\"'s|'t|'re|'ve|'m|'ll|'d| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+|\\\\s+(?!\\\\S)|\\\\s+\"}, "
         "\"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": "
         "false, \"use_regex\": false}]}", false},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char *json = hf_json(f, forms[i].pairs, forms[i].pre);
        struct tokenizer *t = load_json(json, &err);
        CHECK(t != NULL, "%s: tokenizer.json (%zu bytes) loads %s", forms[i].label, strlen(json), t ? "" : err.msg);
        if (t) {
            CHECK(tokenizer_n_vocab(t) == tokenizer_n_vocab(g), "%s: %d tokens as in the GGUF", forms[i].label,
                  tokenizer_n_vocab(t));
            int32_t eot = -1;
            for (int32_t id = 0; id < tokenizer_n_vocab(t); id++) {
                size_t pl;
                const char *p = tokenizer_piece(t, id, &pl);
                if (pl == 13 && !memcmp(p, "<|endoftext|>", 13)) eot = id;
            }
            CHECK(eot >= 0 && tokenizer_is_control(t, eot) && tokenizer_is_eog(t, eot),
                  "%s: <|endoftext|> is a control, end-of-generation token", forms[i].label);
            check_cases(forms[i].label, VOCAB, t);
        }
        tokenizer_free(t);
        free(json);
    }
    /* padding up to the embedding's rows, as llama.cpp's converter does */
    struct tokenizer_hf_hints pad = {.bos = -1, .eos = -1, .add_bos = -1, .add_eos = -1, .n_vocab = 7};
    const char *small = "{" MODEL("") ", \"normalizer\": " SPM_NORM "}";
    struct tokenizer *t = NULL;
    CHECK(tokenizer_load_hf(small, strlen(small), &pad, &t, &err) == EMBER_OK && tokenizer_n_vocab(t) == 7 &&
              tokenizer_is_control(t, 6) == false,
          "a 3-token vocabulary padded to 7 ids %s", err.msg);
    size_t pl = 0;
    const char *p6 = t ? tokenizer_piece(t, 6, &pl) : NULL;
    CHECK(p6 && pl == 0, "a padding token is unused: its piece is empty (%zu bytes)", pl);
    tokenizer_free(t);

    refused(EMBER_EUNSUPPORTED, "Unigram", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "Unigram model");
    refused(EMBER_EUNSUPPORTED, "regex",
            "{" MODEL("") ", \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\w+\"}}}",
            "unknown pre-tokenizer regex");
    refused(EMBER_EUNSUPPORTED, "Lowercase", "{" MODEL("") ", \"normalizer\": {\"type\": \"Lowercase\"}}",
            "Lowercase normalizer");
    refused(EMBER_EUNSUPPORTED, "WhitespaceSplit",
            "{" MODEL("") ", \"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}}", "WhitespaceSplit");
    refused(EMBER_EUNSUPPORTED, "neither byte-level", "{" MODEL("") "}", "no normalizer, no pre-tokenizer");
    refused(EMBER_EUNSUPPORTED, "continuing_subword_prefix",
            "{" MODEL(", \"continuing_subword_prefix\": \"##\"") ", \"normalizer\": " SPM_NORM "}",
            "subword prefix");
    refused(EMBER_ECORRUPT, "JSON", "{\"model\": ", "truncated JSON");
    refused(EMBER_ECORRUPT, "'model' is missing", "{\"normalizer\": " SPM_NORM "}", "no model");
    refused(EMBER_ECORRUPT, "no valid id",
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}, \"normalizer\": " SPM_NORM "}",
            "negative id");
    refused(EMBER_ECORRUPT, "is given to",
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}, \"normalizer\": " SPM_NORM
            "}",
            "two tokens with one id");
    refused(EMBER_ECORRUPT, "in the vocab",
            "{" MODEL("") ", \"normalizer\": " SPM_NORM ", \"added_tokens\": [{\"id\": 1, \"content\": \"<s>\"}]}",
            "added token conflicting with the vocab");
    refused(EMBER_ECORRUPT, "same text",
            "{" MODEL("") ", \"normalizer\": " SPM_NORM ", \"added_tokens\": [{\"id\": 5, \"content\": \"a\"}]}",
            "added token duplicating a vocab text");
    refused(EMBER_ECORRUPT, "merges",
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [1]}, \"normalizer\": " SPM_NORM "}",
            "a merge that is a number");
    tokenizer_free(g);
    gguf_close(f);
    test_real_models();
    return CHECK_DONE();
}
