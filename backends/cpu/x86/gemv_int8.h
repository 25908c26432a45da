/*
 * gemv_int8.h — private to backends/cpu/x86: decode (one activation column)
 * of the 32-wide int8 block types with OFFSET or SIGNED formats (Q4_0,
 * Q5_0, Q8_0) straight from the file's rows, for the AVX2 and the VNNI set.
 *
 * Why not the tiles of basic_kernels.h: those walk 4 rows side by side, 4
 * streams of a few KB each, and on one core of the Zen 4 this was measured
 * on they read a third to half of what a single stream reads; the hardware
 * prefetcher does not follow short interleaved streams. Here each thread
 * walks its rows one after the other, one sequential stream, prefetched
 * BASIC_STREAM_AHEAD bytes ahead, and the work per block is cut instead:
 *   - the activation is prepared once per call (a band of rows): its block
 *     scales as floats, its offset terms, and for Q4_0 (a `pair` function)
 *     its codes regrouped by pairs of blocks, so that one vector holds the
 *     low nibbles of two neighbouring weight blocks and one the high ones;
 *   - then one VPDPBUSD (or VPMADDUBSW pair on plain AVX2) per half gives a
 *     vector whose lanes 0-3 are block i's partial sums and 4-7 block
 *     i+1's, so one convert and one FMA serve two blocks (four, in 512-bit
 *     vectors, on the VNNI set); Q5_0 and Q8_0 go block by block;
 *   - the weight scales of 8 blocks are gathered in a general register and
 *     converted by one VCVTPH2PS, and an OFFSET type's -off*sum(y) enters
 *     as one float FMA per 8 blocks (dw times the prepared dx*-off*sum(y)).
 * Integer block sums are exact as everywhere (basic_kernels.h); the float
 * sums run over the blocks in order within a few accumulators, then a
 * horizontal sum.
 */
#ifndef EMBER_GEMV_INT8_H
#define EMBER_GEMV_INT8_H

#include "basic_kernels.h"

#ifdef __AVX2__

enum {
    GEMV_KC = 256 /* activation blocks prepared at a time (8192 values) */
};

/* The activation's chunk as gemv_row reads it. */
struct gemv_x {
    float d[GEMV_KC];
    int8_t lo[GEMV_KC / 2][32];   /* pair j: codes 0..15 of block 2j, then of 2j+1 */
    int8_t hi[GEMV_KC / 2][32];   /* the same for codes 16..31 */
    float off[GEMV_KC];           /* d * -off * sum(y) per block: the offset's term */
};

/* Block sums of y's codes (32 int8) by the multiply-add units. */
BASIC_INLINE int32_t gemv_code_sum(const uint8_t *qs) {
    __m256i p = _mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)qs));
    __m256i s = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(t);
}

/* Blocks b0 .. b0+nbk-1 of the activation x into g (pairs only for
 * OFFSET formats; an odd last block is paired with zeros). */
BASIC_INLINE void gemv_prep(const struct basic_int8_fmt f, const uint8_t *x, int64_t b0, int nbk,
                            struct gemv_x *g) {
    for (int i = 0; i < nbk; i++) g->d[i] = basic_f16(x + (size_t)(b0 + i) * f.x_bytes);
    if (f.kind != BASIC_OFFSET) return;
    for (int j = 0; f.pair && 2 * j < nbk; j++) {
        const uint8_t *y0 = x + (size_t)(b0 + 2 * j) * f.x_bytes + f.x_qs;
        const uint8_t *y1 = 2 * j + 1 < nbk ? y0 + f.x_bytes : NULL;
        __m128i z = _mm_setzero_si128();
        _mm256_storeu_si256((__m256i *)g->lo[j],
                            _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)y0),
                                              y1 ? _mm_loadu_si128((const __m128i *)y1) : z));
        _mm256_storeu_si256((__m256i *)g->hi[j],
                            _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(y0 + 16)),
                                              y1 ? _mm_loadu_si128((const __m128i *)(y1 + 16)) : z));
    }
    for (int i = 0; i < nbk; i++)
        g->off[i] = g->d[i] * (float)(-f.off * gemv_code_sum(x + (size_t)(b0 + i) * f.x_bytes + f.x_qs));
}

/* The weight scales of m (<= 8) blocks from w as 8 floats (lanes past m
 * are 0): 16-bit loads merged in two general registers, one conversion. */
