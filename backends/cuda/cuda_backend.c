/*
 * cuda_backend.c — the CUDA backend's instance and its ops table
 * (backend.h): which devices there are and how much memory they have,
 * picking one (--device cudaN), what it supports, and where the KV blocks
 * of its layers live (kv_mem.h: plain device memory).
 *
 * The CUDA runtime is linked statically (make CUDA=1), so this binary
 * starts where there is no driver or GPU: cudaGetDeviceCount then fails,
 * devices() lists none and init says why, and nothing else is touched.
 *
 * Ordering: the contexts' streams are blocking streams (cudaStreamCreate),
 * and the KV memory's copies below run on the legacy default stream, which
 * waits for them and which they wait for. So a copy-on-write copy of a
 * block, or a read of it for /save, always sees every store_kv queued
 * before it, with no explicit synchronization here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_impl.h"

#ifndef EMBER_CUDA_ARCH
#define EMBER_CUDA_ARCH "?" /* the Makefile passes the list it compiled for */
#endif

const char *cuda_err_str(cudaError_t e) {
    const char *s = cudaGetErrorString(e);
    return s ? s : "unknown CUDA error";
}

/* Devices the runtime sees; 0 (with why) when it sees none or fails. The
 * runtime prints nothing itself when the driver is missing. */
static int device_count(const char **why) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        *why = cuda_err_str(e);
        (void)cudaGetLastError(); /* not sticky, but leave no error behind */
        return 0;
    }
    *why = "no device found";
    return n;
}

static int cuda_devices(const struct ember_options *o, struct backend_device *out, int max) {
    (void)o;
    const char *why;
    int n = device_count(&why), k = 0;
    for (int i = 0; i < n && k < max; i++) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
        memset(&out[k], 0, sizeof out[k]);
        snprintf(out[k].name, sizeof out[k].name, "cuda%d", i);
        snprintf(out[k].description, sizeof out[k].description, "%.100s (compute %d.%d)", p.name,
                 p.major, p.minor);
        out[k++].memory = (uint64_t)p.totalGlobalMem;
    }
    return k;
}

static void cuda_memory(const struct ember_backend *be, uint64_t *free_bytes, uint64_t *total) {
    const struct cuda_backend *b = (const struct cuda_backend *)be;
    size_t f = 0, t = 0;
    if (cudaSetDevice(b->device) != cudaSuccess || cudaMemGetInfo(&f, &t) != cudaSuccess) f = t = 0;
    *free_bytes = f;
    *total = t;
}

static const char *cuda_device(const struct ember_backend *be) {
    return ((const struct cuda_backend *)be)->desc;
}

/* Matmuls and lookups of any block type quant/ can decode (those the
 * kernels lack become F16 at upload); GPTQ's four-part matrices are not
 * uploaded. Attention and store_kv read and write F32, F16 and Q8_0
 * caches; the other ops take F32. */
static bool cuda_supports(const struct ember_backend *be, enum ember_op op, int type) {
    (void)be;
    switch (op) {
    case EMBER_OP_MATMUL:
    case EMBER_OP_GET_ROWS: {
        const struct quant_traits *q = quant_traits_for(type);
        return cuk_type_ok(type) || (q && q->dequant && type != EMBER_TYPE_Q8_K);
    }
    case EMBER_OP_ATTENTION:
    case EMBER_OP_STORE_KV: /* type: the KV cache's */
        return type == EMBER_TYPE_F32 || type == EMBER_TYPE_F16 || type == EMBER_TYPE_Q8_0;
    case EMBER_OP_GELU_MUL:
    case EMBER_OP_SCALE:
    case EMBER_OP_GATHER:
    case EMBER_OP_SCATTER_ADD: return false; /* not yet: those layers stay on the host */
    default: return type == EMBER_TYPE_F32;
    }
}

/* ------------------------------------------------------------ KV memory */

static void *kv_alloc(void *ctx, size_t bytes) {
    struct cuda_backend *b = ctx;
    void *p = NULL;
    /* cudaMalloc aligns to 256 bytes, more than kv_mem's 64 */
    if (cudaSetDevice(b->device) != cudaSuccess || cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
        (void)cudaGetLastError();
        return NULL;
    }
    return p;
}

/* A block is released when a sequence shrinks, maybe right after kernels
 * that read it were queued: wait for the device first (rare, and cheap
 * next to a decode step). */
static void kv_release(void *ctx, void *p) {
    (void)ctx;
    if (!p) return;
    (void)cudaDeviceSynchronize();
    (void)cudaFree(p);
}

/* kv_mem's calls return nothing: a failed copy leaves the bytes as they
 * were, and its error reaches the next context op that checks (a sticky
 * error fails every later call). */
static void kv_copy(void *ctx, void *dst, const void *src, size_t n) {
    (void)ctx;
    (void)cudaMemcpy(dst, src, n, cudaMemcpyDeviceToDevice);
}

