/*
 * kv_state.h — a model context's KV cache on disk: the tokens sequence 0
 * holds and the blocks holding them, behind a versioned header that names
 * the model (loader_fingerprint) and the cache's layout, plus an opaque
 * payload of the caller's (the chat's messages). `ember chat`'s /save and
 * /load and `ember run --prompt-cache` use it.
 *
 * Loading checks everything before it changes anything: a file of another
 * model, another cache layout (types, block size), another kind, a newer
 * version, or one that is truncated or damaged fails with an error that
 * says which. Only a failure inside the KV section (after the checks) can
 * leave the cache changed: then sequence 0 is left empty.
 */
#ifndef EMBER_KV_STATE_H
#define EMBER_KV_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

enum kv_state_kind { KV_STATE_CHAT = 1, KV_STATE_PROMPT = 2 };

enum ember_status kv_state_save(const char *path, enum kv_state_kind kind, const struct loaded *l,
                                struct model_ctx *c, const int32_t *toks, int n_toks, const void *payload,
                                size_t payload_len, struct ember_err *err);

/* toks must hold n_ctx ids; *payload is malloc'd (NULL when empty).
 * payload_ok, if given, vets the payload before the cache is touched. */
enum ember_status kv_state_load(const char *path, enum kv_state_kind kind, const struct loaded *l,
                                struct model_ctx *c, int32_t *toks, int *n_toks, void **payload,
                                size_t *payload_len, bool (*payload_ok)(const void *p, size_t n),
                                struct ember_err *err);

#endif
