/*
 * matmul.cu — out = W x on the GPU for every weight type the backend
 * keeps (cuda_kernels.h): activation quantization, the matvec kernels for
 * up to CUK_MMV_MAX_COLS rows, and the tiled kernel for wider batches.
 *
 * A decode step (a few rows) is bound by reading the weights once, so one
 * warp streams one weight row: quantized types against int8 activations
 * with __dp4a (four int8 products a cycle, 32 values per lane a step, the
 * weight's chunk decoded once for every activation row), F32/F16 against
 * the float activations. A batch reuses each weight value across many
 * rows, so it is tiled: a block computes 64 outputs for 32 rows from
 * shared-memory tiles of weights (decoded to floats) and activations.
 * The tiled kernel is plain FMA, not tensor-core mma: correct first; an
 * int8 mma path is future work (it needs a GPU to measure).
 *
 * Sections: activation quantization; matvecs; tiled; dispatch.
 */
#include "cuda_kernels.h"
#include "quant_decode.cuh"

enum { MMV_WARPS = 4, TILE_M = 64, TILE_N = 32, TILE_K = 64, TILE_THREADS = 256 };

static __device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* ------------------------------------------------ activation quantization */

/* One warp per 32 values: d = absmax / 127, codes rounded half away from
 * zero (quant/q8_0.c's rule), packed four to an int by shuffles. */
static __global__ void quantize_q8(const float *x, cuk_q8 *xq, int64_t n_chunks) {
    int64_t c = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (c >= n_chunks) return; /* the whole warp leaves together */
    int lane = threadIdx.x % 32;
    float v = x[c * 32 + lane], amax = fabsf(v);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    int q = (int)roundf(v * id);
    int sum = q;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    unsigned b = (unsigned)q & 0xffu;
    unsigned packed = b | (__shfl_down_sync(0xffffffffu, b, 1) << 8) |
                      (__shfl_down_sync(0xffffffffu, b, 2) << 16) |
                      (__shfl_down_sync(0xffffffffu, b, 3) << 24);
    if (lane % 4 == 0) xq[c].q[lane / 4] = (int)packed;
    if (lane == 0) {
        xq[c].d = d;
        xq[c].s = d * (float)sum;
    }
}

/* ----------------------------------------------------------------- matvecs */

static __device__ __forceinline__ float chunk_dot(const qchunk &k, const cuk_q8 *x) {
    int s0 = 0, s1 = 0;
#pragma unroll
    for (int i = 0; i < 4; i++) s0 = __dp4a(k.w[i], x->q[i], s0);
#pragma unroll
    for (int i = 4; i < 8; i++) s1 = __dp4a(k.w[i], x->q[i], s1);
    return x->d * (k.d0 * (float)s0 + k.d1 * (float)s1) + k.m * x->s;
}

/* Warp threadIdx.y of block b: output row b*MMV_WARPS + y for ncols <= NC
 * activation rows; lane l takes chunks l, l+32, ... */
template <int T, int NC>
static __global__ void mmv_q8(const uint8_t *w, size_t row_bytes, int64_t n_out, int n_chunks,
                              const cuk_q8 *xq, float *out, int ncols) {
    int64_t row = (int64_t)blockIdx.x * MMV_WARPS + threadIdx.y;
    if (row >= n_out) return;
    const uint8_t *r = w + (size_t)row * row_bytes;
    float acc[NC];
#pragma unroll
    for (int j = 0; j < NC; j++) acc[j] = 0.0f;
    for (int c = threadIdx.x; c < n_chunks; c += 32) {
        qchunk k = decode_chunk<T>(r, c);
#pragma unroll
        for (int j = 0; j < NC; j++)
            if (j < ncols) acc[j] += chunk_dot(k, xq + (size_t)j * n_chunks + c);
    }
#pragma unroll
    for (int j = 0; j < NC; j++) {
        float v = warp_sum(acc[j]);
        if (threadIdx.x == 0 && j < ncols) out[(size_t)j * n_out + row] = v;
    }
}

/* The same for F32/F16 weights and float activations: lanes read
 * consecutive values, so a warp's loads are one coalesced stretch. */
