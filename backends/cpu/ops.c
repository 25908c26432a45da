/*
 * ops.c — the CPU backend's forward-pass ops (backend.h) and its execution
 * context: a thread pool and scratch for converted activations and
 * attention scores.
 *
 * The speed lives in the kernels of the context's table (cpu_kernels.h);
 * this file splits the work. Matmul rows are split into fixed bands so each
 * output value is computed by one thread with one summation order, whatever
 * the thread count.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_impl.h"
#include "rope.h"

/* Converted rows start on cache lines. */
static size_t vec_stride(int vec_type, int64_t n) {
    return (quant_row_bytes(vec_type, n) + 63) & ~(size_t)63;
}

enum ember_status cpu_ctx_new(struct ember_backend *be, const struct backend_ctx_params *p,
                              struct backend_ctx **out, struct ember_err *err) {
    const struct cpu_backend *b = (const struct cpu_backend *)be;
    *out = NULL;
    struct cpu_ctx *c = calloc(1, sizeof *c);
    if (!c) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    c->base = (struct backend_ctx){be->ops, be};
    c->k = b->k;
    c->no_pack = b->no_pack;
    c->blas = b->blas;
    if (c->blas) cpu_blas_setup();
    c->max_rows = p->max_rows;
    c->max_pos = p->max_pos;
    /* The widest activation encoding is F32: 4 bytes a value. */
    c->vec_cap = vec_stride(EMBER_TYPE_F32, p->max_width) * (size_t)p->max_rows;
    c->vec = aligned_alloc(64, c->vec_cap);
    c->pool = threadpool_new(p->n_threads);
    c->n_pack = c->pool ? threadpool_size(c->pool) : 0;
    c->pack = calloc((size_t)(c->n_pack ? c->n_pack : 1), sizeof *c->pack);
    c->attn_tmp_floats = cpu_attention_tmp_floats(p->head_dim, p->kv_block, p->max_pos);
    c->attn_tmp = calloc((size_t)(c->n_pack ? c->n_pack : 1) * c->attn_tmp_floats, sizeof(float));
    if (!c->vec || !c->attn_tmp || !c->pool || !c->pack) {
        cpu_ctx_free(&c->base);
        return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a context's scratch");
    }
    *out = &c->base;
    return EMBER_OK;
}

void cpu_ctx_free(struct backend_ctx *bc) {
    if (!bc) return;
    struct cpu_ctx *c = cpu_ctx_of(bc);
    threadpool_free(c->pool);
    for (int i = 0; c->pack && i < c->n_pack; i++) free(c->pack[i].data);
    free(c->pack);
    free(c->vec);
    free(c->attn_tmp);
    for (int i = 0; i < c->n_allocs; i++) free(c->allocs[i]);
    free(c->allocs);
    free(c);
}

/* Activations are host memory: 64-byte aligned (a cache line, and what
 * the widest vector loads like), zeroed, kept in a list for ctx_free. */
void *cpu_ctx_alloc(struct backend_ctx *bc, size_t bytes) {
    struct cpu_ctx *c = cpu_ctx_of(bc);
    void **list = realloc(c->allocs, (size_t)(c->n_allocs + 1) * sizeof *list);
    if (!list) return NULL;
    c->allocs = list;
    size_t size = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, size ? size : 64);
    if (!p) return NULL;
    memset(p, 0, size);
    c->allocs[c->n_allocs] = p;
    c->n_allocs++;
    return p;
}

struct matmul_job {
    float *out;
    const struct tensor *w;
    const uint8_t *vec;
    size_t vec_stride;
    int n;
    const struct type_kernels *q, *vq; /* the weight's kernels, the activation's */
    int64_t rows_per_task;
    struct pack_scratch *pack; /* per thread; NULL: read the rows as they are */
    bool exact;                /* each column through the one-row kernel */
};

void *cpu_scratch_reserve(struct pack_scratch *ps, size_t need) {
    if (need > ps->cap) {
        free(ps->data);
        ps->data = aligned_alloc(64, (need + 63) & ~(size_t)63);
        ps->cap = ps->data ? need : 0;
    }
    return ps->data;
}

/* A band of rows packed into the running thread's scratch (the type's
 * interleaved layout), or NULL when the scratch cannot grow to it. */
