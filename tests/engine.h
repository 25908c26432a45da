/*
 * engine.h — test-side shorthands for the engine: a backend as the
 * environment asks (tools' own tool_options_init), a model
 * from an open GGUF file, and test_eval, which decodes n tokens of
 * sequence 0 at positions pos.. through one batch (what the tools do).
 * Header-only: each test binary includes it once.
 */
#ifndef EMBER_TEST_ENGINE_H
#define EMBER_TEST_ENGINE_H

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gguf.h"
#include "model.h"
#include "tool_options.h"

static inline enum ember_status test_backend(struct ember_backend **be, struct ember_err *err) {
    struct ember_options o;
    tool_options_init(&o);
    return ember_backend_new(&o, be, err);
}

static inline enum ember_status test_load(const struct gguf_file *f, struct ember_backend *be,
                                          struct model **m, struct ember_err *err) {
    struct weight_source src = weight_source_gguf(f);
    return model_load(&src, be, m, err);
}

static inline enum ember_status test_ctx(const struct model *m, int n_ctx, int n_threads,
                                         struct model_ctx **c, struct ember_err *err) {
    struct model_ctx_params p = {n_ctx, n_threads, 0, 1};
    return model_ctx_new(m, &p, c, err);
}

/* Logits of every token (all) or of the last one. */
static inline enum ember_status test_eval(struct model_ctx *c, const int32_t *tokens, int n,
                                          int pos, bool all, float *logits,
                                          struct ember_err *err) {
    struct batch b;
    if (!batch_init(&b, n)) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    batch_set_run(&b, tokens, n, pos, 0, all);
    enum ember_status st = model_decode(c, &b, logits, err);
    batch_free(&b);
    return st;
}

#endif
