/*
 * q4_kx8_kernels.h — private to backends/cpu/x86: mul_mat_packed of Q4_K over
 * block_q4_kx8 (quant_impl.h), for decode and prefill alike. Included once
 * by q4_k_avx2.c (AVX2: VPMADDUBSW into int16, VPMADDWD applies the
 * scales) and once by q4_k_avx512.c with Q4KX8_VNNI defined (VPDPBUSD sums
 * each sub-block in int32, VPMULLD applies the scales).
 */
#ifndef EMBER_Q4_KX8_KERNELS_H
#define EMBER_Q4_KX8_KERNELS_H

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "basic_kernels.h"
#include "kquant_kernels.h"
#include "pack_x8.h"

/* acc + the 4-byte dot products of u (unsigned) and s per lane: VPDPBUSD
 * in the VNNI build; the AVX2 build never calls it (vnni is false there)
 * but gets the same sum the long way. */
static inline __m256i q4kx8_dp(__m256i acc, __m256i u, __m256i s) {
#ifdef Q4KX8_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* The 8 rows' bytes v[0..7] as int16 pairs (v[r], v[r]) in 32-bit lane r:
 * madd's second operand, applying a per-row 6-bit scale. */
static inline __m256i q4kx8_row_pairs(const uint8_t *v) {
    __m256i b = _mm256_set1_epi64x((long long)(*(const uint64_t *)(const void *)v));
    const __m256i idx = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1,
                                         4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
    return _mm256_shuffle_epi8(b, idx);
}

/* 8 packed rows by C columns (Q8_K rows at xc) over blocks 0..nb-1; out
 * lane r of acc[c] is (row r, column c). Per sub-block pair: 8 vectors of
 * codes, low nibbles one sub-block and high the next, against broadcast
 * words of activation codes, summed in int16 (at most 8 * 3810), then
 * madd with the rows' scales. Mins as sum_j m_j * ysum_j, two sub-blocks
 * per madd. */
static inline __attribute__((always_inline)) void
q4kx8_tile(bool vnni, int C, const block_q4_kx8 *wp, int64_t nb, const uint8_t *const xc[4],
           __m256 acc[4]) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < nb; i++) {
        const block_q4_kx8 *b = &wp[i];
        /* decode: prefetch ~3.5 KB ahead, as panel_tile does */
        if (C == 1) basic_prefetch((uintptr_t)b + 3 * sizeof *b, sizeof *b);
        const block_q8_k *y[4];
        __m256i isum[4], msum[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            y[c] = (const block_q8_k *)(const void *)xc[c] + i;
            isum[c] = msum[c] = _mm256_setzero_si256();
        }
#pragma GCC unroll 1
        for (int p = 0; p < 4; p++) {
            __m256i lo[4], hi[4];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) lo[c] = hi[c] = _mm256_setzero_si256();
            /* unrolled by 2 only: fully unrolled, GCC spilled the sums */
#pragma GCC unroll 2
            for (int u = 0; u < 8; u++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)b->qs[8 * p + u]);
                __m256i wl = _mm256_and_si256(v, low4), wh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    int32_t a, h;
                    memcpy(&a, y[c]->qs + 64 * p + 4 * u, 4);
                    memcpy(&h, y[c]->qs + 64 * p + 32 + 4 * u, 4);
                    if (vnni) {
                        lo[c] = q4kx8_dp(lo[c], wl, _mm256_set1_epi32(a));
                        hi[c] = q4kx8_dp(hi[c], wh, _mm256_set1_epi32(h));
                    } else {
                        lo[c] = _mm256_add_epi16(lo[c], _mm256_maddubs_epi16(wl, _mm256_set1_epi32(a)));
                        hi[c] = _mm256_add_epi16(hi[c], _mm256_maddubs_epi16(wh, _mm256_set1_epi32(h)));
                    }
                }
            }
            /* int16 path: scale pairs for madd; VNNI (int32 sums): scales */
            const __m256i s0 = vnni ? _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b->sc[2 * p]))
                                    : q4kx8_row_pairs(b->sc[2 * p]);
            const __m256i s1 = vnni ? _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)b->sc[2 * p + 1]))
                                    : q4kx8_row_pairs(b->sc[2 * p + 1]);
            /* lane r: (m[2p][r], m[2p+1][r]) against (ysum 2p, ysum 2p+1) */
            const __m256i mp = _mm256_cvtepu8_epi16(
                _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)b->m[2 * p]),
                                  _mm_loadl_epi64((const __m128i *)b->m[2 * p + 1])));
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                if (vnni) {
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_mullo_epi32(lo[c], s0));
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_mullo_epi32(hi[c], s1));
                } else {
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(lo[c], s0));
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(hi[c], s1));
                }
                const int16_t *bs = y[c]->bsums + 4 * p;
                uint32_t ys = (uint16_t)(bs[0] + bs[1]) | (uint32_t)(uint16_t)(bs[2] + bs[3]) << 16;
                msum[c] = _mm256_add_epi32(msum[c], _mm256_madd_epi16(mp, _mm256_set1_epi32((int)ys)));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->d));
        const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->dmin));
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const __m256 dx = _mm256_set1_ps(y[c]->d);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dw, dx), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[c]), _mm256_mul_ps(mw, dx), acc[c]);
        }
    }
}

static inline __attribute__((always_inline)) void
q4kx8_columns(bool vnni, int C, const block_q4_kx8 *wp, int64_t nb, int n_rows, const void *x, size_t x_stride,
              int c0, float *out, size_t out_stride) {
    const uint8_t *xc[4];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    for (int r0 = 0; r0 < n_rows; r0 += PACK_ROWS) {
        __m256 acc[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
        q4kx8_tile(vnni, C, wp + (size_t)(r0 / PACK_ROWS) * (size_t)nb, nb, xc, acc);
        const int rows = n_rows - r0;
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rows),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            float *o = out + (size_t)(c0 + c) * out_stride + (size_t)r0;
            if (rows >= PACK_ROWS) _mm256_storeu_ps(o, acc[c]);
            else _mm256_maskstore_ps(o, mask, acc[c]);
        }
    }
}

static inline __attribute__((always_inline)) void
q4kx8_mul_mat(bool vnni, int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
              int n_cols, float *out, size_t out_stride) {
    const int64_t nb = n / QK_K;
    const int main_cols = n_cols / 4 * 4;
    for (int c0 = 0; c0 < main_cols; c0 += 4)
        q4kx8_columns(vnni, 4, wp, nb, n_rows, x, x_stride, c0, out, out_stride);
    switch (n_cols - main_cols) {
    case 1: q4kx8_columns(vnni, 1, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 2: q4kx8_columns(vnni, 2, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 3: q4kx8_columns(vnni, 3, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    default: break;
    }
}

#ifndef Q4KX8_VNNI
void q4_k_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                              int n_cols, float *out, size_t out_stride) {
    q4kx8_mul_mat(false, n, wp, n_rows, x, x_stride, n_cols, out, out_stride);
}
#endif

#endif
