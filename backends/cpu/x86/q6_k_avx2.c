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
#include <immintrin.h>

#include "basic_kernels.h"
#include "kquant_kernels.h"
#include "quant_impl.h"

static float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Scales of chunk k (0..3) of a half whose 8 int16 scales fill both lanes
 * of bc: scale 2k across the low lane, 2k+1 across the high one. */
static inline __m256i chunk_scales(__m256i bc, int k) {
    __m256i mask = _mm256_set_m128i(_mm_set1_epi16((short)((4 * k + 3) << 8 | (4 * k + 2))),
                                    _mm_set1_epi16((short)((4 * k + 1) << 8 | (4 * k))));
    return _mm256_shuffle_epi8(bc, mask);
}

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
        /* prefetches never fault, so past the last row is harmless */
        basic_prefetch((uintptr_t)&a[i] + Q6K_AHEAD, sizeof *a);
        __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
        __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[i].bsums));
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i c[4];
            q6k_half(&a[i], h, c);
            __m256i bc = _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc, 1)
                                                       : _mm256_castsi256_si128(sc));
            const int8_t *q8 = b[i].qs + 128 * h;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i p =
                    _mm256_maddubs_epi16(c[k], _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, chunk_scales(bc, k)));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(off, 5));
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

void q6_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q6_k *a = block;
    __m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a->scales));
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i c[4];
        q6k_half(a, h, c);
        __m256i bc = _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc, 1)
                                                   : _mm256_castsi256_si128(sc));
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            _mm256_store_si256((__m256i *)(u->codes + 128 * h + 32 * k), c[k]);
            _mm256_store_si256((__m256i *)u->scales[4 * h + k], chunk_scales(bc, k));
        }
    }
    /* the -32 offset as a "minimum" of 32 * scale with dmin = d */
    _mm256_store_si256((__m256i *)u->mins, _mm256_slli_epi16(sc, 5));
    u->d = u->dmin = _cvtsh_ss(a->d);
}

void q6_k_mul_mat_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx2(q6_k_unpack_avx2, q6_k_dot_avx2, sizeof(block_q6_k), n, w, w_stride, n_rows, x,
                    x_stride, n_cols, out, out_stride);
}
