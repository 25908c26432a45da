/*
 * backend.h — the interface every compute backend implements (CPU now;
 * Vulkan and CUDA in issue [7]), and the weight tensor they all read.
 *
 * A backend is a const struct of function pointers (ggml's shape): models/
 * call only these slots, never a kernel, and ask supports() rather than
 * naming a backend. Two objects carry state:
 *   struct ember_backend  one instance: a device and its kernel choice,
 *                         made by ember_backend_new() (registry.c) from the
 *                         options tools/ hands down;
 *   struct backend_ctx    one execution context of an instance: its threads
 *                         (or stream) and scratch, one per model context.
 * Both start with the ops pointer, so the inline helpers at the end can
 * dispatch without knowing which backend it is.
 *
 * Nothing outside backends/ #ifdefs on a backend; registry.c holds the one
 * list of those built in.
 */
#ifndef EMBER_BACKEND_H
#define EMBER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "kv_cache.h"
#include "kv_mem.h"
#include "options.h"
#include "quant.h"

/* ------------------------------------------------------------ tensors */

/* The parts a weight may have: one for GGUF's block types (the rows);
 * GPTQ (issue [6]) has qweight, scales, zeros and g_idx. */
#define TENSOR_MAX_PARTS 4

struct backend_buffer; /* memory a backend owns (host, device); opaque */

/* A weight matrix: n_out rows of n_in values of `type`, as the weight
 * source stores them (views into a mapping; never copied), plus whatever
 * copy the backend made of it in prepare_weights. */
struct tensor {
    int type;                  /* enum ember_type */
    int64_t n_in;              /* values per row (ne[0]) */
    int64_t n_out;             /* rows (ne[1]) */
    size_t row_bytes;          /* bytes of one row of part[0] */
    int n_parts;
    const void *part[TENSOR_MAX_PARTS]; /* part[0]: the rows */
    /* GPTQ types only (n_parts 4): part[] = qweight, scales, qzeros, g_idx
     * (g_idx NULL when groups are contiguous), and their geometry; see
     * quant.h's struct gptq_matrix. row_bytes is 0. */
    struct gptq_layout gptq;
    /* Set by prepare_weights: the buffer holding the backend's own copy and
     * that copy's address (a GPU's upload), or NULL when the backend reads
     * part[] where it is (the CPU always does). */
    struct backend_buffer *buf;
    const void *prepared;
};

/* ---------------------------------------------------------------- ops */

/* What supports() can be asked about: the forward-pass operations. */
enum ember_op {
    EMBER_OP_MATMUL,    /* type: the weight's */
    EMBER_OP_GET_ROWS,  /* type: the table's */
    EMBER_OP_RMSNORM,
    EMBER_OP_ROPE,
    EMBER_OP_ATTENTION,
    EMBER_OP_SOFTMAX,
    EMBER_OP_SILU_MUL,
    EMBER_OP_ADD,
    EMBER_OP_STORE_KV,
    EMBER_OP_GELU_MUL,
    EMBER_OP_SCALE,
    EMBER_OP_GATHER,
    EMBER_OP_SCATTER_ADD,
    EMBER_OP_COUNT
};

struct rope_params {
    int n_rot;            /* leading dims of each head that rotate */
    bool neox;            /* pairs (i, i+n_rot/2) instead of (2i, 2i+1) */
    float freq_base;
    float freq_scale;     /* 1/linear factor */
    float ext_factor;     /* YaRN ramp mix, 0 = off */
    float attn_factor;    /* YaRN magnitude scale */
    float beta_fast, beta_slow;
    int n_ctx_orig;
    /* per pair divisor of theta (llama 3.1): F32, n_rot/2 values, or NULL */
    const struct tensor *freq_factors;
};

/* Causal multi-head attention of a batch: row i, the query of position
 * pos[i] in sequence seq[i], attends to positions 0..pos[i] of that
 * sequence's cache (kv[seq[i]], one layer's view), or with a sliding
 * window only to those p with pos[i] - p < window (llama.cpp's standard
 * SWA: Mistral, Gemma 3's local layers). Query head h reads KV head
 * h / (n_head / n_head_kv) (grouped-query attention). Scores are q.k times
 * scale (Gemma's query_pre_attn_scalar; 0: 1/sqrt(head_dim)). */
