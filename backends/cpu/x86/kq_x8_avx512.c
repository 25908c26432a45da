/*
 * kq_x8_avx512.c — mul_mat_packed over block_kq_x8 (pack_x8.h: Q2_K, Q3_K,
 * Q5_K, Q6_K with one byte per code) with 512-bit VNNI. The packers and
 * the AVX2 product are in kq_x8_avx2.c.
 *
 * As in q4_k_avx512.c, two neighbouring 8-row groups share a vector (group
 * g in the low half, g+1 in the high), so one VPDPBUSD, its activation word
 * broadcast from memory, covers 4 codes of 16 rows. Each sub-block's sum is
 * exact in int32 (at most 32 * 63 * 128); the scales are applied in float,
 * multiplied with the rows' d once per sub-block for all columns (VPMULLD,
 * the integer alternative, is two slow uops on Intel cores); the mins' term
 * is an exact int32 sum (VPDPWSSD of the stored pairs against the
 * activations' bsums) scaled once per super-block.
 *
 * Two variants: scales per 16 values (Q2_K, Q3_K, Q6_K) or per 32 (Q5_K,
 * whose pairs of sub-blocks share a scale: half the float work).
 */
#include <string.h>

#include "kquant_kernels.h"
#include "pack_x8.h"
#include "panel_avx512.h" /* p16_join, p16_bcast */

enum { KQX16_COLS = 4, KQX16_KC = 64 };

/* 8 floats at a (low half) and 8 at b. */
static inline __m512 kqx16_floats(const float *a, const float *b) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(a))),
                                               _mm256_castps_pd(_mm256_loadu_ps(b)), 1));
}

/* The 16 rows' scales (8 signed bytes at a, 8 at b) times their d. */
static inline __m512 kqx16_scales(const int8_t *a, const int8_t *b, __m512 dw) {
    __m128i s = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)a), _mm_loadl_epi64((const __m128i *)b));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s)), dw);
}

/* 16 rows (groups ga, gb at block b0) by C columns over nbk blocks; acc[c]
 * lane r is (row r, column c) and carries over between K chunks. Per pair
 * p of 16-value sub-blocks (8 units of 4 codes), two int32 sums per column:
 * the two sub-blocks, or (per32) even and odd units, so that each column
 * has two VPDPBUSD chains. */
static inline __attribute__((always_inline)) void
kqx16_tile(int C, bool per32, const block_kq_x8 *ga, const block_kq_x8 *gb,
           const uint8_t *const xc[KQX16_COLS], int64_t b0, int nbk, __m512 acc[KQX16_COLS]) {
    for (int i = 0; i < nbk; i++) {
        const block_kq_x8 *a = ga + i, *b = gb + i;
        const block_q8_k *y[KQX16_COLS];
        __m512 fs[KQX16_COLS];
        __m512i ms[KQX16_COLS];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            y[c] = (const block_q8_k *)(const void *)xc[c] + b0 + i;
            fs[c] = _mm512_setzero_ps();
            ms[c] = _mm512_setzero_si512();
        }
        const __m512 dw = kqx16_floats(a->d, b->d);
#pragma GCC unroll 1
        for (int p = 0; p < QK_K / 32; p++) {
            __m512i s0[KQX16_COLS], s1[KQX16_COLS];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) s0[c] = s1[c] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int u = 0; u < 8; u++) {
                const __m512i v = p16_join(a->qs[8 * p + u], b->qs[8 * p + u]);
                const bool first = per32 ? u % 2 == 0 : u < 4;
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    const __m512i q = p16_bcast(y[c]->qs + 32 * p, u);
                    if (first) s0[c] = _mm512_dpbusd_epi32(s0[c], v, q);
                    else s1[c] = _mm512_dpbusd_epi32(s1[c], v, q);
                }
            }
            const __m512 sc0 = kqx16_scales(a->sc[2 * p], b->sc[2 * p], dw);
            const __m512 sc1 = per32 ? sc0 : kqx16_scales(a->sc[2 * p + 1], b->sc[2 * p + 1], dw);
            const __m512i mp = p16_join(a->m[p], b->m[p]);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                if (per32) {
                    fs[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0[c], s1[c])), sc0, fs[c]);
                } else {
                    fs[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0[c]), sc0, fs[c]);
                    fs[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1[c]), sc1, fs[c]);
                }
                int32_t ys;
                memcpy(&ys, y[c]->bsums + 2 * p, sizeof ys);
                ms[c] = _mm512_dpwssd_epi32(ms[c], mp, _mm512_set1_epi32(ys));
            }
        }
        const __m512 mw = kqx16_floats(a->dmin, b->dmin);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const __m512 dx = _mm512_set1_ps(y[c]->d);
            acc[c] = _mm512_fmadd_ps(fs[c], dx, acc[c]);
            acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(ms[c]), _mm512_mul_ps(mw, dx), acc[c]);
        }
    }
}

/* Columns c0 .. c0+C-1 against every pair of 8-row groups (an odd last
 * group paired with itself, its copy never stored), K in chunks of
 * KQX16_KC super-blocks so that the columns' activations stay in L1/L2
 * while every row pair of the band passes over them. */
static inline __attribute__((always_inline)) void
kqx16_columns(int C, bool per32, const block_kq_x8 *wp, int64_t nb, int n_rows, const void *x,
              size_t x_stride, int c0, float *out, size_t out_stride) {
    const uint8_t *xc[KQX16_COLS];
    const int n_groups = (n_rows + PACK_ROWS - 1) / PACK_ROWS;
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    for (int64_t b0 = 0; b0 < nb; b0 += KQX16_KC) {
        const int nbk = nb - b0 < KQX16_KC ? (int)(nb - b0) : KQX16_KC;
        for (int g = 0; g < n_groups; g += 2) {
            const int r0 = g * PACK_ROWS, rows = n_rows - r0;
            const __mmask16 m = rows >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rows) - 1);
            const block_kq_x8 *ga = wp + (size_t)g * (size_t)nb + (size_t)b0;
            const block_kq_x8 *gb = g + 1 < n_groups ? ga + nb : ga;
            float *o = out + (size_t)c0 * out_stride + (size_t)r0;
            __m512 acc[KQX16_COLS];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                acc[c] = b0 ? _mm512_maskz_loadu_ps(m, o + (size_t)c * out_stride) : _mm512_setzero_ps();
            kqx16_tile(C, per32, ga, gb, xc, b0, nbk, acc);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(o + (size_t)c * out_stride, m, acc[c]);
        }
    }
}

static inline __attribute__((always_inline)) void
kqx16_mul_mat(bool per32, int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
              int n_cols, float *out, size_t out_stride) {
    const int64_t nb = n / QK_K;
    const int main_cols = n_cols / KQX16_COLS * KQX16_COLS;
    for (int c0 = 0; c0 < main_cols; c0 += KQX16_COLS)
        kqx16_columns(KQX16_COLS, per32, wp, nb, n_rows, x, x_stride, c0, out, out_stride);
    switch (n_cols - main_cols) {
    case 1: kqx16_columns(1, per32, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 2: kqx16_columns(2, per32, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 3: kqx16_columns(3, per32, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    default: break;
    }
}

void kq_x8_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                 size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kqx16_mul_mat(false, n, wp, n_rows, x, x_stride, n_cols, out, out_stride);
}

void kq32_x8_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                   size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kqx16_mul_mat(true, n, wp, n_rows, x, x_stride, n_cols, out, out_stride);
}