static void kv_read(void *ctx, void *host_dst, const void *src, size_t n) {
    (void)ctx;
    if (cudaMemcpy(host_dst, src, n, cudaMemcpyDeviceToHost) != cudaSuccess)
        memset(host_dst, 0xff, n);
}

static void kv_write(void *ctx, void *dst, const void *host_src, size_t n) {
    (void)ctx;
    (void)cudaMemcpy(dst, host_src, n, cudaMemcpyHostToDevice);
}

static const struct kv_mem *cuda_kv_memory(struct ember_backend *be) {
    return &((struct cuda_backend *)be)->kv;
}

/* -------------------------------------------------------------- instance */

static void cuda_free(struct ember_backend *be) {
    struct cuda_backend *b = (struct cuda_backend *)be;
    if (!b) return;
    cuda_uploads_free(b);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static enum ember_status cuda_init(const struct ember_options *o, struct ember_backend **out,
                                   struct ember_err *err);

const struct ember_backend_ops cuda_backend_ops = {
    .name = "cuda",
    .init = cuda_init,
    .free = cuda_free,
    .device = cuda_device,
    .supports = cuda_supports,
    .buffer_alloc = cuda_buffer_alloc,
    .buffer_free = cuda_buffer_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .prepare_weights = cuda_prepare_weights,
    .release_weights = cuda_release_weights,
    .weights_note = cuda_weights_note,
    .devices = cuda_devices,
    .memory = cuda_memory,
    .kv_memory = cuda_kv_memory,
    .ctx_new = cuda_ctx_new,
    .ctx_free = cuda_ctx_free,
    .set_rows_exact = NULL, /* kernels per batch width: rows are not promised exact */
    .ctx_alloc = cuda_ctx_alloc,
    .copy_in = cuda_copy_in,
    .copy_out = cuda_copy_out,
    .matmul = cuda_matmul,
    .get_rows = cuda_get_rows,
    .rmsnorm = cuda_rmsnorm,
    .rope = cuda_rope,
    .attention = cuda_attention,
    .softmax = cuda_softmax,
    .silu_mul = cuda_silu_mul,
    .add = cuda_add,
    .add_bias = cuda_add_bias,
    .store_kv = cuda_store_kv,
};

/* The device o->device names ("cudaN"; NULL: cuda0), checked against the
 * n there are. */
static enum ember_status pick_device(const char *name, int n, int *dev, struct ember_err *err) {
    *dev = 0;
    if (!name) return EMBER_OK;
    char *end = NULL;
    long i = strncmp(name, "cuda", 4) ? -1 : strtol(name + 4, &end, 10);
    if (i < 0 || end == name + 4 || *end || i >= n)
        return ember_fail(err, EMBER_EINVAL, "no CUDA device '%s' (there are %d: cuda0..cuda%d)",
                          name, n, n - 1);
    *dev = (int)i;
    return EMBER_OK;
}

static enum ember_status cuda_init(const struct ember_options *o, struct ember_backend **out,
                                   struct ember_err *err) {
    *out = NULL;
    const char *why;
    int n = device_count(&why), dev;
    if (n < 1)
        return ember_fail(err, EMBER_EUNSUPPORTED, "no CUDA device (cudaGetDeviceCount: %s)", why);
    enum ember_status st = pick_device(o->device, n, &dev, err);
    if (st) return st;
    struct cudaDeviceProp p;
    cudaError_t e = cudaSetDevice(dev);
    if (e == cudaSuccess) e = cudaGetDeviceProperties(&p, dev);
    if (e != cudaSuccess)
        return ember_fail(err, EMBER_EUNSUPPORTED, "CUDA device cuda%d: %s", dev, cuda_err_str(e));
    if (p.major < 6 || (p.major == 6 && p.minor < 1))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "CUDA device cuda%d (%s) has compute %d.%d; ember needs 6.1 or newer (dp4a)",
                          dev, p.name, p.major, p.minor);
    if ((e = cuk_probe()) != cudaSuccess)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "CUDA device cuda%d (%s, compute %d.%d): %s (this binary was built for "
                          "CUDA_ARCH=\"%s\")", dev, p.name, p.major, p.minor, cuda_err_str(e),
                          EMBER_CUDA_ARCH);
    struct cuda_backend *b = calloc(1, sizeof *b);
    if (!b) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    if (pthread_mutex_init(&b->lock, NULL)) {
        free(b);
        return ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    b->base.ops = &cuda_backend_ops;
    b->device = dev;
    b->kv = (struct kv_mem){b, kv_alloc, kv_release, kv_copy, kv_read, kv_write};
    snprintf(b->desc, sizeof b->desc, "cuda%d: %.100s (compute %d.%d)", dev, p.name, p.major,
             p.minor);
    *out = &b->base;
    return EMBER_OK;
}