struct attn_args {
    const float *q;             /* [n][n_head*head_dim] */
    float *out;                 /* [n][n_head*head_dim] */
    const struct kv_view *kv;   /* one per sequence id */
    const int32_t *pos, *seq;   /* [n] */
    int n, n_head, n_head_kv, head_dim;
    float scale;                /* 0: 1/sqrt(head_dim) */
    int window;                 /* 0: no window */
};

/* The first cache position row at pos may see. */
static inline int attn_first_pos(const struct attn_args *a, int pos) {
    return a->window > 0 && pos >= a->window ? pos - a->window + 1 : 0;
}

/* What an execution context must hold room for. */
struct backend_ctx_params {
    int n_threads;
    int max_rows;      /* rows per op call (the batch) */
    int64_t max_width; /* widest matmul input row */
    int n_head, max_pos; /* attention scores: n_head rows of max_pos */
    int head_dim, kv_block; /* attention's per-head scratch: a query, a block */
};

/* One device a backend could run on (`ember info --devices`). */
struct backend_device {
    char name[64];        /* what --device takes: "vulkan0", "cuda0" */
    char description[128];
    uint64_t memory;      /* bytes, 0 when unknown */
};

struct ember_backend {
    const struct ember_backend_ops *ops;
};
struct backend_ctx {
    const struct ember_backend_ops *ops;
    struct ember_backend *be;
};
struct backend_weights; /* what prepare_weights made; opaque */

struct ember_backend_ops {
    const char *name;                               /* "cpu" */
    /* an instance for these options; EMBER_EINVAL/EUNSUPPORTED when it
     * cannot run here (no such kernel set, no device) */
    enum ember_status (*init)(const struct ember_options *o, struct ember_backend **out,
                              struct ember_err *err);
    void (*free)(struct ember_backend *be);
    /* the device and its kernel choice, for reports ("avx2") */
    const char *(*device)(const struct ember_backend *be);
    /* whether op runs here on tensors of `type` (F32 for the float ops) */
    bool (*supports)(const struct ember_backend *be, enum ember_op op, int type);

    /* buffers: NULL on out of memory; upload/download copy bytes in/out */
    struct backend_buffer *(*buffer_alloc)(struct ember_backend *be, size_t bytes);
    void (*buffer_free)(struct backend_buffer *b);
    void (*upload)(struct backend_buffer *b, size_t off, const void *src, size_t n);
    void (*download)(const struct backend_buffer *b, size_t off, void *dst, size_t n);

    /* Make the backend's own copy of the n weights where it has a better
     * layout or memory (a GPU: upload; the CPU makes none), setting their
     * buf and prepared; source_id names the weights (a file path).
     * Never fails a load for speed's sake: with no memory it leaves the
     * tensors as they are. *out is freed by release_weights (NULL ok). */
    enum ember_status (*prepare_weights)(struct ember_backend *be, const char *source_id,
                                         struct tensor *const *ts, int n,
                                         struct backend_weights **out, struct ember_err *err);
    void (*release_weights)(struct backend_weights *w);
    /* where the weights are read from, for -v (CPU: "mapped") */
    const char *(*weights_note)(const struct backend_weights *w);

    /* Devices and their memory, for -ngl's plan and `ember info --devices`.
     * devices: up to max of the devices this backend could run on here
     * under options o (none when its driver or hardware is missing: not
     * an error; o lets tests ask for the CPU's test device); the
     * instance's device is the one o->device named, or the first.
     * memory: the instance's device memory, free and total bytes (the
     * CPU: 0 and 0, host memory is checked elsewhere). */
    int (*devices)(const struct ember_options *o, struct backend_device *out, int max);
    void (*memory)(const struct ember_backend *be, uint64_t *free, uint64_t *total);
    /* Where this backend keeps the KV blocks of the layers it runs (the
     * cache calls it for their part of every block); NULL: host memory. */
    const struct kv_mem *(*kv_memory)(struct ember_backend *be);

