/*
 * hf_ref.h — what the Hugging Face reference tests (test_hf.c, test_gptq.c)
 * share: paths under the shared fixtures ($EMBER_SHARED, default
 * ../shared), and a model's logits and greedy ids in a fresh context of
 * n_ctx positions with an F32 KV cache (the references are float64 numpy).
 */
#ifndef EMBER_TEST_HF_REF_H
#define EMBER_TEST_HF_REF_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

static char path_buf[4][1024];

/* rel under the shared folder, in one of four buffers (slot 0..3). */
static inline const char *shared_path(int slot, const char *rel) {
    const char *root = getenv("EMBER_SHARED") ? getenv("EMBER_SHARED") : "../shared";
    snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", root, rel);
    return path_buf[slot];
}

/* Logits of every position of ids[0..n) in a fresh F32-cache context. */
static inline enum ember_status all_logits(const struct model *m, int n_ctx, const int32_t *ids, int n,
                                           float *out, struct ember_err *err) {
    struct model_ctx *c = NULL;
    enum ember_status st = test_ctx_kv(m, n_ctx, 2, KV_F32, KV_F32, 0, &c, err);
    if (!st) st = test_eval(c, ids, n, 0, true, out, err);
    model_ctx_free(c);
    return st;
}

static inline double max_diff(const float *a, const double *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

/* n_gen greedy ids after the prompt. */
static inline enum ember_status greedy(const struct model *m, int n_ctx, const int32_t *prompt, int n, int n_gen,
                                       int32_t *out, struct ember_err *err) {
    int nv = model_get_info(m)->n_vocab;
    struct model_ctx *c = NULL;
    float *lg = malloc((size_t)nv * sizeof *lg);
    enum ember_status st = lg ? test_ctx_kv(m, n_ctx, 2, KV_F32, KV_F32, 0, &c, err)
                              : ember_fail(err, EMBER_ENOMEM, "out of memory");
    if (!st) st = test_eval(c, prompt, n, 0, false, lg, err);
    for (int k = 0; k < n_gen && !st; k++) {
        int best = 0;
        for (int j = 1; j < nv; j++)
            if (lg[j] > lg[best]) best = j;
        out[k] = best;
        st = test_eval(c, &out[k], 1, n + k, false, lg, err);
    }
    model_ctx_free(c);
    free(lg);
    return st;
}

#endif
