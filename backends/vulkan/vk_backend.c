/*
 * vk_backend.c — the Vulkan backend's instance, its weights and contexts,
 * and its ops table (backend.h).
 *
 * Weights: prepare_weights uploads every tensor of a native type (F32,
 * F16, Q8_0, Q4_0, Q4_K, Q6_K) as it is, through the instance's staging
 * ring; other GGUF block types are dequantized to F16 on the way (their
 * buffer records the type it holds: the tensor itself is not changed, so
 * the CPU can still read part[] as it was); GPTQ is not supported
 * (supports() is false, nothing is uploaded).
 *
 * Sections: buffers, weights, devices and memory, contexts, the ops table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vk_impl.h"

/* What backend.h's opaque buffer is here: a device buffer and the type
 * and row size of what it holds. */
struct backend_buffer {
    struct vk_backend *b;
    struct vk_buf *buf;
    int type;
    size_t row_bytes;
};

static enum ember_status vk_init(const struct ember_options *o, struct ember_backend **out,
                                 struct ember_err *err);

static void vk_free(struct ember_backend *be) {
    struct vk_backend *b = (struct vk_backend *)be;
    if (!b) return;
    if (b->device) vkDeviceWaitIdle(b->device);
    vk_stream_free(b->own);
    vk_arena_free(b);
    vk_buf_free(b, b->dummy);
    if (b->device) vk_pipelines_free(b);
    vk_device_close(b);
    vk_va_free(b);
    free(b->streams);
    free(b);
}

static const char *vk_device_name(const struct ember_backend *be) {
    return ((const struct vk_backend *)be)->report;
}

static bool vk_supports(const struct ember_backend *be, enum ember_op op, int type) {
    (void)be;
    const struct quant_traits *q = quant_traits_for(type);
    switch (op) {
    case EMBER_OP_MATMUL:
    case EMBER_OP_GET_ROWS: return vk_supports_matmul(type) || (q && q->dequant);
    case EMBER_OP_ATTENTION:
    case EMBER_OP_STORE_KV:
        return type == EMBER_TYPE_F32 || type == EMBER_TYPE_F16 || type == EMBER_TYPE_Q8_0;
    case EMBER_OP_GELU_MUL:
    case EMBER_OP_SCALE:
    case EMBER_OP_GATHER:
    case EMBER_OP_SCATTER_ADD: return false; /* not yet: those layers stay on the host */
    default: return type == EMBER_TYPE_F32;
    }
}

/* ---------------------------------------------------------------- buffers */

static struct backend_buffer *vk_buffer_alloc(struct ember_backend *be, size_t bytes) {
    struct backend_buffer *bb = calloc(1, sizeof *bb);
    if (!bb) return NULL;
    bb->b = vk_of(be);
    bb->buf = vk_buf_new(bb->b, bytes, VK_MEM_DEVICE);
    if (!bb->buf) {
        free(bb);
        return NULL;
    }
    return bb;
}

/* Pending work of any stream may still read the buffer: it runs first. */
static void vk_buffer_free(struct backend_buffer *bb) {
    if (!bb) return;
    vk_sync_all(bb->b);
    vk_buf_free(bb->b, bb->buf);
    free(bb);
}

static void vk_upload(struct backend_buffer *bb, size_t off, const void *src, size_t n) {
    vk_sync_all(bb->b);
    vk_stream_write(bb->b->own, (struct vk_loc){bb->buf, off}, src, n);
    vk_stream_flush(bb->b->own);
}

static void vk_download(const struct backend_buffer *bb, size_t off, void *dst, size_t n) {
    vk_sync_all(bb->b);
    vk_stream_read(bb->b->own, dst, (struct vk_loc){bb->buf, off}, n);
}

/* ---------------------------------------------------------------- weights */

struct backend_weights {
    struct backend_buffer **bufs;
    int n;
    size_t bytes;
    int converted, skipped;
    char note[160];
};

/* Rows of a non-native type decoded and written as F16 through the ring,
 * a few rows at a time. */
static bool upload_as_f16(struct vk_backend *b, struct vk_buf *dst, const struct tensor *t) {
    const struct quant_traits *q = quant_traits_for(t->type);
    float *row = malloc((size_t)t->n_in * sizeof *row);
    if (!row) return false;
    size_t out_row = (size_t)t->n_in * 2;
    for (int64_t r = 0; r < t->n_out; r++) {
        struct vk_loc at;
        uint16_t *h = vk_stream_ring(b->own, out_row, &at);
        if (!h) break;
        q->dequant((const uint8_t *)t->part[0] + (size_t)r * t->row_bytes, row, t->n_in);
        for (int64_t i = 0; i < t->n_in; i++) h[i] = quant_f32_to_f16(row[i]);
        vk_stream_copy(b->own, (struct vk_loc){dst, (size_t)r * out_row}, at, out_row);
    }
    free(row);
    return true;
}

/* One tensor's copy on the device, or NULL (no memory, or a type this
 * backend does not run: left for the CPU). */
static struct backend_buffer *prepare_one(struct vk_backend *b, struct backend_weights *w,
                                          struct tensor *t) {
    const struct quant_traits *q = quant_traits_for(t->type);
    if (t->n_parts > 1 || !q || !t->part[0]) return NULL;
    bool native = vk_supports_matmul(t->type);
    size_t row_bytes = native ? t->row_bytes : (size_t)t->n_in * 2;
    struct backend_buffer *bb = vk_buffer_alloc(&b->base, row_bytes * (size_t)t->n_out);
    if (!bb) return NULL;
    bb->type = native ? t->type : EMBER_TYPE_F16;
    bb->row_bytes = row_bytes;
    if (native) vk_stream_write(b->own, (struct vk_loc){bb->buf, 0}, t->part[0], row_bytes * (size_t)t->n_out);
    else if (!upload_as_f16(b, bb->buf, t)) {
        vk_buffer_free(bb);
        return NULL;
    }
    w->converted += !native;
    w->bytes += row_bytes * (size_t)t->n_out;
    t->buf = bb;
    t->prepared = (const void *)bb->buf->addr;
    return bb;
}

static enum ember_status vk_prepare_weights(struct ember_backend *be, const char *source_id,
                                            struct tensor *const *ts, int n,
                                            struct backend_weights **out, struct ember_err *err) {
    struct vk_backend *b = vk_of(be);
    (void)source_id;
    *out = NULL;
    struct backend_weights *w = calloc(1, sizeof *w);
    if (w) w->bufs = calloc((size_t)(n > 0 ? n : 1), sizeof *w->bufs);
    if (!w || !w->bufs) {
        free(w);
        return ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    vk_sync_all(b);
    for (int i = 0; i < n; i++) {
        struct backend_buffer *bb = prepare_one(b, w, ts[i]);
        if (bb) w->bufs[w->n++] = bb;
        else w->skipped++;
    }
    vk_stream_flush(b->own);
    snprintf(w->note, sizeof w->note, "%s: %d tensors uploaded (%.1f MiB, %d converted to F16), %d left on the host",
             b->name, w->n, (double)w->bytes / (1 << 20), w->converted, w->skipped);
    *out = w;
    return EMBER_OK;
}

static void vk_release_weights(struct backend_weights *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) vk_buffer_free(w->bufs[i]);
    free(w->bufs);
    free(w);
}

static const char *vk_weights_note(const struct backend_weights *w) {
    return w ? w->note : "mapped";
}

/* The type and row size the device copy of t holds (its own when none). */
int vk_tensor_type(const struct tensor *t, size_t *row_bytes) {
    if (t->buf) {
        *row_bytes = t->buf->row_bytes;
        return t->buf->type;
    }
    *row_bytes = t->row_bytes;
    return t->type;
}

/* ------------------------------------------------------ devices, memory */

static const struct kv_mem *vk_kv_memory(struct ember_backend *be) { return &vk_of(be)->kv_mem; }

/* --------------------------------------------------------------- contexts */

static void vk_ctx_free(struct backend_ctx *c) {
    if (!c) return;
    struct vk_ctx *x = vk_ctx_of(c);
    struct vk_backend *b = vk_ctx_backend(c);
    vk_stream_free(x->s);
    for (int i = 0; i < x->n_allocs; i++) vk_buf_free(b, x->allocs[i]);
    free(x->allocs);
    free(x);
}

