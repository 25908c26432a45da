/*
 * cuda_ctx.c — a CUDA execution context: its stream, its activation memory
 * (ctx_alloc: device blocks freed with it), the pinned staging that
 * copy_in/copy_out and the ops' small host arrays go through, and the
 * failed state that stands in for the errors the ops cannot return
 * (cuda_impl.h).
 *
 * Staging is an arena of pinned host memory with a device mirror: a host
 * array is copied into the next free stretch and queued for the device on
 * the stream, and the arena starts over only once the stream is idle (a
 * sync), because the host must not rewrite pinned bytes a queued copy has
 * yet to read. Where pinned memory cannot be had, plain malloc'd memory
 * serves (cudaMemcpyAsync from pageable memory returns once it has read
 * the source, so the same rule holds, only slower).
 */
#include <stdlib.h>
#include <string.h>

#include "cuda_impl.h"

bool cuda_ok(struct cuda_ctx *c, cudaError_t e) {
    if (e != cudaSuccess && c->failed == cudaSuccess) c->failed = e;
    return e == cudaSuccess && c->failed == cudaSuccess;
}

/* Waits for the stream; the staging arena is free again. */
static bool stage_sync(struct cuda_ctx *c) {
    if (!cuda_ok(c, cudaStreamSynchronize(c->stream))) return false;
    c->stage_used = 0;
    c->n_memo = c->next_memo = 0;
    return true;
}

static void stage_free(struct cuda_ctx *c) {
    if (c->pin_pageable) free(c->pin);
    else if (c->pin) (void)cudaFreeHost(c->pin);
    if (c->pin_dev) (void)cudaFree(c->pin_dev);
    c->pin = c->pin_dev = NULL;
    c->stage_cap = c->stage_used = 0;
    c->n_memo = c->next_memo = 0;
}

