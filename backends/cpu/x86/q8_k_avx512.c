/*
 * q8_k_avx512.c — the AVX-512 (BW + VNNI) int8 tile product behind every
 * K-quant mul_mat of the avx512 set: unpacked weight super-blocks
 * (kquant_kernels.h) times Q8_K activation columns.
 *
 * Against the AVX2 tile it gains two things: 32 vector registers, which fit
 * a 4x4 tile of 512-bit accumulators, and VNNI's vpdpwssd, which applies the
 * sub-block scales and accumulates in one instruction (AVX2 needs madd +
 * add). A 64-value chunk of unpacked codes pairs with two consecutive
 * 32-byte scale vectors of struct kq_unpacked, one 64-byte load.
 *
 * Sections: tile kernel, mul_mat driver.
 */
#include <immintrin.h>

#include "kquant_kernels.h"
#include "quant_impl.h"

/* ------------------------------------------------------------ tile kernel */

/* Tile geometry: KQ_R weight rows by KQ_C activation columns, over groups of
 * KQ_G super-blocks. 4x4 takes 16 accumulators + 4 code vectors + 2
 * temporaries of the 32 registers. Measured on a Xeon (AVX-512 VNNI): 4x4
 * over 8 super-blocks beat 4x6, 6x4, 8x2, 8x3 and 256-bit VNNI tiles by
 * 10-30%. */
#define KQ_R 4
#define KQ_C 4
#define KQ_G 8
#define KQ_BAND 16 /* ops.c hands out bands of 16 rows */
/* Fewer columns than this go to the dot kernel: unpacking a band costs
 * about as much as two dot products per row. */
#define KQ_MIN_COLS 3
_Static_assert(KQ_C == 4, "the driver's switch lists the narrower tiles");

/* res[r][c] = sum over ng super-blocks of dot(u[r][g], x[c][g]), for the
 * first nc (a constant after inlining) of the KQ_C columns.
 *
 * The float epilogue runs once per pair and super-block, so it is kept to
 * four 16-lane instructions: convert, d*d8, and two multiply-adds into a
 * float accumulator whose lanes are only summed at the end. The minimum
 * term joins lane-wise as dmins[j] * (d8 * bsums[j]): the row side comes
 * precomputed, the column side is built once per column and reused by
 * every row of the tile. */
static inline __attribute__((always_inline)) void
tile_avx512(const struct kq_unpacked *const u[KQ_R], const block_q8_k *const x[KQ_C], int nc,
            int ng, float res[KQ_R][KQ_C]) {
    __m512 accf[KQ_R][KQ_C];
#pragma GCC unroll 8
    for (int r = 0; r < KQ_R; r++)
#pragma GCC unroll 8
        for (int c = 0; c < nc; c++) accf[r][c] = _mm512_setzero_ps();
    for (int g = 0; g < ng; g++) {
        __m512i acc[KQ_R][KQ_C];
#pragma GCC unroll 8
        for (int r = 0; r < KQ_R; r++)
#pragma GCC unroll 8
            for (int c = 0; c < nc; c++) acc[r][c] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int m = 0; m < 4; m++) {
            __m512i w[KQ_R];
#pragma GCC unroll 8
            for (int r = 0; r < KQ_R; r++)
                w[r] = _mm512_load_si512((const void *)(u[r][g].codes + 64 * m));
#pragma GCC unroll 8
            for (int c = 0; c < nc; c++) {
                __m512i q = _mm512_loadu_si512((const void *)(x[c][g].qs + 64 * m));
#pragma GCC unroll 8
                for (int r = 0; r < KQ_R; r++) {
                    __m512i s = _mm512_load_si512((const void *)u[r][g].scales[2 * m]);
                    acc[r][c] = _mm512_dpwssd_epi32(acc[r][c], _mm512_maddubs_epi16(w[r], q), s);
                }
            }
        }
        __m512 bf[KQ_C], d8[KQ_C];
#pragma GCC unroll 8
        for (int c = 0; c < nc; c++) {
            __m256i bs = _mm256_loadu_si256((const __m256i *)x[c][g].bsums);
            d8[c] = _mm512_set1_ps(x[c][g].d);
            bf[c] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(bs)), d8[c]);
        }
