/*
 * q6_k_avx512.c — AVX-512 (VL + VNNI) Q6_K kernels: the dot against one
 * Q8_K row and mul_mat (AVX2 unpacker, AVX-512 tile, see q8_k_avx512.c).
 *
 * The dot is the AVX2 one (q6_k_avx2.c: unsigned codes, the -32 offset
 * through the Q8_K bsums) with vpdpwssd applying each pair of 16-value
 * scales and accumulating in one instruction instead of madd + add. It
 * stays at 256 bits for the reasons given in q4_k_avx512.c.
 */
#include "basic_kernels.h"
#include "kquant_avx2.h"

float q6_k_dot_avx512(const void *w, const void *x, int64_t n) {
    const block_q6_k *a = w;
    const block_q8_k *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        /* decode streams the rows once, one after the other: ~2 KB ahead,
         * across the end of the row into the next one (prefetches never
         * fault) */
        basic_stream_prefetch(&a[i], sizeof *a);
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
        __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[i].bsums));
        /* s0 starts at -32 * offsets so the result needs no subtraction */
        __m256i s0 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        __m256i s1 = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(a[i].ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(a[i].ql + 64 * h + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h));
            __m256i c0 = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                         _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
            __m256i c1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
            __m256i c2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_and_si256(hb, m30));
            __m256i c3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
            __m256i bc = kq_half_scales(sc, h);
            const __m256i *q8 = (const __m256i *)(b[i].qs + 128 * h);
            s0 = _mm256_dpwssd_epi32(s0, _mm256_maddubs_epi16(c0, _mm256_loadu_si256(q8)),
                                     kq_chunk_scales(bc, 0));
            s1 = _mm256_dpwssd_epi32(s1, _mm256_maddubs_epi16(c1, _mm256_loadu_si256(q8 + 1)),
                                     kq_chunk_scales(bc, 1));
            s0 = _mm256_dpwssd_epi32(s0, _mm256_maddubs_epi16(c2, _mm256_loadu_si256(q8 + 2)),
                                     kq_chunk_scales(bc, 2));
            s1 = _mm256_dpwssd_epi32(s1, _mm256_maddubs_epi16(c3, _mm256_loadu_si256(q8 + 3)),
                                     kq_chunk_scales(bc, 3));
        }
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
    }
    return kq_hsum256(acc);
}

KQ_MUL_MAT(q6_k, avx512, q6_k_dot_avx512)
