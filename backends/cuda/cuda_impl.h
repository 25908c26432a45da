/*
 * cuda_impl.h — private to the CUDA backend: its instance, buffer and
 * context structs and the functions its C files share. cuda_backend.c
 * holds the instance and the ops table, cuda_weights.c the weights' device
 * copies, cuda_ctx.c the contexts (stream, staging, activation memory),
 * cuda_ops.c the forward-pass ops; the kernels are behind cuda_kernels.h.
 *
 * Errors: the forward-pass ops return nothing (backend.h), so the first
 * CUDA error of a context is kept in it and makes it failed: every later
 * op does nothing and copy_out hands the host NaNs (all bits set) instead
 * of numbers, so a failure can never pass for a result. Nothing here
 * aborts or prints.
 */
#ifndef EMBER_CUDA_IMPL_H
#define EMBER_CUDA_IMPL_H

#include <pthread.h>

#include "backend.h"
#include "cuda_kernels.h"

/* Device memory of one weight (or a vector): its bytes as the kernels
 * read them, which may be another type than the source's (types the
 * kernels lack are dequantized to F16). */
struct backend_buffer {
    void *dev;
    size_t bytes;
    int type;          /* the type of the device copy */
    size_t row_bytes;  /* of the device copy */
};

/* Where a tensor's host bytes were uploaded: prepare_weights' matrices
 * and, on first use, the vectors and tables it is not given (norms,
 * biases, the token embeddings). Looked up by the source address. */
struct cuda_upload {
    const void *host;
    int type;
    struct backend_buffer *buf;
    bool owned; /* freed with the instance (lazy uploads), else by release_weights */
};

struct cuda_backend {
    struct ember_backend base;
    int device;
    char desc[192];
    struct kv_mem kv;          /* ctx: this instance */
    pthread_mutex_t lock;      /* the upload table: contexts may run on several threads */
    struct cuda_upload *up;
    int n_up, cap_up;
};

/* What prepare_weights made: the buffers to free. */
struct backend_weights {
    struct cuda_backend *be;
    struct backend_buffer **bufs;
    int n;
    char note[160];
};

/* Bytes staged at once between host and device (pinned), and how many
 * recent stretches are remembered for reuse. */
enum { CUDA_STAGE_BYTES = 4 << 20, CUDA_STAGE_MEMO = 8 };

struct cuda_ctx {
    struct backend_ctx base;
    struct cuda_backend *be;
    cudaStream_t stream;
    /* Staging: pinned host bytes and a device mirror of the same size,
     * handed out front to back and reset once the stream is idle (a host
     * write into pinned memory must not overtake a queued copy from it). */
    uint8_t *pin, *pin_dev;
    size_t stage_cap, stage_used;
    bool pin_pageable;          /* no pinned memory: plain malloc, synchronous copies */
    /* The last few stretches staged since the arena started over: an op
     * staging the same bytes again (pos and seq for every layer's rope,
     * store_kv and attention; the block tables of a run of device layers)
     * gets the copy already queued. */
    struct { size_t off, n; } memo[CUDA_STAGE_MEMO];
    int n_memo, next_memo;
    struct cuk_q8 *xq;          /* quantized activations */
    size_t xq_cap;
    void **allocs;              /* ctx_alloc's device blocks */
    int n_allocs;
    cudaError_t failed;         /* the first error, cudaSuccess while none */
};

static inline struct cuda_ctx *cuda_ctx_of(struct backend_ctx *c) { return (struct cuda_ctx *)c; }

/* cuda_backend.c: the CUDA error string of e (static text). */
const char *cuda_err_str(cudaError_t e);

/* cuda_weights.c */
struct backend_buffer *cuda_buffer_alloc(struct ember_backend *be, size_t bytes);
void cuda_buffer_free(struct backend_buffer *b);
void cuda_upload(struct backend_buffer *b, size_t off, const void *src, size_t n);
void cuda_download(const struct backend_buffer *b, size_t off, void *dst, size_t n);
enum ember_status cuda_prepare_weights(struct ember_backend *be, const char *source_id,
                                       struct tensor *const *ts, int n,
                                       struct backend_weights **out, struct ember_err *err);
void cuda_release_weights(struct backend_weights *w);
const char *cuda_weights_note(const struct backend_weights *w);
/* The device copy of t (prepared, or uploaded now and kept until the
 * next release_weights or the instance is freed); NULL when it cannot be made (out of device memory,
 * a type with no dequantizer). */
const struct backend_buffer *cuda_weight(struct cuda_backend *b, const struct tensor *t);
void cuda_uploads_free(struct cuda_backend *b);

/* cuda_ctx.c */
enum ember_status cuda_ctx_new(struct ember_backend *be, const struct backend_ctx_params *p,
                               struct backend_ctx **out, struct ember_err *err);
void cuda_ctx_free(struct backend_ctx *c);
void *cuda_ctx_alloc(struct backend_ctx *c, size_t bytes);
void cuda_copy_in(struct backend_ctx *c, void *dst, const void *src, size_t n);
void cuda_copy_out(struct backend_ctx *c, void *dst, const void *src, size_t n);
/* Records e when it is the context's first error; true when e is success
 * and the context has not failed before. */
bool cuda_ok(struct cuda_ctx *c, cudaError_t e);
/* n host bytes copied to device memory in stream order (valid for work
 * queued after this call until the next synchronization); NULL when
 * that failed (the context is then failed). */
const void *cuda_stage(struct cuda_ctx *c, const void *src, size_t n);
/* Room for the activations of n rows of n_in quantized; NULL on failure. */
struct cuk_q8 *cuda_xq(struct cuda_ctx *c, int64_t n_in, int n);

/* cuda_ops.c: the forward pass */
void cuda_matmul(struct backend_ctx *c, int n_mats, float *const out[],
                 const struct tensor *const w[], const float *x, int n);
void cuda_get_rows(struct backend_ctx *c, float *out, const struct tensor *w, const int32_t *rows,
                   int n);
void cuda_rmsnorm(struct backend_ctx *c, float *out, const float *x, const struct tensor *w, int n,
                  int width, float eps);
void cuda_rope(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
               const int32_t *pos, const struct rope_params *rp);
void cuda_attention(struct backend_ctx *c, const struct attn_args *a);
void cuda_softmax(struct backend_ctx *c, float *x, int n);
void cuda_silu_mul(struct backend_ctx *c, float *g, const float *u, int n);
void cuda_gelu_mul(struct backend_ctx *c, float *g, const float *u, int n);
void cuda_scale(struct backend_ctx *c, float *x, float s, int n);
void cuda_gather(struct backend_ctx *c, float *out, const float *x, const int32_t *rows, int n,
                 int width);
void cuda_scatter_add(struct backend_ctx *c, float *x, const float *y, const int32_t *rows,
                      const float *w, int n, int width);
void cuda_add(struct backend_ctx *c, float *x, const float *y, int n, int width);
void cuda_add_bias(struct backend_ctx *c, float *x, const struct tensor *b, int n, int width);
void cuda_store_kv(struct backend_ctx *c, const struct kv_view *kv, const float *k,
                   const float *v, const int32_t *pos, const int32_t *seq, int n, int n_head_kv,
                   int head_dim);

#endif