template <int T, int NC>
static __global__ void mmv_f(const void *w, int64_t n_in, int64_t n_out, const float *x, float *out,
                             int ncols) {
    int64_t row = (int64_t)blockIdx.x * MMV_WARPS + threadIdx.y;
    if (row >= n_out) return;
    float acc[NC];
#pragma unroll
    for (int j = 0; j < NC; j++) acc[j] = 0.0f;
    for (int64_t i = threadIdx.x; i < n_in; i += 32) {
        float wv = float_at<T>(w, (size_t)n_in, row, i);
#pragma unroll
        for (int j = 0; j < NC; j++)
            if (j < ncols) acc[j] += wv * x[(size_t)j * n_in + i];
    }
#pragma unroll
    for (int j = 0; j < NC; j++) {
        float v = warp_sum(acc[j]);
        if (threadIdx.x == 0 && j < ncols) out[(size_t)j * n_out + row] = v;
    }
}

/* ------------------------------------------------------------------- tiled */

/* The weight tile: rows r0.. of values k0 .. k0+TILE_K-1 as floats, zero
 * past the matrix. Quantized types: one (row, chunk) per thread. */
template <int T> struct wtile {
    static __device__ void load(float (*ws)[TILE_K + 1], const uint8_t *w, size_t row_bytes,
                                int64_t n_in, int64_t n_out, int64_t r0, int64_t k0) {
        const int per_row = TILE_K / 32;
        int t = threadIdx.x;
        if (t >= TILE_M * per_row) return;
        int rr = t / per_row, cc = t % per_row;
        int64_t row = r0 + rr, c = k0 / 32 + cc;
        if (row < n_out && c < n_in / 32) {
            qchunk k = decode_chunk<T>(w + (size_t)row * row_bytes, (int)c);
#pragma unroll
            for (int l = 0; l < 32; l++) ws[rr][cc * 32 + l] = chunk_value(k, l);
        } else {
            for (int l = 0; l < 32; l++) ws[rr][cc * 32 + l] = 0.0f;
        }
    }
};

/* F32/F16: one value per thread and step, consecutive threads along a row. */
template <int T> struct wtile_f {
    static __device__ void load(float (*ws)[TILE_K + 1], const uint8_t *w, size_t row_bytes,
                                int64_t n_in, int64_t n_out, int64_t r0, int64_t k0) {
        (void)row_bytes;
        for (int e = threadIdx.x; e < TILE_M * TILE_K; e += TILE_THREADS) {
            int rr = e / TILE_K, kk = e % TILE_K;
            int64_t row = r0 + rr, i = k0 + kk;
            ws[rr][kk] = row < n_out && i < n_in ? float_at<T>(w, (size_t)n_in, row, i) : 0.0f;
        }
    }
};
template <> struct wtile<EMBER_TYPE_F32> : wtile_f<EMBER_TYPE_F32> {};
template <> struct wtile<EMBER_TYPE_F16> : wtile_f<EMBER_TYPE_F16> {};

/* Block (bx, by): outputs r0 .. r0+63 of activation rows c0 .. c0+31.
 * Thread t: row offsets t/32 + 8i (i < 8) of column t%32, so a warp reads
 * one weight value (a broadcast) and 32 activations (rows padded to
 * TILE_K+1 floats: no bank conflicts) per step. */
template <int T>
static __global__ void __launch_bounds__(TILE_THREADS)
mm_tiled(const uint8_t *w, size_t row_bytes, int64_t n_in, int64_t n_out, const float *x,
         float *out, int n) {
    __shared__ float ws[TILE_M][TILE_K + 1];
    __shared__ float xs[TILE_N][TILE_K + 1];
    int64_t r0 = (int64_t)blockIdx.x * TILE_M;
    int c0 = blockIdx.y * TILE_N;
    int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
    float acc[TILE_M / 8];
#pragma unroll
    for (int i = 0; i < TILE_M / 8; i++) acc[i] = 0.0f;
    for (int64_t k0 = 0; k0 < n_in; k0 += TILE_K) {
        wtile<T>::load(ws, w, row_bytes, n_in, n_out, r0, k0);
        for (int e = threadIdx.x; e < TILE_N * TILE_K; e += TILE_THREADS) {
            int cc = e / TILE_K, kk = e % TILE_K;
            int col = c0 + cc;
            int64_t i = k0 + kk;
            xs[cc][kk] = col < n && i < n_in ? x[(size_t)col * n_in + i] : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < TILE_K; kk++) {
            float xv = xs[tx][kk];
#pragma unroll
            for (int i = 0; i < TILE_M / 8; i++) acc[i] += ws[ty + 8 * i][kk] * xv;
        }
        __syncthreads();
    }
    int col = c0 + tx;
    if (col >= n) return;
#pragma unroll
    for (int i = 0; i < TILE_M / 8; i++) {
        int64_t row = r0 + ty + 8 * i;
        if (row < n_out) out[(size_t)col * n_out + row] = acc[i];
    }
}

