/*
 * cpu_backend.c — the CPU backend's instance and its ops table
 * (backend.h). An instance is one kernel set (cpu_kernels.h) plus the
 * packing and BLAS switches; its contexts (ops.c) hold the threads and
 * scratch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_impl.h"
#include "os.h"

static enum ember_status cpu_init(const struct ember_options *o, struct ember_backend **out,
                                  struct ember_err *err);

static void cpu_free(struct ember_backend *be) {
    struct cpu_backend *b = (struct cpu_backend *)be;
    if (!b) return;
    free(b);
}

static const char *cpu_device(const struct ember_backend *be) {
    return ((const struct cpu_backend *)be)->device;
}

static bool cpu_supports(const struct ember_backend *be, enum ember_op op, int type) {
    const struct type_kernels *q = cpu_type_kernels(((const struct cpu_backend *)be)->k, type);
    switch (op) {
    case EMBER_OP_MATMUL: return q && (q->dot || q->mul_mat_gptq);
    case EMBER_OP_GET_ROWS: return q != NULL; /* GPTQ: the reference's rows */
    default: return type == EMBER_TYPE_F32;
    }
}

/* Host memory: a buffer is its bytes. */
struct backend_buffer *cpu_buffer_alloc(struct ember_backend *be, size_t bytes) {
    (void)be;
    struct backend_buffer *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->bytes = bytes;
    b->data = os_alloc_large(bytes);
    if (!b->data) {
        free(b);
        return NULL;
    }
    return b;
}

void cpu_buffer_free(struct backend_buffer *b) {
    if (!b) return;
    os_free_large(b->data, b->bytes);
    free(b);
}

static void cpu_upload(struct backend_buffer *b, size_t off, const void *src, size_t n) {
    memcpy((uint8_t *)b->data + off, src, n);
}

static void cpu_download(const struct backend_buffer *b, size_t off, void *dst, size_t n) {
    memcpy(dst, (const uint8_t *)b->data + off, n);
}

/* The CPU reads every matrix where the weight source mapped it: one
 * resident copy, nothing to do at load. Batches pack bands of rows as they
 * go (ops.c), so no second layout is kept or cached. */
static enum ember_status cpu_prepare_weights(struct ember_backend *be, const char *source_id,
                                             struct tensor *const *ts, int n,
                                             struct backend_weights **out, struct ember_err *err) {
    (void)be, (void)source_id, (void)ts, (void)n, (void)err;
    *out = NULL;
    return EMBER_OK;
}

static void cpu_release_weights(struct backend_weights *w) { (void)w; }

static const char *cpu_weights_note(const struct backend_weights *w) {
    (void)w;
    return "mapped";
}

/* The host is one device; -ngl plans device memory, not this. Tests
 * (o->test_device_memory) get a second one, cpu-dev: the same kernels on
 * host memory, but with a budget and a kv_memory, so the offload
 * framework runs its device paths where there is no GPU. */
#define TEST_DEVICE "cpu-dev"

/* One device entry; false when out is full. */
static bool add_device(struct backend_device *out, int max, int *n, const char *name,
                       const char *description, uint64_t memory) {
    if (*n >= max) return false;
    struct backend_device *d = &out[(*n)++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->description, sizeof d->description, "%s", description);
    d->memory = memory;
    return true;
}

static int cpu_devices(const struct ember_options *o, struct backend_device *out, int max) {
    int n = 0;
    add_device(out, max, &n, "cpu", "host CPU", 0);
    if (o && o->test_device_memory)
        add_device(out, max, &n, TEST_DEVICE, "test device (host memory)", o->test_device_memory);
    return n;
}

static void cpu_memory(const struct ember_backend *be, uint64_t *free_bytes, uint64_t *total) {
    *free_bytes = *total = ((const struct cpu_backend *)be)->test_memory;
}

/* The test device's KV memory: host memory, poisoned when allocated so a
 * block read before it is written shows up as garbage, not zeros. */
