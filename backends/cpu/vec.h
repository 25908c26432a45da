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
    /* y[i] = y[i] * a rounded to the nearest f16 value (ties to even), as a
     * float: softmax's probabilities as an F16 matmul would take them. */
    void (*scale_f16)(float *y, float a, int n);
    /* Products over the rows of a KV cache block (row t at v + t * stride
     * values), for m weight vectors at once: for r < m,
     * y[r*ldy .. r*ldy+n) += sum_t w[r*ldw + t] * v_t, with rows of floats
     * or (the _mh form) of f16. Attention runs it twice per block: for the
     * scores over its transposed keys (one row per dimension, n the
     * block's positions, the queries as weights) and for the outputs over
     * its values (the probabilities as weights). It passes a
     * tile of queries (the heads of one KV head, over several rows) through
     * each block this way, so a block's keys and values are loaded and
     * widened once per tile rather than once per query: the SIMD versions
     * keep a register block of y rows by span values while they stream the
     * block's rows. */
    void (*mad_rows_m)(float *y, long ldy, const float *v, long stride, const float *w, long ldw,
                       int m, int rows, int n);
    void (*mad_rows_mh)(float *y, long ldy, const uint16_t *v, long stride, const float *w,
                        long ldw, int m, int rows, int n);
};

extern const struct vec_kernels vec_ref, vec_avx2, vec_avx512, vec_neon;

/* The table of a set whose kernels are named <slot>_<isa> (dot_avx2, ...),
 * every slot listed so the compiler checks each name and type. */
#define VEC_KERNELS(isa)                                                          \
    {                                                                             \
        .dot = dot_##isa, .mad = mad_##isa, .scale = scale_##isa,                 \
        .exp_sub = exp_sub_##isa, .max = max_##isa, .silu_mul = silu_mul_##isa,   \
        .scale_f16 = scale_f16_##isa,                                              \
        .mad_rows_m = mad_rows_m_##isa, .mad_rows_mh = mad_rows_mh_##isa,         \
    }

#endif
