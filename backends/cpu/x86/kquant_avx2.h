/*
 * kquant_avx2.h — private to backends/cpu/x86: the AVX2 pieces the K-quant
 * kernels (q2_k..q6_k, *_avx2.c and *_avx512.c) share, so that a type's
 * file holds only what is its own: how its codes and scales are stored.
 * Include only from files built with AVX2 (or AVX-512) flags.
 *
 * Sections: horizontal sums; scales of 16-value sub-blocks (Q2_K, Q3_K,
 * Q6_K); scales and mins of 32-value sub-blocks (Q4_K, Q5_K); mul_mat (the
 * per-type wrappers and the driver behind the tile kernels of q8_k_*.c).
 */
#ifndef EMBER_KQUANT_AVX2_H
#define EMBER_KQUANT_AVX2_H

#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "basic_kernels.h" /* basic_stream_prefetch */
#include "kquant_kernels.h"
#include "quant_impl.h"

/* ------------------------------------------------------ horizontal sums */

static inline float kq_hsum128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float kq_hsum256(__m256 v) {
    return kq_hsum128(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}

/* ------------------------- 16-value sub-blocks (Q2_K, Q3_K, Q6_K) */

/* Half h (0: values 0..127, 1: 128..255) of the 16 int16 scales in sc,
 * its 8 scales in both lanes. */
static inline __m256i kq_half_scales(__m256i sc, int h) {
    return _mm256_broadcastsi128_si256(h ? _mm256_extracti128_si256(sc, 1)
                                         : _mm256_castsi256_si128(sc));
}

/* Scales of chunk k (0..3) of a half whose 8 int16 scales fill both lanes
 * of bc: scale 2k across the low lane, 2k+1 across the high one. */
static inline __m256i kq_chunk_scales(__m256i bc, int k) {
    __m256i mask = _mm256_set_m128i(_mm_set1_epi16((short)((4 * k + 3) << 8 | (4 * k + 2))),
                                    _mm_set1_epi16((short)((4 * k + 1) << 8 | (4 * k))));
    return _mm256_shuffle_epi8(bc, mask);
}

/* sumi + chunk k of a half (32 unsigned codes against the 32 activation
 * codes at q8) weighted by its two scales: maddubs, then madd. */
static inline __m256i kq_chunk_dot(__m256i sumi, __m256i codes, const int8_t *q8, __m256i bc, int k) {
    __m256i p = _mm256_maddubs_epi16(codes, _mm256_loadu_si256((const __m256i *)q8));
    return _mm256_add_epi32(sumi, _mm256_madd_epi16(p, kq_chunk_scales(bc, k)));
}

/* Chunk k of half h into the unpacked form: its codes and scale vector. */
static inline void kq_store_chunk(struct kq_unpacked *u, int h, int k, __m256i codes, __m256i bc) {
    _mm256_store_si256((__m256i *)(u->codes + 128 * h + 32 * k), codes);
    _mm256_store_si256((__m256i *)u->scales[4 * h + k], kq_chunk_scales(bc, k));
}

/* -------------------------------- 32-value sub-blocks (Q4_K, Q5_K) */

/* The 12-byte scale field as 16 bytes: scales 0-7, then mins 0-7.
 * Scale/min j < 4 are the low 6 bits of bytes j / j+4; for j >= 4 the low
 * nibble comes from byte j+4 (scale low, min high nibble) and the top two
 * bits from bits 6-7 of bytes j-4 (scale) and j (min). Done on the four
 * 32-bit words u0..u2 at once: lanes [u0, u2, u1, u2>>4] masked, ORed with
 * the top bits of [-, u0, -, u1]. Reads 16 bytes: the caller's block
 * continues past the field. */
static inline __m128i kq_scales_mins(const uint8_t *p) {
    __m128i u = _mm_loadu_si128((const __m128i *)p);
    __m128i lo =
        _mm_srlv_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4));
    __m128i hi = _mm_srli_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)), 2);
    return _mm_or_si128(
        _mm_and_si128(lo, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
        _mm_and_si128(hi, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
}

/* kq_k_start (below) in two halves, for kernels that share one block's weight
 * work across several activation columns (mul_mat_exact): the weight's
 * half once per block, then the column's half per column, the same
 * instructions as kq_k_start's in the same order. */
struct kq_k_block {
    __m128i mins; /* the 8 mins as int16 */
    __m128 dw;    /* d, dmin, (f16 to f32) */
    __m256i sc;   /* the 8 scales as int16 in both lanes */
};

static inline struct kq_k_block kq_k_start_w(const uint8_t *scales, const uint16_t *dpair) {
    __m256i sm = _mm256_cvtepu8_epi16(kq_scales_mins(scales));
    uint32_t dp;
    memcpy(&dp, dpair, 4);
    /* both lanes hold the 8 scales as int16; shuffles broadcast one */
    return (struct kq_k_block){_mm256_extracti128_si256(sm, 1), _mm_cvtph_ps(_mm_cvtsi32_si128((int)dp)),
                               _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm))};
}

