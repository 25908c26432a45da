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

/* mul_mat_exact's row kernel: q6_k_dot_avx512 for C columns at once.
 * The 6-bit codes (the bulk of the dot's work), the scale vectors and d
 * are built once per block; as in q4_k_avx512.c, one 512-bit register per
 * column holds the dot's s0 (low half) and s1 (high half), and each
 * multiply on [chunk 2j | chunk 2j+1] of a half against the column's 64
 * activation bytes there does the dot's two 256-bit steps at once, lane
 * for lane. The block's s0 + s1 and the float work follow the dot
 * exactly, so each column's result is the dot's bit for bit. */
static inline __attribute__((always_inline)) void
q6_k_exact_row(int C, int64_t n, const void *w, const void *x, size_t x_stride, int c0, float *out,
               size_t out_stride) {
    const block_q6_k *a = w;
    const block_q8_k *b[KQ_EXACT_MAX];
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    /* shifts of the top bits: chunks 0|1 take hb << 4 | hb << 2, chunks
     * 2|3 hb | hb >> 2 (as the dot's c0..c3; any bit that crosses into a
     * byte from its neighbour is masked off, whatever the shift width) */
    const __m512i up01 = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
    const __m512i dn23 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    /* kq_chunk_scales' controls for chunks 0|1 and 2|3 */
    const __m512i ctl01 = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16(3 << 8 | 2), _mm_set1_epi16(1 << 8 | 0))),
        _mm256_set_m128i(_mm_set1_epi16(7 << 8 | 6), _mm_set1_epi16(5 << 8 | 4)), 1);
    const __m512i ctl23 = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16(11 << 8 | 10), _mm_set1_epi16(9 << 8 | 8))),
        _mm256_set_m128i(_mm_set1_epi16(15 << 8 | 14), _mm_set1_epi16(13 << 8 | 12)), 1);
    __m256 acc[KQ_EXACT_MAX];
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
        b[c] = (const block_q8_k *)(const void *)((const uint8_t *)x + (size_t)(c0 + c) * x_stride);
        acc[c] = _mm256_setzero_ps();
    }
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
        __m512i s01[KQ_EXACT_MAX];
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[c][i].bsums));
            /* s0 starts at -32 * offsets, s1 at 0 */
            const __m256i s0 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
            s01[c] = _mm512_inserti64x4(_mm512_castsi256_si512(s0), _mm256_setzero_si256(), 1);
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            /* [l0 | l1] and hb in both halves */
            const __m512i l = _mm512_loadu_si512((const void *)(a[i].ql + 64 * h));
            const __m512i hb =
                _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h)));
            const __m512i c01 = _mm512_or_si512(_mm512_and_si512(l, m4),
                                                _mm512_and_si512(_mm512_sllv_epi64(hb, up01), m30));
            const __m512i c23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                                _mm512_and_si512(_mm512_srlv_epi64(hb, dn23), m30));
            const __m512i bc = _mm512_broadcast_i32x4(h ? _mm256_extracti128_si256(sc, 1)
                                                        : _mm256_castsi256_si128(sc));
            const __m512i k01 = _mm512_shuffle_epi8(bc, ctl01), k23 = _mm512_shuffle_epi8(bc, ctl23);
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) {
                const int8_t *q8 = b[c][i].qs + 128 * h;
                const __m512i y01 = _mm512_loadu_si512((const void *)q8);
                const __m512i y23 = _mm512_loadu_si512((const void *)(q8 + 64));
                s01[c] = _mm512_dpwssd_epi32(s01[c], _mm512_maddubs_epi16(c01, y01), k01);
                s01[c] = _mm512_dpwssd_epi32(s01[c], _mm512_maddubs_epi16(c23, y23), k23);
            }
        }
        float da = _cvtsh_ss(a[i].d);
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            float d = da * b[c][i].d;
            __m256i s =
                _mm256_add_epi32(_mm512_castsi512_si256(s01[c]), _mm512_extracti64x4_epi64(s01[c], 1));
            acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) out[(size_t)(c0 + c) * out_stride] = kq_hsum256(acc[c]);
}

KQ_MUL_MAT_EXACT(q6_k, avx512, q6_k_dot_avx512, q6_k_exact_row, 8)