static const uint8_t *pack_band(const struct matmul_job *j, int64_t r0, int64_t rows) {
    struct pack_scratch *ps = &j->pack[threadpool_worker()];
    if (!cpu_scratch_reserve(ps, j->q->pack_bytes(rows, j->w->n_in))) return NULL;
    j->q->pack(j->w->n_in, (const uint8_t *)j->w->part[0] + (size_t)r0 * j->w->row_bytes,
               j->w->row_bytes, rows, ps->data);
    return ps->data;
}

/* A GPTQ tensor's parts as quant/'s view of them. */
static struct gptq_matrix gptq_of(const struct tensor *w) {
    return (struct gptq_matrix){w->gptq, w->n_in, w->n_out, w->part[0], w->part[1], w->part[2],
                                w->part[3]};
}

/* Each task owns a band of weight rows and computes them for every input
 * row, so a weight row is read from memory once per batch. A batch packs
 * its band first (BLIS's way: for many columns the copy is a small part
 * of the work, and the packed panel stays in L2 while every column
 * streams past it); a single token reads the rows where they are. */
static void matmul_rows(const struct matmul_job *j, int task) {
    int64_t r0 = (int64_t)task * j->rows_per_task;
    int64_t r1 = r0 + j->rows_per_task;
    if (r1 > j->w->n_out) r1 = j->w->n_out;
    if (j->q->mul_mat_gptq) { /* GPTQ: bands of output columns, float activations */
        struct gptq_matrix m = gptq_of(j->w);
        j->q->mul_mat_gptq(&m, r0, r1, (const float *)j->vec, j->vec_stride / sizeof(float), j->n,
                           j->out, (size_t)j->w->n_out);
        return;
    }
    if (j->exact && j->n > 1 && j->q->mul_mat_exact) {
        /* rows_exact with the type's exact kernel: each column bit for bit
         * the dot (one-row path), the weight work shared across columns */
        j->q->mul_mat_exact(j->w->n_in, (const uint8_t *)j->w->part[0] + (size_t)r0 * j->w->row_bytes,
                            j->w->row_bytes, (int)(r1 - r0), j->vec, j->vec_stride, j->n, j->out + r0,
                            (size_t)j->w->n_out);
        return;
    }
    if (j->exact && j->n > 1) {
        /* rows_exact: the one-row path per column; the band stays in cache
         * from one column to the next, so the weights still stream once */
        struct matmul_job one = *j;
        one.n = 1;
        for (int i = 0; i < j->n; i++) {
            one.vec = j->vec + (size_t)i * j->vec_stride;
            one.out = j->out + (size_t)i * (size_t)j->w->n_out;
            matmul_rows(&one, task);
        }
        return;
    }
    const uint8_t *band = j->pack ? pack_band(j, r0, r1 - r0) : NULL;
    if (band) {
        j->q->mul_mat_packed(j->w->n_in, band, (int)(r1 - r0), j->vec, j->vec_stride, j->n,
                             j->out + r0, (size_t)j->w->n_out);
        return;
    }
    const uint8_t *base = (const uint8_t *)j->w->part[0] + (size_t)r0 * j->w->row_bytes;
    if (j->q->mul_mat) {
        j->q->mul_mat(j->w->n_in, base, j->w->row_bytes, (int)(r1 - r0), j->vec,
                      j->vec_stride, j->n, j->out + r0, (size_t)j->w->n_out);
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const void *row = base + (size_t)(r - r0) * j->w->row_bytes;
        for (int i = 0; i < j->n; i++)
            j->out[(size_t)i * j->w->n_out + r] =
                j->q->dot(row, j->vec + (size_t)i * j->vec_stride, j->w->n_in);
    }
}

