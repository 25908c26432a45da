/*
 * kv_cache.h — the paged attention KV cache: keys and values in blocks of
 * block_size positions from one pool (kv_pool.h), a block table per
 * sequence, and which positions each sequence holds.
 *
 * vLLM's PagedAttention layout on a CPU: a sequence's position t lives in
 * block table[t / block_size], row t % block_size. Blocks are taken from
 * the pool as positions arrive (kv_seq_prepare), so memory grows with what
 * the sequences hold, not with n_ctx; sequences may share blocks (a common
 * prefix: kv_seq_share), and writing into a shared block first copies it
 * (copy on write), so a shared prefix is never changed under another
 * sequence.
 *
 * One block holds every layer: per layer, the keys of each KV head, then the
 * values of each KV head. Keys in F32 or F16 are stored transposed,
 * [head_dim][block_size] per head, so that attention computes a block's
 * scores as block_size-wide multiply-adds, one per dimension, with no
 * horizontal sums; keys in Q8_0 and all values are stored by position
 * ([block_size][row]), a Q8_0 row being head_dim/32 blocks.
 *
 * Backends read and write the cache only through struct kv_view (one layer
 * of one sequence) and its helpers below.
 */
#ifndef EMBER_KV_CACHE_H
#define EMBER_KV_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "kv_mem.h"
#include "quant.h"

enum { KV_DEFAULT_BLOCK = 16 };

/* The cache types a user picks (-ctk, -ctv), F16 first: the default of a
 * zeroed settings struct, as in llama.cpp. */
enum kv_type { KV_F16, KV_F32, KV_Q8_0, KV_TYPE_COUNT };
/* "f16", "f32", "q8_0"; kv_type_parse: the type of such a name, or -1. */
const char *kv_type_name(enum kv_type t);
int kv_type_parse(const char *name);
enum ember_type kv_type_ember(enum kv_type t);

struct kv_layout {
    int n_layer, n_head_kv, head_dim;
    int n_ctx;      /* positions per sequence */
    int n_seq;      /* sequences */
    int block_size; /* positions per block; 0: KV_DEFAULT_BLOCK */
    enum ember_type type_k, type_v; /* F32, F16 or Q8_0 */
    /* [n_layer]: where each layer's keys and values live (kv_mem.h); NULL,
     * or a NULL entry: host memory. Read by kv_cache_new only (the array
     * may go; the kv_mems it points to must outlive the cache): a block is
     * stored in parts, one per run of consecutive layers of the same
     * memory (at most 4 runs), and no host memory is taken for layers that
     * live elsewhere. kv_cache_layout gives it back NULL. */
    const struct kv_mem *const *layer_mem;
};

struct kv_view {
    enum ember_type type_k, type_v;
    int block_size;
    uint8_t *const *blocks; /* the sequence's blocks, in position order */
    size_t k_off, v_off;    /* this layer's keys and values in a block */
    size_t k_head, v_head;  /* bytes from one KV head's part to the next */
    size_t k_row;           /* F32/F16: bytes per dimension (a row of
                               block_size values); Q8_0: bytes per position */
    size_t v_row;           /* bytes per position */
};

/* Head h's keys and values in block b of a view. */
static inline uint8_t *kv_view_k(const struct kv_view *v, int b, int h) {
    return v->blocks[b] + v->k_off + (size_t)h * v->k_head;
}
static inline uint8_t *kv_view_v(const struct kv_view *v, int b, int h) {
    return v->blocks[b] + v->v_off + (size_t)h * v->v_head;
}

struct kv_cache;

/* Whether a layout's types and sizes are ones the cache can hold: NULL, or
 * why not (static text). Q8_0 needs head_dim to be a multiple of 32. */
const char *kv_layout_problem(const struct kv_layout *l);
/* Bytes one block takes, and what the cache takes when every sequence holds
 * n_ctx positions (no sharing): the most it can grow to. UINT64_MAX when
 * it would not fit in 64 bits. */
