/*
 * q8_k_avx2.c — the AVX2 Q8_K side of the K-quant kernels: the activation
 * quantizer (bit-identical to q8_k_quantize_ref) and the int8 tile product
 * that every K-quant mul_mat runs on unpacked weights (kquant_kernels.h).
 *
 * Sections: quantizer, tile kernel, mul_mat (kquant_avx2.h has the driver).
 */
#include "kquant_avx2.h"

/* -------------------------------------------------------------- quantizer */

static float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* Same operations as the reference, lane by lane: the largest magnitude
 * (first one on ties, NaNs skipped) maps to -127, codes round with the
 * 1.5*2^23 trick of quant_nearest_int (so NaN products give the same codes
 * too) and clip at 127. Codes are then cut to their low byte, as the
 * reference's int8 cast does: with a subnormal maximum, iscale overflows to
 * inf and the trick yields -2^22, which the cast wraps to 0. */
void q8_k_quantize_avx2(const float *src, void *dst, int64_t n) {
    block_q8_k *b = dst;
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256i mant = _mm256_set1_epi32(0x007fffff), half = _mm256_set1_epi32(0x00400000);
    const __m256i c127 = _mm256_set1_epi32(127), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i bias = _mm256_set1_epi8(-128), low_byte = _mm256_set1_epi32(0xff);
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        /* max_ps returns its second operand when the first is NaN */
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8)
            m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(src + j), abs_mask), m);
        float amax = hmax_ps(m);
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        int first = 0;
        const __m256 va = _mm256_set1_ps(amax);
        for (int j = 0; j < QK_K; j += 8) {
            __m256 a = _mm256_and_ps(_mm256_loadu_ps(src + j), abs_mask);
            int mask = _mm256_movemask_ps(_mm256_cmp_ps(a, va, _CMP_EQ_OQ));
            if (mask) {
                first = j + __builtin_ctz((unsigned)mask);
                break;
            }
        }
        float iscale = -127.0f / src[first];
        const __m256 vs = _mm256_set1_ps(iscale);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++) {
                __m256 v =
                    _mm256_add_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(src + j + 8 * k)), magic);
                __m256i c = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(v), mant), half);
                q[k] = _mm256_and_si256(_mm256_min_epi32(c, c127), low_byte);
            }
            /* 0..255 in every lane: the unsigned packs do not saturate */
            __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]),
                                            _mm256_packus_epi32(q[2], q[3]));
            p = _mm256_permutevar8x32_epi32(p, order);
            _mm256_storeu_si256((__m256i *)(b[i].qs + j), p);
            /* sums of 16 codes: sad of the codes biased to unsigned gives
             * sums of 8, each 8*128 too high */
            __m256i s = _mm256_sad_epu8(_mm256_xor_si256(p, bias), _mm256_setzero_si256());
            int64_t s8[4];
            _mm256_storeu_si256((__m256i *)s8, s);
            b[i].bsums[j / 16] = (int16_t)(s8[0] + s8[1] - 16 * 128);
            b[i].bsums[j / 16 + 1] = (int16_t)(s8[2] + s8[3] - 16 * 128);
        }
        b[i].d = 1.0f / iscale;
    }
}

/* ------------------------------------------------------------ tile kernel */

/* Tile geometry: KQ_R weight rows by KQ_C activation columns, over groups of
 * KQ_G super-blocks (kquant_avx2.h). 4x3 keeps the 12 integer accumulators, a code vector
 * and the 3 activation vectors in AVX2's 16 registers (the scale vector
 * comes from memory). Measured on Zen 3 (MACs per cycle, 512 columns):
 * 4x3 over 8 super-blocks ~22, 4x2 over 4 ~19, against ~27 for a bare
 * maddubs+madd+add stream; unpacking the whole 16-row band per group
 * (driver below) added ~5%. */
#define KQ_C 3
_Static_assert(KQ_C == 3, "tile_avx2_nc's switch lists the narrower tiles");
_Static_assert(KQ_C <= KQ_CMAX, "the driver's column arrays");

