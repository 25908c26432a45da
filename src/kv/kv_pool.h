/*
 * kv_pool.h — the block allocator under the paged KV cache: fixed-size
 * blocks from one pool, handed out by id, each with a reference count so
 * that several sequences can share a block (a common prefix).
 *
 * Memory grows with use, not with the pool's capacity: blocks live in
 * chunks of KV_POOL_CHUNK that are allocated the first time one of their
 * blocks is needed and never move, so a block's address stays valid for the
 * pool's life. Freed blocks (reference count back to 0) go on a free list
 * and are handed out again, most recently freed first (still in cache).
 * Block contents are not cleared: a new block holds whatever its last user
 * wrote, and readers read only the positions a sequence holds.
 */
#ifndef EMBER_KV_POOL_H
#define EMBER_KV_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"

enum { KV_POOL_CHUNK = 8 }; /* blocks per allocation */

struct kv_pool;

/* A pool of up to max_blocks blocks of block_bytes each (both >= 1); no
 * block is allocated yet. EMBER_ENOMEM, EMBER_EINVAL as kv_cache_new. */
enum ember_status kv_pool_new(size_t block_bytes, int max_blocks, struct kv_pool **out,
                              struct ember_err *err);
void kv_pool_free(struct kv_pool *p);

/* A block with reference count 1, or -1 when the pool is at max_blocks
 * or its memory cannot be allocated. */
int kv_pool_alloc(struct kv_pool *p);
/* One more user of block id / one fewer (the block is free again at 0). */
void kv_pool_ref(struct kv_pool *p, int id);
void kv_pool_unref(struct kv_pool *p, int id);
int kv_pool_refs(const struct kv_pool *p, int id);
/* The block's memory: block_bytes, 64-byte aligned. */
uint8_t *kv_pool_block(const struct kv_pool *p, int id);

/* Blocks in use (reference count above 0), and bytes allocated for blocks
 * (whole chunks: what the pool holds from the system). */
int kv_pool_used(const struct kv_pool *p);
size_t kv_pool_bytes(const struct kv_pool *p);
size_t kv_pool_block_bytes(const struct kv_pool *p);

#endif
