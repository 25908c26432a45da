/*
 * bench-kernels.c — throughput of one kernel set's matrix products, per
 * weight type, single thread: decode (1 column) and prefill (many columns)
 * on a 16384 x 2048 weight matrix of random values, in billions of
 * multiply-adds per second (best of several runs, so a noisy machine shows
 * its quiet moments). For comparing kernel variants and instruction sets on
 * one machine; whole-model speed is `ember bench`'s job.
 *
 *   make bench-kernels && EMBER_ISA=avx2 build/bench-kernels [COLS (128)] [TYPE ...]
 *
 * TYPE is a ggml type name (Q4_0, Q8_0, Q4_K, ...); default: every type
 * with a quantizer and a dot product. EMBER_BENCH_ROWS=N (a multiple of
 * 32) changes the row count: the default matrix is far larger than the
 * caches, so decode reads it from memory; a few hundred rows stay in L2,
 * which shows what the kernel computes when memory is not the limit (the
 * "decode GB/s" column against one thread of scripts/membw.c tells which
 * of the two bounds decode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_features.h"
#include "cpu_kernels.h"
#include "ember.h"
#include "quant.h"

enum { N = 2048, REPS = 10, BAND = 32 };
static int n_rows = 16384;
static const struct cpu_kernels *tab; /* the set EMBER_ISA names, else the best */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static float frand(void) { return (float)rand() / (float)RAND_MAX - 0.5f; }

/* Best GMAC/s of mul_mat over all rows (in bands, as ops.c calls it), or
 * of mul_mat_packed when wp is the packed copy. */
static double measure(const struct type_kernels *q, const uint8_t *w, size_t rb, const uint8_t *wp,
                      const uint8_t *x, size_t xb, int cols, float *out) {
    double best = 1e30;
    for (int it = 0; it < REPS; it++) {
        double t = now();
        for (int r0 = 0; r0 < n_rows; r0 += BAND)
            if (wp)
                q->mul_mat_packed(N, wp + (size_t)(r0 / PACK_ROWS) * q->pack_bytes(PACK_ROWS, N),
                                  BAND, x, xb, cols, out + r0, n_rows);
            else
                q->mul_mat(N, w + (size_t)r0 * rb, rb, BAND, x, xb, cols, out + r0, n_rows);
        t = now() - t;
        if (t < best) best = t;
    }
    return (double)n_rows * N * cols / best * 1e-9;
}

static void bench_type(int t, int cols) {
    const struct type_kernels *q = &tab->type[t], *vq = &tab->type[q->vec_type];
    const char *name = quant_type_name(t);
    size_t rb = quant_row_bytes(t, N), xb = (quant_row_bytes(q->vec_type, N) + 63) / 64 * 64;
    float *f = malloc(sizeof(float) * N), *out = malloc(sizeof(float) * n_rows * (size_t)cols);
    uint8_t *w = malloc(rb * n_rows), *x = malloc(xb * (size_t)cols);
    if (!f || !out || !w || !x) {
        fprintf(stderr, "bench-kernels: out of memory\n");
        exit(1);
    }
    for (int r = 0; r < n_rows; r++) {
        for (int i = 0; i < N; i++) f[i] = frand();
        q->quantize(f, w + (size_t)r * rb, N);
    }
    for (int c = 0; c < cols; c++) {
        for (int i = 0; i < N; i++) f[i] = frand();
        vq->quantize(f, x + (size_t)c * xb, N);
    }
    double dec = measure(q, w, rb, NULL, x, xb, 1, out);
    printf("| %-12s | %8.1f | %8.1f | %8.1f |\n", name, dec, dec / N * (double)rb,
           measure(q, w, rb, NULL, x, xb, cols, out));
    if (q->pack && q->mul_mat_packed) {
        uint8_t *wp = malloc(q->pack_bytes(n_rows, N));
        if (!wp) exit(1);
        q->pack(N, w, rb, n_rows, wp);
        dec = measure(q, w, rb, wp, x, xb, 1, out);
        printf("| %-5s packed | %8.1f | %8.1f | %8.1f |\n", name, dec, dec / N * (double)rb,
               measure(q, w, rb, wp, x, xb, cols, out));
        free(wp);
    }
    free(f);
    free(out);
    free(w);
    free(x);
}

int main(int argc, char **argv) {
    struct ember_err err = {0};
    enum cpu_isa isa;
    if (cpu_isa_pick(getenv("EMBER_ISA"), &isa, &err) != EMBER_OK) {
        fprintf(stderr, "bench-kernels: %s\n", err.msg);
        return 1;
    }
    tab = cpu_kernels_for(isa);
    const char *env_rows = getenv("EMBER_BENCH_ROWS");
    if (env_rows) {
        n_rows = atoi(env_rows);
        if (n_rows < BAND || n_rows % BAND) {
            fprintf(stderr, "bench-kernels: EMBER_BENCH_ROWS must be a positive multiple of %d\n", BAND);
            return 2;
        }
    }
    int cols = argc > 1 ? atoi(argv[1]) : 128;
    if (cols < 1) cols = 128;
    srand(1);
    printf("kernel set %s, %d x %d weights, 1 thread, GMAC/s (best of %d)\n\n",
           cpu_isa_name(isa), n_rows, N, REPS);
    printf("| type         |   decode | decode GB/s | %4d cols |\n| ------------ | -------: | -------: | -------: |\n", cols);
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        const struct type_kernels *q = cpu_type_kernels(tab, t);
        if (!q || !q->quantize || !q->dot || !q->mul_mat) continue;
        bool wanted = argc <= 2;
        for (int a = 2; a < argc; a++) wanted |= !strcmp(argv[a], quant_type_name(t));
        if (wanted) bench_type(t, cols);
    }
    return 0;
}