static void *test_kv_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p) memset(p, 0xa5, bytes);
    return p;
}
static void test_kv_release(void *ctx, void *p) {
    (void)ctx;
    free(p);
}
static void test_kv_copy(void *ctx, void *dst, const void *src, size_t n) {
    (void)ctx;
    memcpy(dst, src, n);
}

static const struct kv_mem *cpu_kv_memory(struct ember_backend *be) {
    struct cpu_backend *b = (struct cpu_backend *)be;
    return b->test_memory ? &b->kv_mem : NULL;
}

static void cpu_copy(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    (void)c;
    memcpy(dst, src, n);
}

const struct ember_backend_ops cpu_backend_ops = {
    .name = "cpu",
    .init = cpu_init,
    .free = cpu_free,
    .device = cpu_device,
    .supports = cpu_supports,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .prepare_weights = cpu_prepare_weights,
    .release_weights = cpu_release_weights,
    .weights_note = cpu_weights_note,
    .devices = cpu_devices,
    .memory = cpu_memory,
    .kv_memory = cpu_kv_memory,
    .ctx_new = cpu_ctx_new,
    .ctx_free = cpu_ctx_free,
    .set_rows_exact = cpu_set_rows_exact,
    .ctx_alloc = cpu_ctx_alloc,
    .copy_in = cpu_copy,
    .copy_out = cpu_copy,
    .matmul = cpu_matmul,
    .get_rows = cpu_get_rows,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .attention = cpu_attention,
    .softmax = cpu_softmax,
    .silu_mul = cpu_silu_mul,
    .gelu_mul = cpu_gelu_mul,
    .scale = cpu_scale,
    .gather = cpu_gather,
    .scatter_add = cpu_scatter_add,
    .add = cpu_add,
    .add_bias = cpu_add_bias,
    .store_kv = cpu_store_kv,
};

/* Whether b's batches go to OpenBLAS (blas.c says when), and the device
 * string that tells: "avx512+openblas:SkylakeX", or why not. */
static void cpu_set_device(struct cpu_backend *b, enum cpu_isa isa) {
    const char *core;
    b->blas = cpu_blas_usable(isa, &core);
    if (b->blas)
        snprintf(b->device, sizeof b->device, "%s+openblas:%s", cpu_isa_name(isa), core);
    else if (cpu_blas_built() && isa != CPU_ISA_SCALAR)
        snprintf(b->device, sizeof b->device, "%s (openblas:%s unused)", cpu_isa_name(isa), core);
    else
        snprintf(b->device, sizeof b->device, "%s", cpu_isa_name(isa));
}

/* The kernel set the options name (or the best), and whether batches
 * pack. */
static enum ember_status cpu_init(const struct ember_options *o, struct ember_backend **out,
                                  struct ember_err *err) {
    *out = NULL;
    enum cpu_isa isa;
    enum ember_status st = cpu_isa_pick(o->cpu_isa, &isa, err);
    if (st) return st;
    struct cpu_backend *b = calloc(1, sizeof *b);
    if (!b) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    b->base.ops = &cpu_backend_ops;
    b->k = cpu_kernels_for(isa);
    b->no_pack = o->no_pack;
    if (o->device && strcmp(o->device, "cpu")) {
        if (strcmp(o->device, TEST_DEVICE) || !o->test_device_memory) {
            cpu_free(&b->base);
            return ember_fail(err, EMBER_EUNSUPPORTED, "the cpu backend has no device '%s'", o->device);
        }
        b->test_memory = o->test_device_memory;
        b->kv_mem = (struct kv_mem){NULL, test_kv_alloc, test_kv_release, test_kv_copy, test_kv_copy,
                                    test_kv_copy};
    }
    cpu_set_device(b, isa);
    if (!b->k) { /* cpu_isa_pick checked support; only a failed build is left */
        cpu_free(&b->base);
        return ember_fail(err, EMBER_EUNSUPPORTED, "kernel set %s is not available",
                          cpu_isa_name(isa));
    }
    *out = &b->base;
    return EMBER_OK;
}
