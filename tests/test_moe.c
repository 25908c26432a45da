/*
 * test_moe.c — the mixture-of-experts FFN (models/moe.c) against a dense
 * float64 reference, and its host-side routing against hand-worked cases.
 *
 * For each of the three MoE test files (tests/data/models: llama with
 * Mixtral-style Q8_0 experts, qwen2moe with F16 experts and a gated shared
 * expert, qwen3moe with 8 Q8_0 experts) and two of their layers, a batch of
 * random normed inputs and residual rows goes through moe_ffn on the
 * backend the environment selects; the reference computes EVERY expert on
 * every row from the dequantized weights (quant/'s reference dequantizers)
 * and sums them weighted by the routing (softmax, top-k, renormalized or
 * not as llama.cpp's graph for the architecture says, not as ember's
 * descriptor does; zero for the experts not chosen), plus the shared expert times the
 * sigmoid of its gate. The batch is bigger than the number of experts, so
 * experts get several rows (gather/scatter of out-of-order rows). It also
 * checks that exactly the chosen experts' bytes were counted as read.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "check.h"
#include "engine.h"
#include "moe.h"
#include "rng.h"

enum { ROWS = 13 };

/* ------------------------------------------------------------ routing */

static void test_route(void) {
    /* row 0: experts 2 and 0 win; row 1: expert 1, then a tie between 2
     * and 3 for the second place goes to the lower index; row 2: all
     * equal, so experts 0 and 1 */
    const float lg[3][4] = {{1.0f, -2.0f, 3.0f, 0.5f}, {0.0f, 3.0f, 2.0f, 2.0f}, {0, 0, 0, 0}};
    float prob[4], w[4 * 3];
    int32_t rows[4 * 3];
    int count[4];
    moe_route(&lg[0][0], 4, 3, 4, 2, false, prob, rows, w, count, 3);
    double z0 = exp(1.0) + exp(-2.0) + exp(3.0) + exp(0.5);
    CHECK(count[0] == 2 && count[1] == 2 && count[2] == 2 && count[3] == 0 && rows[0] == 0 &&
              rows[1] == 2 && rows[3] == 1 && rows[4] == 2 && rows[6] == 0 && rows[7] == 1,
          "route: top-2 by probability, ties to the lower index (counts %d %d %d %d)", count[0], count[1],
          count[2], count[3]);
    CHECK(fabs(w[0] - exp(1.0) / z0) < 1e-6 && fabs(w[6] - exp(3.0) / z0) < 1e-6 && fabs(w[1] - 0.25) < 1e-6,
          "route: weights are the softmax over all experts (%.6f, %.6f, %.6f)", w[0], w[6], w[1]);
    moe_route(&lg[0][0], 4, 3, 4, 2, true, prob, rows, w, count, 3);
    CHECK(fabs(w[0] + w[6] - 1.0) < 1e-6 && fabs(w[6] - exp(3.0) / (exp(3.0) + exp(1.0))) < 1e-6 &&
              fabs(w[1] - 0.5) < 1e-6,
          "route: renormalized weights sum to 1 (%.6f + %.6f)", w[0], w[6]);
    /* a broken file's NaN or infinite logits still route k experts of the
     * n (no index out of range) */
    const float bad[2][4] = {{NAN, NAN, NAN, NAN}, {INFINITY, 0, INFINITY, 1}};
    moe_route(&bad[0][0], 4, 2, 4, 2, true, prob, rows, w, count, 3);
    CHECK(count[0] + count[1] + count[2] + count[3] == 4 && count[0] <= 2 && count[1] <= 2 && count[2] <= 2 &&
              count[3] <= 2,
          "route: NaN and infinite logits still pick 2 experts a row (counts %d %d %d %d)", count[0], count[1],
          count[2], count[3]);
}

/* ------------------------------------------------- the FFN vs dense */

/* Row r of matrix t, dequantized to doubles. */
static void row_of(const struct tensor *t, int64_t r, double *out, float *tmp) {
    quant_traits_for(t->type)->dequant((const char *)t->part[0] + (size_t)r * t->row_bytes, tmp, t->n_in);
    for (int64_t i = 0; i < t->n_in; i++) out[i] = tmp[i];
}

/* y = W x, double. */
static void matvec(const struct tensor *t, const double *x, double *y) {
    double *r = malloc((size_t)t->n_in * sizeof *r);
    float *tmp = malloc((size_t)t->n_in * sizeof *tmp);
    for (int64_t o = 0; o < t->n_out; o++) {
        row_of(t, o, r, tmp);
        double s = 0;
        /* x holds t->n_in values (the callers' shapes match the bound
         * tensors'), which the analyzer cannot follow */
        for (int64_t i = 0; i < t->n_in; i++) s += r[i] * x[i]; // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult)
        y[o] = s;
    }
    free(r);
    free(tmp);
}

/* out += w * down(silu(gate x) * up x). */
static void swiglu_add(const struct tensor *g, const struct tensor *u, const struct tensor *d,
                       const double *x, double w, double *out) {
    int64_t ff = g->n_out;
    double *a = calloc((size_t)ff, sizeof *a), *b = calloc((size_t)ff, sizeof *b);
    double *y = calloc((size_t)d->n_out, sizeof *y);
    matvec(g, x, a);
    matvec(u, x, b);
    for (int64_t i = 0; i < ff; i++) a[i] = a[i] / (1 + exp(-a[i])) * b[i];
    matvec(d, a, y);
    for (int64_t i = 0; i < d->n_out; i++) out[i] += w * y[i];
    free(a);
    free(b);
    free(y);
}

/* The reference of one row: x + sum over all experts of their routing
 * weight times their FFN (+ the shared expert). *tie: the k-th and
 * k+1-th probabilities too close for the float router to agree on. */
