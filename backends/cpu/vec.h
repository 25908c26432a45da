/*
 * vec.h — the float vector kernels under ops.c (attention, norms,
 * activations), one implementation per instruction set.
 *
 * vec_ref.c holds the scalar reference; vec_avx2.c, vec_avx512.c and
 * vec_neon.c the fast versions, which a set's kernel table takes
 * (cpu_kernels.h). Fast
 * versions sum in a different order and use a polynomial exp, so they agree
 * with the reference to a few ulps (tests/test_vec.c states the bounds).
 */
#ifndef EMBER_VEC_H
#define EMBER_VEC_H

#include <stdint.h>

struct vec_kernels {
    float (*dot)(const float *a, const float *b, int n);
    void (*mad)(float *y, const float *x, float a, int n);  /* y += a * x */
    void (*scale)(float *y, float a, int n);                /* y *= a */
    /* x[i] = exp(x[i] - max); returns the sum (for softmax). */
    float (*exp_sub)(float *x, float max, int n);
    float (*max)(const float *x, int n);
    void (*silu_mul)(float *g, const float *u, int n);      /* g = silu(g) * u */
    /* Products over rows of a KV cache block (row t at base + t * stride
     * values). dot_rows: s[t] = scale * dot(q, k_t) for t < rows.
     * mad_rows: y[0..n) += sum_t w[t] * v_t, with rows of floats or (the
     * _h form) of f16. Attention uses mad_rows twice per block: for the
     * scores over its transposed keys (one row per dimension, n the
     * block's positions) and for the output over its values. One call per
     * block instead of one per row lets the SIMD versions keep y in
     * registers; they may sum the rows in a different order (several
     * chains for a narrow y), so results differ from the reference by
     * rounding only. */
    void (*dot_rows)(float *s, const float *q, const float *k, long stride, int rows, int n,
                     float scale);
    void (*mad_rows)(float *y, const float *v, long stride, const float *w, int rows, int n);
    void (*mad_rows_h)(float *y, const uint16_t *v, long stride, const float *w, int rows, int n);
};

extern const struct vec_kernels vec_ref, vec_avx2, vec_avx512, vec_neon;

/* The table of a set whose kernels are named <slot>_<isa> (dot_avx2, ...),
 * every slot listed so the compiler checks each name and type. */
#define VEC_KERNELS(isa)                                                          \
    {                                                                             \
        .dot = dot_##isa, .mad = mad_##isa, .scale = scale_##isa,                 \
        .exp_sub = exp_sub_##isa, .max = max_##isa, .silu_mul = silu_mul_##isa,   \
        .dot_rows = dot_rows_##isa, .mad_rows = mad_rows_##isa,                   \
        .mad_rows_h = mad_rows_h_##isa,                                           \
    }

#endif
