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
#include "kquant_avx2.h"
#include "panel_avx512.h"

float q4_k_dot_avx512(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        __m128 dd;
        __m256i sc = kq_k_start(a[i].scales, &a[i].d, &b[i], &dd, &accm);
        const uint8_t *q4 = a[i].qs;
        const int8_t *q8 = b[i].qs;
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i sc_lo, sc_hi;
            kq_k_pair_scales(sc, c, &sc_lo, &sc_hi);
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

KQ_MUL_MAT(q4_k, avx512, q4_k_dot_avx512)

/* mul_mat_exact's row kernel: q4_k_dot_avx512 for C columns at once. The
 * weight work (nibble split, scale and min decoding, their pair
 * shuffles, the f16 d/dmin) is done once per block; each column runs the
 * dot's own sequence on its own s0, s1, acc and accm, lane for lane, so
 * its result is the dot's bit for bit. Sub-blocks go outermost so only
 * one pair of weight vectors is live beside the columns' sums. (A 512-bit
 * variant, s0 and s1 of a column in one register, measured 10% slower at
 * 4 columns and no faster at 8 on a Xeon, where these multiplies seem to
 * get no more done per cycle at 512 bits than at 256; Q6_K's does gain.) */
static inline __attribute__((always_inline)) void
q4_k_exact_row(int C, int64_t n, const void *w, const void *x, size_t x_stride, int c0, float *out,
               size_t out_stride) {
    const block_q4_k *a = w;
    const block_q8_k *b[KQ_EXACT_MAX];
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc[KQ_EXACT_MAX];
    __m128 accm[KQ_EXACT_MAX];
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
        b[c] = (const block_q8_k *)(const void *)((const uint8_t *)x + (size_t)(c0 + c) * x_stride);
        acc[c] = _mm256_setzero_ps();
        accm[c] = _mm_setzero_ps();
    }
    for (int64_t i = 0; i < n / QK_K; i++) {
        basic_stream_prefetch(&a[i], sizeof *a);
        const struct kq_k_block kb = kq_k_start_w(a[i].scales, &a[i].d); /* once per block */
        __m128 dd[KQ_EXACT_MAX];
        __m256i s0[KQ_EXACT_MAX], s1[KQ_EXACT_MAX];
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            kq_k_start_x(&kb, &b[c][i], &dd[c], &accm[c]);
            s0[c] = s1[c] = _mm256_setzero_si256();
        }
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m256i sc_lo, sc_hi;
            kq_k_pair_scales(kb.sc, k, &sc_lo, &sc_hi);
            __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * k));
            __m256i lo = _mm256_and_si256(q, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) {
                const int8_t *q8 = b[c][i].qs;
                s0[c] = _mm256_dpwssd_epi32(
                    s0[c], _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * k))),
                    sc_lo);
                s1[c] = _mm256_dpwssd_epi32(
                    s1[c],
                    _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * k + 32))),
                    sc_hi);
            }
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; c++)
            acc[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd[c]),
                                     _mm256_cvtepi32_ps(_mm256_add_epi32(s0[c], s1[c])), acc[c]);
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(acc[c]), _mm256_extractf128_ps(acc[c], 1));
        r = _mm_sub_ps(r, accm[c]);
        r = _mm_add_ps(r, _mm_movehl_ps(r, r));
        r = _mm_add_ss(r, _mm_movehdup_ps(r));
        out[(size_t)(c0 + c) * out_stride] = _mm_cvtss_f32(r);
    }
}

KQ_MUL_MAT_EXACT(q4_k, avx512, q4_k_dot_avx512, q4_k_exact_row, 8)

/* ------------------------------------------- packed Q4_K, 16 rows */

#define Q4KX8_VNNI
#include "q4_kx8_kernels.h"

/*
 * mul_mat_packed over block_q4_kx8 with 512-bit VNNI. As in
 * panel_avx512.h, two neighbouring 8-row groups share a vector (group g in
 * the low half, g+1 in the high), so one VPDPBUSD, its activation word
 * broadcast from memory, covers 16 rows. Each sub-block's sum is exact in
 * int32 (32 products of 0..15 by -127..127); the 6-bit scales are applied
 * in float, multiplied with the rows' d beforehand (VPMULLD, the integer
 * alternative, is two slow uops on Intel cores), and the mins term is an
 * exact int32 sum (VPDPWSSD of the mins against the activations'
 * sub-block sums) scaled once per block.
 */
enum { Q4KX16_COLS = 4, Q4KX16_KC = 64 };

/* Per column and block, the pairs (ysum 2p, ysum 2p+1) of the activations'
 * sub-block sums as int16 pairs: the mins' VPDPWSSD operand. */
struct q4kx16_cols {
    int32_t ys[Q4KX16_COLS][Q4KX16_KC][4];
};

static inline void q4kx16_prep(int C, const uint8_t *const xc[Q4KX16_COLS], int64_t b0, int nbk,
                               struct q4kx16_cols *pc) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < nbk; i++) {
            const block_q8_k *y = (const block_q8_k *)(const void *)xc[c] + b0 + i;
            for (int p = 0; p < 4; p++) {
                const int16_t *bs = y->bsums + 4 * p;
                pc->ys[c][i][p] =
                    (int32_t)((uint32_t)(uint16_t)(bs[0] + bs[1]) | (uint32_t)(uint16_t)(bs[2] + bs[3]) << 16);
            }
        }
}

/* 16 bytes, 8 at a and 8 at b, widened to int32. */
static inline __m512i q4kx16_bytes(const uint8_t *a, const uint8_t *b) {
    return _mm512_cvtepu8_epi32(_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)a),
                                                   _mm_loadl_epi64((const __m128i *)b)));
}