BASIC_INLINE __m256 gemv_scales(const struct basic_int8_fmt f, const uint8_t *w, int m) {
    uint64_t lo = 0, hi = 0;
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) {
        uint16_t h = 0;
        if (k < m) memcpy(&h, w + (size_t)k * f.w_bytes, 2);
        if (k < 4) lo |= (uint64_t)h << (16 * k);
        else hi |= (uint64_t)h << (16 * (k - 4));
    }
    __m128i h = _mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)lo), _mm_cvtsi64_si128((long long)hi));
    return _mm256_cvtph_ps(h);
}

/* m (<= 8) floats from p, zeros after. */
BASIC_INLINE __m256 gemv_load(const float *p, int m) {
    if (m == 8) return _mm256_loadu_ps(p);
    float d[8] = {0};
    for (int k = 0; k < m && k < 8; k++) d[k] = p[k];
    return _mm256_loadu_ps(d);
}

/* Lanes 0-3 of the result: lane 2p of s; lanes 4-7: lane 2p+1. */
BASIC_INLINE __m256 gemv_pair_scale(__m256 s, int p) {
    const __m256i idx = _mm256_setr_epi32(2 * p, 2 * p, 2 * p, 2 * p, 2 * p + 1, 2 * p + 1,
                                          2 * p + 1, 2 * p + 1);
    return _mm256_permutevar8x32_ps(s, idx);
}

/* The int32 sums of codes times activations of a pair of OFFSET blocks
 * (the offset is not taken off): lanes 0-3 the first's, 4-7 the second's
 * (lo/hi: their codes regrouped as in struct gemv_x). */
BASIC_INLINE __m256i gemv_pair_sums(bool vnni, __m256i lo, __m256i hi, const int8_t *ylo,
                                    const int8_t *yhi) {
    const __m256i yl = _mm256_loadu_si256((const __m256i *)ylo);
    const __m256i yh = _mm256_loadu_si256((const __m256i *)yhi);
#ifdef __AVX512VNNI__
    if (vnni)
        return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, yl), hi, yh);
#endif
    (void)vnni;
    /* pair sums at most 2*31*127 each, two of them fit int16 */
    __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, yl), _mm256_maddubs_epi16(hi, yh));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* The int32 lane sums of one block's codes w against one activation
 * block: SIGNED codes by the sign trick; OFFSET ones as they are (their
 * offset is gemv_step's float term). */
BASIC_INLINE __m256i gemv_block_sums(const struct basic_int8_fmt f, bool vnni, __m256i w,
                                     const uint8_t *y) {
    __m256i u = w, s = _mm256_loadu_si256((const __m256i *)y);
    if (f.kind == BASIC_SIGNED) {
        u = _mm256_abs_epi8(w);
        s = _mm256_sign_epi8(s, w);
    }
#ifdef __AVX512VNNI__
    if (vnni) return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#endif
    (void)vnni;
    return basic_dot_u8s8_avx2(u, s);
}

/* Codes of two neighbouring blocks of an OFFSET type, regrouped by halves
 * (see struct gemv_x); b is NULL for an odd last block. */
typedef void (*gemv_pair_fn)(const uint8_t *a, const uint8_t *b, __m256i *lo, __m256i *hi);

/* Columns per pass of gemv_int8: every weight block is unpacked once for
 * up to this many activation columns (a small batch). */
#define GEMV_COLS 4
/* mul_mat runs gemv_int8 for fewer columns than this; wider batches are
 * packed by ops.c (Q4_0, Q8_0) or go through the panel GEMM. */
#define GEMV_MAX_COLS 8

/* Accumulators per column for C columns: 4 chains for one, fewer when
 * more columns share the registers. */
#define GEMV_ACCS(C) ((C) == 1 ? 4 : (C) == 2 ? 2 : 1)

/* Blocks i .. i+m-1 (m <= 8) of one row (w at block i) against C columns'
 * prepared chunks g (x[c]: column c's chunk as stored), added to acc. */
BASIC_INLINE void gemv_step(const struct basic_int8_fmt f, bool vnni, gemv_pair_fn pair, int C,
                            const uint8_t *wb, const uint8_t *const x[GEMV_COLS], int i, int m,
                            const struct gemv_x *g, __m256 acc[GEMV_COLS][4]) {
    const int na = GEMV_ACCS(C);
    const __m256 dw = gemv_scales(f, wb, m);
    __m256 sc[GEMV_COLS];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) sc[c] = _mm256_mul_ps(dw, gemv_load(g[c].d + i, m));
    if (!pair) { /* block by block */
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            if (k >= m) break;
            const __m256i codes = f.codes(wb + (size_t)k * f.w_bytes);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                __m256i s = gemv_block_sums(f, vnni, codes, x[c] + (size_t)(i + k) * f.x_bytes + f.x_qs);
                __m256 d = _mm256_permutevar8x32_ps(sc[c], _mm256_set1_epi32(k));
                acc[c][k % na] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[c][k % na]);
            }
        }
    }
