/*
 * cpu_kernels.h — the CPU backend's kernel table: for one instruction set,
 * every type's kernels and the float vector kernels, built once and const
 * afterwards.
 *
 * quant/ holds one const traits table with the scalar references. For each
 * set this CPU can run, cpu_kernels_for() copies those references into a
 * table of its own, then lets the set's installer (x86/install_*.c,
 * arm/install_arm.c) override the slots it does better — BLIS's way: the
 * reference registered first, overridden per CPU. After that the table is
 * never written again; a backend instance keeps a pointer to the one for
 * its set, so two instances with different sets can run side by side.
 */
#ifndef EMBER_CPU_KERNELS_H
#define EMBER_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_features.h"
#include "quant.h"
#include "vec.h"

/* Rows per group of the interleaved (repacked) layouts of pack_x8.h. */
#define PACK_ROWS 8

typedef float (*cpu_dot_fn)(const void *w, const void *x, int64_t n);
typedef void (*cpu_mul_mat_fn)(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_cols, float *out,
                               size_t out_stride);

/* The kernels of one type. The first slots mirror quant_traits (a type
 * without a faster kernel keeps the reference); the rest are optional. */
struct type_kernels {
    enum ember_type vec_type; /* the activation format `dot` expects */
    void (*dequant)(const void *src, float *dst, int64_t n);
    void (*quantize)(const float *src, void *dst, int64_t n); /* NULL: none */
    cpu_dot_fn dot;                                           /* NULL: not a weight type */
    /* Optional tiled product for batches: for r < n_rows and c < n_cols,
     * out[c * out_stride + r] = dot(w + r * w_stride, x + c * x_stride, n).
     * NULL: callers loop over dot. A kernel may assume n_rows, n_cols > 0. */
    cpu_mul_mat_fn mul_mat;
    /* Optional product for rows_exact batches (a speculative step's
     * verification), mul_mat's contract plus a promise: every output is
     * BIT-IDENTICAL to dot(w + r * w_stride, x + c * x_stride, n) of this
     * table and to a one-column mul_mat of that column (what a one-token
     * decode runs), so a type gets one only where those two agree (the
     * K-quants' mul_mat hands single columns to dot; Q4_0/Q8_0's decode
     * gemv sums in its own order). It shares the weight work (loads,
     * unpacking, scale decoding) across a few columns while each column
     * repeats the dot's own instruction sequence on its own accumulators,
     * lane for lane. NULL: callers run the one-column product per column.
     * cpu_set_dot clears it, so a dot replaced without its exact twin
     * never meets a stale one. */
    cpu_mul_mat_fn mul_mat_exact;
    /* Optional interleaved copy of a weight matrix that the set reads
     * faster than the file's row-by-row layout (NULL: none). Rows go in
     * groups of PACK_ROWS, the last one padded by repeating its last row;
     * pack_bytes(n_rows, n) is the size of n_rows rows, so a band starting
     * at row r0 (a multiple of PACK_ROWS) starts r0 / PACK_ROWS *
     * pack_bytes(PACK_ROWS, n) bytes in. mul_mat_packed is mul_mat reading
     * such a band. */
    size_t (*pack_bytes)(int64_t n_rows, int64_t n);
    void (*pack)(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
    void (*mul_mat_packed)(int64_t n, const void *wp, int n_rows, const void *x,
                           size_t x_stride, int n_cols, float *out, size_t out_stride);
    /* The fewest columns for which packing a band then mul_mat_packed
     * beats mul_mat on the rows as they are (the copy is paid per band and
     * batch, so it pays off from some batch width on, per type and set). */
    int pack_min_cols;
    /* GPTQ types only (their dequant and dot are NULL): out[c * out_stride
     * + o] = W[o] . x[c * x_stride ..] for o0 <= o < o1, c < n_cols, float
     * activations (vec_type F32), as gptq_mul_mat_ref. */
    void (*mul_mat_gptq)(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride);
};

struct cpu_kernels {
    enum cpu_isa isa;
    struct type_kernels type[EMBER_TYPE_COUNT]; /* dequant and mul_mat_gptq NULL: unsupported */
    struct vec_kernels vec;
};

/* The table of a set this CPU and build can run, else NULL. Built on first
 * use (thread-safe), then const for the life of the process: no free. */
const struct cpu_kernels *cpu_kernels_for(enum cpu_isa isa);

/* The kernels of one type in a table, or NULL for a type ember does not
 * implement. */
static inline const struct type_kernels *cpu_type_kernels(const struct cpu_kernels *k, int type) {
    return type >= 0 && type < EMBER_TYPE_COUNT && (k->type[type].dequant || k->type[type].mul_mat_gptq)
               ? &k->type[type]
               : NULL;
}

/* For installers: a type's dot and mul_mat; NULL keeps what is there (an
 * AVX-512 installer runs on top of the AVX2 one). */
static inline void cpu_set_dot(struct type_kernels *t, int type, cpu_dot_fn dot,
                               cpu_mul_mat_fn mul_mat) {
    if (dot) {
        t[type].dot = dot;
        t[type].mul_mat_exact = NULL; /* it mirrored the dot replaced */
    }
    if (mul_mat) t[type].mul_mat = mul_mat;
}

/* For installers, after cpu_set_dot: a type's mul_mat_exact, which must
 * mirror the dot that is there. */
static inline void cpu_set_exact(struct type_kernels *t, int type, cpu_mul_mat_fn mul_mat_exact) {
    t[type].mul_mat_exact = mul_mat_exact;
}

/* For installers: a type's interleaved layout, the product reading it and
 * the batch width from which it is worth packing for (pack_min_cols). */
static inline void cpu_set_packed(struct type_kernels *t, int type, int min_cols,
                                  size_t (*pack_bytes)(int64_t n_rows, int64_t n),
                                  void (*pack)(int64_t n, const void *w, size_t w_stride,
                                               int64_t n_rows, void *dst),
                                  void (*mul_mat_packed)(int64_t n, const void *wp, int n_rows,
                                                         const void *x, size_t x_stride,
                                                         int n_cols, float *out,
                                                         size_t out_stride)) {
    t[type].pack_bytes = pack_bytes;
    t[type].pack = pack;
    t[type].mul_mat_packed = mul_mat_packed;
    t[type].pack_min_cols = min_cols;
}

/* The installers, one per set (x86/install_x86.c, arm/install_arm.c): each
 * overrides slots of a table that holds the references. Built only for
 * their target. */
void cpu_install_avx2(struct type_kernels *t);
void cpu_install_avx512(struct type_kernels *t);
void cpu_install_neon(struct type_kernels *t);

#endif
