/*
 * kv_pool.h — the block allocator under the paged KV cache: fixed-size
 * blocks from one pool, handed out by id, each with a reference count so
 * that several sequences can share a block (a common prefix).
 *
 * A block may be stored in parts (issue [7]): one per run of layers that
 * live in the same memory, a host part as plain bytes, a device part in a
 * kv_mem's memory (kv_mem.h). Every block has every part; an id names the
 * block in all of them.
 *
 * Memory grows with use, not with the pool's capacity: blocks live in
 * chunks of KV_POOL_CHUNK (one allocation per part) that are allocated the
 * first time one of their blocks is needed and never move, so a block's
 * address stays valid for the pool's life. Freed blocks (reference count
 * back to 0) go on a free list and are handed out again, most recently
 * freed first (still in cache). Block contents are not cleared: a new
 * block holds whatever its last user wrote, and readers read only the
 * positions a sequence holds.
 */
#ifndef EMBER_KV_POOL_H
#define EMBER_KV_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "kv_mem.h"

enum { KV_POOL_CHUNK = 8, KV_POOL_MAX_PARTS = 4 };

struct kv_pool;

/* One part of every block: its bytes (rounded up to 64) and where they
 * live (NULL: host memory). */
struct kv_pool_part {
    size_t bytes;
    const struct kv_mem *mem;
};

/* A pool of up to max_blocks blocks of block_bytes each (both >= 1), all
 * in host memory; no block is allocated yet. EMBER_ENOMEM, EMBER_EINVAL as
 * kv_cache_new. kv_pool_new_parts: blocks of n_parts parts
 * (1..KV_POOL_MAX_PARTS, each >= 1 byte). */
enum ember_status kv_pool_new(size_t block_bytes, int max_blocks, struct kv_pool **out,
                              struct ember_err *err);
enum ember_status kv_pool_new_parts(const struct kv_pool_part *parts, int n_parts, int max_blocks,
                                    struct kv_pool **out, struct ember_err *err);
void kv_pool_free(struct kv_pool *p);

/* A block with reference count 1, or -1 when the pool is at max_blocks
 * or the memory of one of its parts cannot be allocated. */
int kv_pool_alloc(struct kv_pool *p);
/* One more user of block id / one fewer (the block is free again at 0). */
void kv_pool_ref(struct kv_pool *p, int id);
void kv_pool_unref(struct kv_pool *p, int id);
int kv_pool_refs(const struct kv_pool *p, int id);
/* The block's memory in part 0 / in part `part` (the part's memory's
 * address: a device's is never dereferenced here), 64-byte aligned. */
uint8_t *kv_pool_block(const struct kv_pool *p, int id);
uint8_t *kv_pool_part_block(const struct kv_pool *p, int part, int id);

/* Blocks in use (reference count above 0), and bytes allocated for blocks
 * in all parts (whole chunks: what the pool holds from the system and the
 * devices). */
int kv_pool_used(const struct kv_pool *p);
size_t kv_pool_bytes(const struct kv_pool *p);
/* A whole block's bytes (all parts), and one part's. */
size_t kv_pool_block_bytes(const struct kv_pool *p);
size_t kv_pool_part_bytes(const struct kv_pool *p, int part);
int kv_pool_n_parts(const struct kv_pool *p);
const struct kv_mem *kv_pool_part_mem(const struct kv_pool *p, int part);

#endif