#pragma GCC unroll 8
        for (int r = 0; r < KQ_R; r++) {
            __m512 dm = _mm512_load_ps(u[r][g].dmins), d = _mm512_set1_ps(u[r][g].d);
#pragma GCC unroll 8
            for (int c = 0; c < nc; c++) {
                __m512 t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][c]), _mm512_mul_ps(d, d8[c]),
                                           accf[r][c]);
                accf[r][c] = _mm512_fnmadd_ps(dm, bf[c], t);
            }
        }
    }
    for (int r = 0; r < KQ_R; r++)
        for (int c = 0; c < nc; c++) res[r][c] = _mm512_reduce_add_ps(accf[r][c]);
}

/* ---------------------------------------------------------- mul_mat driver */

/* Loop order: for each band of up to KQ_BAND rows and group of KQ_G
 * super-blocks, unpack the band once (KQ_BAND * KQ_G * 640 bytes, in L2),
 * then for each KQ_C-column strip run every KQ_R-row tile of the band, so
 * the strip's activations are read from memory once per band and then hit
 * L1. A last partial strip uses a narrower copy of the tile; a last partial
 * row tile repeats its last real row and drops the extra results. */
void kq_mul_mat_avx512(kq_unpack_fn unpack, kq_dot_fn dot, size_t block_bytes, int64_t n,
                       const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                       int n_cols, float *out, size_t out_stride) {
    if (n_cols < KQ_MIN_COLS) {
        for (int r = 0; r < n_rows; r++)
            for (int c = 0; c < n_cols; c++)
                out[(size_t)c * out_stride + r] = dot((const uint8_t *)w + (size_t)r * w_stride,
                                                      (const uint8_t *)x + (size_t)c * x_stride, n);
        return;
    }
    _Alignas(64) struct kq_unpacked buf[KQ_BAND][KQ_G];
    const int64_t nsb = n / QK_K;
    for (int b0 = 0; b0 < n_rows; b0 += KQ_BAND) {
        int nb = n_rows - b0 < KQ_BAND ? n_rows - b0 : KQ_BAND;
        for (int64_t g0 = 0; g0 < nsb; g0 += KQ_G) {
            int ng = nsb - g0 < KQ_G ? (int)(nsb - g0) : KQ_G;
            for (int r = 0; r < nb; r++) {
                const uint8_t *row = (const uint8_t *)w + (size_t)(b0 + r) * w_stride;
                for (int g = 0; g < ng; g++) {
                    struct kq_unpacked *ub = &buf[r][g];
                    unpack(row + (size_t)(g0 + g) * block_bytes, ub);
                    __m512 m = _mm512_cvtepi32_ps(
                        _mm512_cvtepi16_epi32(_mm256_load_si256((const __m256i *)ub->mins)));
                    _mm512_store_ps(ub->dmins, _mm512_mul_ps(m, _mm512_set1_ps(ub->dmin)));
                }
            }
            for (int c0 = 0; c0 < n_cols; c0 += KQ_C) {
                int nc = n_cols - c0 < KQ_C ? n_cols - c0 : KQ_C;
                const block_q8_k *xs[KQ_C];
                for (int c = 0; c < nc; c++)
                    xs[c] =
                        (const block_q8_k *)((const uint8_t *)x + (size_t)(c0 + c) * x_stride) + g0;
                for (int r0 = 0; r0 < nb; r0 += KQ_R) {
                    int nr = nb - r0 < KQ_R ? nb - r0 : KQ_R;
                    const struct kq_unpacked *u[KQ_R];
                    for (int r = 0; r < KQ_R; r++) u[r] = buf[r0 + (r < nr ? r : nr - 1)];
                    float res[KQ_R][KQ_C];
                    /* a constant nc per call: the compiler specializes each */
                    switch (nc) {
                    case 1:
                        tile_avx512(u, xs, 1, ng, res);
                        break;
                    case 2:
                        tile_avx512(u, xs, 2, ng, res);
                        break;
                    case 3:
                        tile_avx512(u, xs, 3, ng, res);
                        break;
                    default:
                        tile_avx512(u, xs, KQ_C, ng, res);
                        break;
                    }
                    for (int c = 0; c < nc; c++) {
                        float *o = out + (size_t)(c0 + c) * out_stride + b0 + r0;
                        for (int r = 0; r < nr; r++) o[r] = g0 ? o[r] + res[r][c] : res[r][c];
                    }
                }
            }
        }
    }
}
