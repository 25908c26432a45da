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

/* A context with the given KV cache types and block size (0: default). */
static inline enum ember_status test_ctx_kv(const struct model *m, int n_ctx, int n_threads,
                                            enum kv_type tk, enum kv_type tv, int block,
                                            struct model_ctx **c, struct ember_err *err) {
    struct model_ctx_params p = {.n_ctx = n_ctx, .n_threads = n_threads, .n_seq = 1,
                                 .type_k = tk, .type_v = tv, .kv_block = block};
    return model_ctx_new(m, &p, c, err);
}

/* A context with the default KV cache (f16, blocks of 16). */
static inline enum ember_status test_ctx(const struct model *m, int n_ctx, int n_threads,
                                         struct model_ctx **c, struct ember_err *err) {
    return test_ctx_kv(m, n_ctx, n_threads, KV_F16, KV_F16, 0, c, err);
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
