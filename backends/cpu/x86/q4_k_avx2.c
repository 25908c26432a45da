/*
 * q4_k_avx2.c — AVX2 Q4_K kernels: the dot against one Q8_K row (decode),
 * the unpacker into struct kq_unpacked, and mul_mat over it (prefill).
 *
 * Per 32-value sub-block: maddubs multiplies the unsigned nibbles by the
 * signed Q8_K codes into int16 pair sums (at most 2*15*127, no saturation),
 * madd applies the 6-bit scale and widens to int32. The minimums use the
 * Q8_K bsums (pairs of 16-sums per sub-block), so the codes need no offset.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

/* The 12-byte scale field as 16 bytes: scales 0-7, then mins 0-7.
 * Scale/min j < 4 are the low 6 bits of bytes j / j+4; for j >= 4 the low
 * nibble comes from byte j+4 (scale low, min high nibble) and the top two
 * bits from bits 6-7 of bytes j-4 (scale) and j (min). Done on the four
 * 32-bit words u0..u2 at once: lanes [u0, u2, u1, u2>>4] masked, ORed with
 * the top bits of [-, u0, -, u1]. Reads 16 bytes: the caller's block
 * continues past the field. */
static inline __m128i q4k_scales_mins(const uint8_t *p) {
    __m128i u = _mm_loadu_si128((const __m128i *)p);
    __m128i lo =
        _mm_srlv_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4));
    __m128i hi = _mm_srli_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)), 2);
    return _mm_or_si128(
        _mm_and_si128(lo, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
        _mm_and_si128(hi, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}

static float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static float hsum128_ps(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

float q4_k_dot_avx2(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i sm = _mm256_cvtepu8_epi16(q4k_scales_mins(a[i].scales));
        /* mins . (bsums[2j] + bsums[2j+1]) */
        __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)b[i].bsums),
                                       _mm_loadu_si128((const __m128i *)(b[i].bsums + 8)));
        __m128i msum = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), pairs);
        /* [b.d * d, b.d * dmin] from the two halves at once */
        uint32_t dpair;
        memcpy(&dpair, &a[i].d, 4);
        __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dpair)), _mm_set1_ps(b[i].d));
        accm = _mm_fmadd_ps(_mm_permute_ps(dd, 0x55), _mm_cvtepi32_ps(msum), accm);

        /* both lanes hold the 8 scales as int16; shuffles broadcast one */
        __m256i sc = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm));
        const uint8_t *q4 = a[i].qs;
        const int8_t *q8 = b[i].qs;
        __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i s_lo =
                _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((4 * c + 1) << 8 | 4 * c)));
            __m256i s_hi =
                _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((4 * c + 3) << 8 | (4 * c + 2))));
            __m256i q = _mm256_loadu_si256((const __m256i *)(q4 + 32 * c));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            __m256i p0 =
                _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
            __m256i p1 =
                _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
            sumi = _mm256_add_epi32(
                sumi, _mm256_add_epi32(_mm256_madd_epi16(p0, s_lo), _mm256_madd_epi16(p1, s_hi)));
        }
        acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum_ps(acc) - hsum128_ps(accm);
}

void q4_k_unpack_avx2(const void *block, struct kq_unpacked *u) {
    const block_q4_k *a = block;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m128i sm = q4k_scales_mins(a->scales);
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, sm);
    /* a 32-value sub-block is one chunk: one scale across the vector */
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++)
        _mm256_store_si256((__m256i *)u->scales[k], _mm256_set1_epi16(t[k]));
    __m128i m16 = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
    _mm_store_si128((__m128i *)u->mins, _mm_unpacklo_epi16(m16, m16));
    _mm_store_si128((__m128i *)(u->mins + 8), _mm_unpackhi_epi16(m16, m16));
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(a->qs + 32 * c));
        _mm256_store_si256((__m256i *)(u->codes + 64 * c), _mm256_and_si256(q, m4));
        _mm256_store_si256((__m256i *)(u->codes + 64 * c + 32),
                           _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    }
    u->d = _cvtsh_ss(a->d);
    u->dmin = _cvtsh_ss(a->dmin);
}

void q4_k_mul_mat_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx2(q4_k_unpack_avx2, q4_k_dot_avx2, sizeof(block_q4_k), n, w, w_stride, n_rows, x,
                    x_stride, n_cols, out, out_stride);
}

#include "q4_kx8_kernels.h"
