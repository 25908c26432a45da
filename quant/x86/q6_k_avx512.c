/*
 * q6_k_avx512.c — AVX-512 (BW + VNNI) Q6_K kernels: the dot against one
 * Q8_K row and mul_mat (AVX2 unpacker, AVX-512 tile, see q8_k_avx512.c).
 *
 * The dot builds 64 codes at a time: the two 32-byte ql halves of a
 * 128-value half sit side by side in one register, so the low nibbles are
 * values 0-63 of the half and the high nibbles values 64-127, each with its
 * top two bits from qh shifted into place. Codes are unsigned (0..63); the
 * -32 offset comes back once per super-block through the Q8_K bsums, as in
 * q6_k_avx2.c. vpermw spreads the four 16-value scales of a 64-value chunk
 * over its four quarters and vpdpwssd applies them while accumulating.
 */
#include <immintrin.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

/* vpermw indices: quarter q (8 int16 lanes) of the result takes scale j+q. */
static inline __m512i pick4(int j) {
    __m256i lo = _mm256_set_m128i(_mm_set1_epi16((short)(j + 1)), _mm_set1_epi16((short)j));
    __m256i hi = _mm256_set_m128i(_mm_set1_epi16((short)(j + 3)), _mm_set1_epi16((short)(j + 2)));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

static inline __m512i join(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

float q6_k_dot_avx512(const void *w, const void *x, int64_t n) {
    const block_q6_k *a = w;
    const block_q8_k *b = x;
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
        __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[i].bsums));
        __m512i sc512 = _mm512_castsi256_si512(sc);
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i l = _mm512_loadu_si512((const void *)(a[i].ql + 64 * h));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h));
            __m512i h01 = _mm512_and_si512(join(_mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 2)), m30);
            __m512i h23 = _mm512_and_si512(join(qh, _mm256_srli_epi16(qh, 2)), m30);
            __m512i c01 = _mm512_or_si512(_mm512_and_si512(l, m4), h01);
            __m512i c23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), h23);
            const int8_t *q8 = b[i].qs + 128 * h;
            __m512i p0 = _mm512_maddubs_epi16(c01, _mm512_loadu_si512((const void *)q8));
            __m512i p1 = _mm512_maddubs_epi16(c23, _mm512_loadu_si512((const void *)(q8 + 64)));
            sumi = _mm512_dpwssd_epi32(sumi, p0, _mm512_permutexvar_epi16(pick4(8 * h), sc512));
            sumi = _mm512_dpwssd_epi32(sumi, p1, _mm512_permutexvar_epi16(pick4(8 * h + 4), sc512));
        }
        /* the -32 offset: 16 lanes of sumi, 8 of off, so fold both halves */
        __m256i s = _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
        s = _mm256_sub_epi32(s, _mm256_slli_epi32(off, 5));
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc);
    }
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

void q6_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx512(q6_k_unpack_avx2, sizeof(block_q6_k), n, w, w_stride, n_rows, x, x_stride,
                      n_cols, out, out_stride);
}
