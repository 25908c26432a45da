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
 * Sections: tile kernel, mul_mat (kquant_avx2.h has the driver).
 */
#include "kquant_avx2.h"

/* ------------------------------------------------------------ tile kernel */

/* Tile geometry: KQ_R weight rows by KQ_C activation columns, over groups of
 * KQ_G super-blocks (kquant_avx2.h). 4x4 takes 16 accumulators + 4 code vectors + 2
 * temporaries of the 32 registers. Measured on a Xeon (AVX-512 VNNI): 4x4
 * over 8 super-blocks beat 4x6, 6x4, 8x2, 8x3 and 256-bit VNNI tiles by
 * 10-30%. */
#define KQ_C 4
_Static_assert(KQ_C == 4, "tile_avx512_nc's switch lists the narrower tiles");
_Static_assert(KQ_C <= KQ_CMAX, "the driver's column arrays");

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
            int ng, float res[KQ_R][KQ_CMAX]) {
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

/* ---------------------------------------------------------------- mul_mat */

/* tile_avx512 as a kq_tile_fn: a constant nc per call, so the compiler
 * specializes each. */
static inline __attribute__((always_inline)) void
tile_avx512_nc(const struct kq_unpacked *const u[KQ_R], const block_q8_k *const x[], int nc,
               int ng, float res[KQ_R][KQ_CMAX]) {
    switch (nc) {
    case 1:
        tile_avx512(u, x, 1, ng, res);
        break;
    case 2:
        tile_avx512(u, x, 2, ng, res);
        break;
    case 3:
        tile_avx512(u, x, 3, ng, res);
        break;
    default:
        tile_avx512(u, x, KQ_C, ng, res);
        break;
    }
}

/* The row side of the minimum term, once per unpacked block: dmins[j] =
 * dmin * mins[j] (the tile kernel's lane-wise epilogue). */
static inline __attribute__((always_inline)) void with_dmins(struct kq_unpacked *ub) {
    __m512 m = _mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(_mm256_load_si256((const __m256i *)ub->mins)));
    _mm512_store_ps(ub->dmins, _mm512_mul_ps(m, _mm512_set1_ps(ub->dmin)));
}

void kq_mul_mat_avx512(kq_unpack_fn unpack, kq_dot_fn dot, size_t block_bytes, int64_t n,
                       const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                       int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_driver(tile_avx512_nc, KQ_C, with_dmins, unpack, dot, block_bytes, n, w, w_stride,
                      n_rows, x, x_stride, n_cols, out, out_stride);
}
