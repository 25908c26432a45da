/*
 * q3_k_avx2.c — AVX2 Q3_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Codes are used unsigned (low 2 bits + 4 * hmask bit, 0..7) so maddubs can
 * take them; the -4 offset comes back once per super-block as
 * 4 * sum_j scale[j] * bsums[j]. Scales are the signed 6-bit values.
 */
#include <immintrin.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

static float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256i chunk_scales(__m256i bc, int k) {
    __m256i mask = _mm256_set_m128i(_mm_set1_epi16((short)((4 * k + 3) << 8 | (4 * k + 2))),
                                    _mm_set1_epi16((short)((4 * k + 1) << 8 | (4 * k))));
    return _mm256_shuffle_epi8(bc, mask);
}

static inline __m256i half_scales(__m256i sc, int h) {
    return _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc, 1)
                                         : _mm256_castsi256_si128(sc));
}

/* The 16 scales as signed int16. Low nibbles: bytes 0-7 hold scales 0-7
 * (low nibble) and 8-15 (high nibble); the top two bits of scale j are
 * bits 2*(j/4) of byte 8 + j%4. */
static inline __m256i q3k_scales(const uint8_t *p) {
    uint32_t u0, u1, u2;
    memcpy(&u0, p, 4);
    memcpy(&u1, p + 4, 4);
    memcpy(&u2, p + 8, 4);
    const uint32_t m4 = 0x0f0f0f0f, m2 = 0x03030303;
    __m128i s =
        _mm_setr_epi32((int)((u0 & m4) | (u2 & m2) << 4), (int)((u1 & m4) | ((u2 >> 2) & m2) << 4),
                       (int)(((u0 >> 4) & m4) | ((u2 >> 4) & m2) << 4),
                       (int)(((u1 >> 4) & m4) | ((u2 >> 6) & m2) << 4));
    return _mm256_cvtepi8_epi16(_mm_sub_epi8(s, _mm_set1_epi8(32)));
}

/* Chunk k of half h, 0..7: bits 2k..2k+1 of qs[32h + l] plus 4 times bit
 * 4h + k of hmask[l]. */
static inline __m256i q3k_codes(__m256i q, __m256i hm, int h, int k) {
    __m256i lo =
        _mm256_and_si256(_mm256_srl_epi16(q, _mm_cvtsi32_si128(2 * k)), _mm256_set1_epi8(3));
    __m256i hi =
        _mm256_and_si256(_mm256_srl_epi16(hm, _mm_cvtsi32_si128(4 * h + k)), _mm256_set1_epi8(1));
    return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 2));
}

float q3_k_dot_avx2(const void *w, const void *x, int64_t n) {
    const block_q3_k *a = w;
    const block_q8_k *b = x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sc = q3k_scales(a[i].scales);
        __m256i off = _mm256_madd_epi16(sc, _mm256_loadu_si256((const __m256i *)b[i].bsums));
        __m256i hm = _mm256_loadu_si256((const __m256i *)a[i].hmask);
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * h));
            __m256i bc = half_scales(sc, h);
            const int8_t *q8 = b[i].qs + 128 * h;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i p = _mm256_maddubs_epi16(
                    q3k_codes(q, hm, h, k), _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, chunk_scales(bc, k)));
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(off, 2));
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc);
}

void q3_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q3_k *a = block;
    __m256i sc = q3k_scales(a->scales);
    __m256i hm = _mm256_loadu_si256((const __m256i *)a->hmask);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * h));
        __m256i bc = half_scales(sc, h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            _mm256_store_si256((__m256i *)(u->codes + 128 * h + 32 * k), q3k_codes(q, hm, h, k));
            _mm256_store_si256((__m256i *)u->scales[4 * h + k], chunk_scales(bc, k));
        }
    }
    /* the -4 offset as a "minimum" of 4 * scale with dmin = d */
    _mm256_store_si256((__m256i *)u->mins, _mm256_slli_epi16(sc, 2));
    u->d = u->dmin = _cvtsh_ss(a->d);
}

void q3_k_mul_mat_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx2(q3_k_unpack_avx2, q3_k_dot_avx2, sizeof(block_q3_k), n, w, w_stride, n_rows, x,
                    x_stride, n_cols, out, out_stride);
}
