/*
 * cuda_kernels.h — the CUDA backend's kernels as C calls: the one seam
 * between its C11 host code (cuda_backend.c, cuda_ctx.c) and the CUDA C++
 * in the .cu files, which is confined to them.
 *
 * Every pointer below is device memory unless it says otherwise; every
 * call only queues work on the stream it is given and returns the launch's
 * status (cudaSuccess, or why the launch failed: errors of the kernels
 * themselves show up at the next synchronization). Sizes the callers must
 * respect are stated per call; the kernels do not check them again.
 *
 * Files: matmul.cu (activation quantization, dp4a and float matvecs, the
 * tiled batch kernel), elementwise.cu (get_rows, rmsnorm, rope, softmax,
 * silu_mul, gelu_mul, scale, add, add_bias, gather, scatter_add),
 * attention.cu (store_kv, attention), with the
 * weight decoders they share in quant_decode.cuh.
 */
#ifndef EMBER_CUDA_KERNELS_H
#define EMBER_CUDA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A weight matrix in device memory: n_out rows of n_in values of `type`
 * (F32, F16, Q8_0, Q4_0, Q4_K or Q6_K: cuk_type_ok), row_bytes apart. */
struct cuk_weight {
    const void *data;
    int type;
    int64_t n_in, n_out;
    size_t row_bytes;
};

/* cudaSuccess when this binary has kernels for the current device. */
cudaError_t cuk_probe(void);

/* Whether the kernels read weights of this type as they are. */
int cuk_type_ok(int type);

/* Activations quantized for the dp4a matvec: one per 32 inputs, d the
 * scale, s = d * sum of the codes (the K-quants' min term), q the 32 int8
 * codes four to an int. Not GGUF's Q8_1: ints aligned for 4-byte loads. */
struct cuk_q8 {
    float d, s;
    int32_t q[8];
};

/* Batches up to this many rows take the matvec kernels; wider ones the
 * tiled kernel. */
enum { CUK_MMV_MAX_COLS = 8 };

/* Whether a matmul of n rows against a weight of `type` reads int8
 * activations (cuk_quantize first, into cuk_q8_bytes of scratch). */
int cuk_matmul_wants_q8(int type, int n);
size_t cuk_q8_bytes(int64_t n_in, int n);
/* n rows of n_in floats (n_in % 32 == 0) into xq, row after row. */
cudaError_t cuk_quantize(const float *x, struct cuk_q8 *xq, int64_t n_in, int n, cudaStream_t s);
/* out[i][r] = w row r . x[i] for n rows of x; xq: x quantized when
 * cuk_matmul_wants_q8, else unused. */
cudaError_t cuk_matmul(const struct cuk_weight *w, const float *x, const struct cuk_q8 *xq,
                       float *out, int n, cudaStream_t s);

/* out[i] = row rows[i] of w as floats (rows: device, n of them). */
cudaError_t cuk_get_rows(const struct cuk_weight *w, const int32_t *rows, float *out, int n,
                         cudaStream_t s);
/* out[i] = x[i] / rms(x[i]) * w for n rows of width. */
cudaError_t cuk_rmsnorm(float *out, const float *x, const float *w, int n, int width, float eps,
                        cudaStream_t s);

/* RoPE as the CPU computes it (backends/cpu/ops.c), rounding for rounding
 * but for cosf/sinf: the host works out what needs libm's powf and logf. */
struct cuk_rope_params {
    int n_rot, neox;
    float theta_scale;          /* powf(freq_base, -2 / n_rot) */
    float freq_scale, ext_factor, attn_factor;
    float corr_low, corr_high;  /* YaRN ramp ends (used when ext_factor != 0) */
    float yarn_mscale;          /* 1 + 0.1 logf(1 / freq_scale) (idem) */
    const float *freq_factors;  /* n_rot/2 divisors, or NULL */
};
cudaError_t cuk_rope(float *x, int n, int n_heads, int head_dim, const int32_t *pos,
                     const struct cuk_rope_params *rp, cudaStream_t s);
cudaError_t cuk_softmax(float *x, int n, cudaStream_t s);
cudaError_t cuk_silu_mul(float *g, const float *u, int64_t n, cudaStream_t s);
cudaError_t cuk_add(float *x, const float *y, int64_t n, cudaStream_t s);
cudaError_t cuk_add_bias(float *x, const float *b, int n, int width, cudaStream_t s);
/* g = gelu(g) u, GELU's tanh approximation as the CPU's (ops.c) */
cudaError_t cuk_gelu_mul(float *g, const float *u, int64_t n, cudaStream_t s);
cudaError_t cuk_scale(float *x, float f, int64_t n, cudaStream_t s);
/* out row i = x row rows[i]; x row rows[i] += w[i] y row i (rows distinct).
 * rows and w: device, n of them. */
cudaError_t cuk_gather(float *out, const float *x, const int32_t *rows, int n, int width,
                       cudaStream_t s);
cudaError_t cuk_scatter_add(float *x, const float *y, const int32_t *rows, const float *w, int n,
                            int width, cudaStream_t s);

/* One sequence's view of one layer (kv_cache.h's struct kv_view) with its
 * block table in device memory. */
struct cuk_kv_seq {
    const uint8_t *const *blocks;
    uint64_t k_off, v_off, k_head, v_head, k_row, v_row;
    int32_t block_size, type_k, type_v, pad;
};
/* Heads up to this size (a warp's lanes hold 8 values each). */
enum { CUK_MAX_HEAD_DIM = 256 };
struct cuk_attn {
    const float *q;
    float *out;
    const struct cuk_kv_seq *kv; /* indexed by seq[i] */
    const int32_t *pos, *seq;
    int n, n_head, n_head_kv, head_dim;
    float scale;                 /* q.k times this; 0: 1/sqrt(head_dim) */
    int window;                  /* pos - p < window only; 0: all of 0..pos */
};
cudaError_t cuk_attention(const struct cuk_attn *a, cudaStream_t s);
cudaError_t cuk_store_kv(const struct cuk_kv_seq *kv, const float *k, const float *v,
                         const int32_t *pos, const int32_t *seq, int n, int n_head_kv,
                         int head_dim, cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif
