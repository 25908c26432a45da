/*
 * kq_x8_avx2.c — the packed bands of Q2_K, Q3_K, Q5_K and Q6_K
 * (block_kq_x8, pack_x8.h): the packers, and mul_mat_packed over them with
 * AVX2 (8 rows per vector). kq_x8_avx512.c has the 16-row VNNI product.
 *
 * Why these types get a layout with one byte per code, unlike Q4_K's
 * nibbles (block_q4_kx8): their codes are split across bit planes (Q6_K's
 * low nibbles and 2-bit high parts, Q5_K's fifth bit, Q3_K's high-bit mask)
 * and the row-layout mul_mat rebuilds them for every band and K group
 * (kquant_avx2.h's driver, 78 GMAC/s on a Xeon against Q4_K's packed 130).
 * Packed once per band and batch, the product only loads codes: one load
 * per 4 codes of 8 rows, no shifts or masks.
 *
 * The arithmetic is that of the kq_unpacked tiles (kquant_kernels.h):
 * codes unsigned, the sub-block sums exact in integers (maddubs pairs into
 * int16, at most 2 * 2 * 63 * 128 = 32256 for two units of 6-bit codes,
 * then VPMADDWD with the row's scale into int32), the mins' term an exact
 * int32 sum, both scaled once per super-block in float.
 */
#include <string.h>

#include "kquant_avx2.h"
#include "pack_x8.h"

/* ----------------------------------------------------------------- packers */

/* Rows of a band one after the other (each row read as one stream), each
 * super-block unpacked with the type's unpacker and scattered into its
 * group's block: codes in 4-byte units, the scale of each 16-value
 * sub-block, the mins in pairs, the factors. An AVX2 8x8 transpose of the
 * codes of 8 unpacked rows measured no faster than these 4-byte stores
 * (20 against 19 us for a 64-row band of 2048 Q6_K columns on a Xeon, of
 * which 5 us is unpacking). */
static void kq_x8_pack(kq_unpack_fn unpack, size_t block_bytes, int64_t n, const void *w,
                       size_t w_stride, int64_t n_rows, void *dst) {
    block_kq_x8 *out = dst;
    const int64_t nb = n / QK_K;
    _Alignas(64) struct kq_unpacked u;
    for (int64_t r0 = 0; r0 < n_rows; r0 += PACK_ROWS)
        for (int r = 0; r < PACK_ROWS; r++)
            for (int64_t i = 0; i < nb; i++) {
                block_kq_x8 *o = out + r0 / PACK_ROWS * nb + i;
                unpack(quant_x8_src(w, w_stride, n_rows, r0, r, i, block_bytes), &u);
                for (int k = 0; k < QK_K / 4; k++) memcpy(o->qs[k][r], u.codes + 4 * k, 4);
                /* scales[k] holds sub-block 2k's scale in entries 0..7, 2k+1's in 8..15 */
                for (int j = 0; j < QK_K / 16; j++) o->sc[j][r] = (int8_t)u.scales[j / 2][8 * (j % 2)];
                for (int p = 0; p < QK_K / 32; p++) {
                    o->m[p][r][0] = u.mins[2 * p];
                    o->m[p][r][1] = u.mins[2 * p + 1];
                }
                o->d[r] = u.d;
                o->dmin[r] = u.dmin;
            }
}

#define KQ_X8_PACKER(t)                                                                           \
    void t##_x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst) {    \
        kq_x8_pack(t##_unpack_avx2, sizeof(block_##t), n, w, w_stride, n_rows, dst);              \
    }
KQ_X8_PACKER(q2_k)
KQ_X8_PACKER(q3_k)
KQ_X8_PACKER(q5_k)
KQ_X8_PACKER(q6_k)

/* ----------------------------------------------------------------- product */

enum { KQX8_COLS = 4 };

/* Lane r: row r's scale twice as int16, VPMADDWD's operand. */
static inline __m256i kqx8_scale_pairs(const int8_t *sc) {
    __m128i b = _mm_loadl_epi64((const __m128i *)sc);
    return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(b, b));
}

/* The 32-bit word of activation codes 4k..4k+3 at q, in every lane. */
static inline __m256i kqx8_bcast(const int8_t *q, int k) {
    int32_t v;
    memcpy(&v, q + 4 * k, sizeof v);
    return _mm256_set1_epi32(v);
}

