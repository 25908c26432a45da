/*
 * elementwise.cu — the CUDA backend's small ops (cuda_kernels.h): get_rows,
 * rmsnorm, rope, softmax, silu_mul, gelu_mul, scale, add, add_bias,
 * gather and scatter_add, each the CPU's
 * reference semantics (backends/cpu/ops.c) on device rows.
 *
 * They are memory-bound and short, so each is the plainest mapping that
 * keeps loads coalesced: a thread per value, or a block per row where a
 * row needs a reduction (rmsnorm, softmax).
 */
#include "cuda_kernels.h"
#include "quant_decode.cuh"

enum { EW_THREADS = 256, ROW_THREADS = 256, SOFTMAX_THREADS = 1024 };

static unsigned blocks_for(int64_t n, int per) { return (unsigned)((n + per - 1) / per); }

/* ---------------------------------------------------------------- get_rows */

/* Quantized tables: thread t of (row i, block y) decodes one chunk. */
template <int T>
static __global__ void get_rows_q(const uint8_t *w, size_t row_bytes, int64_t n_in,
                                  const int32_t *rows, float *out) {
    int i = blockIdx.y;
    int64_t c = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= n_in / 32) return;
    qchunk k = decode_chunk<T>(w + (size_t)rows[i] * row_bytes, (int)c);
    float *o = out + (size_t)i * n_in + c * 32;
#pragma unroll
    for (int l = 0; l < 32; l++) o[l] = chunk_value(k, l);
}

template <int T>
static __global__ void get_rows_f(const void *w, int64_t n_in, const int32_t *rows, float *out) {
    int i = blockIdx.y;
    int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e < n_in) out[(size_t)i * n_in + e] = float_at<T>(w, (size_t)n_in, rows[i], e);
}

extern "C" cudaError_t cuk_get_rows(const cuk_weight *w, const int32_t *rows, float *out, int n,
                                    cudaStream_t s) {
    dim3 qgrid(blocks_for(w->n_in / 32, 64), (unsigned)n), fgrid(blocks_for(w->n_in, EW_THREADS), (unsigned)n);
    const uint8_t *d = (const uint8_t *)w->data;
    switch (w->type) {
    case EMBER_TYPE_F32: get_rows_f<EMBER_TYPE_F32><<<fgrid, EW_THREADS, 0, s>>>(d, w->n_in, rows, out); break;
    case EMBER_TYPE_F16: get_rows_f<EMBER_TYPE_F16><<<fgrid, EW_THREADS, 0, s>>>(d, w->n_in, rows, out); break;
    case EMBER_TYPE_Q8_0: get_rows_q<EMBER_TYPE_Q8_0><<<qgrid, 64, 0, s>>>(d, w->row_bytes, w->n_in, rows, out); break;
    case EMBER_TYPE_Q4_0: get_rows_q<EMBER_TYPE_Q4_0><<<qgrid, 64, 0, s>>>(d, w->row_bytes, w->n_in, rows, out); break;
    case EMBER_TYPE_Q4_K: get_rows_q<EMBER_TYPE_Q4_K><<<qgrid, 64, 0, s>>>(d, w->row_bytes, w->n_in, rows, out); break;
    case EMBER_TYPE_Q6_K: get_rows_q<EMBER_TYPE_Q6_K><<<qgrid, 64, 0, s>>>(d, w->row_bytes, w->n_in, rows, out); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

/* ------------------------------------------------------------- reductions */

/* The sum (or max) of v over the block, returned to every thread; the
 * block's size is a multiple of 32, at most 1024. */
template <bool MAX> static __device__ float block_reduce(float v) {
    __shared__ float part[32];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = MAX ? fmaxf(v, u) : v + u;
    }
    int warp = threadIdx.x / 32, n_warps = blockDim.x / 32;
    __syncthreads(); /* part[] may still be read by a previous call */
    if (threadIdx.x % 32 == 0) part[warp] = v;
    __syncthreads();
    v = threadIdx.x < n_warps ? part[threadIdx.x] : (MAX ? -INFINITY : 0.0f);
    if (warp == 0) {
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float u = __shfl_xor_sync(0xffffffffu, v, o);
            v = MAX ? fmaxf(v, u) : v + u;
        }
        if (threadIdx.x == 0) part[0] = v;
    }
    __syncthreads();
    return part[0];
}

