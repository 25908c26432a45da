/*
 * cuda_ops.c — the CUDA backend's forward-pass ops (backend.h): each finds
 * the device copies of its weights (cuda_weights.c), stages the small host
 * arrays it is given (pos, seq, rows, routing weights, the KV block
 * tables) and queues its
 * kernel (cuda_kernels.h) on the context's stream. Nothing waits here:
 * copy_out does.
 *
 * Every op does nothing on a failed context and fails it on any error
 * (cuda_impl.h).
 */
#include <math.h>
#include <stdlib.h>

#include "cuda_impl.h"
#include "rope.h"

/* Whether the op may run: the context has not failed and is current. */
static bool enter(struct cuda_ctx *c) {
    return !c->failed && cuda_ok(c, cudaSetDevice(c->be->device));
}

/* The device copy of t, or NULL with the context failed. */
static const struct backend_buffer *weight(struct cuda_ctx *c, const struct tensor *t) {
    const struct backend_buffer *b = cuda_weight(c->be, t);
    if (!b) cuda_ok(c, cudaErrorMemoryAllocation);
    return b;
}

void cuda_matmul(struct backend_ctx *bc, int n_mats, float *const out[],
                 const struct tensor *const w[], const float *x, int n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || !enter(c)) return;
    const struct cuk_q8 *xq = NULL;
    int64_t xq_width = -1; /* the width xq holds, so q/k/v quantize x once */
    for (int k = 0; k < n_mats; k++) {
        const struct backend_buffer *b = weight(c, w[k]);
        if (!b) return;
        struct cuk_weight cw = {b->dev, b->type, w[k]->n_in, w[k]->n_out, b->row_bytes};
        if (cuk_matmul_wants_q8(b->type, n) && xq_width != cw.n_in) {
            struct cuk_q8 *q = cuda_xq(c, cw.n_in, n);
            if (!q || !cuda_ok(c, cuk_quantize(x, q, cw.n_in, n, c->stream))) return;
            xq = q;
            xq_width = cw.n_in;
        }
        if (!cuda_ok(c, cuk_matmul(&cw, x, xq, out[k], n, c->stream))) return;
    }
}

void cuda_get_rows(struct backend_ctx *bc, float *out, const struct tensor *w, const int32_t *rows,
                   int n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || !enter(c)) return;
    const struct backend_buffer *b = weight(c, w);
    const int32_t *d_rows = b ? cuda_stage(c, rows, (size_t)n * sizeof *rows) : NULL;
    if (!d_rows) return;
    struct cuk_weight cw = {b->dev, b->type, w->n_in, w->n_out, b->row_bytes};
    cuda_ok(c, cuk_get_rows(&cw, d_rows, out, n, c->stream));
}

void cuda_rmsnorm(struct backend_ctx *bc, float *out, const float *x, const struct tensor *w, int n,
                  int width, float eps) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || !enter(c)) return;
    const struct backend_buffer *b = weight(c, w);
    if (b) cuda_ok(c, cuk_rmsnorm(out, x, b->dev, n, width, eps, c->stream));
}

void cuda_rope(struct backend_ctx *bc, float *x, int n, int n_heads, int head_dim,
               const int32_t *pos, const struct rope_params *rp) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || rp->n_rot < 2 || !enter(c)) return;
    struct cuk_rope_params r = {rp->n_rot, rp->neox, powf(rp->freq_base, -2.0f / (float)rp->n_rot),
                                rp->freq_scale, rp->ext_factor, rp->attn_factor, 0, 0, 1.0f, NULL};
    if (rp->ext_factor != 0.0f) r.yarn_mscale = 1.0f + 0.1f * logf(1.0f / rp->freq_scale);
    rope_yarn_range(rp, &r.corr_low, &r.corr_high);
    if (rp->freq_factors) {
        const struct backend_buffer *b = weight(c, rp->freq_factors);
        if (!b) return;
        r.freq_factors = b->dev;
    }
    const int32_t *d_pos = cuda_stage(c, pos, (size_t)n * sizeof *pos);
    if (d_pos) cuda_ok(c, cuk_rope(x, n, n_heads, head_dim, d_pos, &r, c->stream));
}

/* The views of the sequences rows use, with their block tables, and pos
 * and seq, in device memory: false on failure (context failed). Each
 * sequence's table is staged up to the block of its last row's position. */
