/*
 * attention.cu — store_kv and causal attention over the paged KV cache on
 * the GPU (cuda_kernels.h), in kv_cache.h's block layout: per layer and
 * KV head, keys F32/F16 transposed ([head_dim][block_size]) or Q8_0 by
 * position, values by position ([block_size][row]) in any of the three.
 *
 * Attention runs one block per (query head, row): its warps take
 * positions 0..pos[i] (or the sliding window's last ones) in turn, each keeping an online softmax (running
 * max, sum and weighted values, as flash attention does) so no score row
 * of n_ctx floats is stored; the warps' partial results are merged at the
 * end. A lane holds head dims lane, lane+32, ... (up to CUK_MAX_HEAD_DIM).
 * The query is rounded as the CPU rounds it: to f16 for an F16 cache (it
 * follows llama.cpp's F16 matmuls), to Q8_0 for a Q8_0 cache; the
 * probabilities are not rounded to f16 for F16 values, so results agree
 * with the CPU to float tolerance, not bit for bit.
 * Simple before fast: a split over long histories (more blocks per query)
 * and coalesced key reads are left for when a GPU can measure them.
 */
#include "cuda_kernels.h"
#include "quant_decode.cuh"

enum { ATT_WARPS = 4, PER_LANE = CUK_MAX_HEAD_DIM / 32, STORE_THREADS = 128 };

/* Element d of a Q8_0 row (blocks of 34 bytes: f16 scale, 32 codes). */
static __device__ __forceinline__ float q8_at(const uint8_t *row, int d) {
    const uint8_t *b = row + (size_t)(d / 32) * 34;
    return ld_f16(b) * (float)(int8_t)b[2 + d % 32];
}

/* Key dim d of position t of a head's part kb of a block. */
static __device__ __forceinline__ float key_at(const cuk_kv_seq &kv, const uint8_t *kb, int d, int t) {
    if (kv.type_k == EMBER_TYPE_Q8_0) return q8_at(kb + (size_t)t * kv.k_row, d);
    const uint8_t *r = kb + (size_t)d * kv.k_row;
    if (kv.type_k == EMBER_TYPE_F16) return __half2float(((const __half *)r)[t]);
    return ((const float *)r)[t];
}

static __device__ __forceinline__ float value_at(const cuk_kv_seq &kv, const uint8_t *vb, int d, int t) {
    const uint8_t *r = vb + (size_t)t * kv.v_row;
    if (kv.type_v == EMBER_TYPE_Q8_0) return q8_at(r, d);
    if (kv.type_v == EMBER_TYPE_F16) return __half2float(((const __half *)r)[d]);
    return ((const float *)r)[d];
}

static __device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* A Q8_0 cache's query as the CPU takes it (quant/q8_0.c's rounding:
 * d = absmax / 127 stored as f16, codes rounded half away from zero):
 * q[j] of the 32 lanes is one block of 32 dims. Dims past head_dim are 0. */
static __device__ void quantize_query(float q[PER_LANE]) {
#pragma unroll
    for (int j = 0; j < PER_LANE; j++) {
        float amax = fabsf(q[j]);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        q[j] = roundf(q[j] * id) * __half2float(__float2half(d));
    }
}

/* Block (h, i): query head h of row i. */
static __global__ void __launch_bounds__(32 * ATT_WARPS) attention(cuk_attn a) {
    __shared__ float sm[ATT_WARPS], sl[ATT_WARPS], so[ATT_WARPS][CUK_MAX_HEAD_DIM];
    int h = blockIdx.x, i = blockIdx.y, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    int hd = a.head_dim, kvh = h / (a.n_head / a.n_head_kv);
    const cuk_kv_seq kv = a.kv[a.seq[i]];
    int n_pos = a.pos[i] + 1, bs = kv.block_size;
    /* a sliding window: the first position the row sees (backend.h's attn_first_pos) */
    int lo = a.window > 0 && n_pos > a.window ? n_pos - a.window : 0;
    const float *qr = a.q + ((size_t)i * a.n_head + h) * hd;
    float scale = a.scale > 0.0f ? a.scale : rsqrtf((float)hd), q[PER_LANE], o[PER_LANE];
#pragma unroll
    for (int j = 0; j < PER_LANE; j++) {
        int d = lane + 32 * j;
        float v = d < hd ? qr[d] : 0.0f;
        if (kv.type_k == EMBER_TYPE_F16) v = __half2float(__float2half(v));
        q[j] = v * scale;
        o[j] = 0.0f;
    }
    if (kv.type_k == EMBER_TYPE_Q8_0) quantize_query(q);
    float m = -INFINITY, l = 0.0f;
    for (int p = lo + warp; p < n_pos; p += ATT_WARPS) {
        int b = p / bs, t = p % bs;
        const uint8_t *kb = kv.blocks[b] + kv.k_off + (size_t)kvh * kv.k_head;
        const uint8_t *vb = kv.blocks[b] + kv.v_off + (size_t)kvh * kv.v_head;
        float part = 0.0f;
#pragma unroll
        for (int j = 0; j < PER_LANE; j++)
            if (lane + 32 * j < hd) part += q[j] * key_at(kv, kb, lane + 32 * j, t);
        float s = warp_sum(part);
        float m_new = fmaxf(m, s), corr = expf(m - m_new), e = expf(s - m_new);
        l = l * corr + e;
#pragma unroll
        for (int j = 0; j < PER_LANE; j++)
            if (lane + 32 * j < hd) o[j] = o[j] * corr + e * value_at(kv, vb, lane + 32 * j, t);
        m = m_new;
    }
    if (lane == 0) {
        sm[warp] = m;
        sl[warp] = l;
    }
#pragma unroll
    for (int j = 0; j < PER_LANE; j++)
        if (lane + 32 * j < hd) so[warp][lane + 32 * j] = o[j];
    __syncthreads();
    /* A warp that saw no position has m = -inf: its weight exp(-inf) is 0. */
    float M = sm[0];
    for (int w = 1; w < ATT_WARPS; w++) M = fmaxf(M, sm[w]);
    float L = 0.0f, f[ATT_WARPS];
    for (int w = 0; w < ATT_WARPS; w++) {
        f[w] = expf(sm[w] - M);
        L += sl[w] * f[w];
    }
    float *out = a.out + ((size_t)i * a.n_head + h) * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc = 0.0f;
        for (int w = 0; w < ATT_WARPS; w++) acc += so[w][d] * f[w];
        out[d] = acc / L;
    }
}