/* ----------------------------------------------------------------- rmsnorm */

static __global__ void rmsnorm(float *out, const float *x, const float *w, int width, float eps) {
    const float *xr = x + (size_t)blockIdx.x * width;
    float *o = out + (size_t)blockIdx.x * width;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < width; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_reduce<false>(ss);
    float scale = rsqrtf(ss / (float)width + eps);
    for (int i = threadIdx.x; i < width; i += blockDim.x) o[i] = xr[i] * scale * w[i];
}

extern "C" cudaError_t cuk_rmsnorm(float *out, const float *x, const float *w, int n, int width,
                                   float eps, cudaStream_t s) {
    rmsnorm<<<(unsigned)n, ROW_THREADS, 0, s>>>(out, x, w, width, eps);
    return cudaGetLastError();
}

/* -------------------------------------------------------------------- rope */

/* Pair p of every head of row blockIdx.x, with the CPU's float operations
 * in its order: the angle pos * theta_scale^p by p products, divided by the
 * freq factor, scaled, YaRN-ramped. Every step is a _rn intrinsic, which
 * nvcc never fuses into an FMA: angles reach thousands of radians, where
 * one rounding more or less moves cos and sin by 1e-4. */
static __global__ void rope(float *x, int n_heads, int head_dim, const int32_t *pos,
                            cuk_rope_params rp) {
    int row = blockIdx.x, n_pairs = rp.n_rot / 2;
    float *v = x + (size_t)row * n_heads * head_dim;
    for (int p = threadIdx.x; p < n_pairs; p += blockDim.x) {
        float theta_extrap = (float)pos[row];
        for (int k = 0; k < p; k++) theta_extrap = __fmul_rn(theta_extrap, rp.theta_scale);
        if (rp.freq_factors) theta_extrap = __fdiv_rn(theta_extrap, rp.freq_factors[p]);
        float theta = __fmul_rn(rp.freq_scale, theta_extrap), mscale = rp.attn_factor;
        if (rp.ext_factor != 0.0f) {
            float y = __fdiv_rn(__fsub_rn((float)p, rp.corr_low),
                                fmaxf(0.001f, __fsub_rn(rp.corr_high, rp.corr_low)));
            float mix = __fmul_rn(__fsub_rn(1.0f, fminf(1.0f, fmaxf(0.0f, y))), rp.ext_factor);
            theta = __fadd_rn(__fmul_rn(theta, __fsub_rn(1.0f, mix)), __fmul_rn(theta_extrap, mix));
            mscale = __fmul_rn(mscale, rp.yarn_mscale);
        }
        float cs = __fmul_rn(cosf(theta), mscale), sn = __fmul_rn(sinf(theta), mscale);
        int a = rp.neox ? p : 2 * p, b = rp.neox ? p + n_pairs : 2 * p + 1;
        for (int h = 0; h < n_heads; h++) {
            float *q = v + (size_t)h * head_dim;
            float x0 = q[a], x1 = q[b];
            q[a] = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
            q[b] = __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs));
        }
    }
}

extern "C" cudaError_t cuk_rope(float *x, int n, int n_heads, int head_dim, const int32_t *pos,
                                const cuk_rope_params *rp, cudaStream_t s) {
    int threads = rp->n_rot / 2 < 128 ? (rp->n_rot / 2 + 31) / 32 * 32 : 128;
    rope<<<(unsigned)n, threads > 0 ? threads : 32, 0, s>>>(x, n_heads, head_dim, pos, *rp);
    return cudaGetLastError();
}

/* ----------------------------------------------------------------- softmax */

static __global__ void softmax(float *x, int n) {
    float m = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_reduce<true>(m);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float e = expf(x[i] - m);
        x[i] = e;
        sum += e;
    }
    sum = block_reduce<false>(sum);
    float inv = 1.0f / sum;
    for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] *= inv;
}

