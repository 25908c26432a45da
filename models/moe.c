/*
 * moe.c — mixture-of-experts FFN layers (Mixtral in llama, qwen2moe,
 * qwen3moe): binding a layer's router, experts and shared expert, routing
 * on the host, and the experts' FFN over a pass with only the chosen
 * experts' weights read.
 *
 * The experts stay where the weight source maps them: each is a 2-D view
 * into GGUF's 3-D ffn_*_exps tensors (bind.c), so an expert nobody picks is
 * never touched. A pass runs the router as one matmul (with the shared
 * expert's gate beside it), copies the logits to the host (n_expert + 1
 * floats a row), and picks each row's top k there: softmax over all
 * experts, the k most probable, their probabilities as weights,
 * renormalized to sum 1 where the architecture says (llama.cpp's
 * build_moe_ffn with softmax gating: softmax first, then top-k). Then
 * expert by expert, for the rows routed to it: gather them, SwiGLU,
 * scatter_add them back into the residual stream times their weights.
 * Every op is backend.h's, so a device runs it as the CPU does.
 *
 * Sections: binding, routing (host), the forward step, state and counts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "arch.h"
#include "moe.h"

/* ---------------------------------------------------------- binding */

enum ember_status moe_bind_layer(struct model *m, const struct weight_source *f, int l,
                                 struct ember_err *err) {
    struct layer_weights *w = &m->layers[l];
    int64_t e = m->info.n_embd, ff = m->n_ff_exp, sh = m->n_ff_shexp;
    int ne = m->n_expert;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "blk.%d.%s", l, s), n)
    TRY(model_bind_matrix(m, f, NAME("ffn_gate_inp.weight"), e, ne, false, &w->ffn_gate_inp, err));
    w->gate_exps = calloc((size_t)ne, sizeof *w->gate_exps);
    w->up_exps = calloc((size_t)ne, sizeof *w->up_exps);
    w->down_exps = calloc((size_t)ne, sizeof *w->down_exps);
    if (!w->gate_exps || !w->up_exps || !w->down_exps)
        return ember_fail(err, EMBER_ENOMEM, "out of memory");
    TRY(model_bind_experts(m, f, NAME("ffn_gate_exps.weight"), e, ff, ne, w->gate_exps, err));
    TRY(model_bind_experts(m, f, NAME("ffn_up_exps.weight"), e, ff, ne, w->up_exps, err));
    TRY(model_bind_experts(m, f, NAME("ffn_down_exps.weight"), ff, e, ne, w->down_exps, err));
    if (!m->arch->moe_shexp) return EMBER_OK;
    /* the shared expert's gate is a vector in GGUF: a matrix of one row */
    TRY(model_bind_matrix(m, f, NAME("ffn_gate_inp_shexp.weight"), e, 1, false, &w->ffn_gate_inp_shexp, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_gate_shexp.weight"), e, sh, false, &w->gate_shexp, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_up_shexp.weight"), e, sh, false, &w->up_shexp, err));
    TRY(model_bind_matrix(m, f, NAME("ffn_down_shexp.weight"), sh, e, false, &w->down_shexp, err));
#undef NAME
    return EMBER_OK;
}

/* ---------------------------------------------------------- routing */

void moe_route(const float *logits, int stride, int n, int n_expert, int k, bool norm_w,
               float *prob, int32_t *rows, float *w, int *count, int cap) {
    for (int e = 0; e < n_expert; e++) count[e] = 0;
    for (int i = 0; i < n; i++) {
        const float *lg = logits + (size_t)i * (size_t)stride;
        /* softmax over every expert (as ggml_soft_max: max subtracted) */
        float mx = lg[0], sum = 0;
        for (int e = 1; e < n_expert; e++) mx = lg[e] > mx ? lg[e] : mx;
        for (int e = 0; e < n_expert; e++) sum += prob[e] = expf(lg[e] - mx);
        /* NaN logits (a broken file) count as 0 so k experts are found */
        for (int e = 0; e < n_expert; e++) prob[e] = prob[e] / sum >= 0 ? prob[e] / sum : 0;
        /* the k largest, lowest index first among equals; k is small */
        int pick[MOE_MAX_USED];
        float pw[MOE_MAX_USED], wsum = 0;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < n_expert; e++)
                if (prob[e] >= 0 && (best < 0 || prob[e] > prob[best])) best = e;
            pick[j] = best;
            pw[j] = prob[best];
            wsum += pw[j];
            prob[best] = -1; /* taken */
        }
        /* llama.cpp clamps the sum at f16's smallest normal */
        if (norm_w) wsum = wsum < 6.103515625e-5f ? 6.103515625e-5f : wsum;
        for (int j = 0; j < k; j++) {
            int e = pick[j], c = count[e]++;
            rows[(size_t)e * (size_t)cap + (size_t)c] = i;
            w[(size_t)e * (size_t)cap + (size_t)c] = norm_w ? pw[j] / wsum : pw[j];
        }
    }
}

/* ----------------------------------------------------- forward step */

/* down(silu(gate(x)) * up(x)) of the n rows at x into out ([n][n_embd]),
 * through hb/hb2. */
static void swiglu(struct stage *st, const struct tensor *g, const struct tensor *u,
                   const struct tensor *d, const float *x, float *out, int n) {
    float *const gu[2] = {st->hb, st->hb2};
    const struct tensor *const wgu[2] = {g, u};
    be_matmul_many(st->be, 2, gu, wgu, x, n);
    be_silu_mul(st->be, st->hb, st->hb2, n * (int)g->n_out);
    be_matmul(st->be, out, d, st->hb, n);
}

