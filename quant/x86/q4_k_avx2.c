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

/* --------------------------------------------- prepacked (block_q4_kx8) */

/* The 8 rows' bytes v[0..7] as int16 pairs (v[r], v[r]) in 32-bit lane r:
 * madd's second operand, applying a per-row 6-bit scale. */
static inline __m256i q4kx8_row_pairs(const uint8_t *v) {
    __m256i b = _mm256_set1_epi64x((long long)(*(const uint64_t *)(const void *)v));
    const __m256i idx = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1,
                                         4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
    return _mm256_shuffle_epi8(b, idx);
}

/* 8 packed rows by C columns (Q8_K rows at xc) over blocks 0..nb-1; out
 * lane r of acc[c] is (row r, column c). Per sub-block pair: 8 vectors of
 * codes, low nibbles one sub-block and high the next, against broadcast
 * words of activation codes, summed in int16 (at most 8 * 3810), then
 * madd with the rows' scales. Mins as sum_j m_j * ysum_j, two sub-blocks
 * per madd. */
static inline __attribute__((always_inline)) void
q4kx8_tile(int C, const block_q4_kx8 *wp, int64_t nb, const uint8_t *const xc[4], __m256 acc[4]) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < nb; i++) {
        const block_q4_kx8 *b = &wp[i];
        const block_q8_k *y[4];
        __m256i isum[4], msum[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            y[c] = (const block_q8_k *)(const void *)xc[c] + i;
            isum[c] = msum[c] = _mm256_setzero_si256();
        }
#pragma GCC unroll 1
        for (int p = 0; p < 4; p++) {
            __m256i lo[4], hi[4];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) lo[c] = hi[c] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int u = 0; u < 8; u++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)b->qs[8 * p + u]);
                __m256i wl = _mm256_and_si256(v, low4), wh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    int32_t a, h;
                    memcpy(&a, y[c]->qs + 64 * p + 4 * u, 4);
                    memcpy(&h, y[c]->qs + 64 * p + 32 + 4 * u, 4);
                    lo[c] = _mm256_add_epi16(lo[c], _mm256_maddubs_epi16(wl, _mm256_set1_epi32(a)));
                    hi[c] = _mm256_add_epi16(hi[c], _mm256_maddubs_epi16(wh, _mm256_set1_epi32(h)));
                }
            }
            const __m256i s0 = q4kx8_row_pairs(b->sc[2 * p]), s1 = q4kx8_row_pairs(b->sc[2 * p + 1]);
            /* lane r: (m[2p][r], m[2p+1][r]) against (ysum 2p, ysum 2p+1) */
            const __m256i mp = _mm256_cvtepu8_epi16(
                _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)b->m[2 * p]),
                                  _mm_loadl_epi64((const __m128i *)b->m[2 * p + 1])));
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(lo[c], s0));
                isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(hi[c], s1));
                const int16_t *bs = y[c]->bsums + 4 * p;
                uint32_t ys = (uint16_t)(bs[0] + bs[1]) | (uint32_t)(uint16_t)(bs[2] + bs[3]) << 16;
                msum[c] = _mm256_add_epi32(msum[c], _mm256_madd_epi16(mp, _mm256_set1_epi32((int)ys)));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->d));
        const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b->dmin));
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const __m256 dx = _mm256_set1_ps(y[c]->d);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dw, dx), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[c]), _mm256_mul_ps(mw, dx), acc[c]);
        }
    }
}

static inline __attribute__((always_inline)) void
q4kx8_columns(int C, const block_q4_kx8 *wp, int64_t nb, int n_rows, const void *x, size_t x_stride,
              int c0, float *out, size_t out_stride) {
    const uint8_t *xc[4];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    for (int r0 = 0; r0 < n_rows; r0 += PACK_ROWS) {
        __m256 acc[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
        q4kx8_tile(C, wp + (size_t)(r0 / PACK_ROWS) * (size_t)nb, nb, xc, acc);
        const int rows = n_rows - r0;
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rows),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            float *o = out + (size_t)(c0 + c) * out_stride + (size_t)r0;
            if (rows >= PACK_ROWS) _mm256_storeu_ps(o, acc[c]);
            else _mm256_maskstore_ps(o, mask, acc[c]);
        }
    }
}

void q4_k_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                              int n_cols, float *out, size_t out_stride) {
    const int64_t nb = n / QK_K;
    const int main_cols = n_cols / 4 * 4;
    for (int c0 = 0; c0 < main_cols; c0 += 4) q4kx8_columns(4, wp, nb, n_rows, x, x_stride, c0, out, out_stride);
    switch (n_cols - main_cols) {
    case 1: q4kx8_columns(1, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 2: q4kx8_columns(2, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 3: q4kx8_columns(3, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    default: break;
    }
}
