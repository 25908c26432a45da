/*
 * q6_k_avx512.c — AVX-512 (VL + VNNI) Q6_K kernels: the dot against one
 * Q8_K row and mul_mat (AVX2 unpacker, AVX-512 tile, see q8_k_avx512.c).
 *
 * The dot is the AVX2 one (q6_k_avx2.c: unsigned codes, the -32 offset
 * through the Q8_K bsums) with vpdpwssd applying each pair of 16-value
 * scales and accumulating in one instruction instead of madd + add. It
 * stays at 256 bits for the reasons given in q4_k_avx512.c.
 */
#include <immintrin.h>

#include "basic_kernels.h"
#include "kquant_kernels.h"
#include "quant_impl.h"

/* Scales of chunk k (0..3) of a half whose 8 int16 scales fill both lanes
 * of bc: scale 2k across the low lane, 2k+1 across the high one. */
static inline __m256i chunk_scales(__m256i bc, int k) {
    __m256i mask = _mm256_set_m128i(_mm_set1_epi16((short)((4 * k + 3) << 8 | (4 * k + 2))),
                                    _mm_set1_epi16((short)((4 * k + 1) << 8 | (4 * k))));
    return _mm256_shuffle_epi8(bc, mask);
}

float q6_k_dot_avx512(const void *w, const void *x, int64_t n) {
    const block_q6_k *a = w;
    const block_q8_k *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        /* decode streams the rows once, one after the other: ~2 KB ahead,
         * across the end of the row into the next one (prefetches never
         * fault) */
        basic_prefetch((uintptr_t)&a[i] + Q6K_AHEAD, sizeof *a);
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
            __m256i bc = _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc, 1)
                                                       : _mm256_castsi256_si128(sc));
            const __m256i *q8 = (const __m256i *)(b[i].qs + 128 * h);
            s0 = _mm256_dpwssd_epi32(s0, _mm256_maddubs_epi16(c0, _mm256_loadu_si256(q8)),
                                     chunk_scales(bc, 0));
            s1 = _mm256_dpwssd_epi32(s1, _mm256_maddubs_epi16(c1, _mm256_loadu_si256(q8 + 1)),
                                     chunk_scales(bc, 1));
            s0 = _mm256_dpwssd_epi32(s0, _mm256_maddubs_epi16(c2, _mm256_loadu_si256(q8 + 2)),
                                     chunk_scales(bc, 2));
            s1 = _mm256_dpwssd_epi32(s1, _mm256_maddubs_epi16(c3, _mm256_loadu_si256(q8 + 3)),
                                     chunk_scales(bc, 3));
        }
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
    }
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

void q6_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx512(q6_k_unpack_avx2, q6_k_dot_avx512, sizeof(block_q6_k), n, w, w_stride, n_rows,
                      x, x_stride, n_cols, out, out_stride);
}