static void reference_row(const struct model *m, const struct layer_weights *w, const double *xb,
                          bool norm_w, double *out, bool *tie) {
    int ne = m->n_expert, k = m->n_expert_used;
    double lg[64] = {0}, p[64] = {0}, wt[64] = {0}, mx = -INFINITY, z = 0, sum = 0;
    matvec(&w->ffn_gate_inp, xb, lg);
    for (int e = 0; e < ne; e++) mx = fmax(mx, lg[e]);
    for (int e = 0; e < ne; e++) z += p[e] = exp(lg[e] - mx);
    bool taken[64] = {false};
    double last = 0;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int e = 0; e < ne; e++)
            if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
        if (best < 0) break;
        taken[best] = true;
        wt[best] = p[best] / z;
        sum += wt[best];
        last = p[best];
    }
    double next = 0;
    for (int e = 0; e < ne; e++)
        if (!taken[e]) next = fmax(next, p[e]);
    *tie = (last - next) / z < 1e-5;
    for (int e = 0; e < ne; e++) {
        double we = norm_w ? wt[e] / sum : wt[e];
        swiglu_add(&w->gate_exps[e], &w->up_exps[e], &w->down_exps[e], xb, we, out);
    }
    if (w->ffn_gate_inp_shexp.part[0]) {
        double g = 0;
        matvec(&w->ffn_gate_inp_shexp, xb, &g);
        swiglu_add(&w->gate_shexp, &w->up_shexp, &w->down_shexp, xb, 1 / (1 + exp(-g)), out);
    }
}

/* norm_w, shexp: what llama.cpp's graph for the file's architecture does
 * (build_moe_ffn's norm_w argument; qwen2moe's shared expert). */
static void test_file(struct ember_backend *be, const char *name, bool norm_w, bool shexp, double tol) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/models/%s", name);
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    struct model *m = NULL;
    struct model_ctx *c = NULL;
    if (gguf_open(path, &f, &err) || test_load(f, be, &m, &err) || test_ctx(m, 64, 2, &c, &err)) {
        CHECK(0, "%s loads: %s", name, err.msg);
        goto done;
    }
    int e = m->info.n_embd;
    struct stage *st = &c->stage[0];
    size_t nf = (size_t)ROWS * (size_t)e;
    float *xb = malloc(nf * sizeof *xb), *x = malloc(nf * sizeof *x), *got = malloc(nf * sizeof *got);
    double *want = calloc(nf, sizeof *want), *xd = calloc((size_t)e, sizeof *xd);
    for (int l = 0; l < m->info.n_layer; l += m->info.n_layer - 1) {
        const struct layer_weights *w = &m->layers[l];
        for (size_t i = 0; i < nf; i++) xb[i] = rng_gauss(), x[i] = rng_gauss();
        be_copy_in(st->be, st->xb, xb, nf * sizeof *xb);
        be_copy_in(st->be, st->x, x, nf * sizeof *x);
        uint64_t before = c->moe->expert_bytes;
        moe_ffn(c, st, w, ROWS);
        be_copy_out(st->be, got, st->x, nf * sizeof *got);
        int used = 0, ties = 0;
        for (int ex = 0; ex < m->n_expert; ex++) used += c->moe->count[ex] > 0;
        double worst = 0, scale = 0;
        for (int r = 0; r < ROWS; r++) {
            double *o = want + (size_t)r * (size_t)e;
            bool tie;
            for (int i = 0; i < e; i++) xd[i] = xb[(size_t)r * (size_t)e + (size_t)i], o[i] = 0;
            reference_row(m, w, xd, norm_w, o, &tie);
            ties += tie;
            for (int i = 0; i < e && !tie; i++) {
                size_t k = (size_t)r * (size_t)e + (size_t)i;
                scale = fmax(scale, fabs(o[i]));
                worst = fmax(worst, fabs((double)got[k] - x[k] - o[i]));
            }
        }
        CHECK(scale > 0.1 && worst <= tol * scale && shexp == (w->ffn_gate_inp_shexp.part[0] != NULL),
              "%s layer %d: moe_ffn of %d rows = x + every expert weighted by its routing%s "
              "(max err %.1e of the largest FFN output %.2f, bound %.0e; %d rows at routing near-ties left out)",
              name, l, ROWS, w->ffn_gate_inp_shexp.part[0] ? " + sigmoid-gated shared expert" : "",
              worst / fmax(scale, 1e-30), scale, tol, ties);
        uint64_t read = c->moe->expert_bytes - before;
        CHECK(read == (uint64_t)used * c->moe->bytes_per_expert && used > 0,
              "%s layer %d: the %d experts chosen of %d counted as read (%llu bytes)", name, l, used,
              m->n_expert, (unsigned long long)read);
    }
    free(xb);
    free(x);
    free(got);
    free(want);
    free(xd);
done:
    model_ctx_free(c);
    model_free(m);
    gguf_close(f);
}

int main(void) {
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    test_route();
    CHECK(test_backend(&be, &err) == EMBER_OK, "backend %s %s", be ? be->ops->device(be) : "?", err.msg);
    if (!be) return CHECK_DONE();
    /* bounds relative to the largest output: the matmuls quantize
     * activations to Q8_0 for Q8_0 weights (1.3% measured), less for F16
     * (3e-4 measured); a routing weight off by its renormalization, or a
     * shared expert left out, is off by 10% or more */
    test_file(be, "stories260K-moe-llama.gguf", true, false, 3e-2);
    test_file(be, "stories260K-qwen2moe.gguf", false, true, 2e-3);
    test_file(be, "stories260K-qwen3moe.gguf", true, false, 3e-2);
    ember_backend_free(be);
    return CHECK_DONE();
}
