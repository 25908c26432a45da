/*
 * ops.h — the CPU operations a forward pass is built from.
 *
 * Models call these and never touch a kernel or an intrinsic. A weight matrix
 * is a `struct tensor` view into the mapped file: n_out rows of n_in values
 * in any supported type; ops_matmul converts the activation to the type the
 * weight's dot product expects (Q8_0, Q8_K, F16, ...) once, then splits the
 * rows across the thread pool.
 */
#ifndef EMBER_OPS_H
#define EMBER_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "threadpool.h"

struct tensor {
    int type;         /* ggml type id */
    int64_t n_in;     /* values per row (ne[0]) */
    int64_t n_out;    /* rows (ne[1]) */
    size_t row_bytes;
    const void *data;
    /* The rows repacked by quant_ops.pack for the running kernel set
     * (model_load does it once), or NULL: matmul then reads `data`. */
    const void *packed;
};

/* Scratch for converted activations: up to max_rows rows of the widest. */
struct ops_ctx {
    struct threadpool *pool;
    void *vec;        /* converted activation rows */
    size_t vec_cap;
    int max_rows;
};

struct rope_params {
    int n_rot;            /* leading dims of each head that rotate */
    bool neox;            /* pairs (i, i+n_rot/2) instead of (2i, 2i+1) */
    float freq_base;
    float freq_scale;     /* 1/linear factor */
    float ext_factor;     /* YaRN ramp mix, 0 = off */
    float attn_factor;    /* YaRN magnitude scale */
    float beta_fast, beta_slow;
    int n_ctx_orig;
    const float *freq_factors; /* per pair divisor of theta (llama 3.1), or NULL */
};

/* Scratch for max_rows rows of up to max_n values; false on out of memory. */
bool ops_ctx_init(struct ops_ctx *c, struct threadpool *pool, int64_t max_n, int max_rows);
void ops_ctx_free(struct ops_ctx *c);

/* For each of n rows (n <= max_rows): out[i][0..n_out) = W x[i], where x[i]
 * has W->n_in values; rows of x and out are contiguous. */
void ops_matmul(struct ops_ctx *c, float *out, const struct tensor *w, const float *x, int n);
/* ops_matmul of up to OPS_MATMUL_MAX matrices with the same input x (q, k
 * and v; gate and up) as one job for the thread pool: one wait instead of
 * one per matrix, and a thread that finishes one matrix's rows goes on
 * with the next's. Every output is computed exactly as ops_matmul would. */
#define OPS_MATMUL_MAX 4
void ops_matmul_many(struct ops_ctx *c, int n_mats, float *const out[], const struct tensor *const w[],
                     const float *x, int n);
/* out[n_in] = row `row` of W, dequantized (embedding lookup). */
void ops_get_row(float *out, const struct tensor *w, int64_t row);

/* Causal multi-head attention for a batch of n query rows at positions
 * pos..pos+n-1 against a KV cache holding positions 0..pos+n-1. Query head
 * h reads KV head h / (n_head / n_head_kv) (grouped-query attention). */
struct attn_args {
    const float *q;         /* [n][n_head*head_dim] */
    const float *k, *v;     /* caches [n_head_kv][n_ctx][head_dim] */
    float *out;             /* [n][n_head*head_dim] */
    float *scores;          /* scratch [n_head][n_ctx] */
    int n, pos, n_ctx;
    int n_head, n_head_kv, head_dim;
};
void ops_attention(struct ops_ctx *c, const struct attn_args *a);

void ops_rmsnorm(float *out, const float *x, const float *w, int n, float eps);
void ops_add(float *x, const float *y, int n);
void ops_softmax(float *x, int n);
void ops_silu_mul(float *gate, const float *up, int n);
/* Rotate n_heads heads of head_dim values at position pos, in place. */
void ops_rope(float *v, int n_heads, int head_dim, int pos, const struct rope_params *rp);

#endif
