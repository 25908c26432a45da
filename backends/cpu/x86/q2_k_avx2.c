/*
 * q2_k_avx2.c — AVX2 Q2_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Codes are 2-bit and unsigned, so maddubs takes them as they are; the
 * 4-bit minimums meet the Q8_K bsums in one madd per super-block. Each
 * 32-value chunk spans two 16-value sub-blocks, so its scale vector holds
 * scale 2k in the low 128-bit lane and 2k+1 in the high one.
 */
#include "kquant_avx2.h"

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
            __m256i bc = kq_half_scales(sc, h);
            const int8_t *q8 = b[i].qs + 128 * h;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                sumi = kq_chunk_dot(sumi, q2k_codes(q, k), q8 + 32 * k, bc, k);
            }
        }
        float dall = b[i].d * _cvtsh_ss(a[i].d), dmin = b[i].d * _cvtsh_ss(a[i].dmin);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(sumi), acc);
        acc = _mm256_fnmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(msum), acc);
    }
    return kq_hsum256(acc);
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
        __m256i bc = kq_half_scales(sc, h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            kq_store_chunk(u, h, k, q2k_codes(q, k), bc);
        }
    }
    u->d = _cvtsh_ss(a->d);
    u->dmin = _cvtsh_ss(a->dmin);
}

KQ_MUL_MAT(q2_k, avx2, q2_k_dot_avx2)