void moe_ffn(struct model_ctx *c, struct stage *st, const struct layer_weights *w, int n) {
    const struct model *m = c->m;
    struct moe_state *s = c->moe;
    struct backend_ctx *be = st->be;
    int ne = m->n_expert, e_dim = m->info.n_embd;
    bool shexp = w->ffn_gate_inp_shexp.part[0] != NULL;

    /* the router's logits (and the shared expert's gate logit after all
     * n rows of them), onto the host */
    float *const lg[2] = {st->router, st->router + (size_t)n * (size_t)ne};
    const struct tensor *const wr[2] = {&w->ffn_gate_inp, &w->ffn_gate_inp_shexp};
    be_matmul_many(be, shexp ? 2 : 1, lg, wr, st->xb, n);
    be_copy_out(be, s->logits, st->router, (size_t)n * (size_t)(ne + shexp) * sizeof(float));

    /* each row's experts and weights */
    moe_route(s->logits, ne, n, ne, m->n_expert_used, m->arch->moe_norm_w, s->prob, s->rows, s->w,
              s->count, s->cap);

    /* each chosen expert over its rows, added into x with their weights */
    for (int e = 0; e < ne; e++) {
        int k = s->count[e];
        if (!k) continue;
        const int32_t *rows = s->rows + (size_t)e * (size_t)s->cap;
        be_gather(be, st->xg, st->xb, rows, k, e_dim);
        swiglu(st, &w->gate_exps[e], &w->up_exps[e], &w->down_exps[e], st->xg, st->xb2, k);
        be_scatter_add(be, st->x, st->xb2, rows, s->w + (size_t)e * (size_t)s->cap, k, e_dim);
        s->expert_bytes += s->bytes_per_expert;
    }

    /* the shared expert over every row, times sigmoid of its gate */
    if (shexp) {
        const float *gl = s->logits + (size_t)n * (size_t)ne;
        for (int i = 0; i < n; i++) s->gate[i] = 1.0f / (1.0f + expf(-gl[i]));
        swiglu(st, &w->gate_shexp, &w->up_shexp, &w->down_shexp, st->xb, st->xb2, n);
        be_scatter_add(be, st->x, st->xb2, s->ident, s->gate, n, e_dim);
    }
}

/* --------------------------------------------------- state and counts */

/* Bytes of a matrix's rows (the views are single-part block types). */
static uint64_t rows_bytes(const struct tensor *t) { return (uint64_t)t->row_bytes * (uint64_t)t->n_out; }

enum ember_status moe_state_new(const struct model *m, int n_batch, struct moe_state **out) {
    *out = NULL;
    if (!m->n_expert) return EMBER_OK;
    struct moe_state *s = calloc(1, sizeof *s);
    if (!s) return EMBER_ENOMEM;
    size_t B = (size_t)n_batch, ne = (size_t)m->n_expert;
    s->cap = n_batch;
    s->logits = malloc(B * (ne + 1) * sizeof *s->logits);
    s->prob = malloc(ne * sizeof *s->prob);
    s->rows = malloc(ne * B * sizeof *s->rows);
    s->w = malloc(ne * B * sizeof *s->w);
    s->count = calloc(ne, sizeof *s->count);
    s->ident = malloc(B * sizeof *s->ident);
    s->gate = malloc(B * sizeof *s->gate);
    if (!s->logits || !s->prob || !s->rows || !s->w || !s->count || !s->ident || !s->gate) {
        moe_state_free(s);
        return EMBER_ENOMEM;
    }
    for (int i = 0; i < n_batch; i++) s->ident[i] = i;
    /* every expert of every layer has the same shape and type (bind.c) */
    const struct layer_weights *w = &m->layers[0];
    s->bytes_per_expert = rows_bytes(&w->gate_exps[0]) + rows_bytes(&w->up_exps[0]) +
                          rows_bytes(&w->down_exps[0]);
    *out = s;
    return EMBER_OK;
}

void moe_state_free(struct moe_state *s) {
    if (!s) return;
    free(s->logits);
    free(s->prob);
    free(s->rows);
    free(s->w);
    free(s->count);
    free(s->ident);
    free(s->gate);
    free(s);
}

void model_weight_reads(const struct model_ctx *c, struct model_reads *r) {
    const struct model *m = c->m;
    *r = (struct model_reads){.passes = c->n_passes, .rows = c->n_rows, .file_bytes = m->info.n_bytes};
    /* every pass reads all weights but the experts and an untied
     * embedding table (one row a token: left out) */
    uint64_t experts = 0;
    for (int l = 0; l < m->info.n_layer; l++) {
        const struct layer_weights *w = &m->layers[l];
        r->n_moe_layers += w->gate_exps != NULL;
        for (int e = 0; w->gate_exps && e < m->n_expert; e++)
            experts += rows_bytes(&w->gate_exps[e]) + rows_bytes(&w->up_exps[e]) +
                       rows_bytes(&w->down_exps[e]);
    }
    uint64_t embd = m->output.part[0] == m->tok_embd.part[0] ? 0 : rows_bytes(&m->tok_embd);
    r->dense_bytes = m->info.n_bytes - experts - embd;
    r->expert_bytes = c->moe ? c->moe->expert_bytes : 0;
    r->one_expert_bytes = c->moe ? c->moe->bytes_per_expert : 0;
    r->n_expert = m->n_expert;
    r->n_expert_used = m->n_expert_used;
}
