/*
 * ops.c — reference CPU implementations of ops.h.
 *
 * Plain loops; the speed work (SIMD, batching) belongs to the kernels behind
 * quant_ops_for() and to later passes over this file. Matmul rows are split
 * into fixed chunks so each output value is computed by one thread with one
 * summation order, whatever the thread count.
 */
#include "ops.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "vec.h"

/* Converted rows start on cache lines. */
static size_t vec_stride(int vec_type, int64_t n) {
    return (quant_row_bytes(vec_type, n) + 63) & ~(size_t)63;
}

bool ops_ctx_init(struct ops_ctx *c, struct threadpool *pool, int64_t max_n, int max_rows) {
    c->pool = pool;
    c->max_rows = max_rows;
    /* The widest activation encoding is F32: 4 bytes a value. */
    c->vec_cap = vec_stride(EMBER_TYPE_F32, max_n) * (size_t)max_rows;
    c->vec = aligned_alloc(64, c->vec_cap);
    return c->vec != NULL;
}

void ops_ctx_free(struct ops_ctx *c) {
    free(c->vec);
    c->vec = NULL;
}

struct matmul_job {
    float *out;
    const struct tensor *w;
    const uint8_t *vec;
    size_t vec_stride;
    int n;
    const struct quant_ops *q;
    int64_t rows_per_task;
};

/* Each task owns a band of weight rows and computes them for every input
 * row, so a weight row is read from memory once per batch. */