    /* execution contexts */
    enum ember_status (*ctx_new)(struct ember_backend *be, const struct backend_ctx_params *p,
                                 struct backend_ctx **out, struct ember_err *err);
    void (*ctx_free)(struct backend_ctx *c);
    /* Optional (NULL: not offered). While on, every row of a batch is
     * computed to the same bits as in a batch of its own (speculative
     * verification, models/speculative.h): matmuls run their one-row
     * kernel per row over each band of weights, slower than the batch
     * kernels for wide batches. */
    void (*set_rows_exact)(struct backend_ctx *c, bool on);
    /* Activation memory. The float pointers the ops below take (x, out,
     * q, ...) and a kv_view's block addresses are memory of the context
     * (or the instance's kv_memory), not host memory: a GPU hands out
     * device addresses that the host must never dereference, the CPU plain
     * host memory. ctx_alloc: bytes freed with the context, NULL when out
     * of memory. copy_in/copy_out move n bytes between host memory and
     * such an address (pointer arithmetic on it is allowed: rows inside an
     * allocation); copy_out waits for the work queued before it, so the
     * host sees every result. Small per-row arrays (pos, seq, rows) and
     * matmul's host-side tensor descriptors stay host memory. */
    void *(*ctx_alloc)(struct backend_ctx *c, size_t bytes);
    void (*copy_in)(struct backend_ctx *c, void *dst, const void *src, size_t n);
    void (*copy_out)(struct backend_ctx *c, void *dst, const void *src, size_t n);

    /* the forward pass; every op works on n rows at once */
    /* out[k] = w[k] x for k < n_mats (<= BACKEND_MATMUL_MAX), n input rows,
     * as one job (q/k/v, gate/up): out[k] is [n][w[k]->n_out] */
    void (*matmul)(struct backend_ctx *c, int n_mats, float *const out[],
                   const struct tensor *const w[], const float *x, int n);
    /* out[i] = row rows[i] of w, dequantized (embedding lookup) */
    void (*get_rows)(struct backend_ctx *c, float *out, const struct tensor *w,
                     const int32_t *rows, int n);
    /* out[i] = x[i] / rms(x[i]) * w, n rows of width values (w: F32, width) */
    void (*rmsnorm)(struct backend_ctx *c, float *out, const float *x, const struct tensor *w,
                    int n, int width, float eps);
    /* rotate the n_heads heads of each of n rows, row i at position pos[i] */
    void (*rope)(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
                 const int32_t *pos, const struct rope_params *rp);
    void (*attention)(struct backend_ctx *c, const struct attn_args *a);
    void (*softmax)(struct backend_ctx *c, float *x, int n);          /* in place */
    void (*silu_mul)(struct backend_ctx *c, float *g, const float *u, int n); /* g = silu(g) u */
    /* g = gelu(g) u, GELU's tanh approximation (GeGLU: Gemma) */
    void (*gelu_mul)(struct backend_ctx *c, float *g, const float *u, int n);
    void (*scale)(struct backend_ctx *c, float *x, float s, int n);   /* x *= s, n floats */
    /* Rows of activations, for mixture-of-experts layers: gather copies
     * row rows[i] of x to row i of out; scatter_add adds w[i] times row i
     * of y to row rows[i] of x (rows distinct). rows and w are host
     * arrays of n. */
    void (*gather)(struct backend_ctx *c, float *out, const float *x, const int32_t *rows, int n,
                   int width);
    void (*scatter_add)(struct backend_ctx *c, float *x, const float *y, const int32_t *rows,
                        const float *w, int n, int width);
    /* x[i] += y[i] for n rows of width (a residual) */
    void (*add)(struct backend_ctx *c, float *x, const float *y, int n, int width);
    /* x[i] += b for n rows of width (b: F32, width values: a bias) */
    void (*add_bias)(struct backend_ctx *c, float *x, const struct tensor *b, int n, int width);
    /* the n rows of k and v ([n][n_head_kv*head_dim]) into their
     * sequences' caches (kv[seq[i]], one layer) at positions pos[i] */
    void (*store_kv)(struct backend_ctx *c, const struct kv_view *kv, const float *k,
                     const float *v, const int32_t *pos, const int32_t *seq, int n,
                     int n_head_kv, int head_dim);
};

