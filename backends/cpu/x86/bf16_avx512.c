/*
 * bf16_avx512.c — BF16 weights against BF16 activations with AVX512_BF16:
 * VDPBF16PS multiplies 16 bfloat16 pairs and adds each pair into 8 float
 * lanes, twice the work of an FMA per instruction and no conversion. Dot
 * and 4x4-tiled batch product; installed only where the CPU has BF16 (the
 * AVX-512 set itself does not require it). 256-bit on purpose, as for the
 * other AVX-512 kernels (Zen 4 splits 512-bit ops into halves).
 *
 * The instruction flushes subnormal inputs and results to zero; products of
 * bfloat16 values are exact otherwise, so results differ from the reference
 * only by float accumulation order (and in the subnormal range).
 */
#include "basic_kernels.h"

#define BF16_AVX512_ROWS 4
#define BF16_AVX512_COLS 4
#define BF16_STEP 16 /* values per VDPBF16PS */

static inline __m256bh bf16_load16(const uint16_t *p) {
    return (__m256bh)_mm256_loadu_si256((const __m256i *)p);
}

/* The first m (< 16) values, zeros after. */
static inline __m256bh bf16_load_tail(const uint16_t *p, int m) {
    return (__m256bh)_mm256_maskz_loadu_epi16((__mmask16)((1u << m) - 1), p);
}

float bf16_dot_avx512bf16(const void *w, const void *x, int64_t n) {
    const uint16_t *a = w, *b = x;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t k = 0;
    for (; k + 4 * BF16_STEP <= n; k += 4 * BF16_STEP)
        for (int u = 0; u < 4; u++)
            acc[u] = _mm256_dpbf16_ps(acc[u], bf16_load16(a + k + BF16_STEP * u),
                                      bf16_load16(b + k + BF16_STEP * u));
    for (; k + BF16_STEP <= n; k += BF16_STEP)
        acc[0] = _mm256_dpbf16_ps(acc[0], bf16_load16(a + k), bf16_load16(b + k));
    if (k < n)
        acc[1] = _mm256_dpbf16_ps(acc[1], bf16_load_tail(a + k, (int)(n - k)),
                                  bf16_load_tail(b + k, (int)(n - k)));
    return basic_hsum256(
        _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

/* The type_kernels.mul_mat contract in 4x4 tiles; edges as in basic_kernels.h
 * (clamped pointers, only real outputs stored). */
void bf16_mul_mat_avx512bf16(int64_t n, const void *w, size_t w_stride, int n_rows,
                             const void *x, size_t x_stride, int n_cols, float *out,
                             size_t out_stride) {
    enum { R = BF16_AVX512_ROWS, C = BF16_AVX512_COLS };
    for (int r0 = 0; r0 < n_rows; r0 += R) {
        const uint16_t *wr[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            wr[r] = (const uint16_t *)((const uint8_t *)w +
                                       (size_t)(r0 + r < n_rows ? r0 + r : n_rows - 1) * w_stride);
        for (int c0 = 0; c0 < n_cols; c0 += C) {
            const uint16_t *xc[C];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                xc[c] = (const uint16_t *)((const uint8_t *)x +
                                           (size_t)(c0 + c < n_cols ? c0 + c : n_cols - 1) *
                                               x_stride);
            __m256 acc[R][C];
            basic_tile_zero(acc, R, C);
            int64_t k = 0;
            for (; k + BF16_STEP <= n; k += BF16_STEP) {
                __m256bh wv[R];
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) wv[r] = bf16_load16(wr[r] + k);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    __m256bh xv = bf16_load16(xc[c] + k);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) acc[r][c] = _mm256_dpbf16_ps(acc[r][c], wv[r], xv);
                }
            }
            if (k < n) {
                __m256bh wv[R];
                for (int r = 0; r < R; r++) wv[r] = bf16_load_tail(wr[r] + k, (int)(n - k));
                for (int c = 0; c < C; c++) {
                    __m256bh xv = bf16_load_tail(xc[c] + k, (int)(n - k));
                    for (int r = 0; r < R; r++) acc[r][c] = _mm256_dpbf16_ps(acc[r][c], wv[r], xv);
                }
            }
            basic_tile_store(out, out_stride, r0, c0, R, C, n_rows, n_cols, acc, NULL);
        }
    }
}
