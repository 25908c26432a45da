/*
 * attention.c — the CPU backend's attention over the paged KV cache
 * (kv_cache.h) and the writes into it: store_kv and attention of
 * backend.h.
 *
 * Work is split in tiles of query vectors that read the same keys and
 * values: the query heads of one KV head (GQA's group) over a few
 * consecutive rows of one sequence, up to ATTN_TILE vectors; one task per
 * tile. For each tile, two passes over the sequence's blocks: the scores of
 * every position the tile's last row may see, one block at a time (then a
 * softmax per vector over the positions its own row may see, exact, as
 * llama.cpp's non-flash path does), then the values weighted by them. Per
 * block:
 *   keys F32/F16, stored transposed ([head_dim][block]): the tile's scores
 *     are one mad_rows_m over head_dim rows of block width, the queries as
 *     weights (no horizontal sums), each row of keys widened once for the
 *     whole tile;
 *   keys Q8_0 ([block][row]): each query quantized to Q8_0 once, then the
 *     set's Q8_0 dot per position (the int8 kernels of the matmuls);
 *   values F32/F16: one mad_rows_m over the block's rows for the tile;
 *     Q8_0: the block's rows decoded into the thread's scratch first.
 * A prefill of many rows thus reads each block once per tile instead of
 * once per query row and head, which is what attention over a long
 * history costs.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cpu_impl.h"

enum { ATTN_TILE = 32 }; /* query vectors per tile */

/* Bytes of one query in Q8_0, rounded up to floats. */
static size_t q8_floats(int hd) { return ((size_t)hd / 32 * 34 + 3) / 4; }

/* A thread's scratch: the tile's scaled queries and their Q8_0 forms, its
 * outputs, its scores ([ATTN_TILE][max_pos]) and a block of decoded
 * values. */
size_t cpu_attention_tmp_floats(int head_dim, int kv_block, int max_pos) {
    size_t hd = (size_t)(head_dim > 0 ? head_dim : 1), bs = (size_t)(kv_block > 0 ? kv_block : 1);
    size_t mp = (size_t)(max_pos > 0 ? max_pos : 1);
    return ATTN_TILE * (2 * hd + q8_floats((int)hd) + mp) + bs * hd + 16;
}

struct attn_job {
    const struct attn_args *a;
    const struct cpu_kernels *k;
    float *tmp;            /* per thread, tmp_floats each */
    size_t tmp_floats;
    int max_pos;
    int heads, rows;       /* a task's query heads (of one KV head) and rows */
    int n_hchunk, n_rchunk; /* tasks per KV head: head chunks x row chunks */
};

/* A tile: vectors v = ri * nh + hi for rows i0 + ri of one sequence and
 * heads h0 + hi, with the thread's scratch cut into its parts. */
struct tile {
    const struct kv_view *kv;
    int kvh, h0, nh, i0, m, n_max;
    int p_min;        /* the earliest row's position */
    int b0;           /* the first block any row may see (sliding window) */
    float *q, *o, *s; /* [m][hd], [m][hd], [m][max_pos] */
    void *qq;         /* [m] Q8_0 rows of hd */
    float *vtmp;      /* a block of values, decoded */
};

/* The tile's queries, scaled (by 1/sqrt(head_dim) unless the model says
 * otherwise); an F16 cache multiplies
 * f16 by f16, the query rounded first (as llama.cpp's F16 matmuls do:
 * greedy text then follows its); a Q8_0 cache takes them as Q8_0. */
static void load_queries(const struct attn_job *j, struct tile *t) {
    const struct attn_args *a = j->a;
    int hd = a->head_dim, q_dim = a->n_head * hd;
    float scale = a->scale > 0 ? a->scale : 1.0f / sqrtf((float)hd);
    size_t qq_row = quant_row_bytes(EMBER_TYPE_Q8_0, hd);
    for (int v = 0; v < t->m; v++) {
        int i = t->i0 + v / t->nh, h = t->h0 + v % t->nh;
        float *q = t->q + (size_t)v * hd;
        memcpy(q, a->q + (size_t)i * q_dim + (size_t)h * hd, (size_t)hd * sizeof *q);
        if (t->kv->type_k == EMBER_TYPE_F16) j->k->vec.scale_f16(q, 1.0f, hd);
        j->k->vec.scale(q, scale, hd);
        if (t->kv->type_k == EMBER_TYPE_Q8_0)
            j->k->type[EMBER_TYPE_Q8_0].quantize(q, (uint8_t *)t->qq + (size_t)v * qq_row, hd);
    }
}

/* Scores of positions b*bs .. b*bs+n-1 for every vector of the tile, into
 * column b*bs of its score rows. */