/* The job of W x for n rows whose converted activations are at vec. */
static struct matmul_job matmul_job_for(const struct cpu_ctx *c, float *out,
                                        const struct tensor *w, const uint8_t *vec, int n) {
    const struct type_kernels *q = &c->k->type[w->type];
    /* Batches from the type's pack_min_cols on pack their weight bands
     * (never fewer than 8: below that mul_mat's decode kernels stream the
     * rows once for all the columns, and packing for 2-4 rows ran at half
     * their speed); narrower ones read the rows as they are. */
    bool pack = q->pack && q->mul_mat_packed && !c->no_pack && !c->rows_exact && n >= 8 &&
                n >= q->pack_min_cols;
    /* Bands of rows per task: multiples of PACK_ROWS. A packed band is
     * one panel in L2; a single token's bands are long stretches of one
     * stream (the decode kernels prepare the activation once per band and
     * prefetch ahead within it: 64 rows decoded a 1.1B Q4_0 model 5-20%
     * faster than 16 on a Zen 4); small batches take 32 (the panel GEMM
     * packs 32 rows at a time). */
    int64_t band = pack || n == 1 || c->rows_exact ? 64 : n >= 4 ? 32 : 16;
    /* GPTQ's qweight is [in/pf][out]: a task's band of outputs is a stretch
     * of every word row, read row after row; wide stretches stream */
    if (q->mul_mat_gptq) band = 1024;
    return (struct matmul_job){out, w, vec, vec_stride(q->vec_type, w->n_in), n, q,
                               &c->k->type[q->vec_type], band, pack ? c->pack : NULL,
                               c->rows_exact && !q->mul_mat_gptq};
}

static int64_t matmul_tasks(const struct matmul_job *j) {
    return (j->w->n_out + j->rows_per_task - 1) / j->rows_per_task;
}

/* Each of n rows of x converted into the activation type job j reads. */
static void matmul_convert(const struct matmul_job *j, const float *x) {
    for (int i = 0; i < j->n; i++)
        j->vq->quantize(x + (size_t)i * j->w->n_in, (uint8_t *)j->vec + (size_t)i * j->vec_stride, j->w->n_in);
}

/* Several matrices' tasks as one job: task t belongs to the first matrix k
 * with t < first[k + 1]. */
struct matmul_many {
    struct matmul_job j[BACKEND_MATMUL_MAX];
    int64_t first[BACKEND_MATMUL_MAX + 1];
};

static void matmul_many_task(void *arg, int task) {
    const struct matmul_many *m = arg;
    int k = 0;
    while (task >= m->first[k + 1]) k++;
    matmul_rows(&m->j[k], (int)(task - m->first[k]));
}

void cpu_set_rows_exact(struct backend_ctx *c, bool on) { cpu_ctx_of(c)->rows_exact = on; }

/* All matrices' tasks go to the pool as one job: one wait instead of one
 * per matrix, and a thread done with one matrix goes on with the next.
 * Matrices whose activations convert differently (one conversion buffer)
 * go one by one. */
void cpu_matmul(struct backend_ctx *bc, int n_mats, float *const out[],
                const struct tensor *const w[], const float *x, int n) {
    struct cpu_ctx *c = cpu_ctx_of(bc);
    if (n_mats < 1 || (!c->rows_exact && cpu_blas_matmul(c, n_mats, out, w, x, n))) return;
    bool shared = n_mats <= BACKEND_MATMUL_MAX;
    for (int k = 1; k < n_mats && shared; k++)
        shared = c->k->type[w[k]->type].vec_type == c->k->type[w[0]->type].vec_type &&
                 w[k]->n_in == w[0]->n_in;
    if (!shared) {
        for (int k = 0; k < n_mats; k++) cpu_matmul(bc, 1, &out[k], &w[k], x, n);
        return;
    }
    struct matmul_many m = {.first = {0}};
    for (int k = 0; k < n_mats; k++) {
        m.j[k] = matmul_job_for(c, out[k], w[k], c->vec, n);
        m.first[k + 1] = m.first[k] + matmul_tasks(&m.j[k]);
    }
    matmul_convert(&m.j[0], x);
    threadpool_run(c->pool, matmul_many_task, &m, (int)m.first[n_mats]);
}

void cpu_get_rows(struct backend_ctx *c, float *out, const struct tensor *w, const int32_t *rows,
                  int n) {
    const struct type_kernels *q = &cpu_ctx_of(c)->k->type[w->type];
    if (q->mul_mat_gptq) {
        struct gptq_matrix m = gptq_of(w);
        for (int i = 0; i < n; i++) gptq_dequant_row_ref(&m, rows[i], out + (size_t)i * w->n_in);
        return;
    }
    for (int i = 0; i < n; i++)
        q->dequant((const uint8_t *)w->part[0] + (size_t)rows[i] * w->row_bytes,
                   out + (size_t)i * w->n_in, w->n_in);
}