#pragma GCC unroll 4
    for (int p = 0; p < 4 && pair; p++) {
        if (2 * p >= m) break;
        const uint8_t *a = wb + (size_t)(2 * p) * f.w_bytes;
        __m256i lo, hi;
        pair(a, 2 * p + 1 < m ? a + f.w_bytes : NULL, &lo, &hi);
        const int j = (i >> 1) + p;
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            __m256i s = gemv_pair_sums(vnni, lo, hi, g[c].lo[j], g[c].hi[j]);
            acc[c][p % na] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), gemv_pair_scale(sc[c], p),
                                             acc[c][p % na]);
        }
    }
    /* the offsets of the 8 blocks at once: dw * (dx * -off * sum(y)) */
    if (f.kind != BASIC_OFFSET) return;
#pragma GCC unroll 4
    for (int c = 0; c < C; c++)
        acc[c][0] = _mm256_fmadd_ps(dw, gemv_load(g[c].off + i, m), acc[c][0]);
}

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
/* gemv_step for 8 blocks of a type with a pair function, with 512-bit
 * vectors: two pairs of pairs, each one vector of low and one of high
 * codes of 4 blocks, one VPDPBUSD each, one convert and one FMA per 4
 * blocks and column (the activation's pairs 2j and 2j+1 lie side by side
 * in struct gemv_x: one 64-byte load). */
BASIC_INLINE void gemv_step_zmm(const struct basic_int8_fmt f, gemv_pair_fn pair, int C,
                                const uint8_t *wb, int i, const struct gemv_x *g,
                                __m256 acc[GEMV_COLS][4], __m512 accz[GEMV_COLS][2]) {
    const __m256 dw = gemv_scales(f, wb, 8);
    __m512 sc[GEMV_COLS];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++)
        sc[c] = _mm512_castps256_ps512(_mm256_mul_ps(dw, _mm256_loadu_ps(g[c].d + i)));
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const uint8_t *a = wb + (size_t)(4 * h) * f.w_bytes;
        __m256i l0, h0, l1, h1;
        pair(a, a + f.w_bytes, &l0, &h0);
        pair(a + 2 * f.w_bytes, a + 3 * f.w_bytes, &l1, &h1);
        const __m512i lo = _mm512_inserti64x4(_mm512_castsi256_si512(l0), l1, 1);
        const __m512i hi = _mm512_inserti64x4(_mm512_castsi256_si512(h0), h1, 1);
        const int j = (i >> 1) + 2 * h;
        const __m512i idx = _mm512_setr_epi32(4 * h, 4 * h, 4 * h, 4 * h, 4 * h + 1, 4 * h + 1,
                                              4 * h + 1, 4 * h + 1, 4 * h + 2, 4 * h + 2, 4 * h + 2,
                                              4 * h + 2, 4 * h + 3, 4 * h + 3, 4 * h + 3, 4 * h + 3);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            __m512i t = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(g[c].lo[j]));
            t = _mm512_dpbusd_epi32(t, hi, _mm512_loadu_si512(g[c].hi[j]));
            accz[c][h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_permutexvar_ps(idx, sc[c]),
                                         accz[c][h]);
        }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; c++)
        acc[c][0] = _mm256_fmadd_ps(dw, _mm256_loadu_ps(g[c].off + i), acc[c][0]);
}
#endif

/* Blocks [0, nbk) of one row (at w) for C columns: steps of 8 blocks (m
 * constant, so the step unrolls whole), then the rest. */
BASIC_INLINE void gemv_row(const struct basic_int8_fmt f, bool vnni, gemv_pair_fn pair, int C,
                           const uint8_t *w, const uint8_t *const x[GEMV_COLS], int nbk,
                           const struct gemv_x *g, __m256 acc[GEMV_COLS][4]) {
    int i = 0;
#if defined(__AVX512F__) && defined(__AVX512VNNI__)
    if (vnni && pair) {
        __m512 accz[GEMV_COLS][2];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) accz[c][0] = accz[c][1] = _mm512_setzero_ps();
        for (; i + 8 <= nbk; i += 8) {
            const uint8_t *wb = w + (size_t)i * f.w_bytes;
            basic_stream_prefetch(wb, 8 * f.w_bytes);
            gemv_step_zmm(f, pair, C, wb, i, g, acc, accz);
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const __m512 z = _mm512_add_ps(accz[c][0], accz[c][1]);
            const __m256 zh = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(z), 1));
            acc[c][0] = _mm256_add_ps(acc[c][0], _mm256_add_ps(_mm512_castps512_ps256(z), zh));
        }
    }
