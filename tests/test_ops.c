/*
 * test_ops.c — the float ops of the backend the environment selects (the
 * CPU's unless EMBER_BACKEND says otherwise) that model families beyond
 * llama use: gelu_mul (Gemma's GeGLU), scale, and gather / scatter_add
 * (mixture-of-experts rows), against float64 references on random inputs,
 * including rows gathered out of order and an odd width. Attention's
 * sliding window and scale are checked in test_kv.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "engine.h"
#include "rng.h"

enum { ROWS = 37, WIDTH = 67 };

/* The largest |got - want| over n, relative to max(1, |want|). */
static double rel_err(const float *got, const double *want, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]) / fmax(1.0, fabs(want[i]));
        if (d > worst || d != d) worst = d;
    }
    return worst;
}

/* n floats of the context's memory holding host[]. */
static float *put(struct backend_ctx *c, const float *host, size_t n) {
    float *d = be_alloc(c, n * sizeof *d);
    if (d) be_copy_in(c, d, host, n * sizeof *d);
    return d;
}

static void test_gelu_scale(struct backend_ctx *c) {
    enum { N = ROWS * WIDTH };
    static float g[N], u[N], out[N];
    static double want[N];
    for (int i = 0; i < N; i++) g[i] = rng_gauss() * 4, u[i] = rng_gauss();
    g[0] = -12, g[1] = 12, g[2] = 0; /* tails and zero */
    for (int i = 0; i < N; i++) {
        double x = g[i];
        want[i] = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))) * u[i];
    }
    float *dg = put(c, g, N), *du = put(c, u, N);
    be_gelu_mul(c, dg, du, N);
    be_copy_out(c, out, dg, sizeof out);
    double e = rel_err(out, want, N);
    CHECK(e < 1e-5, "gelu_mul = 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) u over %d values (max rel err %.1e)",
          N, e);
    for (int i = 0; i < N; i++) want[i] = (double)u[i] * -0.37;
    be_scale(c, du, -0.37f, N);
    be_copy_out(c, out, du, sizeof out);
    e = rel_err(out, want, N);
    CHECK(e < 1e-6, "scale multiplies %d values (max rel err %.1e)", N, e);
}

static void test_gather_scatter(struct backend_ctx *c) {
    enum { N = ROWS * WIDTH, K = 11 };
    static float x[N], y[K * WIDTH], out[N];
    static double want[N];
    int32_t rows[K];
    float w[K];
    for (int i = 0; i < N; i++) x[i] = rng_gauss();
    for (int i = 0; i < K * WIDTH; i++) y[i] = rng_gauss();
    for (int i = 0; i < K; i++) rows[i] = (ROWS - 1 - 3 * i) % ROWS, w[i] = rng_gauss();
    float *dx = put(c, x, N), *dy = put(c, y, K * WIDTH), *dg = be_alloc(c, K * WIDTH * sizeof(float));
    be_gather(c, dg, dx, rows, K, WIDTH);
    be_copy_out(c, out, dg, K * WIDTH * sizeof(float));
    for (int i = 0; i < K; i++)
        for (int k = 0; k < WIDTH; k++) want[i * WIDTH + k] = x[rows[i] * WIDTH + k];
    CHECK(rel_err(out, want, K * WIDTH) == 0, "gather copies rows %d, %d, ... of %d in that order",
          rows[0], rows[1], ROWS);
    for (int i = 0; i < N; i++) want[i] = x[i];
    for (int i = 0; i < K; i++)
        for (int k = 0; k < WIDTH; k++) want[rows[i] * WIDTH + k] += (double)w[i] * y[i * WIDTH + k];
    be_scatter_add(c, dx, dy, rows, w, K, WIDTH);
    be_copy_out(c, out, dx, sizeof out);
    double e = rel_err(out, want, N);
    CHECK(e < 1e-6, "scatter_add adds w[i] y[i] to %d of %d rows, leaving the others (max rel err %.1e)", K,
          ROWS, e);
}

int main(void) {
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    struct backend_ctx *c = NULL;
    struct backend_ctx_params bp = {.n_threads = 2, .max_rows = ROWS, .max_width = WIDTH, .n_head = 1,
                                    .max_pos = 1, .head_dim = 2, .kv_block = 16};
    CHECK(test_backend(&be, &err) == EMBER_OK && be->ops->ctx_new(be, &bp, &c, &err) == EMBER_OK,
          "backend and context %s", err.msg);
    if (!c) return CHECK_DONE();
    test_gelu_scale(c);
    test_gather_scatter(c);
    c->ops->ctx_free(c);
    ember_backend_free(be);
    return CHECK_DONE();
}