/* ---------------------------------------------------------------- dispatch */

static constexpr bool is_q8_type(int t) {
    return t == EMBER_TYPE_Q8_0 || t == EMBER_TYPE_Q4_0 || t == EMBER_TYPE_Q4_K ||
           t == EMBER_TYPE_Q6_K;
}

extern "C" int cuk_type_ok(int type) {
    return is_q8_type(type) || type == EMBER_TYPE_F32 || type == EMBER_TYPE_F16;
}

extern "C" int cuk_matmul_wants_q8(int type, int n) {
    return is_q8_type(type) && n <= CUK_MMV_MAX_COLS;
}

extern "C" size_t cuk_q8_bytes(int64_t n_in, int n) {
    return (size_t)(n_in / 32) * (size_t)n * sizeof(cuk_q8);
}

extern "C" cudaError_t cuk_quantize(const float *x, cuk_q8 *xq, int64_t n_in, int n,
                                    cudaStream_t s) {
    int64_t chunks = n_in / 32 * n;
    const int warps = 8;
    quantize_q8<<<(unsigned)((chunks + warps - 1) / warps), 32 * warps, 0, s>>>(x, xq, chunks);
    return cudaGetLastError();
}

template <int T, int NC>
static void launch_mmv(const cuk_weight *w, const float *x, const cuk_q8 *xq, float *out, int n,
                       cudaStream_t s) {
    dim3 block(32, MMV_WARPS), grid((unsigned)((w->n_out + MMV_WARPS - 1) / MMV_WARPS));
    if constexpr (is_q8_type(T))
        mmv_q8<T, NC><<<grid, block, 0, s>>>((const uint8_t *)w->data, w->row_bytes, w->n_out,
                                             (int)(w->n_in / 32), xq, out, n);
    else
        mmv_f<T, NC><<<grid, block, 0, s>>>(w->data, w->n_in, w->n_out, x, out, n);
}

template <int T>
static void launch(const cuk_weight *w, const float *x, const cuk_q8 *xq, float *out, int n,
                   cudaStream_t s) {
    if (n == 1) {
        launch_mmv<T, 1>(w, x, xq, out, n, s);
    } else if (n <= CUK_MMV_MAX_COLS) {
        launch_mmv<T, CUK_MMV_MAX_COLS>(w, x, xq, out, n, s);
    } else {
        dim3 grid((unsigned)((w->n_out + TILE_M - 1) / TILE_M), (unsigned)((n + TILE_N - 1) / TILE_N));
        mm_tiled<T><<<grid, TILE_THREADS, 0, s>>>((const uint8_t *)w->data, w->row_bytes, w->n_in,
                                                  w->n_out, x, out, n);
    }
}

extern "C" cudaError_t cuk_matmul(const cuk_weight *w, const float *x, const cuk_q8 *xq,
                                  float *out, int n, cudaStream_t s) {
    switch (w->type) {
    case EMBER_TYPE_F32: launch<EMBER_TYPE_F32>(w, x, xq, out, n, s); break;
    case EMBER_TYPE_F16: launch<EMBER_TYPE_F16>(w, x, xq, out, n, s); break;
    case EMBER_TYPE_Q8_0: launch<EMBER_TYPE_Q8_0>(w, x, xq, out, n, s); break;
    case EMBER_TYPE_Q4_0: launch<EMBER_TYPE_Q4_0>(w, x, xq, out, n, s); break;
    case EMBER_TYPE_Q4_K: launch<EMBER_TYPE_Q4_K>(w, x, xq, out, n, s); break;
    case EMBER_TYPE_Q6_K: launch<EMBER_TYPE_Q6_K>(w, x, xq, out, n, s); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

/* Whether this binary holds code the current device can run (a fat binary
 * for other compute capabilities has none: cudaErrorNoKernelImageForDevice). */
extern "C" cudaError_t cuk_probe(void) {
    cudaFuncAttributes fa;
    return cudaFuncGetAttributes(&fa, quantize_q8);
}