extern "C" cudaError_t cuk_attention(const cuk_attn *a, cudaStream_t s) {
    if (a->head_dim > CUK_MAX_HEAD_DIM || a->n_head_kv < 1 || a->n_head % a->n_head_kv)
        return cudaErrorInvalidValue;
    attention<<<dim3((unsigned)a->n_head, (unsigned)a->n), 32 * ATT_WARPS, 0, s>>>(*a);
    return cudaGetLastError();
}

/* ---------------------------------------------------------------- store_kv */

/* A row of n values (n % 32 == 0) as Q8_0 blocks, a warp per block:
 * d = absmax / 127 and codes rounded half away from zero, as quant/q8_0.c. */
static __device__ void store_q8(uint8_t *row, const float *x, int n) {
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    for (int j = warp; j < n / 32; j += blockDim.x / 32) {
        float v = x[32 * j + lane], amax = fabsf(v);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        uint8_t *b = row + (size_t)j * 34;
        b[2 + lane] = (uint8_t)(int8_t)roundf(v * id);
        if (lane == 0) *(__half *)b = __float2half(d);
    }
}

/* Block (i, h): row i's KV head h into its sequence's block at pos[i]. */
static __global__ void store_kv(const cuk_kv_seq *kvs, const float *k, const float *v,
                                const int32_t *pos, const int32_t *seq, int n_head_kv, int hd) {
    int i = blockIdx.x, h = blockIdx.y;
    const cuk_kv_seq kv = kvs[seq[i]];
    int b = pos[i] / kv.block_size, t = pos[i] % kv.block_size;
    size_t from = ((size_t)i * n_head_kv + h) * hd;
    uint8_t *kb = (uint8_t *)kv.blocks[b] + kv.k_off + (size_t)h * kv.k_head;
    uint8_t *vr = (uint8_t *)kv.blocks[b] + kv.v_off + (size_t)h * kv.v_head + (size_t)t * kv.v_row;
    if (kv.type_k == EMBER_TYPE_Q8_0) {
        store_q8(kb + (size_t)t * kv.k_row, k + from, hd);
    } else { /* transposed: dimension d at row d */
        for (int d = threadIdx.x; d < hd; d += blockDim.x) {
            uint8_t *r = kb + (size_t)d * kv.k_row;
            if (kv.type_k == EMBER_TYPE_F16) ((__half *)r)[t] = __float2half(k[from + d]);
            else ((float *)r)[t] = k[from + d];
        }
    }
    if (kv.type_v == EMBER_TYPE_Q8_0) {
        store_q8(vr, v + from, hd);
        return;
    }
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        if (kv.type_v == EMBER_TYPE_F16) ((__half *)vr)[d] = __float2half(v[from + d]);
        else ((float *)vr)[d] = v[from + d];
    }
}

extern "C" cudaError_t cuk_store_kv(const cuk_kv_seq *kv, const float *k, const float *v,
                                    const int32_t *pos, const int32_t *seq, int n, int n_head_kv,
                                    int head_dim, cudaStream_t s) {
    store_kv<<<dim3((unsigned)n, (unsigned)n_head_kv), STORE_THREADS, 0, s>>>(kv, k, v, pos, seq,
                                                                               n_head_kv, head_dim);
    return cudaGetLastError();
}
