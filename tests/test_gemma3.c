/*
 * test_gemma3.c — the reach of Gemma 3's sliding window, on
 * tests/data/models/gemma3-tiny-swa.gguf (scripts/make-gemma3-fixture.py:
 * random weights, two layers, both local with a window of 4).
 *
 * A local layer's row at pos sees positions pos-3..pos, so through two of
 * them the token at position 0 reaches positions 0..6 and nothing later:
 * changing it must change the logits at 0..6 and leave those at 7.. exactly
 * as they were (without the window, or with an off-by-one in it, position 7
 * would move). The same logits come out of one batch and of one token per
 * decode (the window in the batched and the single-row paths). Perplexity
 * against llama.cpp's on this file is test_gemma3.sh's.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "engine.h"
#include "gguf.h"
#include "model.h"

#define MODEL "tests/data/models/gemma3-tiny-swa.gguf"
#define N 16
#define REACH 7 /* 2 layers x (window 4 - 1) + 1 positions */

static double max_diff(const float *a, const float *b, int n) {
    double d = 0;
    for (int i = 0; i < n; i++) {
        double x = fabs((double)a[i] - (double)b[i]);
        if (!(x <= d)) d = x; /* NaN propagates */
    }
    return d;
}

int main(void) {
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    struct gguf_file *f = NULL;
    struct model *m = NULL;
    struct model_ctx *c = NULL;
    CHECK(test_backend(&be, &err) == EMBER_OK, "backend %s", err.msg);
    CHECK(be && gguf_open(MODEL, &f, &err) == EMBER_OK, "open %s %s", MODEL, err.msg);
    CHECK(f && test_load(f, be, &m, &err) == EMBER_OK, "load gemma3 fixture %s", err.msg);
    if (!m) return CHECK_DONE();
    int nv = model_get_info(m)->n_vocab;
    CHECK(test_ctx_kv(m, 32, 2, KV_F32, KV_F32, 0, &c, &err) == EMBER_OK, "context %s", err.msg);
    if (!c) return CHECK_DONE();

    int32_t tok[N], tok2[N];
    for (int i = 0; i < N; i++) tok[i] = tok2[i] = 3 + (37 * i + 11) % (nv - 3);
    tok2[0] = 3 + (tok[0] + 100) % (nv - 3);
    float *a = malloc(sizeof(float) * N * (size_t)nv), *b = malloc(sizeof(float) * N * (size_t)nv);
    float *one = malloc(sizeof(float) * N * (size_t)nv);
    if (!a || !b || !one) return 1;

    CHECK(test_eval(c, tok, N, 0, true, a, &err) == EMBER_OK, "decode %d tokens %s", N, err.msg);
    CHECK(test_eval(c, tok2, N, 0, true, b, &err) == EMBER_OK, "decode with token 0 changed %s", err.msg);
    double within = INFINITY, beyond = 0;
    for (int p = 0; p < N; p++) {
        double d = max_diff(a + (size_t)p * nv, b + (size_t)p * nv, nv);
        if (p < REACH && d < within) within = d;
        if (p >= REACH && !(d <= beyond)) beyond = d;
    }
    CHECK(within > 1e-3, "token 0 moves the logits of positions 0..%d (smallest max change %.3g)",
          REACH - 1, within);
    CHECK(beyond == 0, "token 0 leaves positions %d..%d exactly alone (largest change %.3g)", REACH,
          N - 1, beyond);

    /* One token per decode (rewriting the cache from position 0) */
    for (int p = 0; p < N; p++)
        if (test_eval(c, tok + p, 1, p, true, one + (size_t)p * nv, &err) != EMBER_OK) break;
    double d = max_diff(a, one, N * nv);
    CHECK(d < 1e-4, "one token per decode gives the batch's logits at all %d positions (max diff %.3g)",
          N, d);

    free(a);
    free(b);
    free(one);
    model_ctx_free(c);
    model_free(m);
    gguf_close(f);
    ember_backend_free(be);
    return CHECK_DONE();
}