void cpu_rmsnorm(struct backend_ctx *c, float *out, const float *x, const struct tensor *wt,
                 int n, int width, float eps) {
    const struct vec_kernels *vk = &cpu_ctx_of(c)->k->vec;
    const float *w = wt->part[0];
    for (int r = 0; r < n; r++) {
        const float *xr = x + (size_t)r * width;
        float *o = out + (size_t)r * width;
        float ss = vk->dot(xr, xr, width);
        float scale = 1.0f / sqrtf(ss / (float)width + eps);
        for (int i = 0; i < width; i++) o[i] = xr[i] * scale * w[i];
    }
}

void cpu_add(struct backend_ctx *c, float *x, const float *y, int n, int width) {
    (void)c;
    size_t len = (size_t)n * (size_t)width;
    for (size_t i = 0; i < len; i++) x[i] += y[i];
}

void cpu_add_bias(struct backend_ctx *c, float *x, const struct tensor *b, int n, int width) {
    (void)c;
    const float *y = b->part[0];
    for (int r = 0; r < n; r++) {
        float *xr = x + (size_t)r * width;
        for (int i = 0; i < width; i++) xr[i] += y[i];
    }
}

void cpu_softmax(struct backend_ctx *c, float *x, int n) {
    const struct vec_kernels *vk = &cpu_ctx_of(c)->k->vec;
    float sum = vk->exp_sub(x, vk->max(x, n), n);
    vk->scale(x, 1.0f / sum, n);
}

void cpu_silu_mul(struct backend_ctx *c, float *g, const float *u, int n) {
    cpu_ctx_of(c)->k->vec.silu_mul(g, u, n);
}

/* GELU's tanh approximation, as Gemma's gelu_pytorch_tanh and ggml's
 * gelu: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void cpu_gelu_mul(struct backend_ctx *c, float *g, const float *u, int n) {
    (void)c;
    for (int i = 0; i < n; i++) {
        float x = g[i];
        g[i] = 0.5f * x * (1.0f + tanhf(0.7978845608f * x * (1.0f + 0.044715f * x * x))) * u[i];
    }
}

void cpu_scale(struct backend_ctx *c, float *x, float s, int n) {
    cpu_ctx_of(c)->k->vec.scale(x, s, n);
}

void cpu_gather(struct backend_ctx *c, float *out, const float *x, const int32_t *rows, int n,
                int width) {
    (void)c;
    for (int i = 0; i < n; i++)
        memcpy(out + (size_t)i * width, x + (size_t)rows[i] * width, (size_t)width * sizeof *out);
}

void cpu_scatter_add(struct backend_ctx *c, float *x, const float *y, const int32_t *rows,
                     const float *w, int n, int width) {
    (void)c;
    for (int i = 0; i < n; i++) {
        float *xr = x + (size_t)rows[i] * width;
        const float *yr = y + (size_t)i * width;
        for (int k = 0; k < width; k++) xr[k] += w[i] * yr[k];
    }
}

/* One row's n_heads heads at position pos (rope.h's angles, applied pair
 * by pair as they are computed). */
static void rope_row(float *v, int n_heads, int head_dim, int pos, const struct rope_params *rp) {
    int n_rot = rp->n_rot;
    float low, high;
    rope_yarn_range(rp, &low, &high);
    float theta_scale = powf(rp->freq_base, -2.0f / (float)n_rot);
    float theta_pos = (float)pos;
    for (int i0 = 0; i0 < n_rot; i0 += 2, theta_pos *= theta_scale) {
        float cs, sn;
        rope_pair(rp, theta_pos, i0, low, high, &cs, &sn);
        int a = rp->neox ? i0 / 2 : i0;
        int b = rp->neox ? i0 / 2 + n_rot / 2 : i0 + 1;
        for (int h = 0; h < n_heads; h++) {
            float *p = v + (size_t)h * head_dim;
            float x0 = p[a], x1 = p[b];
            p[a] = x0 * cs - x1 * sn;
            p[b] = x0 * sn + x1 * cs;
        }
    }
}

void cpu_rope(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
              const int32_t *pos, const struct rope_params *rp) {
    (void)c;
    for (int i = 0; i < n; i++)
        rope_row(x + (size_t)i * n_heads * head_dim, n_heads, head_dim, pos[i], rp);
}