static inline void kq_k_start_x(const struct kq_k_block *k, const block_q8_k *b, __m128 *dd, __m128 *accm) {
    /* mins . (bsums[2j] + bsums[2j+1]) */
    __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)b->bsums),
                                   _mm_loadu_si128((const __m128i *)(b->bsums + 8)));
    __m128i msum = _mm_madd_epi16(k->mins, pairs);
    *dd = _mm_mul_ps(k->dw, _mm_set1_ps(b->d));
    *accm = _mm_fmadd_ps(_mm_permute_ps(*dd, 0x55), _mm_cvtepi32_ps(msum), *accm);
}

/* The per-super-block start of the Q4_K/Q5_K dots: the minimums' term
 * b.d*dmin * (mins . (bsums[2j] + bsums[2j+1])) added to *accm, *dd =
 * [b.d * d, b.d * dmin, ...] from the f16 pair d, dmin at dpair (both
 * halves at once); returns the 8 scales as int16 in both lanes. */
static inline __m256i kq_k_start(const uint8_t *scales, const uint16_t *dpair, const block_q8_k *b,
                                 __m128 *dd, __m128 *accm) {
    struct kq_k_block k = kq_k_start_w(scales, dpair);
    kq_k_start_x(&k, b, dd, accm);
    return k.sc;
}

/* The scales of sub-blocks 2c (*lo) and 2c+1 (*hi) across a vector, from
 * kq_k_start's result. */
static inline void kq_k_pair_scales(__m256i sc, int c, __m256i *lo, __m256i *hi) {
    *lo = _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((4 * c + 1) << 8 | 4 * c)));
    *hi = _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((4 * c + 3) << 8 | (4 * c + 2))));
}

/* sumi + sub-blocks 2c and 2c+1 (codes lo, hi against q8[64c..64c+63])
 * weighted by their scales s_lo, s_hi (kq_k_pair_scales): maddubs, madd,
 * add. */
static inline __m256i kq_k_pair_dot_s(__m256i sumi, __m256i s_lo, __m256i s_hi, int c, __m256i lo,
                                      __m256i hi, const int8_t *q8) {
    __m256i p0 = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c)));
    __m256i p1 = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 64 * c + 32)));
    return _mm256_add_epi32(sumi,
                            _mm256_add_epi32(_mm256_madd_epi16(p0, s_lo), _mm256_madd_epi16(p1, s_hi)));
}

/* kq_k_pair_dot_s with the scales taken from kq_k_start's sc. */
static inline __m256i kq_k_pair_dot(__m256i sumi, __m256i sc, int c, __m256i lo, __m256i hi,
                                    const int8_t *q8) {
    __m256i s_lo, s_hi;
    kq_k_pair_scales(sc, c, &s_lo, &s_hi);
    return kq_k_pair_dot_s(sumi, s_lo, s_hi, c, lo, hi, q8);
}

/* The unpacked form's scales (one per 32-value chunk across the vector)
 * and mins (each twice: one per 16 values) of a Q4_K/Q5_K block. */
static inline void kq_k_unpack_scales(const uint8_t *scales, struct kq_unpacked *u) {
    __m128i sm = kq_scales_mins(scales);
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, sm);
    /* a 32-value sub-block is one chunk: one scale across the vector */
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++)
        _mm256_store_si256((__m256i *)u->scales[k], _mm256_set1_epi16(t[k]));
    __m128i m16 = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
    _mm_store_si128((__m128i *)u->mins, _mm_unpacklo_epi16(m16, m16));
    _mm_store_si128((__m128i *)(u->mins + 8), _mm_unpackhi_epi16(m16, m16));
}

/* ---------------------------------------------------------------- mul_mat */

/* Tile geometry shared by the AVX2 and AVX-512 tile kernels: KQ_R weight
 * rows by up to KQ_CMAX activation columns (each ISA picks its own width),
 * over groups of KQ_G super-blocks. */
#define KQ_R 4
#define KQ_CMAX 4
#define KQ_G 8
#define KQ_BAND 16 /* ops.c hands out bands of 16 rows */
/* Fewer columns than this go to the dot kernel: unpacking a band costs
 * about as much as two dot products per row. */
#define KQ_MIN_COLS 3

/* res[r][c] = sum over ng super-blocks of dot(u[r][g], x[c][g]) for the
 * first nc columns: one ISA's tile kernel, nc made a constant inside. */
typedef void (*kq_tile_fn)(const struct kq_unpacked *const u[KQ_R], const block_q8_k *const x[],
                           int nc, int ng, float res[KQ_R][KQ_CMAX]);

/* The type_kernels.mul_mat contract on one ISA's tile kernel, `c` columns
 * wide (<= KQ_CMAX); `after`, if given, completes each unpacked block.
 *
 * Loop order: for each band of up to KQ_BAND rows and group of KQ_G
 * super-blocks, unpack the band once (KQ_BAND * KQ_G * 640 bytes, in L2),
 * then for each c-column strip run every KQ_R-row tile of the band, so the
 * strip's activations are read from memory once per band and then hit L1.
 * A last partial strip uses a narrower copy of the tile; a last partial row
 * tile repeats its last real row and drops the extra results. */