static void matmul_rows(const struct matmul_job *j, int task) {
    int64_t r0 = (int64_t)task * j->rows_per_task;
    int64_t r1 = r0 + j->rows_per_task;
    if (r1 > j->w->n_out) r1 = j->w->n_out;
    if (j->w->packed && j->q->mul_mat_packed) {
        /* rows_per_task is a multiple of PACK_ROWS, so r0 starts a group */
        const uint8_t *band = (const uint8_t *)j->w->packed +
                              (size_t)(r0 / PACK_ROWS) * j->q->pack_bytes(PACK_ROWS, j->w->n_in);
        j->q->mul_mat_packed(j->w->n_in, band, (int)(r1 - r0), j->vec, j->vec_stride, j->n,
                             j->out + r0, (size_t)j->w->n_out);
        return;
    }
    const uint8_t *base = (const uint8_t *)j->w->data + (size_t)r0 * j->w->row_bytes;
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

static void matmul_task(void *arg, int task) { matmul_rows(arg, task); }

/* The job of W x for n rows whose converted activations are at vec. */
static struct matmul_job matmul_job_for(float *out, const struct tensor *w, const uint8_t *vec, int n) {
    const struct quant_ops *q = quant_ops_for(w->type);
    /* Bands of rows per task: multiples of PACK_ROWS. Prepacked weights
     * take wider ones (their kernels convert the activations' scales once
     * per call), batches too (the panel GEMM packs 32 rows at a time). */
    int64_t band = w->packed ? 64 : n >= 4 ? 32 : 16;
    return (struct matmul_job){out, w, vec, vec_stride(q->vec_type, w->n_in), n, q, band};
}

static int64_t matmul_tasks(const struct matmul_job *j) {
    return (j->w->n_out + j->rows_per_task - 1) / j->rows_per_task;
}

/* Each of n rows of x converted into the activation type job j reads. */
static void matmul_convert(const struct matmul_job *j, const float *x) {
    const struct quant_ops *vq = quant_ops_for(j->q->vec_type);
    for (int i = 0; i < j->n; i++)
        vq->quantize(x + (size_t)i * j->w->n_in, (uint8_t *)j->vec + (size_t)i * j->vec_stride, j->w->n_in);
}

void ops_matmul(struct ops_ctx *c, float *out, const struct tensor *w, const float *x, int n) {
    struct matmul_job j = matmul_job_for(out, w, c->vec, n);
    matmul_convert(&j, x);
    threadpool_run(c->pool, matmul_task, &j, (int)matmul_tasks(&j));
}

/* Several matrices' tasks as one job: task t belongs to the first matrix k
 * with t < first[k + 1]. */
struct matmul_many {
    struct matmul_job j[OPS_MATMUL_MAX];
    int64_t first[OPS_MATMUL_MAX + 1];
};

static void matmul_many_task(void *arg, int task) {
    const struct matmul_many *m = arg;
    int k = 0;
    while (task >= m->first[k + 1]) k++;
    matmul_rows(&m->j[k], (int)(task - m->first[k]));
}

void ops_matmul_many(struct ops_ctx *c, int n_mats, float *const out[], const struct tensor *const w[],
                     const float *x, int n) {
    if (n_mats < 1) return;
    bool shared = n_mats <= OPS_MATMUL_MAX;
    for (int k = 1; k < n_mats && shared; k++)
        shared = quant_ops_for(w[k]->type)->vec_type == quant_ops_for(w[0]->type)->vec_type &&
                 w[k]->n_in == w[0]->n_in;
    if (!shared) { /* one conversion buffer: one activation type at a time */
        for (int k = 0; k < n_mats; k++) ops_matmul(c, out[k], w[k], x, n);
        return;
    }
    struct matmul_many m = {.first = {0}};
    for (int k = 0; k < n_mats; k++) {
        m.j[k] = matmul_job_for(out[k], w[k], c->vec, n);
        m.first[k + 1] = m.first[k] + matmul_tasks(&m.j[k]);
    }
    matmul_convert(&m.j[0], x);
    threadpool_run(c->pool, matmul_many_task, &m, (int)m.first[n_mats]);
}

void ops_get_row(float *out, const struct tensor *w, int64_t row) {
    const struct quant_ops *q = quant_ops_for(w->type);
    q->dequant((const uint8_t *)w->data + (size_t)row * w->row_bytes, out, w->n_in);
}

/* One task per query head, so each head's score row is private to it. */
static void attention_head(void *arg, int h) {
    const struct attn_args *a = arg;
    const struct vec_kernels *vk = vec_kernels();
    int hd = a->head_dim, q_dim = a->n_head * hd;
    int kvh = h / (a->n_head / a->n_head_kv);
    const float *kc = a->k + (size_t)kvh * a->n_ctx * hd, *vc = a->v + (size_t)kvh * a->n_ctx * hd;
    float *att = a->scores + (size_t)h * a->n_ctx;
    float scale = 1.0f / sqrtf((float)hd);
    for (int i = 0; i < a->n; i++) {
        const float *q = a->q + (size_t)i * q_dim + (size_t)h * hd;
        int n_pos = a->pos + i + 1;
        vk->dot_rows(att, q, kc, hd, n_pos, hd, scale);
        float sum = vk->exp_sub(att, vk->max(att, n_pos), n_pos);
        float *o = a->out + (size_t)i * q_dim + (size_t)h * hd;
        vk->mad_rows(o, vc, hd, att, n_pos, hd);
        vk->scale(o, 1.0f / sum, hd);
    }
}

void ops_attention(struct ops_ctx *c, const struct attn_args *a) {
    threadpool_run(c->pool, attention_head, (void *)a, a->n_head);
}

void ops_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float ss = vec_kernels()->dot(x, x, n);
    float scale = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

void ops_add(float *x, const float *y, int n) {
    for (int i = 0; i < n; i++) x[i] += y[i];
}

void ops_softmax(float *x, int n) {
    const struct vec_kernels *vk = vec_kernels();
    float sum = vk->exp_sub(x, vk->max(x, n), n);
    vk->scale(x, 1.0f / sum, n);
}

void ops_silu_mul(float *gate, const float *up, int n) {
    vec_kernels()->silu_mul(gate, up, n);
}

/* YaRN's ramp between the interpolated and extrapolated angle (ggml's
 * formula, which the GGUF metadata assumes). */
static float yarn_ramp(float low, float high, int i0) {
    float y = ((float)i0 / 2 - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

static float yarn_corr_dim(int n_rot, int n_ctx_orig, float n_pairs_rot, float base) {
    return (float)n_rot * logf((float)n_ctx_orig / (n_pairs_rot * 2.0f * (float)M_PI)) /
           (2.0f * logf(base));
}

void ops_rope(float *v, int n_heads, int head_dim, int pos, const struct rope_params *rp) {
    int n_rot = rp->n_rot;
    float low = 0, high = 0;
    if (rp->ext_factor != 0.0f) {
        low = floorf(yarn_corr_dim(n_rot, rp->n_ctx_orig, rp->beta_fast, rp->freq_base));
        high = ceilf(yarn_corr_dim(n_rot, rp->n_ctx_orig, rp->beta_slow, rp->freq_base));
        low = fmaxf(0.0f, low);
        high = fminf((float)(n_rot - 1), high);
    }
    /* The angle is advanced by repeated multiplication, as ggml does, so
     * float rounding matches the reference implementation. */
    float theta_scale = powf(rp->freq_base, -2.0f / (float)n_rot);
    float theta_pos = (float)pos;
    for (int i0 = 0; i0 < n_rot; i0 += 2, theta_pos *= theta_scale) {
        float theta_extrap = theta_pos;
        if (rp->freq_factors) theta_extrap /= rp->freq_factors[i0 / 2];
        float theta = rp->freq_scale * theta_extrap;
        float mscale = rp->attn_factor;
        if (rp->ext_factor != 0.0f) {
            float mix = yarn_ramp(low, high, i0) * rp->ext_factor;
            theta = theta * (1 - mix) + theta_extrap * mix;
            mscale *= 1.0f + 0.1f * logf(1.0f / rp->freq_scale);
        }
        float cs = cosf(theta) * mscale, sn = sinf(theta) * mscale;
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