static bool stage_views(struct cuda_ctx *c, const struct kv_view *kv, const int32_t *pos,
                        const int32_t *seq, int n, const struct cuk_kv_seq **d_kv,
                        const int32_t **d_pos, const int32_t **d_seq) {
    int n_seq = 1; /* at least one, so the arrays are never empty */
    for (int i = 0; i < n; i++)
        if (seq[i] + 1 > n_seq) n_seq = seq[i] + 1;
    int *last = calloc((size_t)n_seq, sizeof *last);
    struct cuk_kv_seq *h = calloc((size_t)n_seq, sizeof *h);
    bool ok = last && h;
    for (int s = 0; ok && s < n_seq; s++) last[s] = -1;
    for (int i = 0; ok && i < n; i++)
        if (pos[i] > last[seq[i]]) last[seq[i]] = pos[i];
    for (int s = 0; ok && s < n_seq; s++) {
        if (last[s] < 0) continue; /* no row of this sequence: never read */
        const struct kv_view *v = &kv[s];
        size_t nb = (size_t)last[s] / (size_t)v->block_size + 1;
        const void *table = cuda_stage(c, v->blocks, nb * sizeof *v->blocks);
        ok = table != NULL;
        h[s] = (struct cuk_kv_seq){table, v->k_off, v->v_off, v->k_head, v->v_head, v->k_row,
                                   v->v_row, v->block_size, v->type_k, v->type_v, 0};
    }
    if (ok) ok = (*d_kv = cuda_stage(c, h, (size_t)n_seq * sizeof *h)) != NULL;
    if (ok) ok = (*d_pos = cuda_stage(c, pos, (size_t)n * sizeof *pos)) != NULL;
    if (ok) ok = (*d_seq = cuda_stage(c, seq, (size_t)n * sizeof *seq)) != NULL;
    if (!last || !h) cuda_ok(c, cudaErrorMemoryAllocation);
    free(last);
    free(h);
    return ok;
}

void cuda_attention(struct backend_ctx *bc, const struct attn_args *a) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (a->n < 1 || !enter(c)) return;
    struct cuk_attn ka = {a->q,        a->out,       NULL,         NULL,     NULL,     a->n,
                          a->n_head,   a->n_head_kv, a->head_dim,  a->scale, a->window};
    if (stage_views(c, a->kv, a->pos, a->seq, a->n, &ka.kv, &ka.pos, &ka.seq))
        cuda_ok(c, cuk_attention(&ka, c->stream));
}

void cuda_store_kv(struct backend_ctx *bc, const struct kv_view *kv, const float *k,
                   const float *v, const int32_t *pos, const int32_t *seq, int n, int n_head_kv,
                   int head_dim) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    const struct cuk_kv_seq *d_kv;
    const int32_t *d_pos, *d_seq;
    if (n < 1 || !enter(c) || !stage_views(c, kv, pos, seq, n, &d_kv, &d_pos, &d_seq)) return;
    cuda_ok(c, cuk_store_kv(d_kv, k, v, d_pos, d_seq, n, n_head_kv, head_dim, c->stream));
}

void cuda_softmax(struct backend_ctx *bc, float *x, int n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n > 0 && enter(c)) cuda_ok(c, cuk_softmax(x, n, c->stream));
}

void cuda_silu_mul(struct backend_ctx *bc, float *g, const float *u, int n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n > 0 && enter(c)) cuda_ok(c, cuk_silu_mul(g, u, n, c->stream));
}

void cuda_gelu_mul(struct backend_ctx *bc, float *g, const float *u, int n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n > 0 && enter(c)) cuda_ok(c, cuk_gelu_mul(g, u, n, c->stream));
}

void cuda_scale(struct backend_ctx *bc, float *x, float s, int n) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n > 0 && enter(c)) cuda_ok(c, cuk_scale(x, s, n, c->stream));
}

void cuda_gather(struct backend_ctx *bc, float *out, const float *x, const int32_t *rows, int n,
                 int width) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || width < 1 || !enter(c)) return;
    const int32_t *d_rows = cuda_stage(c, rows, (size_t)n * sizeof *rows);
    if (d_rows) cuda_ok(c, cuk_gather(out, x, d_rows, n, width, c->stream));
}

void cuda_scatter_add(struct backend_ctx *bc, float *x, const float *y, const int32_t *rows,
                      const float *w, int n, int width) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || width < 1 || !enter(c)) return;
    const int32_t *d_rows = cuda_stage(c, rows, (size_t)n * sizeof *rows);
    const float *d_w = d_rows ? cuda_stage(c, w, (size_t)n * sizeof *w) : NULL;
    if (d_w) cuda_ok(c, cuk_scatter_add(x, y, d_rows, d_w, n, width, c->stream));
}

void cuda_add(struct backend_ctx *bc, float *x, const float *y, int n, int width) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n > 0 && width > 0 && enter(c))
        cuda_ok(c, cuk_add(x, y, (int64_t)n * width, c->stream));
}

void cuda_add_bias(struct backend_ctx *bc, float *x, const struct tensor *b, int n, int width) {
    struct cuda_ctx *c = cuda_ctx_of(bc);
    if (n < 1 || width < 1 || !enter(c)) return;
    const struct backend_buffer *buf = weight(c, b);
    if (buf) cuda_ok(c, cuk_add_bias(x, buf->dev, n, width, c->stream));
}