static enum ember_status vk_ctx_new(struct ember_backend *be, const struct backend_ctx_params *p,
                                    struct backend_ctx **out, struct ember_err *err) {
    (void)p;
    *out = NULL;
    struct vk_ctx *x = calloc(1, sizeof *x);
    if (!x) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    x->base = (struct backend_ctx){be->ops, be};
    x->s = vk_stream_new(vk_of(be));
    if (!x->s) {
        vk_ctx_free(&x->base);
        return ember_fail(err, EMBER_ENOMEM, "vulkan: out of memory for a command stream");
    }
    *out = &x->base;
    return EMBER_OK;
}

/* Device memory, zeroed (as the CPU's is) by the stream before any op. */
static void *vk_ctx_alloc(struct backend_ctx *c, size_t bytes) {
    struct vk_ctx *x = vk_ctx_of(c);
    struct vk_buf **list = realloc(x->allocs, (size_t)(x->n_allocs + 1) * sizeof *list);
    if (!list) return NULL;
    x->allocs = list;
    struct vk_buf *buf = vk_buf_new(vk_ctx_backend(c), bytes, VK_MEM_DEVICE);
    if (!buf) return NULL;
    x->allocs[x->n_allocs++] = buf;
    vk_stream_zero(x->s, (struct vk_loc){buf, 0}, buf->bytes);
    return (void *)buf->addr;
}

/* Staged through the ring: the host's bytes are copied at once, so the
 * caller may reuse src; the device copy happens in stream order. */
static void vk_copy_in(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    vk_stream_write(vk_ctx_of(c)->s, vk_locate(vk_ctx_backend(c), dst), src, n);
}

static void vk_copy_out(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    vk_stream_read(vk_ctx_of(c)->s, dst, vk_locate(vk_ctx_backend(c), src), n);
}

/* -------------------------------------------------------------- ops table */

const struct ember_backend_ops vulkan_backend_ops = {
    .name = "vulkan",
    .init = vk_init,
    .free = vk_free,
    .device = vk_device_name,
    .supports = vk_supports,
    .buffer_alloc = vk_buffer_alloc,
    .buffer_free = vk_buffer_free,
    .upload = vk_upload,
    .download = vk_download,
    .prepare_weights = vk_prepare_weights,
    .release_weights = vk_release_weights,
    .weights_note = vk_weights_note,
    .devices = vk_devices,
    .memory = vk_memory,
    .kv_memory = vk_kv_memory,
    .ctx_new = vk_ctx_new,
    .ctx_free = vk_ctx_free,
    .set_rows_exact = NULL, /* kernels per batch width: rows are not promised exact */
    .ctx_alloc = vk_ctx_alloc,
    .copy_in = vk_copy_in,
    .copy_out = vk_copy_out,
    .matmul = vk_matmul,
    .get_rows = vk_get_rows,
    .rmsnorm = vk_rmsnorm,
    .rope = vk_rope,
    .attention = vk_attention,
    .softmax = vk_softmax,
    .silu_mul = vk_silu_mul,
    .add = vk_add,
    .add_bias = vk_add_bias,
    .store_kv = vk_store_kv,
};

static enum ember_status vk_init(const struct ember_options *o, struct ember_backend **out,
                                 struct ember_err *err) {
    *out = NULL;
    struct vk_backend *b = calloc(1, sizeof *b);
    if (!b) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    b->base.ops = &vulkan_backend_ops;
    enum ember_status st = vk_device_open(b, o->device, err);
    if (st) {
        vk_free(&b->base);
        return st;
    }
    vk_va_init(b);
    vk_kv_mem_init(b);
    bool ok = b->va && vk_pipelines_init(b);
    b->dummy = ok ? vk_buf_new(b, 16, VK_MEM_DEVICE) : NULL;
    b->own = b->dummy ? vk_stream_new(b) : NULL;
    if (!b->own) {
        vk_free(&b->base);
        return ember_fail(err, EMBER_ENOMEM, "vulkan: out of memory setting up %s", b->name);
    }
    *out = &b->base;
    return EMBER_OK;
}
