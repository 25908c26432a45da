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

struct vec_kernels {
    float (*dot)(const float *a, const float *b, int n);
    void (*mad)(float *y, const float *x, float a, int n);  /* y += a * x */
    void (*scale)(float *y, float a, int n);                /* y *= a */
    /* x[i] = exp(x[i] - max); returns the sum (for softmax). */
    float (*exp_sub)(float *x, float max, int n);
    float (*max)(const float *x, int n);
    void (*silu_mul)(float *g, const float *u, int n);      /* g = silu(g) * u */
    /* Attention's two products, over rows of a KV cache (row t at
     * base + t * stride floats). dot_rows: s[t] = scale * dot(q, k_t) for
     * t < rows. mad_rows: y = sum_t w[t] * v_t, summed in order of t, so it
     * rounds exactly like y = 0 followed by `mad` per row. One call per
     * query instead of one per (query, row) lets the SIMD versions keep q
     * or y in registers and reduce several rows' sums at once. */
    void (*dot_rows)(float *s, const float *q, const float *k, long stride, int rows, int n,
                     float scale);
    void (*mad_rows)(float *y, const float *v, long stride, const float *w, int rows, int n);
};

extern const struct vec_kernels vec_ref, vec_avx2, vec_avx512, vec_neon;

/* The table of a set whose kernels are named <slot>_<isa> (dot_avx2, ...),
 * every slot listed so the compiler checks each name and type. */
#define VEC_KERNELS(isa)                                                          \
    {                                                                             \
        .dot = dot_##isa, .mad = mad_##isa, .scale = scale_##isa,                 \
        .exp_sub = exp_sub_##isa, .max = max_##isa, .silu_mul = silu_mul_##isa,   \
        .dot_rows = dot_rows_##isa, .mad_rows = mad_rows_##isa,                   \
    }

#endif
