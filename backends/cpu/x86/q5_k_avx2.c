/*
 * q5_k_avx2.c — AVX2 Q5_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Q4_K's kernels with the fifth bit ORed in: bit j of qh[l] belongs to
 * value 32j + l, so one 32-byte load of qh serves all eight sub-blocks.
 * Codes (0..31) stay unsigned for maddubs (pair sums at most 2*31*128).
 */
#include "kquant_avx2.h"

/* Codes of sub-blocks 2c and 2c+1 (values 64c..64c+63): nibbles of
 * qs[32c + l] plus 16 times bits 2c and 2c+1 of qh[l]. */
static inline void q5k_pair(const block_q5_k *a, __m256i qh, int c, __m256i *lo, __m256i *hi) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m1 = _mm256_set1_epi8(1);
    __m256i q = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * c));
    __m256i h0 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), m1);
    __m256i h1 = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), m1);
    *lo = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_slli_epi16(h0, 4));
    *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), _mm256_slli_epi16(h1, 4));
}

float q5_k_dot_avx2(const void *w, const void *x, int64_t n) {
    const block_q5_k *a = w;
    const block_q8_k *b = x;
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        __m128 dd;
        __m256i sc = kq_k_start(a[i].scales, &a[i].d, &b[i], &dd, &accm);
        __m256i qh = _mm256_loadu_si256((const __m256i *)a[i].qh);
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i lo, hi;
            q5k_pair(&a[i], qh, c, &lo, &hi);
            sumi = kq_k_pair_dot(sumi, sc, c, lo, hi, b[i].qs);
        }
        acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(sumi), acc);
    }
    return kq_hsum256(acc) - kq_hsum128(accm);
}

void q5_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q5_k *a = block;
    kq_k_unpack_scales(a->scales, u);
    __m256i qh = _mm256_loadu_si256((const __m256i *)a->qh);
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m256i lo, hi;
        q5k_pair(a, qh, c, &lo, &hi);
        _mm256_store_si256((__m256i *)(u->codes + 64 * c), lo);
        _mm256_store_si256((__m256i *)(u->codes + 64 * c + 32), hi);
    }
    u->d = _cvtsh_ss(a->d);
    u->dmin = _cvtsh_ss(a->dmin);
}

KQ_MUL_MAT(q5_k, avx2, q5_k_dot_avx2)
