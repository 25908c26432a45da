/*
 * q2_k_avx2.c — AVX2 Q2_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Codes are 2-bit and unsigned, so maddubs takes them as they are; the
 * 4-bit minimums meet the Q8_K bsums in one madd per super-block. Each
 * 32-value chunk spans two 16-value sub-blocks, so its scale vector holds
 * scale 2k in the low 128-bit lane and 2k+1 in the high one.
 */
#include <immintrin.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

static float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Scales of chunk k (0..3) of a half whose 8 int16 scales fill both lanes
 * of bc: scale 2k across the low lane, 2k+1 across the high one. */
static inline __m256i chunk_scales(__m256i bc, int k) {
    __m256i mask = _mm256_set_m128i(_mm_set1_epi16((short)((4 * k + 3) << 8 | (4 * k + 2))),
                                    _mm_set1_epi16((short)((4 * k + 1) << 8 | (4 * k))));
    return _mm256_shuffle_epi8(bc, mask);
}

static inline __m256i half_scales(__m256i sc, int h) {
    return _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc, 1)
                                         : _mm256_castsi256_si128(sc));
}

/* Chunk k of half h: bits 2k..2k+1 of qs[32h + l]. */
static inline __m256i q2k_codes(__m256i q, int k) {
    return _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * k)), _mm256_set1_epi8(3));
}

float q2_k_dot_avx2(const void *w, const void *x, int64_t n) {
    const block_q2_k *a = w;
    const block_q8_k *b = x;
    const __m128i m4 = _mm_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m128i s8 = _mm_loadu_si128((const __m128i *)a[i].scales);
        __m256i sc = _mm256_cvtepu8_epi16(_mm_and_si128(s8, m4));
        __m256i mn = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s8, 4), m4));
        __m256i msum = _mm256_madd_epi16(mn, _mm256_loadu_si256((const __m256i *)b[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * h));
            __m256i bc = half_scales(sc, h);
            const int8_t *q8 = b[i].qs + 128 * h;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(
                    q2k_codes(q, k), _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, chunk_scales(bc, k)));
            }
        }
        float dall = b[i].d * _cvtsh_ss(a[i].d), dmin = b[i].d * _cvtsh_ss(a[i].dmin);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(sumi), acc);
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(msum), acc);
    }
    return hsum_ps(acc);
}

void q2_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q2_k *a = block;
    const __m128i m4 = _mm_set1_epi8(0x0f);
    __m128i s8 = _mm_loadu_si128((const __m128i *)a->scales);
    __m256i sc = _mm256_cvtepu8_epi16(_mm_and_si128(s8, m4));
    _mm256_store_si256((__m256i *)u->mins,
                       _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s8, 4), m4)));
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * h));
        __m256i bc = half_scales(sc, h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            _mm256_store_si256((__m256i *)(u->codes + 128 * h + 32 * k), q2k_codes(q, k));
            _mm256_store_si256((__m256i *)u->scales[4 * h + k], chunk_scales(bc, k));
        }
    }
    u->d = _cvtsh_ss(a->d);
    u->dmin = _cvtsh_ss(a->dmin);
}

void q2_k_mul_mat_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx2(q2_k_unpack_avx2, q2_k_dot_avx2, sizeof(block_q2_k), n, w, w_stride, n_rows, x,
                    x_stride, n_cols, out, out_stride);
}
