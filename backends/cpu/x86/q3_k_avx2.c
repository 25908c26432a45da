/*
 * q3_k_avx2.c — AVX2 Q3_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Codes are used unsigned (low 2 bits + 4 * hmask bit, 0..7) so maddubs can
 * take them; the -4 offset comes back once per super-block as
 * 4 * sum_j scale[j] * bsums[j]. Scales are the signed 6-bit values.
 */
#include "kquant_avx2.h"

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
            __m256i bc = kq_half_scales(sc, h);
            const int8_t *q8 = b[i].qs + 128 * h;
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                sumi = kq_chunk_dot(sumi, q3k_codes(q, hm, h, k), q8 + 32 * k, bc, k);
            }
        }
        sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(off, 2));
        float d = _cvtsh_ss(a[i].d) * b[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return kq_hsum256(acc);
}

void q3_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q3_k *a = block;
    __m256i sc = q3k_scales(a->scales);
    __m256i hm = _mm256_loadu_si256((const __m256i *)a->hmask);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * h));
        __m256i bc = kq_half_scales(sc, h);
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            kq_store_chunk(u, h, k, q3k_codes(q, hm, h, k), bc);
        }
    }
    /* the -4 offset as a "minimum" of 4 * scale with dmin = d */
    _mm256_store_si256((__m256i *)u->mins, _mm256_slli_epi16(sc, 2));
    u->d = u->dmin = _cvtsh_ss(a->d);
}

KQ_MUL_MAT(q3_k, avx2, q3_k_dot_avx2)
