/*
 * attention.c — the CPU backend's attention over the paged KV cache
 * (kv_cache.h) and the writes into it: store_kv and attention of
 * backend.h.
 *
 * One task per query head. For each query row, two passes over the
 * sequence's blocks: the scores of every position the row may see, one
 * block at a time (then a softmax over all of them, exact, as llama.cpp's
 * non-flash path does), then the values weighted by them. Per block:
 *   keys F32/F16, stored transposed ([head_dim][block]): the block's scores
 *     are one mad_rows over head_dim rows of block width, the query's
 *     values as weights (no horizontal sums);
 *   keys Q8_0 ([block][row]): the query quantized to Q8_0 once, then the
 *     set's Q8_0 dot per position (the int8 kernels of the matmuls);
 *   values F32/F16: one mad_rows over the block's rows; Q8_0: the block's
 *     rows decoded into the head's scratch first.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cpu_impl.h"

/* A head's scratch: the scaled query (head_dim floats), the query as Q8_0
 * (rounded up to floats), a block of decoded values (kv_block rows). */
size_t cpu_attention_tmp_floats(int head_dim, int kv_block) {
    size_t hd = (size_t)(head_dim > 0 ? head_dim : 1), bs = (size_t)(kv_block > 0 ? kv_block : 1);
    return hd + (hd / 32 * 34 + 3) / 4 + 16 + bs * hd;
}

struct attn_job {
    const struct attn_args *a;
    const struct cpu_kernels *k;
    float *scores, *tmp;
    int max_pos;
    size_t tmp_floats;
};

/* s[0..n) = scores of positions b*bs .. b*bs+n-1 of head kvh against the
 * scaled query q (and its Q8_0 form qq). */
static void block_scores(const struct attn_job *j, const struct kv_view *kv, int b, int kvh,
                         const float *q, const void *qq, float *s, int n) {
    const struct vec_kernels *vk = &j->k->vec;
    int hd = j->a->head_dim;
    const uint8_t *kb = kv_view_k(kv, b, kvh);
    if (kv->type_k == EMBER_TYPE_Q8_0) {
        cpu_dot_fn dot = j->k->type[EMBER_TYPE_Q8_0].dot;
        for (int t = 0; t < n; t++) s[t] = dot(kb + (size_t)t * kv->k_row, qq, hd);
        return;
    }
    memset(s, 0, (size_t)n * sizeof *s);
    if (kv->type_k == EMBER_TYPE_F16) vk->mad_rows_h(s, (const uint16_t *)kb, kv->block_size, q, hd, n);
    else vk->mad_rows(s, (const float *)kb, kv->block_size, q, hd, n);
}

/* o += sum over positions b*bs .. b*bs+n-1 of p[t] * value t of head kvh. */
static void block_values(const struct attn_job *j, const struct kv_view *kv, int b, int kvh,
                         const float *p, float *o, int n, float *tmp) {
    const struct vec_kernels *vk = &j->k->vec;
    int hd = j->a->head_dim;
    const uint8_t *vb = kv_view_v(kv, b, kvh);
    if (kv->type_v == EMBER_TYPE_F16) {
        vk->mad_rows_h(o, (const uint16_t *)vb, hd, p, n, hd);
    } else if (kv->type_v == EMBER_TYPE_F32) {
        vk->mad_rows(o, (const float *)vb, hd, p, n, hd);
    } else { /* Q8_0: rows are consecutive blocks of 32 */
        j->k->type[EMBER_TYPE_Q8_0].dequant(vb, tmp, (int64_t)n * hd);
        vk->mad_rows(o, tmp, hd, p, n, hd);
    }
}

/* x[0..n) rounded to the nearest f16 values, through the set's F16
 * kernels, 64 at a time. */
static void round_f16(const struct cpu_kernels *k, float *x, int n) {
    uint16_t h[64];
    for (int i = 0; i < n; i += 64) {
        int m = n - i < 64 ? n - i : 64;
        k->type[EMBER_TYPE_F16].quantize(x + i, h, m);
        k->type[EMBER_TYPE_F16].dequant(h, x + i, m);
    }
}

static void attention_head(void *arg, int h) {
    const struct attn_job *j = arg;
    const struct attn_args *a = j->a;
    const struct vec_kernels *vk = &j->k->vec;
    int hd = a->head_dim, q_dim = a->n_head * hd;
    int kvh = h / (a->n_head / a->n_head_kv);
    float *att = j->scores + (size_t)h * (size_t)j->max_pos;
    float *q = j->tmp + (size_t)h * j->tmp_floats;
    void *qq = q + hd;
    float *vtmp = q + hd + (hd / 32 * 34 + 3) / 4 + 16;
    float scale = 1.0f / sqrtf((float)hd);
    for (int i = 0; i < a->n; i++) {
        const struct kv_view *kv = &a->kv[a->seq[i]];
        const float *qi = a->q + (size_t)i * q_dim + (size_t)h * hd;
        /* an F16 cache multiplies f16 by f16, the query rounded first (as
         * llama.cpp's F16 matmuls do: greedy text then follows its) */
        memcpy(q, qi, (size_t)hd * sizeof *q);
        if (kv->type_k == EMBER_TYPE_F16) round_f16(j->k, q, hd);
        for (int d = 0; d < hd; d++) q[d] *= scale;
        if (kv->type_k == EMBER_TYPE_Q8_0) j->k->type[EMBER_TYPE_Q8_0].quantize(q, qq, hd);
        int n_pos = a->pos[i] + 1, bs = kv->block_size, nb = (n_pos + bs - 1) / bs;
        for (int b = 0; b < nb; b++) {
            int n = n_pos - b * bs < bs ? n_pos - b * bs : bs;
            block_scores(j, kv, b, kvh, q, qq, att + (size_t)b * bs, n);
        }
        float sum = vk->exp_sub(att, vk->max(att, n_pos), n_pos);
        /* F16 values: the probabilities normalized and rounded to f16 */
        bool v16 = kv->type_v == EMBER_TYPE_F16;
        if (v16) {
            vk->scale(att, 1.0f / sum, n_pos);
            round_f16(j->k, att, n_pos);
        }
        float *o = a->out + (size_t)i * q_dim + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof *o);
        for (int b = 0; b < nb; b++) {
            int n = n_pos - b * bs < bs ? n_pos - b * bs : bs;
            block_values(j, kv, b, kvh, att + (size_t)b * bs, o, n, vtmp);
        }
        if (!v16) vk->scale(o, 1.0f / sum, hd);
    }
}

void cpu_attention(struct backend_ctx *bc, const struct attn_args *a) {
    struct cpu_ctx *c = cpu_ctx_of(bc);
    struct attn_job j = {a, c->k, c->scores, c->head_tmp, c->max_pos, c->head_tmp_floats};
    threadpool_run(c->pool, attention_head, &j, a->n_head);
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