extern "C" cudaError_t cuk_softmax(float *x, int n, cudaStream_t s) {
    softmax<<<1, SOFTMAX_THREADS, 0, s>>>(x, n);
    return cudaGetLastError();
}

/* ------------------------------------------------------- silu_mul, add(s) */

static __global__ void silu_mul(float *g, const float *u, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

static __global__ void add(float *x, const float *y, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}

static __global__ void add_bias(float *x, const float *b, int64_t n, int width) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += b[i % width];
}

extern "C" cudaError_t cuk_silu_mul(float *g, const float *u, int64_t n, cudaStream_t s) {
    silu_mul<<<blocks_for(n, EW_THREADS), EW_THREADS, 0, s>>>(g, u, n);
    return cudaGetLastError();
}

extern "C" cudaError_t cuk_add(float *x, const float *y, int64_t n, cudaStream_t s) {
    add<<<blocks_for(n, EW_THREADS), EW_THREADS, 0, s>>>(x, y, n);
    return cudaGetLastError();
}

extern "C" cudaError_t cuk_add_bias(float *x, const float *b, int n, int width, cudaStream_t s) {
    int64_t len = (int64_t)n * width;
    add_bias<<<blocks_for(len, EW_THREADS), EW_THREADS, 0, s>>>(x, b, len, width);
    return cudaGetLastError();
}

/* ------------------------------------------------- gelu_mul, scale, rows */

/* As cpu_gelu_mul, operation for operation (tanhf, no fused multiply-adds:
 * the _rn intrinsics keep nvcc from contracting). */
static __global__ void gelu_mul(float *g, const float *u, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = g[i];
    float t = __fmul_rn(__fmul_rn(0.7978845608f, x), __fadd_rn(1.0f, __fmul_rn(__fmul_rn(0.044715f, x), x)));
    g[i] = __fmul_rn(__fmul_rn(__fmul_rn(0.5f, x), __fadd_rn(1.0f, tanhf(t))), u[i]);
}

static __global__ void scale(float *x, float f, int64_t n) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= f;
}

/* A thread per value of the n rows: value e is dim e % width of row e / width. */
static __global__ void gather(float *out, const float *x, const int32_t *rows, int64_t len, int width) {
    int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e < len) out[e] = x[(size_t)rows[e / width] * width + e % width];
}

/* rows are distinct: no two threads add into one value. */
static __global__ void scatter_add(float *x, const float *y, const int32_t *rows, const float *w,
                                   int64_t len, int width) {
    int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= len) return;
    float *xe = x + (size_t)rows[e / width] * width + e % width;
    *xe = __fadd_rn(*xe, __fmul_rn(w[e / width], y[e]));
}

extern "C" cudaError_t cuk_gelu_mul(float *g, const float *u, int64_t n, cudaStream_t s) {
    gelu_mul<<<blocks_for(n, EW_THREADS), EW_THREADS, 0, s>>>(g, u, n);
    return cudaGetLastError();
}

extern "C" cudaError_t cuk_scale(float *x, float f, int64_t n, cudaStream_t s) {
    scale<<<blocks_for(n, EW_THREADS), EW_THREADS, 0, s>>>(x, f, n);
    return cudaGetLastError();
}

extern "C" cudaError_t cuk_gather(float *out, const float *x, const int32_t *rows, int n, int width,
                                  cudaStream_t s) {
    int64_t len = (int64_t)n * width;
    gather<<<blocks_for(len, EW_THREADS), EW_THREADS, 0, s>>>(out, x, rows, len, width);
    return cudaGetLastError();
}

extern "C" cudaError_t cuk_scatter_add(float *x, const float *y, const int32_t *rows, const float *w,
                                       int n, int width, cudaStream_t s) {
    int64_t len = (int64_t)n * width;
    scatter_add<<<blocks_for(len, EW_THREADS), EW_THREADS, 0, s>>>(x, y, rows, w, len, width);
    return cudaGetLastError();
}