uint64_t kv_block_bytes(const struct kv_layout *l);
uint64_t kv_cache_bytes(const struct kv_layout *l);
/* An empty cache (every sequence holds no position, no block taken).
 * EMBER_EINVAL for a layout kv_layout_problem refuses or with a count
 * below 1; EMBER_ENOMEM. */
enum ember_status kv_cache_new(const struct kv_layout *l, struct kv_cache **out,
                               struct ember_err *err);
void kv_cache_free(struct kv_cache *kv);
const struct kv_layout *kv_cache_layout(const struct kv_cache *kv);

/* One layer of one sequence (0 <= layer < n_layer, 0 <= seq < n_seq): its
 * block addresses are in that layer's memory (a device's for a layer in a
 * device part). Valid until the next kv_seq_prepare, kv_seq_set_len or
 * kv_seq_share of seq. */
struct kv_view kv_cache_view(const struct kv_cache *kv, int layer, int seq);

/* Positions sequence seq holds (0..n_ctx). */
int kv_seq_len(const struct kv_cache *kv, int seq);
/* Make positions first .. first+n-1 of seq writable before a decode step
 * writes them (first <= kv_seq_len, first + n <= n_ctx): blocks taken for
 * new positions, shared blocks among them copied first. EMBER_ENOMEM when
 * the pool cannot grow; the positions the sequence holds are unchanged
 * either way. */
enum ember_status kv_seq_prepare(struct kv_cache *kv, int seq, int first, int n,
                                 struct ember_err *err);
/* Record that seq now holds positions 0..len-1 (a decode step wrote up to
 * len-1, or a caller drops a tail); blocks past the end are released. */
void kv_seq_set_len(struct kv_cache *kv, int seq, int len);
/* Make dst hold the first len positions of src (len <= kv_seq_len(src)) by
 * sharing src's blocks: no copy until one of them writes into a shared
 * block. dst's own blocks are released first; dst == src truncates. */
void kv_seq_share(struct kv_cache *kv, int dst, int src, int len);
/* Exchange what sequences a and b hold (tables and lengths; O(1), no
 * block is touched): a branch kept in another sequence becomes the live
 * one. Views of either are invalid afterwards. */
void kv_seq_swap(struct kv_cache *kv, int a, int b);
/* Blocks seq holds, and how many leading blocks a and b hold in common
 * (the shared prefix's blocks, each stored once). */
int kv_seq_blocks(const struct kv_cache *kv, int seq);
int kv_seq_shared_blocks(const struct kv_cache *kv, int a, int b);

/* Saving and restoring a sequence (a chat's /save, --prompt-cache): the
 * bytes of the blocks that hold its first len positions, block after
 * block, kv_cache_block_bytes(kv) each (device parts read back through
 * their kv_mem: the bytes do not depend on where layers ran, so a file
 * saved on a GPU loads on the CPU and back), through a caller's writer or
 * reader (false: an I/O error, reported as EMBER_EIO). Import empties seq
 * first and leaves it holding len positions; a failed import leaves it
 * empty. Only a cache of the same layout can read what one wrote: callers
 * check that (kv_cache_layout) before. */
typedef bool (*kv_io_fn)(void *ctx, void *buf, size_t n);
enum ember_status kv_seq_export(const struct kv_cache *kv, int seq, int len, kv_io_fn write, void *ctx,
                               struct ember_err *err);
enum ember_status kv_seq_import(struct kv_cache *kv, int seq, int len, kv_io_fn read, void *ctx,
                                struct ember_err *err);

/* Bytes of one block as the pool holds it (kv_block_bytes rounded up). */
size_t kv_cache_block_bytes(const struct kv_cache *kv);

/* Blocks in use across all sequences, and bytes the pool has allocated
 * (host and device parts together). */
int kv_cache_blocks_used(const struct kv_cache *kv);
size_t kv_cache_bytes_allocated(const struct kv_cache *kv);

#endif