#endif
    for (; i + 8 <= nbk; i += 8) {
        const uint8_t *wb = w + (size_t)i * f.w_bytes;
        basic_stream_prefetch(wb, 8 * f.w_bytes);
        gemv_step(f, vnni, pair, C, wb, x, i, 8, g, acc);
    }
    if (i < nbk) gemv_step(f, vnni, pair, C, w + (size_t)i * f.w_bytes, x, i, nbk - i, g, acc);
}

/* Whether gemv_int8 runs format f. */
BASIC_INLINE bool gemv_int8_fits(const struct basic_int8_fmt f) {
    return f.kind == BASIC_SIGNED || f.kind == BASIC_OFFSET;
}

/* Columns c0 .. c0+C-1 of type_kernels.mul_mat: every row in turn over
 * chunks of GEMV_KC blocks (one chunk for rows up to 8192 values). */
BASIC_INLINE void gemv_cols(const struct basic_int8_fmt f, bool vnni, gemv_pair_fn pair, int C,
                            int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                            size_t x_stride, float *out, size_t out_stride) {
    const int64_t nb = n / 32;
    struct gemv_x g[GEMV_COLS]; /* 54 KB: thread stacks are megabytes */
    for (int64_t b0 = 0; b0 < nb; b0 += GEMV_KC) {
        const int nbk = nb - b0 < GEMV_KC ? (int)(nb - b0) : GEMV_KC;
        const uint8_t *xb[GEMV_COLS];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            const uint8_t *xc = (const uint8_t *)x + (size_t)c * x_stride;
            gemv_prep(f, xc, b0, nbk, &g[c]);
            xb[c] = xc + (size_t)b0 * f.x_bytes;
        }
        for (int r = 0; r < n_rows; r++) {
            const uint8_t *wr = (const uint8_t *)w + (size_t)r * w_stride + (size_t)b0 * f.w_bytes;
            __m256 acc[GEMV_COLS][4];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                acc[c][0] = acc[c][1] = acc[c][2] = acc[c][3] = _mm256_setzero_ps();
            gemv_row(f, vnni, pair, C, wr, xb, nbk, g, acc);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                float s = basic_hsum256(_mm256_add_ps(_mm256_add_ps(acc[c][0], acc[c][1]),
                                                      _mm256_add_ps(acc[c][2], acc[c][3])));
                float *o = out + (size_t)c * out_stride + r;
                *o = b0 ? *o + s : s;
            }
        }
    }
}

/* type_kernels.mul_mat for a few columns (a token, a small batch): passes
 * of up to GEMV_COLS columns, each streaming the rows once. */
BASIC_INLINE void gemv_int8(const struct basic_int8_fmt f, bool vnni, gemv_pair_fn pair, int64_t n,
                            const void *w, size_t w_stride, int n_rows, const void *x,
                            size_t x_stride, int n_cols, float *out, size_t out_stride) {
    for (int c0 = 0; c0 < n_cols; c0 += GEMV_COLS) {
        const uint8_t *xc = (const uint8_t *)x + (size_t)c0 * x_stride;
        float *oc = out + (size_t)c0 * out_stride;
#define GEMV_RUN(C) gemv_cols(f, vnni, pair, C, n, w, w_stride, n_rows, xc, x_stride, oc, out_stride)
        switch (n_cols - c0 < GEMV_COLS ? n_cols - c0 : GEMV_COLS) {
        case 1: GEMV_RUN(1); break;
        case 2: GEMV_RUN(2); break;
        case 3: GEMV_RUN(3); break;
        default: GEMV_RUN(4); break;
        }
#undef GEMV_RUN
    }
}

/* gemv_pair_fn of the 4-bit nibble layout (Q4_0's qs at byte offset o of
 * a block): the two blocks' 16 bytes side by side, low nibbles, high
 * nibbles. */
BASIC_INLINE void gemv_nibble_pair(const uint8_t *a, const uint8_t *b, size_t o, __m256i *lo,
                                   __m256i *hi) {
    const __m128i qa = _mm_loadu_si128((const __m128i *)(a + o));
    const __m128i qb = b ? _mm_loadu_si128((const __m128i *)(b + o)) : _mm_setzero_si128();
    const __m256i v = _mm256_setr_m128i(qa, qb), m4 = _mm256_set1_epi8(0x0f);
    *lo = _mm256_and_si256(v, m4);
    *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
}

#endif /* __AVX2__ */
#endif