#define BACKEND_MATMUL_MAX 4

/* An instance of the backend o->backend names ("cpu"; NULL: cpu), or
 * EMBER_EUNSUPPORTED naming those built in. Free with ember_backend_free. */
enum ember_status ember_backend_new(const struct ember_options *o, struct ember_backend **out,
                                    struct ember_err *err);
void ember_backend_free(struct ember_backend *be);
/* The backends built into this binary, comma-separated. */
const char *ember_backend_list(void);
/* Every device of every built-in backend under options o, backend by
 * backend in registry order (the host "cpu" first): up to max of them,
 * each with its backend's name; returns how many. An instance for one is
 * ember_backend_new with o->backend and o->device set to those names. */
struct ember_device {
    const char *backend;      /* the ops' name: "cpu", "vulkan", "cuda" */
    struct backend_device dev;
};
int ember_devices(const struct ember_options *o, struct ember_device *out, int max);

/* ------------------------------------------------- calls, for models/ */

static inline void be_set_rows_exact(struct backend_ctx *c, bool on) {
    if (c->ops->set_rows_exact) c->ops->set_rows_exact(c, on);
}
static inline void be_matmul(struct backend_ctx *c, float *out, const struct tensor *w,
                             const float *x, int n) {
    c->ops->matmul(c, 1, &out, &w, x, n);
}
static inline void be_matmul_many(struct backend_ctx *c, int n_mats, float *const out[],
                                  const struct tensor *const w[], const float *x, int n) {
    c->ops->matmul(c, n_mats, out, w, x, n);
}
static inline void be_get_rows(struct backend_ctx *c, float *out, const struct tensor *w,
                               const int32_t *rows, int n) {
    c->ops->get_rows(c, out, w, rows, n);
}
static inline void be_rmsnorm(struct backend_ctx *c, float *out, const float *x,
                              const struct tensor *w, int n, int width, float eps) {
    c->ops->rmsnorm(c, out, x, w, n, width, eps);
}
static inline void be_rope(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
                           const int32_t *pos, const struct rope_params *rp) {
    c->ops->rope(c, x, n, n_heads, head_dim, pos, rp);
}
static inline void be_attention(struct backend_ctx *c, const struct attn_args *a) {
    c->ops->attention(c, a);
}
static inline void be_silu_mul(struct backend_ctx *c, float *g, const float *u, int n) {
    c->ops->silu_mul(c, g, u, n);
}
static inline void be_gelu_mul(struct backend_ctx *c, float *g, const float *u, int n) {
    c->ops->gelu_mul(c, g, u, n);
}
static inline void be_scale(struct backend_ctx *c, float *x, float s, int n) {
    c->ops->scale(c, x, s, n);
}
static inline void be_gather(struct backend_ctx *c, float *out, const float *x, const int32_t *rows,
                             int n, int width) {
    c->ops->gather(c, out, x, rows, n, width);
}
static inline void be_scatter_add(struct backend_ctx *c, float *x, const float *y,
                                  const int32_t *rows, const float *w, int n, int width) {
    c->ops->scatter_add(c, x, y, rows, w, n, width);
}
static inline void be_add(struct backend_ctx *c, float *x, const float *y, int n, int width) {
    c->ops->add(c, x, y, n, width);
}
static inline void be_add_bias(struct backend_ctx *c, float *x, const struct tensor *b, int n,
                               int width) {
    c->ops->add_bias(c, x, b, n, width);
}
static inline void *be_alloc(struct backend_ctx *c, size_t bytes) {
    return c->ops->ctx_alloc(c, bytes);
}
static inline void be_copy_in(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    c->ops->copy_in(c, dst, src, n);
}
static inline void be_copy_out(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    c->ops->copy_out(c, dst, src, n);
}
static inline void be_store_kv(struct backend_ctx *c, const struct kv_view *kv, const float *k,
                               const float *v, const int32_t *pos, const int32_t *seq, int n,
                               int n_head_kv, int head_dim) {
    c->ops->store_kv(c, kv, k, v, pos, seq, n, n_head_kv, head_dim);
}

#endif
