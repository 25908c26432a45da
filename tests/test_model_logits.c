/*
 * test_model_logits.c — stories260K (F32 GGUF) logits at every position of
 * the prompts in tests/data/models/stories260K-reference.json, produced by an
 * independent float64 numpy implementation, must agree within 1e-4 (max
 * abs). Also checks that a context is reusable and that positions past the
 * context are refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gguf.h"
#include "model.h"

#define REF "tests/data/models/stories260K-reference.json"
#define MODEL "tests/data/models/stories260K.gguf"
#define TOL 1e-4

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

/* Parse the numbers of the JSON array starting at the first '[' after key
 * (nested arrays flattened) into out; returns the count and advances *p. */
static int numbers_after(char **p, const char *key, double *out, int max) {
    char *s = strstr(*p, key);
    if (!s) return -1;
    s = strchr(s, '[');
    int depth = 0, n = 0;
    while (*s) {
        if (*s == '[') depth++, s++;
        else if (*s == ']') { s++; if (--depth == 0) break; }
        else if (*s == ',' || *s == ' ' || *s == '\n') s++;
        else {
            char *e;
            double v = strtod(s, &e);
            if (e == s) return -1;
            if (n < max) out[n] = v;
            n++;
            s = e;
        }
    }
    *p = s;
    return n;
}

int main(void) {
    char *json = slurp(REF);
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    struct model *m = NULL;
    struct model_ctx *c = NULL;
    CHECK(json != NULL, "reference file %s readable", REF);
    CHECK(gguf_open(MODEL, &f, &err) == EMBER_OK, "open %s %s", MODEL, err.msg);
    CHECK(f && model_load(f, &m, &err) == EMBER_OK, "load model %s", err.msg);
    if (!json || !m) return CHECK_DONE();
    int nv = model_get_info(m)->n_vocab;
    CHECK(model_ctx_new(m, 64, 2, &c, &err) == EMBER_OK, "context %s", err.msg);
    double *ids = malloc(64 * sizeof *ids), *want = malloc(64 * (size_t)nv * sizeof *want);
    float *got = malloc(64 * (size_t)nv * sizeof *got);
    char *p = json;
    for (int prompt = 0; prompt < 2; prompt++) {
        int n = numbers_after(&p, "\"ids\"", ids, 64);
        int nl = numbers_after(&p, "\"logits\"", want, 64 * nv);
        CHECK(n > 0 && nl == n * nv, "prompt %d: %d ids, %d logits in reference", prompt, n, nl);
        if (n <= 0 || nl != n * nv) break;
        int32_t tok[64];
        for (int i = 0; i < n; i++) tok[i] = (int32_t)ids[i];
        CHECK(model_eval(c, tok, n, 0, true, got, &err) == EMBER_OK, "eval %s", err.msg);
        double maxd = 0;
        for (int i = 0; i < n * nv; i++) maxd = fmax(maxd, fabs(got[i] - want[i]));
        CHECK(maxd <= TOL, "prompt %d: logits at all %d positions within %g (max abs diff %.2e)",
              prompt, n, TOL, maxd);
        /* One token at a time must give the same last-position logits. */
        for (int i = 0; i < n; i++) model_eval(c, &tok[i], 1, i, false, got, &err);
        maxd = 0;
        for (int j = 0; j < nv; j++) maxd = fmax(maxd, fabs(got[j] - want[(size_t)(n - 1) * nv + j]));
        CHECK(maxd <= TOL, "prompt %d: token-by-token eval agrees (max abs diff %.2e)", prompt, maxd);
    }
    int32_t t = 1;
    CHECK(model_eval(c, &t, 1, 64, false, got, &err) == EMBER_EINVAL,
          "position past the context is refused: %s", err.msg);
    t = nv;
    CHECK(model_eval(c, &t, 1, 0, false, got, &err) == EMBER_EINVAL,
          "token id outside the vocabulary is refused: %s", err.msg);
    free(ids); free(want); free(got); free(json);
    model_ctx_free(c);
    model_free(m);
    gguf_close(f);
    return CHECK_DONE();
}
