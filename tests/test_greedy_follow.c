/*
 * test_greedy_follow.c — teacher-forced comparison with llama.cpp's greedy
 * continuations (tests/data/models/reference.json), for every model file.
 *
 * ember follows llama.cpp's text token by token. At each step llama.cpp's
 * token must be ember's argmax, or — where the two implementations round
 * floats differently — a near-tie: within TIE logits of ember's argmax.
 * Anything else is a real disagreement and fails. The exact-text check
 * (tests/check_reference.py) says which files match outright; this test
 * bounds how far the others are from it and prints every near-tie.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_features.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"

#define DIR "tests/data/models/"
#define TIE 0.1f

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* Decode the JSON string starting at the quote *p points to (ASCII and
 * \uXXXX below 0x80 are all this file needs; others become '?'). */
static char *json_string(const char **p) {
    const char *s = *p + 1;
    char *out = malloc(strlen(s) + 1), *o = out;
    while (*s && *s != '"') {
        if (*s != '\\') { *o++ = *s++; continue; }
        s++;
        switch (*s) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned v = (unsigned)strtoul((char[5]){s[1], s[2], s[3], s[4], 0}, NULL, 16);
            *o++ = v < 0x80 ? (char)v : '?';
            s += 4;
            break;
        }
        default: *o++ = *s; break;
        }
        s++;
    }
    *o = 0;
    *p = s + 1;
    return out;
}

/* The value string of "key": after *p, advancing *p. */
static char *next_string(const char **p, const char *key) {
    const char *s = strstr(*p, key);
    if (!s) return NULL;
    s = strchr(s + strlen(key), '"');
    *p = s;
    return json_string(p);
}

static int argmax(const float *l, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[b]) b = i;
    return b;
}

/* Follow `want` after `prompt`; returns the number of near-ties, -1 on a
 * disagreement. *worst gets the largest tie margin. */
static int follow(struct model *m, struct tokenizer *tok, const char *prompt, const char *want,
                  float *worst, char *why, size_t why_n) {
    struct ember_err err = {0};
    int nv = model_get_info(m)->n_vocab, ties = 0;
    struct model_ctx *c = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    float *logits = malloc((size_t)nv * sizeof *logits);
    *worst = 0;
    if (model_ctx_new(m, 256, 2, &c, &err) ||
        tokenizer_encode(tok, prompt, strlen(prompt), true, true, &ids, &n, &err) ||
        model_eval(c, ids, (int)n, 0, false, logits, &err)) {
        snprintf(why, why_n, "setup: %s", err.msg);
        ties = -1;
    }
    const char *rest = want;
    for (int step = 0; ties >= 0 && *rest && step < 64; step++) {
        int best = argmax(logits, nv), pick = -1;
        size_t len;
        const char *pc = tokenizer_piece(tok, best, &len);
        if (len && !strncmp(rest, pc, len)) pick = best;
        for (int t = 0; t < nv && pick != best; t++) {
            /* the most likely token that continues llama.cpp's text */
            pc = tokenizer_piece(tok, t, &len);
            if (!len || strncmp(rest, pc, len)) continue;
            if (pick < 0 || logits[t] > logits[pick]) pick = t;
        }
        if (pick < 0 || logits[best] - logits[pick] > TIE) {
            snprintf(why, why_n, "step %d: llama.cpp continues '%.12s', ember's argmax is %d, margin %.3f",
                     step, rest, best, pick < 0 ? INFINITY : logits[best] - logits[pick]);
            ties = -1;
            break;
        }
        if (pick != best) {
            ties++;
            if (logits[best] - logits[pick] > *worst) *worst = logits[best] - logits[pick];
        }
        pc = tokenizer_piece(tok, pick, &len);
        rest += len;
        int32_t t = pick;
        if (model_eval(c, &t, 1, (int)n + step, false, logits, &err)) {
            snprintf(why, why_n, "eval: %s", err.msg);
            ties = -1;
        }
    }
    free(ids);
    free(logits);
    model_ctx_free(c);
    return ties;
}

int main(void) {
    struct ember_err err = {0};
    CHECK(cpu_dispatch_init(&err) == EMBER_OK, "kernel set %s %s", cpu_isa_name(cpu_isa_chosen()), err.msg);
    char *json = slurp(DIR "reference.json");
    CHECK(json != NULL, "reference.json readable");
    if (!json) return CHECK_DONE();
    const char *p = strstr(json, "\"models\"");
    /* Model entries are keys ending in .gguf": followed by an object. */
    while (p && (p = strstr(p, ".gguf\": {"))) {
        const char *q = p;
        while (q > json && q[-1] != '"') q--;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(p + 5 - q), q);
        const char *end = strstr(p + 9, ".gguf\": {");
        char path[256];
        snprintf(path, sizeof path, DIR "%s", name);
        struct gguf_file *f = NULL;
        struct model *m = NULL;
        struct tokenizer *tok = NULL;
        if (gguf_open(path, &f, &err) || model_load(f, &m, &err) || tokenizer_load(f, &tok, &err)) {
            CHECK(0, "%s loads: %s", name, err.msg);
        } else {
            const char *g = p;
            for (int k = 0; k < 3; k++) {
                char *prompt = next_string(&g, "\"prompt\":");
                char *text = next_string(&g, "\"text\":");
                if (!prompt || !text || (end && g > end)) {
                    free(prompt);
                    free(text);
                    break;
                }
                float worst;
                char why[600] = "";
                int ties = follow(m, tok, prompt, text, &worst, why, sizeof why);
                CHECK(ties >= 0, "%s %-40s follows llama.cpp: %d near-ties (largest margin %.3f) %s",
                      name, prompt, ties, worst, why);
                free(prompt);
                free(text);
            }
        }
        tokenizer_free(tok);
        model_free(m);
        gguf_close(f);
        p += 9;
    }
    free(json);
    return CHECK_DONE();
}
