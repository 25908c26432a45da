/*
 * q4_k_avx512.c — AVX-512 (BW + VNNI) Q4_K kernels: the dot against one
 * Q8_K row and mul_mat (AVX2 unpacker, AVX-512 tile, see q8_k_avx512.c).
 *
 * The dot takes 64 values at a time: the 32 bytes of a qs chunk give the
 * low nibbles (sub-block 2c) and high nibbles (2c+1), which side by side in
 * one 512-bit register are exactly values 64c..64c+63 in order. maddubs
 * makes int16 pair sums, vpdpwssd multiplies them by the scales (vpermw
 * spreads scale 2c over the low half, 2c+1 over the high) and accumulates.
 */
#include <immintrin.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

/* Scales 0-7 then mins 0-7 of the 12-byte field (see q4_k_avx2.c). */
static __m128i q4k_scales_mins(const uint8_t *p) {
    uint32_t u0, u1, u2;
    memcpy(&u0, p, 4);
    memcpy(&u1, p + 4, 4);
    memcpy(&u2, p + 8, 4);
    uint32_t s_lo = u0 & 0x3f3f3f3f, m_lo = u1 & 0x3f3f3f3f;
    uint32_t s_hi = (u2 & 0x0f0f0f0f) | ((u0 >> 2) & 0x30303030);
    uint32_t m_hi = ((u2 >> 4) & 0x0f0f0f0f) | ((u1 >> 2) & 0x30303030);
    return _mm_setr_epi32((int)s_lo, (int)s_hi, (int)m_lo, (int)m_hi);
}

/* vpermw indices: int16 lane i of the result takes scale lo (i < 16) or hi. */
static inline __m512i pick2(int lo, int hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)lo)),
                              _mm256_set1_epi16((short)hi), 1);
}

float q4_k_dot_avx512(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 acc = _mm512_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sm = _mm256_cvtepu8_epi16(q4k_scales_mins(a[i].scales));
        __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)b[i].bsums),
                                       _mm_loadu_si128((const __m128i *)(b[i].bsums + 8)));
        __m128i msum = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pairs);
        float dall = b[i].d * _cvtsh_ss(a[i].d), dmin = b[i].d * _cvtsh_ss(a[i].dmin);
        accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(msum), accm);

        __m512i sc = _mm512_castsi256_si512(sm);
        __m512i sumi = _mm512_setzero_si512();
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * c));
            __m512i codes = _mm512_and_si512(
                _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), m4);
            __m512i p = _mm512_maddubs_epi16(codes, _mm512_loadu_si512((const void *)(b[i].qs + 64 * c)));
            sumi = _mm512_dpwssd_epi32(sumi, p, _mm512_permutexvar_epi16(pick2(2 * c, 2 * c + 1), sc));
        }
        acc = _mm512_fmadd_ps(_mm512_set1_ps(dall), _mm512_cvtepi32_ps(sumi), acc);
    }
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    return _mm512_reduce_add_ps(acc) - _mm_cvtss_f32(m);
}

void q4_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx512(q4_k_unpack_avx2, sizeof(block_q4_k), n, w, w_stride, n_rows, x, x_stride,
                      n_cols, out, out_stride);
}
