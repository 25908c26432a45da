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
    .ctx_new = cpu_ctx_new,
    .ctx_free = cpu_ctx_free,
    .matmul = cpu_matmul,
    .get_rows = cpu_get_rows,
    .rmsnorm = cpu_rmsnorm,
    .rope = cpu_rope,
    .attention = cpu_attention,
    .softmax = cpu_softmax,
    .silu_mul = cpu_silu_mul,
    .add = cpu_add,
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
    cpu_set_device(b, isa);
    if (!b->k) { /* cpu_isa_pick checked support; only a failed build is left */
        cpu_free(&b->base);
        return ember_fail(err, EMBER_EUNSUPPORTED, "kernel set %s is not available",
                          cpu_isa_name(isa));
    }
    *out = &b->base;
    return EMBER_OK;
}
