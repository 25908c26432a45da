/*
 * q4_k_avx2.c — AVX2 Q4_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Per 32-value sub-block: maddubs multiplies the unsigned nibbles by the
 * signed Q8_K codes into int16 pair sums (at most 2*15*127, no saturation),
 * madd applies the 6-bit scale and widens to int32. The minimums use the
 * Q8_K bsums (pairs of 16-sums per sub-block), so the codes need no offset.
 */
#include <stdbool.h>

#include "kquant_avx2.h"

float q4_k_dot_avx2(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        __m128 dd;
        __m256i sc = kq_k_start(a[i].scales, &a[i].d, &b[i], &dd, &accm);
        const uint8_t *q4 = a[i].qs;
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(q4 + 32 * c));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            sumi = kq_k_pair_dot(sumi, sc, c, lo, hi, b[i].qs);
        }
        acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(sumi), acc);
    }
    return kq_hsum256(acc) - kq_hsum128(accm);
}

void q4_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q4_k *a = block;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    kq_k_unpack_scales(a->scales, u);
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * c));
        _mm256_store_si256((__m256i *)(u->codes + 64 * c), _mm256_and_si256(q, m4));
        _mm256_store_si256((__m256i *)(u->codes + 64 * c + 32),
                           _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    }
    u->d = _cvtsh_ss(a->d);
    u->dmin = _cvtsh_ss(a->dmin);
}

KQ_MUL_MAT(q4_k, avx2, q4_k_dot_avx2)

#include "q4_kx8_kernels.h"