/* 16 rows (groups ga, gb at block b0) by C columns over nbk blocks; acc[c]
 * lane r is (row r, column c). */
static inline __attribute__((always_inline)) void
q4kx16_tile(int C, const block_q4_kx8 *ga, const block_q4_kx8 *gb, const uint8_t *const xc[Q4KX16_COLS],
            int64_t b0, int nbk, const struct q4kx16_cols *pc, __m512 acc[Q4KX16_COLS]) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int i = 0; i < nbk; i++) {
        const block_q4_kx8 *a = ga + i, *b = gb + i;
        const block_q8_k *y[Q4KX16_COLS];
        __m512 fs[Q4KX16_COLS];
        __m512i ms[Q4KX16_COLS];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            y[c] = (const block_q8_k *)(const void *)xc[c] + b0 + i;
            fs[c] = _mm512_setzero_ps();
            ms[c] = _mm512_setzero_si512();
        }
        const __m512 dw = p16_halves(a->d, b->d);
#pragma GCC unroll 1
        for (int p = 0; p < 4; p++) {
            __m512i lo[Q4KX16_COLS], hi[Q4KX16_COLS];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) lo[c] = hi[c] = _mm512_setzero_si512();
#pragma GCC unroll 2
            for (int u = 0; u < 8; u++) {
                const __m512i v = p16_join(a->qs[8 * p + u], b->qs[8 * p + u]);
                const __m512i wl = _mm512_and_si512(v, low4);
                const __m512i wh = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    lo[c] = _mm512_dpbusd_epi32(lo[c], wl, p16_bcast(y[c]->qs + 64 * p, u));
                    hi[c] = _mm512_dpbusd_epi32(hi[c], wh, p16_bcast(y[c]->qs + 64 * p + 32, u));
                }
            }
            const __m512 s0 = _mm512_mul_ps(_mm512_cvtepi32_ps(q4kx16_bytes(a->sc[2 * p], b->sc[2 * p])), dw);
            const __m512 s1 =
                _mm512_mul_ps(_mm512_cvtepi32_ps(q4kx16_bytes(a->sc[2 * p + 1], b->sc[2 * p + 1])), dw);
            /* lane r: (m[2p][r], m[2p+1][r]) as int16 */
            const __m512i mp = _mm512_cvtepu8_epi16(_mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)a->m[2 * p]),
                                                         _mm_loadl_epi64((const __m128i *)a->m[2 * p + 1]))),
                _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)b->m[2 * p]),
                                  _mm_loadl_epi64((const __m128i *)b->m[2 * p + 1])),
                1));
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                fs[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo[c]), s0, fs[c]);
                fs[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi[c]), s1, fs[c]);
                ms[c] = _mm512_dpwssd_epi32(ms[c], mp, _mm512_set1_epi32(pc->ys[c][i][p]));
            }
        }
        const __m512 mw = p16_halves(a->dmin, b->dmin);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const __m512 dx = _mm512_set1_ps(y[c]->d);
            acc[c] = _mm512_fmadd_ps(fs[c], dx, acc[c]);
            acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(ms[c]), _mm512_mul_ps(mw, dx), acc[c]);
        }
    }
}

/* Columns c0 .. c0+C-1 against every pair of 8-row groups (an odd last
 * group paired with itself, its copy never stored), K in chunks. */
static inline __attribute__((always_inline)) void
q4kx16_columns(int C, const block_q4_kx8 *wp, int64_t nb, int n_rows, const void *x, size_t x_stride, int c0,
               float *out, size_t out_stride) {
    const uint8_t *xc[Q4KX16_COLS];
    struct q4kx16_cols pc;
    const int n_groups = (n_rows + PACK_ROWS - 1) / PACK_ROWS;
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    for (int64_t b0 = 0; b0 < nb; b0 += Q4KX16_KC) {
        const int nbk = nb - b0 < Q4KX16_KC ? (int)(nb - b0) : Q4KX16_KC;
        q4kx16_prep(C, xc, b0, nbk, &pc);
        for (int g = 0; g < n_groups; g += 2) {
            const int r0 = g * PACK_ROWS, rows = n_rows - r0;
            const __mmask16 m = rows >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rows) - 1);
            const block_q4_kx8 *ga = wp + (size_t)g * (size_t)nb + (size_t)b0;
            const block_q4_kx8 *gb = g + 1 < n_groups ? ga + nb : ga;
            float *o = out + (size_t)c0 * out_stride + (size_t)r0;
            __m512 acc[Q4KX16_COLS];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                acc[c] = b0 ? _mm512_maskz_loadu_ps(m, o + (size_t)c * out_stride) : _mm512_setzero_ps();
            q4kx16_tile(C, ga, gb, xc, b0, nbk, &pc, acc);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(o + (size_t)c * out_stride, m, acc[c]);
        }
    }
}

void q4_k_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                size_t x_stride, int n_cols, float *out, size_t out_stride) {
    /* decode: the 8-row VNNI tile (q4_kx8_kernels.h), which measured
     * faster than this one for a single column */
    if (n_cols < Q4KX16_COLS) {
        q4kx8_mul_mat(true, n, wp, n_rows, x, x_stride, n_cols, out, out_stride);
        return;
    }
    const int64_t nb = n / QK_K;
    const int main_cols = n_cols / Q4KX16_COLS * Q4KX16_COLS;
    for (int c0 = 0; c0 < main_cols; c0 += Q4KX16_COLS)
        q4kx16_columns(Q4KX16_COLS, wp, nb, n_rows, x, x_stride, c0, out, out_stride);
    switch (n_cols - main_cols) {
    case 1: q4kx16_columns(1, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 2: q4kx16_columns(2, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 3: q4kx16_columns(3, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    default: break;
    }
}
