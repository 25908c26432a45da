/*
 * q6_k_avx2.c — AVX2 Q6_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Codes are used unsigned (0..63) so maddubs can take them; the -32 offset
 * comes back once per super-block as 32 * sum_j scale[j] * bsums[j], one
 * madd on the Q8_K bsums instead of a subtraction per value. Each 32-value
 * chunk spans two 16-value sub-blocks, so its scale vector holds scale 2k in
 * the low 128-bit lane and 2k+1 in the high lane.
 */
#include "basic_kernels.h"
#include "kquant_avx2.h"

/* The four 32-value chunks of half h, codes 0..63: chunk k takes its low
 * nibble from ql[64h + 32(k%2) + l] (high nibble for k >= 2) and its top two
 * bits from bits 2k..2k+1 of qh[32h + l]. */
static inline void q6k_half(const block_q6_k *a, int h, __m256i c[4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    __m256i l0 = _mm256_loadu_si256((const __m256i *)(a->ql + 64 * h));
    __m256i l1 = _mm256_loadu_si256((const __m256i *)(a->ql + 64 * h + 32));
    __m256i hb = _mm256_loadu_si256((const __m256i *)(a->qh + 32 * h));
    c[0] =
        _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
    c[1] =
        _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
    c[2] =
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30));
    c[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                           _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
}

float q6_k_dot_avx2(const void *w, const void *x, int64_t n) {
    const block_q6_k *a = w;
    const block_q8_k *b = x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
        __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i c[4];
            q6k_half(&a[i], h, c);
            __m256i bc = kq_half_scales(sc, h);
            const int8_t *q8 = b[i].qs + 128 * h;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                sumi = kq_chunk_dot(sumi, c[k], q8 + 32 * k, bc, k);
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(off, 5));
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return kq_hsum256(acc);
}

void q6_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q6_k *a = block;
    __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a->scales));
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i c[4];
        q6k_half(a, h, c);
        __m256i bc = kq_half_scales(sc, h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            kq_store_chunk(u, h, k, c[k], bc);
        }
    }
    /* the -32 offset as a "minimum" of 32 * scale with dmin = d */
    _mm256_store_si256((__m256i *)u->mins, _mm256_slli_epi16(sc, 5));
    u->d = u->dmin = _cvtsh_ss(a->d);
}

KQ_MUL_MAT(q6_k, avx2, q6_k_dot_avx2)

/* mul_mat_exact's row kernel: q6_k_dot_avx2 for C columns at once, the
 * codes and scale vectors once per half block, the dot's own sequence
 * per column on its own sumi and acc (see q4_k_avx512.c). */
static inline __attribute__((always_inline)) void
q6_k_exact_row(int C, int64_t n, const void *w, const void *x, size_t x_stride, int c0, float *out,
               size_t out_stride) {
    const block_q6_k *a = w;
    const block_q8_k *b[KQ_EXACT_MAX];
    __m256 acc[KQ_EXACT_MAX];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) {
        b[c] = (const block_q8_k *)(const void *)((const uint8_t *)x + (size_t)(c0 + c) * x_stride);
        acc[c] = _mm256_setzero_ps();
    }
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
        __m256i sumi[KQ_EXACT_MAX];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) sumi[c] = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i cd[4];
            q6k_half(&a[i], h, cd);
            __m256i bc = kq_half_scales(sc, h);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i ks = kq_chunk_scales(bc, k);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    __m256i p = _mm256_maddubs_epi16(
                        cd[k], _mm256_loadu_si256((const __m256i *)(b[c][i].qs + 128 * h + 32 * k)));
                    sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(p, ks));
                }
            }
        }
        float da = _cvtsh_ss(a[i].d);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[c][i].bsums));
            sumi[c] = _mm256_sub_epi32(sumi[c], _mm256_slli_epi32(off, 5));
            float d = da * b[c][i].d;
            acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
        }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) out[(size_t)(c0 + c) * out_stride] = kq_hsum256(acc[c]);
}

KQ_MUL_MAT_EXACT(q6_k, avx2, q6_k_dot_avx2, q6_k_exact_row, 4)