/* 8 packed rows by C columns (Q8_K rows at xc) over blocks 0..nb-1; lane r
 * of acc[c] is (row r, column c). */
static inline __attribute__((always_inline)) void
kqx8_tile(int C, const block_kq_x8 *wp, int64_t nb, const uint8_t *const xc[KQX8_COLS],
          __m256 acc[KQX8_COLS]) {
    for (int64_t i = 0; i < nb; i++) {
        const block_kq_x8 *b = &wp[i];
        const block_q8_k *y[KQX8_COLS];
        __m256i isum[KQX8_COLS], msum[KQX8_COLS];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            y[c] = (const block_q8_k *)(const void *)xc[c] + i;
            isum[c] = msum[c] = _mm256_setzero_si256();
        }
#pragma GCC unroll 2
        for (int j = 0; j < QK_K / 16; j++) {
            const __m256i s = kqx8_scale_pairs(b->sc[j]);
            const __m256i v0 = _mm256_loadu_si256((const __m256i *)b->qs[4 * j]);
            const __m256i v1 = _mm256_loadu_si256((const __m256i *)b->qs[4 * j + 1]);
            const __m256i v2 = _mm256_loadu_si256((const __m256i *)b->qs[4 * j + 2]);
            const __m256i v3 = _mm256_loadu_si256((const __m256i *)b->qs[4 * j + 3]);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                const int8_t *q = y[c]->qs + 16 * j;
                __m256i t0 = _mm256_add_epi16(_mm256_maddubs_epi16(v0, kqx8_bcast(q, 0)),
                                              _mm256_maddubs_epi16(v1, kqx8_bcast(q, 1)));
                __m256i t1 = _mm256_add_epi16(_mm256_maddubs_epi16(v2, kqx8_bcast(q, 2)),
                                              _mm256_maddubs_epi16(v3, kqx8_bcast(q, 3)));
                isum[c] = _mm256_add_epi32(isum[c], _mm256_add_epi32(_mm256_madd_epi16(t0, s),
                                                                     _mm256_madd_epi16(t1, s)));
            }
        }
#pragma GCC unroll 8
        for (int p = 0; p < QK_K / 32; p++) {
            const __m256i mp = _mm256_loadu_si256((const __m256i *)b->m[p]);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                int32_t ys;
                memcpy(&ys, y[c]->bsums + 2 * p, sizeof ys);
                msum[c] = _mm256_add_epi32(msum[c], _mm256_madd_epi16(mp, _mm256_set1_epi32(ys)));
            }
        }
        const __m256 dw = _mm256_loadu_ps(b->d), mw = _mm256_loadu_ps(b->dmin);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const __m256 dx = _mm256_set1_ps(y[c]->d);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(dw, dx), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[c]), _mm256_mul_ps(mw, dx), acc[c]);
        }
    }
}

static inline __attribute__((always_inline)) void
kqx8_columns(int C, const block_kq_x8 *wp, int64_t nb, int n_rows, const void *x, size_t x_stride,
             int c0, float *out, size_t out_stride) {
    const uint8_t *xc[KQX8_COLS];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    for (int r0 = 0; r0 < n_rows; r0 += PACK_ROWS) {
        __m256 acc[KQX8_COLS];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();
        kqx8_tile(C, wp + (size_t)(r0 / PACK_ROWS) * (size_t)nb, nb, xc, acc);
        const int rows = n_rows - r0;
        const __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            float *o = out + (size_t)(c0 + c) * out_stride + (size_t)r0;
            if (rows >= PACK_ROWS) _mm256_storeu_ps(o, acc[c]);
            else _mm256_maskstore_ps(o, mask, acc[c]);
        }
    }
}

void kq_x8_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x,
                               size_t x_stride, int n_cols, float *out, size_t out_stride) {
    const int64_t nb = n / QK_K;
    const int main_cols = n_cols / KQX8_COLS * KQX8_COLS;
    for (int c0 = 0; c0 < main_cols; c0 += KQX8_COLS)
        kqx8_columns(KQX8_COLS, wp, nb, n_rows, x, x_stride, c0, out, out_stride);
    switch (n_cols - main_cols) {
    case 1: kqx8_columns(1, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 2: kqx8_columns(2, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    case 3: kqx8_columns(3, wp, nb, n_rows, x, x_stride, main_cols, out, out_stride); break;
    default: break;
    }
}