static void block_scores(const struct attn_job *j, const struct tile *t, int b, int n) {
    const struct kv_view *kv = t->kv;
    int hd = j->a->head_dim, bs = kv->block_size;
    const uint8_t *kb = kv_view_k(kv, b, t->kvh);
    float *s = t->s + (size_t)b * bs;
    if (kv->type_k == EMBER_TYPE_Q8_0) {
        cpu_dot_fn dot = j->k->type[EMBER_TYPE_Q8_0].dot;
        size_t qq_row = quant_row_bytes(EMBER_TYPE_Q8_0, hd);
        for (int v = 0; v < t->m; v++)
            for (int p = 0; p < n; p++)
                s[(size_t)v * j->max_pos + p] = dot(kb + (size_t)p * kv->k_row, (const uint8_t *)t->qq + v * qq_row, hd);
        return;
    }
    for (int v = 0; v < t->m; v++) memset(s + (size_t)v * j->max_pos, 0, (size_t)n * sizeof *s);
    if (kv->type_k == EMBER_TYPE_F16)
        j->k->vec.mad_rows_mh(s, j->max_pos, (const uint16_t *)kb, bs, t->q, hd, t->m, hd, n);
    else
        j->k->vec.mad_rows_m(s, j->max_pos, (const float *)kb, bs, t->q, hd, t->m, hd, n);
}

/* The tile's outputs += its weights of positions b*bs .. b*bs+n-1 times
 * those positions' values. */
static void block_values(const struct attn_job *j, const struct tile *t, int b, int n) {
    const struct kv_view *kv = t->kv;
    const struct vec_kernels *vk = &j->k->vec;
    int hd = j->a->head_dim;
    const uint8_t *vb = kv_view_v(kv, b, t->kvh);
    const float *p = t->s + (size_t)b * kv->block_size;
    if (kv->type_v == EMBER_TYPE_F16) {
        vk->mad_rows_mh(t->o, hd, (const uint16_t *)vb, hd, p, j->max_pos, t->m, n, hd);
    } else if (kv->type_v == EMBER_TYPE_F32) {
        vk->mad_rows_m(t->o, hd, (const float *)vb, hd, p, j->max_pos, t->m, n, hd);
    } else { /* Q8_0: rows are consecutive blocks of 32 */
        j->k->type[EMBER_TYPE_Q8_0].dequant(vb, t->vtmp, (int64_t)n * hd);
        vk->mad_rows_m(t->o, hd, t->vtmp, hd, p, j->max_pos, t->m, n, hd);
    }
}

/* Each vector's scores into probabilities over the positions its row may
 * see, zero outside them (from the tile's first block to its last
 * position); inv[v]: the factor
 * the output still needs (1 when the probabilities were normalized: F16
 * values take them rounded to f16, as llama.cpp's F16 matmul does). */
static void tile_softmax(const struct attn_job *j, const struct tile *t, float *inv) {
    const struct vec_kernels *vk = &j->k->vec;
    bool v16 = t->kv->type_v == EMBER_TYPE_F16;
    for (int v = 0; v < t->m; v++) {
        float *s = t->s + (size_t)v * j->max_pos;
        int pos = j->a->pos[t->i0 + v / t->nh], n_pos = pos + 1;
        int lo = attn_first_pos(j->a, pos), from = t->b0 * t->kv->block_size;
        float sum = vk->exp_sub(s + lo, vk->max(s + lo, n_pos - lo), n_pos - lo);
        inv[v] = 1.0f / sum;
        if (v16) {
            vk->scale_f16(s + lo, inv[v], n_pos - lo);
            inv[v] = 1.0f;
        }
        memset(s + from, 0, (size_t)(lo - from) * sizeof *s);
        memset(s + n_pos, 0, (size_t)(t->n_max - n_pos) * sizeof *s);
    }
}

static void attend_tile(const struct attn_job *j, struct tile *t) {
    const struct attn_args *a = j->a;
    int hd = a->head_dim, q_dim = a->n_head * hd, bs = t->kv->block_size;
    float inv[ATTN_TILE];
    load_queries(j, t);
    int nb = (t->n_max + bs - 1) / bs;
    /* blocks wholly before the window of the tile's first row: never read */
    t->b0 = attn_first_pos(a, t->p_min) / bs;
    for (int b = t->b0; b < nb; b++) block_scores(j, t, b, t->n_max - b * bs < bs ? t->n_max - b * bs : bs);
    tile_softmax(j, t, inv);
    memset(t->o, 0, (size_t)t->m * hd * sizeof *t->o);
    for (int b = t->b0; b < nb; b++) block_values(j, t, b, t->n_max - b * bs < bs ? t->n_max - b * bs : bs);
    for (int v = 0; v < t->m; v++) {
        int i = t->i0 + v / t->nh, h = t->h0 + v % t->nh;
        float *o = a->out + (size_t)i * q_dim + (size_t)h * hd;
        memcpy(o, t->o + (size_t)v * hd, (size_t)hd * sizeof *o);
        if (inv[v] != 1.0f) j->k->vec.scale(o, inv[v], hd);
    }
}

