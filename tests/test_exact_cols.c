/*
 * test_exact_cols.c — type_kernels.mul_mat_exact (cpu_kernels.h) keeps its
 * promise: every output is bit for bit the same table's dot of that row
 * and column, and the one-column mul_mat's (a one-token decode's), for
 * every kernel set this CPU runs and every type whose table has the slot;
 * the sets the CPU lacks print SKIP with their name.
 *
 * Speculative decoding's greedy verification (rows_exact) relies on this
 * promise: a row verified in a batch must give the logits a one-row decode
 * gives, or a drafted token could be accepted that plain decoding would not
 * produce. So the comparison is of bits, not a tolerance.
 *
 * Shapes: row lengths of 1, 2, 3, 6 and 9 blocks, 1..17 rows, 1..9
 * columns (groups of the kernels' width and every remainder), weight,
 * activation and output strides with padding; weights quantized from
 * random values and (half the trials) random bytes, which reach every code
 * and scale, NaN and infinite ones too (a NaN must come out as the same
 * NaN). Every output slot outside the result must keep its sentinel.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_isa.h"
#include "cpu_kernels.h"
#include "quant.h"
#include "rng.h"

#define MAX_ROWS 17
#define MAX_COLS 9
#define SENTINEL 0x7fc0dead /* a quiet NaN no kernel writes by chance */

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "test_exact_cols: out of memory\n");
        exit(1);
    }
    return p;
}

/* A float's bits: the comparison is of bits, NaN payloads included. */
static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void fill_values(float *x, int64_t n) {
    /* a scale per 32 values, as real activations and weights vary */
    for (int64_t i = 0; i < n; i += 32) {
        float s = (float)(0.01 + 4.0 * rng_uniform());
        for (int64_t k = i; k < i + 32 && k < n; k++) x[k] = s * rng_gauss();
    }
}

/* One (set, type): `trials` random cases per shape family. Returns the
 * number of outputs compared. */
static long check_type(const char *isa, const struct cpu_kernels *tab, int t) {
    const struct type_kernels *q = &tab->type[t];
    const struct type_kernels *vq = &tab->type[q->vec_type];
    const struct quant_traits *tr = quant_traits_for(t);
    const int blocks[] = {1, 2, 3, 6, 9};
    long compared = 0, bad = 0, clobbered = 0;
    for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++) {
        const int64_t n = (int64_t)blocks[bi] * tr->block_elems;
        const size_t rb = quant_row_bytes(t, n), vb = quant_row_bytes(q->vec_type, n);
        for (int trial = 0; trial < 6; trial++) {
            const int n_rows = 1 + (int)(rng_next() % MAX_ROWS);
            const size_t w_stride = rb + (trial % 3) * 32; /* padded rows, as a sub-matrix */
            const size_t x_stride = (vb + 63) / 64 * 64 + (trial % 2) * 64;
            const size_t out_stride = (size_t)n_rows + (size_t)(trial % 3) * 5;
            float *f = xmalloc(sizeof(float) * (size_t)n);
            uint8_t *w = xmalloc(w_stride * MAX_ROWS), *x = xmalloc(x_stride * MAX_COLS);
            memset(w, 0xa5, w_stride * MAX_ROWS);
            memset(x, 0x5a, x_stride * MAX_COLS);
            for (int r = 0; r < n_rows; r++) {
                uint8_t *row = w + (size_t)r * w_stride;
                if (trial % 2 || !tr->quantize) {
                    for (size_t i = 0; i < rb; i++) row[i] = (uint8_t)rng_next();
                } else {
                    fill_values(f, n);
                    tr->quantize(f, row, n);
                }
            }
            for (int c = 0; c < MAX_COLS; c++) {
                fill_values(f, n);
                vq->quantize(f, x + (size_t)c * x_stride, n);
            }
            const size_t out_len = out_stride * MAX_COLS + 8;
            float *out = xmalloc(sizeof(float) * out_len), sentinel;
            const uint32_t sentinel_bits = SENTINEL;
            memcpy(&sentinel, &sentinel_bits, sizeof sentinel);
            for (int n_cols = 1; n_cols <= MAX_COLS; n_cols++) {
                for (size_t i = 0; i < out_len; i++) out[i] = sentinel;
                q->mul_mat_exact(n, w, w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
                for (int c = 0; c < n_cols; c++)
                    for (int r = 0; r < n_rows; r++) {
                        const uint8_t *wr = w + (size_t)r * w_stride, *xc = x + (size_t)c * x_stride;
                        float want = q->dot(wr, xc, n), one = want;
                        if (q->mul_mat) q->mul_mat(n, wr, w_stride, 1, xc, x_stride, 1, &one, 1);
                        const float got = out[(size_t)c * out_stride + (size_t)r];
                        compared++;
                        if ((bits_of(got) != bits_of(want) || bits_of(got) != bits_of(one)) &&
                            bad++ < 3)
                            printf("# %s %s n=%lld rows=%d cols=%d: row %d col %d got %.9g, dot %.9g, "
                                   "one-column mul_mat %.9g\n",
                                   isa, tr->name, (long long)n, n_rows, n_cols, r, c, got, want, one);
                    }
                for (size_t i = 0; i < out_len; i++) {
                    size_t c = i / out_stride, r = i % out_stride;
                    bool inside = c < (size_t)n_cols && r < (size_t)n_rows;
                    if (!inside && bits_of(out[i]) != SENTINEL) clobbered++;
                }
            }
            free(out);
            free(f);
            free(w);
            free(x);
        }
    }
    CHECK(bad == 0 && clobbered == 0,
          "%s %s mul_mat_exact: %ld outputs bit-identical to dot and one-column mul_mat (%ld "
          "differ, %ld slots outside written)",
          isa, tr->name, compared - bad, bad, clobbered);
    return compared;
}

int main(void) {
    rng_state = 0xe8ac7;
    /* the reference set has no exact kernels: its callers loop over dot */
    const struct cpu_kernels *ref = cpu_kernels_for(CPU_ISA_SCALAR);
    int with_slot = 0;
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) with_slot += ref->type[t].mul_mat_exact != NULL;
    CHECK(with_slot == 0, "scalar set: no mul_mat_exact (%d types have one)", with_slot);
    for (int i = 0; i < cpu_isa_table_len; i++) {
        const struct cpu_isa_entry *e = &cpu_isa_table[i];
        const char *isa = cpu_isa_name(e->isa);
        if (!cpu_isa_supported(e->isa)) {
            SKIP("%s: not supported by this CPU or build, its exact kernels untested here", isa);
            continue;
        }
        const struct cpu_kernels *tab = cpu_kernels_for(e->isa);
        int types = 0;
        for (int t = 0; t < EMBER_TYPE_COUNT; t++)
            if (cpu_type_kernels(tab, t) && tab->type[t].mul_mat_exact && tab->type[t].dot) {
                check_type(isa, tab, t);
                types++;
            }
        if (!types)
            printf("# %s: no type has mul_mat_exact (rows_exact runs the one-column product per "
                   "column)\n", isa);
    }
    return CHECK_DONE();
}
