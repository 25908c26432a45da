/*
 * bench-kernels.c — throughput of one kernel set's matrix products, per
 * weight type, single thread: decode (1 column, by mul_mat over bands of
 * rows and by dot row after row) and prefill (many columns, by mul_mat and
 * by packing each band of rows first as the CPU backend does for batches)
 * on a 16384 x 2048 weight matrix of random values, in billions of
 * multiply-adds per second (best of several runs, so a noisy machine shows
 * its quiet moments). For comparing kernel variants and instruction sets on
 * one machine; whole-model speed is `ember bench`'s job.
 *
 * For the types with mul_mat_exact (speculative verification's rows_exact
 * product, bit for bit the dot per column) it adds 4 and 8 columns by it,
 * over bands of 64 rows as ops.c runs them, each with its cost per column
 * as a fraction of a one-column dot's (in parentheses; 1.0 is what
 * rows_exact costs without the kernel, the dot once per column).
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

/* How a measurement reads the weights. */
enum way {
    MUL_MAT, /* mul_mat over bands of BAND rows, as ops.c runs a single token */
    DOT,     /* dot row after row: one sequential stream */
    PACKED,  /* each band of PACK_BAND rows packed, then mul_mat_packed: ops.c's batches */
    EXACT,   /* mul_mat_exact over bands of PACK_BAND rows: ops.c's rows_exact batches */
};
enum { PACK_BAND = 64 };

/* Best GMAC/s over all rows, read the given way (pk: PACKED's scratch). */
static double measure(const struct type_kernels *q, enum way how, const uint8_t *w, size_t rb,
                      uint8_t *pk, const uint8_t *x, size_t xb, int cols, float *out) {
    double best = 1e30;
    for (int it = 0; it < REPS; it++) {
        double t = now();
        if (how == DOT)
            for (int r = 0; r < n_rows; r++)
                for (int c = 0; c < cols; c++)
                    out[(size_t)c * n_rows + r] = q->dot(w + (size_t)r * rb, x + (size_t)c * xb, N);
        else if (how == EXACT)
            for (int r0 = 0; r0 < n_rows; r0 += PACK_BAND) {
                int rows = n_rows - r0 < PACK_BAND ? n_rows - r0 : PACK_BAND;
                q->mul_mat_exact(N, w + (size_t)r0 * rb, rb, rows, x, xb, cols, out + r0, n_rows);
            }
        else if (how == PACKED)
            for (int r0 = 0; r0 < n_rows; r0 += PACK_BAND) {
                q->pack(N, w + (size_t)r0 * rb, rb, PACK_BAND, pk);
                q->mul_mat_packed(N, pk, PACK_BAND, x, xb, cols, out + r0, n_rows);
            }
        else
            for (int r0 = 0; r0 < n_rows; r0 += BAND)
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
        int xcols = cols > 8 ? cols : 8; /* the exact columns need 8 */
    float *f = malloc(sizeof(float) * N), *out = malloc(sizeof(float) * n_rows * (size_t)xcols);
    uint8_t *w = malloc(rb * n_rows), *x = malloc(xb * (size_t)xcols);
    if (!f || !out || !w || !x) {
        fprintf(stderr, "bench-kernels: out of memory\n");
        exit(1);
    }
    for (int r = 0; r < n_rows; r++) {
        for (int i = 0; i < N; i++) f[i] = frand();
        q->quantize(f, w + (size_t)r * rb, N);
    }
    for (int c = 0; c < xcols; c++) {
        for (int i = 0; i < N; i++) f[i] = frand();
        vq->quantize(f, x + (size_t)c * xb, N);
    }
    double dm = measure(q, MUL_MAT, w, rb, NULL, x, xb, 1, out);
    double dd = measure(q, DOT, w, rb, NULL, x, xb, 1, out);
    double bm = measure(q, MUL_MAT, w, rb, NULL, x, xb, cols, out);
    double bp = 0;
    if (q->pack && q->mul_mat_packed) {
        uint8_t *pk = malloc(q->pack_bytes(PACK_BAND, N));
        if (!pk) exit(1);
        bp = measure(q, PACKED, w, rb, pk, x, xb, cols, out);
        free(pk);
    }
    double best = dm > dd ? dm : dd;
    printf("| %-6s | %8.1f | %8.1f | %8.1f | %8.1f | ", name, dm, dd, best / N * (double)rb, bm);
    printf(bp ? "%8.1f |" : "       - |", bp);
    if (q->mul_mat_exact) {
        double e4 = measure(q, EXACT, w, rb, NULL, x, xb, 4, out);
        double e8 = measure(q, EXACT, w, rb, NULL, x, xb, 8, out);
        printf(" %8.1f (%.2f) | %8.1f (%.2f) |\n", e4, dd / e4, e8, dd / e8);
    } else {
        printf("        - |        - |\n");
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
    printf("| type   | decode mul_mat | decode dot | decode GB/s | %d cols mul_mat | %d cols packed | "
           "4 cols exact | 8 cols exact |\n"
           "| ------ | -------: | -------: | -------: | -------: | -------: | -------: | -------: |\n",
           cols, cols);
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        const struct type_kernels *q = cpu_type_kernels(tab, t);
        if (!q || !q->quantize || !q->dot || !q->mul_mat) continue;
        bool wanted = argc <= 2;
        for (int a = 2; a < argc; a++) wanted |= !strcmp(argv[a], quant_type_name(t));
        if (wanted) bench_type(t, cols);
    }
    return 0;
}