static inline __attribute__((always_inline)) void
kq_mul_mat_driver(kq_tile_fn tile, int c, void (*after)(struct kq_unpacked *u), kq_unpack_fn unpack,
                  kq_dot_fn dot, size_t block_bytes, int64_t n, const void *w, size_t w_stride,
                  int n_rows, const void *x, size_t x_stride, int n_cols, float *out,
                  size_t out_stride) {
    if (n_cols < KQ_MIN_COLS) {
        for (int r = 0; r < n_rows; r++)
            for (int j = 0; j < n_cols; j++)
                out[(size_t)j * out_stride + r] = dot((const uint8_t *)w + (size_t)r * w_stride,
                                                      (const uint8_t *)x + (size_t)j * x_stride, n);
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
                    if (after) after(ub);
                }
            }
            for (int c0 = 0; c0 < n_cols; c0 += c) {
                int nc = n_cols - c0 < c ? n_cols - c0 : c;
                const block_q8_k *xs[KQ_CMAX];
                for (int j = 0; j < nc; j++)
                    xs[j] =
                        (const block_q8_k *)((const uint8_t *)x + (size_t)(c0 + j) * x_stride) + g0;
                for (int r0 = 0; r0 < nb; r0 += KQ_R) {
                    int nr = nb - r0 < KQ_R ? nb - r0 : KQ_R;
                    const struct kq_unpacked *u[KQ_R];
                    for (int r = 0; r < KQ_R; r++) u[r] = buf[r0 + (r < nr ? r : nr - 1)];
                    float res[KQ_R][KQ_CMAX];
                    tile(u, xs, nc, ng, res);
                    for (int j = 0; j < nc; j++) {
                        float *o = out + (size_t)(c0 + j) * out_stride + b0 + r0;
                        for (int r = 0; r < nr; r++) o[r] = g0 ? o[r] + res[r][j] : res[r][j];
                    }
                }
            }
        }
    }
}

/* ------------------------------------------------------ mul_mat_exact */

/* The most columns one call of a mul_mat_exact row kernel takes: AVX2 has
 * 16 registers for the columns' accumulators and the shared weight
 * vectors, so it takes 4; AVX-512 has 32 and takes 8. */
#define KQ_EXACT_MAX 8

/* type_kernels.mul_mat_exact of K-quant t on `isa` from `row`, an
 * always-inline kernel computing row w against columns c0 .. c0 + C - 1
 * (C a constant 2..cmax, cmax <= KQ_EXACT_MAX) into out[(c0 + c) *
 * out_stride], the dot's instruction sequence per column, lane for lane;
 * a lone column is the dot itself. Rows go outermost: a row (under 8 KB
 * for the widest matrices) stays in L1 from one group of columns to the
 * next. */
#define KQ_MUL_MAT_EXACT(t, isa, dot, row, cmax)                                               \
    void t##_mul_mat_exact_##isa(int64_t n, const void *w, size_t w_stride, int n_rows,       \
                                 const void *x, size_t x_stride, int n_cols, float *out,     \
                                 size_t out_stride) {                                        \
        for (int r = 0; r < n_rows; r++) {                                                   \
            const void *wr = (const uint8_t *)w + (size_t)r * w_stride;                      \
            float *o = out + r;                                                              \
            int c0 = 0;                                                                      \
            for (; c0 + (cmax) <= n_cols; c0 += (cmax))                                      \
                row((cmax), n, wr, x, x_stride, c0, o, out_stride);                          \
            switch (n_cols - c0) { /* the cases of cmax and more never come */               \
            case 7: if ((cmax) > 7) row(7, n, wr, x, x_stride, c0, o, out_stride); break;    \
            case 6: if ((cmax) > 6) row(6, n, wr, x, x_stride, c0, o, out_stride); break;    \
            case 5: if ((cmax) > 5) row(5, n, wr, x, x_stride, c0, o, out_stride); break;    \
            case 4: if ((cmax) > 4) row(4, n, wr, x, x_stride, c0, o, out_stride); break;    \
            case 3: row(3, n, wr, x, x_stride, c0, o, out_stride); break;                    \
            case 2: row(2, n, wr, x, x_stride, c0, o, out_stride); break;                    \
            case 1:                                                                          \
                o[(size_t)c0 * out_stride] =                                                 \
                    dot(wr, (const uint8_t *)x + (size_t)c0 * x_stride, n);                  \
                break;                                                                       \
            default: break;                                                                  \
            }                                                                                \
        }                                                                                    \
    }

/* type_kernels.mul_mat of K-quant t with the tile kernel of `isa` (avx2 or
 * avx512, kquant_kernels.h) over t's AVX2 unpacker; `dot` serves batches
 * too narrow to repay unpacking. */
#define KQ_MUL_MAT(t, isa, dot)                                                                \
    void t##_mul_mat_##isa(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x, \
                           size_t x_stride, int n_cols, float *out, size_t out_stride) {       \
        kq_mul_mat_##isa(t##_unpack_avx2, dot, sizeof(block_##t), n, w, w_stride, n_rows, x,   \
                         x_stride, n_cols, out, out_stride);                                   \
    }

#endif
