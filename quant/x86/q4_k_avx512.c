/*
 * q4_k_avx512.c — AVX-512 (VL + VNNI) Q4_K kernels: the dot against one
 * Q8_K row and mul_mat (AVX2 unpacker, AVX-512 tile, see q8_k_avx512.c).
 *
 * The dot is the AVX2 one (q4_k_avx2.c) with vpdpwssd applying each
 * sub-block scale and accumulating in one instruction instead of
 * madd + add. It stays at 256 bits on purpose: a 512-bit version (one
 * register per 64 values, vpermw for the scales) measured slower on a Xeon,
 * where 512-bit code loses a vector port, and Zen 4 splits 512-bit work in
 * two anyway. Two accumulators keep vpdpwssd's latency off the critical
 * path.
 */
#include <immintrin.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

/* Scales 0-7 then mins 0-7 of the 12-byte field (see q4_k_avx2.c). Reads
 * 16 bytes: the caller's block continues past the field. */
static inline __m128i q4k_scales_mins(const uint8_t *p) {
    __m128i u = _mm_loadu_si128((const __m128i *)p);
    __m128i lo =
        _mm_srlv_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4));
    __m128i hi = _mm_srli_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)), 2);
    return _mm_or_si128(
        _mm_and_si128(lo, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
        _mm_and_si128(hi, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}

float q4_k_dot_avx512(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sm = _mm256_cvtepu8_epi16(q4k_scales_mins(a[i].scales));
        __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)b[i].bsums),
                                       _mm_loadu_si128((const __m128i *)(b[i].bsums + 8)));
        __m128i msum = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pairs);
        uint32_t dpair;
        memcpy(&dpair, &a[i].d, 4);
        __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dpair)), _mm_set1_ps(b[i].d));
        accm = _mm_fmadd_ps(_mm_permute_ps(dd, 0x55), _mm_cvtepi32_ps(msum), accm);

        __m256i sc = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
        const uint8_t *q4 = a[i].qs;
        const int8_t *q8 = b[i].qs;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i sc_lo =
                _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((4 * c + 1) << 8 | 4 * c)));
            __m256i sc_hi =
                _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((4 * c + 3) << 8 | (4 * c + 2))));
            __m256i q = _mm256_loadu_si256((const __m256i *)(q4 + 32 * c));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            s0 = _mm256_dpwssd_epi32(
                s0, _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c))),
                sc_lo);
            s1 = _mm256_dpwssd_epi32(
                s1,
                _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32))),
                sc_hi);
        }
        acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd),
                              _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc);
    }
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_sub_ps(r, accm);
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

void q4_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx512(q4_k_unpack_avx2, q4_k_dot_avx512, sizeof(block_q4_k), n, w, w_stride, n_rows,
                      x, x_stride, n_cols, out, out_stride);
}

#define Q4KX8_VNNI
#include "q4_kx8_kernels.h"