/* An arena of `bytes` (pinned if possible); false when out of memory. */
static bool stage_alloc(struct cuda_ctx *c, size_t bytes) {
    c->pin_pageable = cudaMallocHost((void **)&c->pin, bytes) != cudaSuccess;
    if (c->pin_pageable) {
        (void)cudaGetLastError();
        c->pin = malloc(bytes);
    }
    if (!c->pin || cudaMalloc((void **)&c->pin_dev, bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        stage_free(c);
        return false;
    }
    c->stage_cap = bytes;
    c->stage_used = 0;
    return true;
}

/* The stretch of n bytes to use next (256-byte aligned), after a sync if
 * the arena is full, or a larger arena if it never fits; false on failure. */
static bool stage_room(struct cuda_ctx *c, size_t n, size_t *off) {
    size_t need = (n + 255) & ~(size_t)255;
    if (need > c->stage_cap) {
        if (!stage_sync(c)) return false;
        stage_free(c);
        if (!stage_alloc(c, need)) return cuda_ok(c, cudaErrorMemoryAllocation);
    }
    if (c->stage_used + need > c->stage_cap && !stage_sync(c)) return false;
    *off = c->stage_used;
    c->stage_used += need;
    return true;
}

/* A remembered stretch holding these n bytes, or NULL. The pinned bytes
 * are what was queued: they stay until the arena starts over. */
static const void *stage_find(const struct cuda_ctx *c, const void *src, size_t n) {
    for (int i = 0; i < c->n_memo; i++)
        if (c->memo[i].n == n && !memcmp(c->pin + c->memo[i].off, src, n))
            return c->pin_dev + c->memo[i].off;
    return NULL;
}

const void *cuda_stage(struct cuda_ctx *c, const void *src, size_t n) {
    size_t off;
    if (c->failed) return NULL;
    const void *same = stage_find(c, src, n);
    if (same) return same;
    if (!stage_room(c, n ? n : 1, &off)) return NULL;
    memcpy(c->pin + off, src, n);
    if (!cuda_ok(c, cudaMemcpyAsync(c->pin_dev + off, c->pin + off, n, cudaMemcpyHostToDevice,
                                    c->stream)))
        return NULL;
    c->memo[c->next_memo].off = off;
    c->memo[c->next_memo].n = n;
    c->next_memo = (c->next_memo + 1) % CUDA_STAGE_MEMO;
    if (c->n_memo < CUDA_STAGE_MEMO) c->n_memo++;
    return c->pin_dev + off;
}

struct cuk_q8 *cuda_xq(struct cuda_ctx *c, int64_t n_in, int n) {
    size_t need = cuk_q8_bytes(n_in, n);
    if (need <= c->xq_cap) return c->xq;
    /* no queued kernel may still read the old one */
    if (c->xq && !cuda_ok(c, cudaStreamSynchronize(c->stream))) return NULL;
    if (c->xq) (void)cudaFree(c->xq);
    c->xq = NULL;
    c->xq_cap = 0;
    if (!cuda_ok(c, cudaMalloc((void **)&c->xq, need))) return NULL;
    c->xq_cap = need;
    return c->xq;
}

/* ------------------------------------------------------------- lifecycle */

enum ember_status cuda_ctx_new(struct ember_backend *be, const struct backend_ctx_params *p,
                               struct backend_ctx **out, struct ember_err *err) {
    struct cuda_backend *b = (struct cuda_backend *)be;
    *out = NULL;
    struct cuda_ctx *c = calloc(1, sizeof *c);
    if (!c) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    c->base = (struct backend_ctx){be->ops, be};
    c->be = b;
    cudaError_t e = cudaSetDevice(b->device);
    if (e == cudaSuccess) e = cudaStreamCreate(&c->stream); /* blocking: see cuda_backend.c */
    if (e != cudaSuccess) {
        free(c);
        return ember_fail(err, EMBER_EUNSUPPORTED, "cuda%d: creating a stream: %s", b->device,
                          cuda_err_str(e));
    }
    int cols = p->max_rows < CUK_MMV_MAX_COLS ? p->max_rows : CUK_MMV_MAX_COLS;
    if (!stage_alloc(c, CUDA_STAGE_BYTES) ||
        (p->max_width >= 32 && cols > 0 && !cuda_xq(c, p->max_width, cols))) {
        cuda_ctx_free(&c->base);
        return ember_fail(err, EMBER_ENOMEM, "cuda%d: out of memory allocating a context's scratch",
                          b->device);
    }
    *out = &c->base;
    return EMBER_OK;
}

void cuda_ctx_free(struct backend_ctx *bc) {
    if (!bc) return;
    struct cuda_ctx *c = cuda_ctx_of(bc);
    (void)cudaSetDevice(c->be->device);
    if (c->stream) (void)cudaStreamSynchronize(c->stream);
    for (int i = 0; i < c->n_allocs; i++) (void)cudaFree(c->allocs[i]);
    free(c->allocs);
    if (c->xq) (void)cudaFree(c->xq);
    stage_free(c);
    if (c->stream) (void)cudaStreamDestroy(c->stream);
    free(c);
}

/* ------------------------------------------------------ activation memory */

/* Device bytes, zeroed (as the CPU's are), freed with the context. */
void *cuda_ctx_alloc(struct backend_ctx *bc, size_t bytes) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    void **list = realloc(c->allocs, (size_t)(c->n_allocs + 1) * sizeof *list);
    if (!list) return NULL;
    c->allocs = list;
    void *p = NULL;
    if (cudaSetDevice(c->be->device) != cudaSuccess || cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    if (cudaMemsetAsync(p, 0, bytes, c->stream) != cudaSuccess) {
        (void)cudaGetLastError();
        (void)cudaFree(p);
        return NULL;
    }
    return c->allocs[c->n_allocs++] = p;
}

/* Queued on the stream through the staging arena; returns once src has
 * been read, so the caller may reuse it. */
void cuda_copy_in(struct backend_ctx *bc, void *dst, const void *src, size_t n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    for (size_t done = 0; done < n && !c->failed;) {
        size_t chunk = n - done < c->stage_cap ? n - done : c->stage_cap, off;
        if (!stage_room(c, chunk, &off)) return;
        memcpy(c->pin + off, (const uint8_t *)src + done, chunk);
        if (!cuda_ok(c, cudaMemcpyAsync((uint8_t *)dst + done, c->pin + off, chunk,
                                        cudaMemcpyHostToDevice, c->stream)))
            return;
        done += chunk;
    }
}

/* Waits for everything queued, then copies through the arena chunk by
 * chunk. A failed context's (or a failed copy's) bytes come back as NaNs. */
void cuda_copy_out(struct backend_ctx *bc, void *dst, const void *src, size_t n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    size_t done = 0;
    if (!c->failed && stage_sync(c))
        while (done < n) {
            size_t chunk = n - done < c->stage_cap ? n - done : c->stage_cap;
            if (!cuda_ok(c, cudaMemcpyAsync(c->pin, (const uint8_t *)src + done, chunk,
                                            cudaMemcpyDeviceToHost, c->stream)) ||
                !stage_sync(c))
                break;
            memcpy((uint8_t *)dst + done, c->pin, chunk);
            done += chunk;
        }
    if (done < n) memset((uint8_t *)dst + done, 0xff, n - done);
}
