/*
 * quant_decode.cuh — device-side readers of the weight blocks (quant/'s
 * layouts, quant_impl.h), shared by the matmul and get_rows kernels.
 *
 * Every quantized type is read in chunks of 32 consecutive values: 8 ints
 * of int8 codes (four to an int, in value order) with two scales and an
 * offset, value l = (l < 16 ? d0 : d1) * code + m. One shape serves them
 * all: Q8_0 and Q4_0 are one block a chunk; Q4_K's sub-blocks of 32 have
 * one scale and a min (m = -dmin * min); Q6_K's have a scale per 16 (d0,
 * d1). The dp4a matvec dots the codes against int8 activations of the same
 * 32 values; the tiled kernel and get_rows turn them into floats.
 *
 * Blocks of Q8_0, Q4_0 and Q6_K are only 2-byte aligned (34, 18 and 210
 * bytes), so their codes are read as pairs of 16-bit halves.
 */
#ifndef EMBER_CUDA_QUANT_DECODE_CUH
#define EMBER_CUDA_QUANT_DECODE_CUH

#include <cuda_fp16.h>
#include <stdint.h>

#include "quant.h"

struct qchunk {
    int w[8];
    float d0, d1, m;
};

static __device__ __forceinline__ float ld_f16(const uint8_t *p) {
    return __half2float(__ushort_as_half(*(const unsigned short *)p));
}

/* An int from a 2-byte aligned address. */
static __device__ __forceinline__ int ld_i32_b2(const uint8_t *p) {
    const uint16_t *h = (const uint16_t *)p;
    return (int)((uint32_t)h[0] | ((uint32_t)h[1] << 16));
}

/* Chunk c (values 32c .. 32c+31) of a row. */
template <int T> __device__ __forceinline__ qchunk decode_chunk(const uint8_t *row, int c);

template <> __device__ __forceinline__ qchunk decode_chunk<EMBER_TYPE_Q8_0>(const uint8_t *row, int c) {
    const uint8_t *b = row + (size_t)c * 34;
    qchunk k;
    k.d0 = k.d1 = ld_f16(b);
    k.m = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; j++) k.w[j] = ld_i32_b2(b + 2 + 4 * j);
    return k;
}

/* Byte j: value j in the low nibble, value j+16 in the high one; codes
 * are stored plus 8. */
template <> __device__ __forceinline__ qchunk decode_chunk<EMBER_TYPE_Q4_0>(const uint8_t *row, int c) {
    const uint8_t *b = row + (size_t)c * 18;
    qchunk k;
    k.d0 = k.d1 = ld_f16(b);
    k.m = 0.0f;
#pragma unroll
    for (int j = 0; j < 4; j++) {
        int v = ld_i32_b2(b + 2 + 4 * j);
        k.w[j] = __vsub4(v & 0x0f0f0f0f, 0x08080808);
        k.w[j + 4] = __vsub4((v >> 4) & 0x0f0f0f0f, 0x08080808);
    }
    return k;
}

/* Sub-block j of a super-block: 6-bit scale and min from the 12-byte
 * field (quant/k_fit.c's k_scale_min_get), codes in the low nibbles of a
 * 32-byte stretch for even j, the high ones for odd j. */
template <> __device__ __forceinline__ qchunk decode_chunk<EMBER_TYPE_Q4_K>(const uint8_t *row, int c) {
    const uint8_t *b = row + (size_t)(c / 8) * 144;
    int j = c % 8;
    const uint8_t *s = b + 4;
    int sc, mn;
    if (j < 4) {
        sc = s[j] & 63;
        mn = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
        mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
    qchunk k;
    k.d0 = k.d1 = ld_f16(b) * (float)sc;
    k.m = -ld_f16(b + 2) * (float)mn;
    const uint8_t *qs = b + 16 + 32 * (j / 2);
    int shift = 4 * (j & 1);
#pragma unroll
    for (int i = 0; i < 8; i++) k.w[i] = (ld_i32_b2(qs + 4 * i) >> shift) & 0x0f0f0f0f;
    return k;
}

/* Chunk cc = 4h + k of a super-block: low nibbles from ql[64h + 32(k%2)],
 * the low or high half of the byte by k/2, top two bits at bit 2k of
 * qh[32h]; codes stored plus 32; a scale per 16 values. */
template <> __device__ __forceinline__ qchunk decode_chunk<EMBER_TYPE_Q6_K>(const uint8_t *row, int c) {
    const uint8_t *b = row + (size_t)(c / 8) * 210;
    int cc = c % 8, h = cc / 4, kq = cc % 4;
    const uint8_t *ql = b + 64 * h + 32 * (kq % 2), *qh = b + 128 + 32 * h;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = ld_f16(b + 208);
    qchunk k;
    k.d0 = d * (float)sc[2 * cc];
    k.d1 = d * (float)sc[2 * cc + 1];
    k.m = 0.0f;
    int lshift = kq < 2 ? 0 : 4, hshift = 2 * kq;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int lo = (ld_i32_b2(ql + 4 * i) >> lshift) & 0x0f0f0f0f;
        int hi = ((ld_i32_b2(qh + 4 * i) >> hshift) & 0x03030303) << 4;
        k.w[i] = __vsub4(lo | hi, 0x20202020);
    }
    return k;
}

/* Value l (0..31) of a decoded chunk. */
static __device__ __forceinline__ float chunk_value(const qchunk &k, int l) {
    int q = (int)(int8_t)(k.w[l / 4] >> (8 * (l % 4)));
    return (l < 16 ? k.d0 : k.d1) * (float)q + k.m;
}

/* Element i of row r of an F32 or F16 matrix. */
template <int T> __device__ __forceinline__ float float_at(const void *w, size_t row_elems, int64_t r, int64_t i);
template <> __device__ __forceinline__ float float_at<EMBER_TYPE_F32>(const void *w, size_t row_elems, int64_t r, int64_t i) {
    return ((const float *)w)[(size_t)r * row_elems + (size_t)i];
}
template <> __device__ __forceinline__ float float_at<EMBER_TYPE_F16>(const void *w, size_t row_elems, int64_t r, int64_t i) {
    return __half2float(((const __half *)w)[(size_t)r * row_elems + (size_t)i]);
}

#endif
