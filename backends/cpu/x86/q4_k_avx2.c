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

/* mul_mat_exact's row kernel: q4_k_dot_avx2 for C columns at once, the
 * weight work (nibbles, scales, mins, d/dmin) once per block and the
 * dot's own sequence per column on its own sumi, acc and accm (see
 * q4_k_avx512.c's twin). */
static inline __attribute__((always_inline)) void
q4_k_exact_row(int C, int64_t n, const void *w, const void *x, size_t x_stride, int c0, float *out,
               size_t out_stride) {
    const block_q4_k *a = w;
    const block_q8_k *b[KQ_EXACT_MAX];
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[KQ_EXACT_MAX];
    __m128 accm[KQ_EXACT_MAX];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) {
        b[c] = (const block_q8_k *)(const void *)((const uint8_t *)x + (size_t)(c0 + c) * x_stride);
        acc[c] = _mm256_setzero_ps();
        accm[c] = _mm_setzero_ps();
    }
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        const struct kq_k_block kb = kq_k_start_w(a[i].scales, &a[i].d); /* once per block */
        __m128 dd[KQ_EXACT_MAX];
        __m256i sumi[KQ_EXACT_MAX];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            kq_k_start_x(&kb, &b[c][i], &dd[c], &accm[c]);
            sumi[c] = _mm256_setzero_si256();
        }
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * k));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            __m256i s_lo, s_hi;
            kq_k_pair_scales(kb.sc, k, &s_lo, &s_hi);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) sumi[c] = kq_k_pair_dot_s(sumi[c], s_lo, s_hi, k, lo, hi, b[c][i].qs);
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd[c]), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; c++)
        out[(size_t)(c0 + c) * out_stride] = kq_hsum256(acc[c]) - kq_hsum128(accm[c]);
}

KQ_MUL_MAT_EXACT(q4_k, avx2, q4_k_dot_avx2, q4_k_exact_row, 4)

#include "q4_kx8_kernels.h"