/* res[r][c] = sum over ng super-blocks of dot(u[r][g], x[c][g]), for the
 * first nc (a constant after inlining) of the KQ_C columns.
 * u[r] points at row r's ng unpacked super-blocks, x[c] at column c's. */
static inline __attribute__((always_inline)) void tile_avx2(const struct kq_unpacked *const u[KQ_R],
                                                            const block_q8_k *const x[KQ_C], int nc,
                                                            int ng, float res[KQ_R][KQ_CMAX]) {
    __m256 accf[KQ_R][KQ_C];
#pragma GCC unroll 8
    for (int r = 0; r < KQ_R; r++)
#pragma GCC unroll 8
        for (int c = 0; c < nc; c++) accf[r][c] = _mm256_setzero_ps();
    for (int g = 0; g < ng; g++) {
        __m256i acc[KQ_R][KQ_C];
#pragma GCC unroll 8
        for (int r = 0; r < KQ_R; r++)
#pragma GCC unroll 8
            for (int c = 0; c < nc; c++) acc[r][c] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            __m256i q[KQ_C];
#pragma GCC unroll 8
            for (int c = 0; c < nc; c++)
                q[c] = _mm256_loadu_si256((const __m256i *)(x[c][g].qs + 32 * k));
#pragma GCC unroll 8
            for (int r = 0; r < KQ_R; r++) {
                __m256i w = _mm256_load_si256((const __m256i *)(u[r][g].codes + 32 * k));
                __m256i s = _mm256_load_si256((const __m256i *)u[r][g].scales[k]);
#pragma GCC unroll 8
                for (int c = 0; c < nc; c++)
                    acc[r][c] = _mm256_add_epi32(
                        acc[r][c], _mm256_madd_epi16(_mm256_maddubs_epi16(w, q[c]), s));
            }
        }
        /* acc*d - (mins . bsums)*dmin, times the column's d */
        __m256i bs[KQ_C];
        __m256 d8[KQ_C];
#pragma GCC unroll 8
        for (int c = 0; c < nc; c++) {
            bs[c] = _mm256_loadu_si256((const __m256i *)x[c][g].bsums);
            d8[c] = _mm256_set1_ps(x[c][g].d);
        }
#pragma GCC unroll 8
        for (int r = 0; r < KQ_R; r++) {
            __m256i mins = _mm256_load_si256((const __m256i *)u[r][g].mins);
            __m256 d = _mm256_set1_ps(u[r][g].d), dm = _mm256_set1_ps(u[r][g].dmin);
#pragma GCC unroll 8
            for (int c = 0; c < nc; c++) {
                __m256 m = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, bs[c]));
                __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][c]), d);
                t = _mm256_fnmadd_ps(m, dm, t);
                accf[r][c] = _mm256_fmadd_ps(t, d8[c], accf[r][c]);
            }
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < KQ_R; r++)
#pragma GCC unroll 8
        for (int c = 0; c < nc; c++) res[r][c] = kq_hsum256(accf[r][c]);
}

/* ---------------------------------------------------------------- mul_mat */

/* tile_avx2 as a kq_tile_fn: a constant nc per call, so the compiler
 * specializes each. */
static inline __attribute__((always_inline)) void
tile_avx2_nc(const struct kq_unpacked *const u[KQ_R], const block_q8_k *const x[], int nc, int ng,
             float res[KQ_R][KQ_CMAX]) {
    switch (nc) {
    case 1:
        tile_avx2(u, x, 1, ng, res);
        break;
    case 2:
        tile_avx2(u, x, 2, ng, res);
        break;
    default:
        tile_avx2(u, x, KQ_C, ng, res);
        break;
    }
}

void kq_mul_mat_avx2(kq_unpack_fn unpack, kq_dot_fn dot, size_t block_bytes, int64_t n,
                     const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                     int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_driver(tile_avx2_nc, KQ_C, NULL, unpack, dot, block_bytes, n, w, w_stride, n_rows,
                      x, x_stride, n_cols, out, out_stride);
}
