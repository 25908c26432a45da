/*
 * kv_mem.h — memory that is not the host's, for the part of every KV block
 * that belongs to layers a GPU runs (issue [7]).
 *
 * The cache (kv_cache.h) stores a block's layers in parts, one per run of
 * consecutive layers that live in the same memory; a part in host memory
 * is plain bytes, a part elsewhere goes through these calls. Addresses are
 * the owner's: a device address that the host never dereferences (the
 * owner's ops take them as they are, and kv_view's block pointers are such
 * addresses for those layers). The cache only allocates, releases, copies
 * (copy on write of a shared block) and moves bytes to and from the host
 * (kv_seq_export / kv_seq_import). These calls come between decode steps
 * (kv_seq_prepare runs before a batch's forward pass): an owner with a
 * queue orders copy and write after the work queued before them, and read
 * waits for that work, as backend.h's copy_out does. A chunk comes from
 * alloc the first time one of its blocks is needed, KV_POOL_CHUNK blocks'
 * part at once, and goes back through release when the cache is freed.
 */
#ifndef EMBER_KV_MEM_H
#define EMBER_KV_MEM_H

#include <stddef.h>

struct kv_mem {
    void *ctx;
    /* bytes of this memory, 64-byte aligned; NULL when out of memory */
    void *(*alloc)(void *ctx, size_t bytes);
    void (*release)(void *ctx, void *p);
    /* n bytes from src to dst, both this memory */
    void (*copy)(void *ctx, void *dst, const void *src, size_t n);
    /* n bytes from this memory to the host, and back */
    void (*read)(void *ctx, void *host_dst, const void *src, size_t n);
    void (*write)(void *ctx, void *dst, const void *host_src, size_t n);
};

#endif