/* Task: KV head, head chunk, row chunk; its rows cut where the sequence
 * changes, one tile per run. */
static void attention_task(void *arg, int task) {
    const struct attn_job *j = arg;
    const struct attn_args *a = j->a;
    int per_kvh = j->n_hchunk * j->n_rchunk, g = a->n_head / a->n_head_kv;
    int kvh = task / per_kvh, hc = task % per_kvh / j->n_rchunk, rc = task % j->n_rchunk;
    int hd = a->head_dim, h0 = kvh * g + hc * j->heads;
    int nh = g - hc * j->heads < j->heads ? g - hc * j->heads : j->heads;
    int r0 = rc * j->rows, r1 = r0 + j->rows < a->n ? r0 + j->rows : a->n;
    float *tmp = j->tmp + (size_t)threadpool_worker() * j->tmp_floats;
    struct tile t = {.kvh = kvh, .h0 = h0, .nh = nh, .q = tmp, .o = tmp + ATTN_TILE * hd};
    t.qq = t.o + ATTN_TILE * hd;
    t.s = (float *)t.qq + ATTN_TILE * q8_floats(hd);
    t.vtmp = t.s + (size_t)ATTN_TILE * j->max_pos;
    for (int i = r0, e; i < r1; i = e) {
        t.n_max = a->pos[i] + 1;
        t.p_min = a->pos[i];
        for (e = i + 1; e < r1 && a->seq[e] == a->seq[i]; e++) {
            if (a->pos[e] + 1 > t.n_max) t.n_max = a->pos[e] + 1;
            if (a->pos[e] < t.p_min) t.p_min = a->pos[e];
        }
        t.kv = &a->kv[a->seq[i]];
        t.i0 = i;
        t.m = (e - i) * nh;
        attend_tile(j, &t);
    }
}

void cpu_attention(struct backend_ctx *bc, const struct attn_args *a) {
    struct cpu_ctx *c = cpu_ctx_of(bc);
    int g = a->n_head / a->n_head_kv, threads = threadpool_size(c->pool);
    struct attn_job j = {.a = a, .k = c->k, .tmp = c->attn_tmp, .tmp_floats = c->attn_tmp_floats,
                         .max_pos = c->max_pos};
    /* A whole group per task and as many rows as fill the tile; a group
     * split in halves (and so on) while there are fewer tasks than threads
     * (a decode step). */
    j.heads = g < ATTN_TILE ? g : ATTN_TILE;
    for (;;) {
        j.rows = ATTN_TILE / j.heads;
        j.n_hchunk = (g + j.heads - 1) / j.heads;
        j.n_rchunk = (a->n + j.rows - 1) / j.rows;
        if (j.heads == 1 || a->n_head_kv * j.n_hchunk * j.n_rchunk >= threads) break;
        j.heads = (j.heads + 1) / 2;
    }
    threadpool_run(c->pool, attention_task, &j, a->n_head_kv * j.n_hchunk * j.n_rchunk);
}

/* One row of n values into a cache row of type t. */
static void store_row(const struct cpu_kernels *k, enum ember_type t, const float *x, uint8_t *dst, int n) {
    if (t == EMBER_TYPE_F32) memcpy(dst, x, (size_t)n * sizeof *x);
    else k->type[t].quantize(x, dst, n);
}

void cpu_store_kv(struct backend_ctx *bc, const struct kv_view *kv, const float *k, const float *v,
                  const int32_t *pos, const int32_t *seq, int n, int n_head_kv, int head_dim) {
    const struct cpu_kernels *ks = cpu_ctx_of(bc)->k;
    for (int i = 0; i < n; i++) {
        const struct kv_view *s = &kv[seq[i]];
        int bs = s->block_size, b = pos[i] / bs, t = pos[i] % bs;
        for (int h = 0; h < n_head_kv; h++) {
            size_t from = ((size_t)i * (size_t)n_head_kv + (size_t)h) * (size_t)head_dim;
            uint8_t *kb = kv_view_k(s, b, h);
            if (s->type_k == EMBER_TYPE_Q8_0) {
                store_row(ks, s->type_k, k + from, kb + (size_t)t * s->k_row, head_dim);
            } else if (s->type_k == EMBER_TYPE_F16) { /* transposed: dimension d at row d */
                uint16_t *kt = (uint16_t *)kb + t;
                for (int d = 0; d < head_dim; d++) kt[(size_t)d * bs] = quant_f32_to_f16(k[from + d]);
            } else {
                float *kt = (float *)kb + t;
                for (int d = 0; d < head_dim; d++) kt[(size_t)d * bs] = k[from + d];
            }
            store_row(ks, s->type_v, v + from, kv_view_v(s, b, h) + (size_t)t * s->v_row, head_dim);
        }
    }
}
