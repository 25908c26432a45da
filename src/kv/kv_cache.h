/*
 * kv_cache.h — the attention KV cache: storage and bookkeeping of which
 * positions each sequence holds.
 *
 * A cache has n_seq sequences of up to n_ctx positions each, for every
 * layer. Sequence s holds positions 0..kv_seq_len(s)-1; a decode step
 * appends to it or rewrites its tail (a new prompt, a regenerated turn).
 * Backends read and write it only through struct kv_view: per layer and
 * sequence, where head h's key for position t is k + h*head_stride +
 * t*head_dim (head-major, so attention streams one head's rows as one
 * block that stays in L2). Issue [5] turns the cells into pages behind
 * this same interface.
 */
#ifndef EMBER_KV_CACHE_H
#define EMBER_KV_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"

struct kv_layout {
    int n_layer, n_head_kv, head_dim;
    int n_ctx;  /* positions per sequence */
    int n_seq;  /* sequences */
};

struct kv_view {
    float *k, *v;
    size_t head_stride; /* floats from one head's rows to the next's */
};

struct kv_cache;

/* Bytes a cache of this layout allocates, or UINT64_MAX when it would not
 * fit in 64 bits. */
uint64_t kv_cache_bytes(const struct kv_layout *l);
/* An empty cache (every sequence holds no position), zero-filled.
 * EMBER_ENOMEM when it cannot be allocated; EMBER_EINVAL for a layout with
 * a count below 1. */
enum ember_status kv_cache_new(const struct kv_layout *l, struct kv_cache **out,
                               struct ember_err *err);
void kv_cache_free(struct kv_cache *kv);
const struct kv_layout *kv_cache_layout(const struct kv_cache *kv);

/* One layer of one sequence (0 <= layer < n_layer, 0 <= seq < n_seq). */
struct kv_view kv_cache_view(const struct kv_cache *kv, int layer, int seq);

/* Positions sequence seq holds (0..n_ctx). */
int kv_seq_len(const struct kv_cache *kv, int seq);
/* Record that seq now holds positions 0..len-1 (a decode step wrote up to
 * len-1, or a caller drops a tail: len below the current length). */
void kv_seq_set_len(struct kv_cache *kv, int seq, int len);

#endif
