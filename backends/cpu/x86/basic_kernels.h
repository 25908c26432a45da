/*
 * basic_kernels.h — private to backends/cpu/x86: the AVX2 and AVX-512 kernels of
 * the basic types (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) and of the
 * activation quantizers, plus the helpers and skeletons they share: one
 * float skeleton (F32/F16/BF16 through a load-and-widen function) and, for
 * the 32-wide int8 block types, an AVX2 and a VNNI skeleton specialised by
 * a constant format description.
 *
 * Sections: prototypes; AVX2 helpers (incl. the Q8 block quantizer); float
 * formats; int8 block formats; AVX2 int8 skeletons; AVX-512 VNNI skeletons.
 *
 * Only the prototypes are plain C. The rest uses intrinsics and sits under
 * the macro of the instruction set it needs, so that install_basic.c (built
 * without ISA flags) can include this header for the prototypes: the
 * Makefile decides which ISA a file is built for, and these guards only
 * follow that decision.
 *
 * Integer dot products of the 32-wide blocks: every weight code is turned
 * into one byte in element order (unsigned 0..15 or 0..31 for Q4/Q5, signed
 * for Q8_0), multiplied with the activation's int8 codes and summed exactly
 * in int32 lanes; only the per-block float scaling and the accumulation
 * order differ from the `_ref` kernels. Offsets (the -8 of Q4_0, -16 of
 * Q5_0, +128 of Q8_0's unsigned trick) are subtracted as integer sums of
 * the other operand, so no code is ever saturated: activations come from
 * the Q8 quantizers and lie in [-127, 127].
 */
#ifndef EMBER_BASIC_KERNELS_H
#define EMBER_BASIC_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pack_x8.h"

/* -------------------------------------------------------------- prototypes */

#define BASIC_MUL_MAT_DECLARE(t, isa)                                                \
    void t##_mul_mat_##isa(int64_t n, const void *w, size_t w_stride, int n_rows,    \
                           const void *x, size_t x_stride, int n_cols, float *out,   \
                           size_t out_stride)
#define BASIC_DOT_DECLARE(t, isa) float t##_dot_##isa(const void *w, const void *x, int64_t n)
#define BASIC_QUANTIZE_DECLARE(t, isa) void t##_quantize_##isa(const float *src, void *dst, int64_t n)
#define BASIC_DEQUANT_DECLARE(t, isa) void t##_dequant_##isa(const void *src, float *dst, int64_t n)

BASIC_DOT_DECLARE(f32, avx2);
BASIC_MUL_MAT_DECLARE(f32, avx2);
BASIC_DOT_DECLARE(f16, avx2);
BASIC_MUL_MAT_DECLARE(f16, avx2);
BASIC_QUANTIZE_DECLARE(f16, avx2);
BASIC_DEQUANT_DECLARE(f16, avx2);
BASIC_DOT_DECLARE(bf16, avx2);
BASIC_MUL_MAT_DECLARE(bf16, avx2);
BASIC_QUANTIZE_DECLARE(bf16, avx2);
BASIC_DEQUANT_DECLARE(bf16, avx2);
BASIC_DOT_DECLARE(q4_0, avx2);
BASIC_MUL_MAT_DECLARE(q4_0, avx2);
void q4_0_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                              int n_cols, float *out, size_t out_stride);
void q4_0_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                size_t x_stride, int n_cols, float *out, size_t out_stride);
BASIC_DOT_DECLARE(q4_1, avx2);
BASIC_MUL_MAT_DECLARE(q4_1, avx2);
BASIC_DOT_DECLARE(q5_0, avx2);
BASIC_MUL_MAT_DECLARE(q5_0, avx2);
BASIC_DOT_DECLARE(q5_1, avx2);
BASIC_MUL_MAT_DECLARE(q5_1, avx2);
BASIC_DOT_DECLARE(q8_0, avx2);
BASIC_MUL_MAT_DECLARE(q8_0, avx2);
void q8_0_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                              int n_cols, float *out, size_t out_stride);
void q8_0_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                size_t x_stride, int n_cols, float *out, size_t out_stride);
BASIC_QUANTIZE_DECLARE(q8_0, avx2);
BASIC_DEQUANT_DECLARE(q8_0, avx2);
BASIC_QUANTIZE_DECLARE(q8_1, avx2);

BASIC_MUL_MAT_DECLARE(f32, avx512);
BASIC_MUL_MAT_DECLARE(f16, avx512);
BASIC_DOT_DECLARE(bf16, avx512bf16);
BASIC_MUL_MAT_DECLARE(bf16, avx512bf16);
BASIC_DOT_DECLARE(q4_0, avx512);
BASIC_MUL_MAT_DECLARE(q4_0, avx512);
BASIC_DOT_DECLARE(q4_1, avx512);
BASIC_MUL_MAT_DECLARE(q4_1, avx512);
BASIC_DOT_DECLARE(q5_0, avx512);
BASIC_MUL_MAT_DECLARE(q5_0, avx512);
BASIC_DOT_DECLARE(q5_1, avx512);
BASIC_MUL_MAT_DECLARE(q5_1, avx512);
BASIC_DOT_DECLARE(q8_0, avx512);
BASIC_MUL_MAT_DECLARE(q8_0, avx512);

#ifdef __AVX2__
#include <immintrin.h>

/* A kernel skeleton and the per-type helpers it is given must become one
 * function, or the helper calls would cost more than the work they do. */
#define BASIC_INLINE static inline __attribute__((always_inline))



/* ---------------------------------------------------------- AVX2 helpers */

BASIC_INLINE float basic_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Prefetch the n bytes at address a into L1. Decode streams the weights
 * once; one core's hardware prefetcher alone left a third of the read
 * bandwidth unused here (tg +10-15% on a 1.1B Q4_0 model, 2-core Zen 3).
 * Non-temporal: the lines are used once, a few KB later, so they need not
 * displace anything in L2/L3 (on a Zen-1-class EPYC, whose L3 takes every
 * line L2 evicts, tg of that model went +3-4% at -t 2 over _MM_HINT_T0).
 * An address, not a pointer: it may lie past the end of the weights
 * (prefetches never fault). */
BASIC_INLINE void basic_prefetch(uintptr_t a, size_t n) {
    for (size_t o = 0; o < n; o += 64) _mm_prefetch((const char *)(a + o), _MM_HINT_NTA);
}

/* How far ahead a decode kernel reading its rows as one stream prefetches:
 * a single-stream Q4_0 decode on a Zen 4 core read 13 GB/s from memory with
 * the hardware prefetcher alone, 14 with 512 bytes ahead, 19-20 with 2-8
 * KB (4 KB, _MM_HINT_T0 and NTA alike, read 20 GB/s). */
#define BASIC_STREAM_AHEAD 4096

/* Prefetch, BASIC_STREAM_AHEAD bytes ahead, the n bytes a decode kernel is
 * about to read at p (the same lines further on in its stream). */
BASIC_INLINE void basic_stream_prefetch(const void *p, size_t n) {
    const char *a = (const char *)p + BASIC_STREAM_AHEAD;
    for (size_t o = 0; o < n; o += 64) _mm_prefetch(a + o, _MM_HINT_T0);
}

/* The f16 at p (possibly unaligned) as a float, by F16C. */
BASIC_INLINE float basic_f16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return _cvtsh_ss(h);
}

/* Q8_1's s = d * sum(codes) of the block at p (f16 d at 0, int16 sum at
 * 2), exact in float as in quant_q8_1_s. */
BASIC_INLINE float basic_q8_1_s(const uint8_t *p) {
    int16_t sum;
    memcpy(&sum, p + 2, sizeof sum);
    return basic_f16(p) * (float)sum;
}

/* Four f16 values, one from each pointer, as floats. */
BASIC_INLINE __m128 basic_f16x4(const uint8_t *p0, const uint8_t *p1, const uint8_t *p2,
                                const uint8_t *p3) {
    uint16_t h[4];
    memcpy(&h[0], p0, 2);
    memcpy(&h[1], p1, 2);
    memcpy(&h[2], p2, 2);
    memcpy(&h[3], p3, 2);
    __m128i v = _mm_loadl_epi64((const __m128i *)h);
    return _mm_cvtph_ps(v);
}

/* 16 packed nibbles (element j low, j+16 high) as 32 bytes 0..15: the 16
 * bytes in both halves (one broadcast load), the upper half shifted by 4
 * (a 32-bit shift moves the next byte's low bits into bits 4..7, which the
 * mask drops), then the low nibble of every byte. */
BASIC_INLINE __m256i basic_nibbles(const uint8_t *qs) {
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi32(v, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* Bit j of the little-endian 32-bit mask at qh as byte j: 0x10 or 0. */
BASIC_INLINE __m256i basic_fifth_bits_avx2(const uint8_t *qh) {
    uint32_t bits;
    memcpy(&bits, qh, sizeof bits);
    /* byte j of each lane picks the mask byte that holds bit j */
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* One Q8 block of 32 floats exactly as q8_0_quantize_ref computes it: d =
 * absmax/127 (returned unrounded), codes roundf(x * (1/d)) into qs, and
 * their sum (for Q8_1's s). roundf is truncation plus one away from zero
 * when the dropped fraction (exact: |v| < 2^23 here) is at least 1/2; the
 * multiply is the same single rounding the scalar code does. Inputs must be
 * finite, as for the reference (its int8 cast of a NaN is undefined). */
BASIC_INLINE float basic_q8_block_avx2(const float *src, int8_t *qs, int *sum) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(src + 8 * k);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float d = _mm_cvtss_f32(m) / 127;
    const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    __m256i q[4];
    for (int k = 0; k < 4; k++) {
        __m256 x = _mm256_mul_ps(v[k], id);
        __m256 t = _mm256_round_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 up = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(x, t)), half, _CMP_GE_OQ);
        /* +-1 with the sign of x where the fraction reaches 1/2 */
        t = _mm256_add_ps(t, _mm256_and_ps(up, _mm256_or_ps(one, _mm256_and_ps(sign, x))));
        q[k] = _mm256_cvtps_epi32(t);
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(1, 0, 3, 2)));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
    *sum = _mm_cvtsi128_si32(s4);
    /* packs interleave 128-bit lanes; the permute puts the codes back in order */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)qs, p);
    return d;
}

/* ------------------------------------------------- register tiles */

/* The tiles below hold at most 4 x 4 accumulators: acc[row][column]. */
enum { BASIC_TILE_MAX = 4 };

/* Pointers to rows i0 .. i0+count-1 of the matrix at base (rows stride
 * bytes apart) for one tile. A partial tile at the edge repeats the last
 * real row (n - 1), so it computes on real data; basic_tile_store stores
 * only the real outputs. */
BASIC_INLINE void basic_tile_rows(const uint8_t **p, const void *base, size_t stride, int i0,
                                  int count, int n) {
#pragma GCC unroll 4
    for (int i = 0; i < count; i++)
        p[i] = (const uint8_t *)base + (size_t)(i0 + i < n ? i0 + i : n - 1) * stride;
}

BASIC_INLINE void basic_tile_zero(__m256 acc[][BASIC_TILE_MAX], int R, int C) {
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
}

/* out[(c0 + c) * out_stride + r0 + r] = the lane sum of acc[r][c] (plus
 * lane c of ms[r] where ms is given), for the real rows and columns of an
 * R x C tile at (r0, c0). */
BASIC_INLINE void basic_tile_store(float *out, size_t out_stride, int r0, int c0, int R, int C,
                                   int n_rows, int n_cols, __m256 acc[][BASIC_TILE_MAX],
                                   const __m128 *ms) {
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float m[4];
        if (ms) _mm_storeu_ps(m, ms[r]);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            if (r0 + r < n_rows && c0 + c < n_cols)
                out[(size_t)(c0 + c) * out_stride + (size_t)(r0 + r)] =
                    ms ? basic_hsum256(acc[r][c]) + m[c] : basic_hsum256(acc[r][c]);
    }
}

/* ------------------------------------------------ float formats (AVX2) */

/* Eight consecutive values of a float format (F32, F16 or BF16) as floats. */
typedef __m256 (*basic_load8_fn)(const uint8_t *p);

/* The first m (< 8) values at p, zeros after: copied into a padded buffer
 * so the loads never reach past the row. */
BASIC_INLINE __m256 basic_load_tail(basic_load8_fn load, size_t elem_bytes, const uint8_t *p,
                                    int m) {
    uint8_t buf[32] = {0};
    memcpy(buf, p, (size_t)m * elem_bytes);
    return load(buf);
}

/* type_kernels.dot for float formats: four accumulators of 8 lanes (the FMA
 * latency times its throughput), the tail of n % 8 zero-padded. Products
 * of F16 or BF16 values are exact in float, so FMA changes nothing there;
 * the sum is float, not the reference's double, hence the test's bound. */
BASIC_INLINE float basic_float_dot_avx2(basic_load8_fn load, size_t elem_bytes, const void *w,
                                        const void *x, int64_t n) {
    const uint8_t *a = w, *b = x;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t k = 0;
    for (; k + 32 <= n; k += 32)
        for (int u = 0; u < 4; u++)
            acc[u] = _mm256_fmadd_ps(load(a + (size_t)(k + 8 * u) * elem_bytes),
                                     load(b + (size_t)(k + 8 * u) * elem_bytes), acc[u]);
    for (; k + 8 <= n; k += 8)
        acc[0] = _mm256_fmadd_ps(load(a + (size_t)k * elem_bytes), load(b + (size_t)k * elem_bytes),
                                 acc[0]);
    if (k < n)
        acc[1] = _mm256_fmadd_ps(basic_load_tail(load, elem_bytes, a + (size_t)k * elem_bytes, (int)(n - k)),
                                 basic_load_tail(load, elem_bytes, b + (size_t)k * elem_bytes, (int)(n - k)),
                                 acc[1]);
    return basic_hsum256(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

/* type_kernels.mul_mat for float formats in R x C register tiles (R, C <= 4):
 * per 8 values, R + C conversions feed R * C FMAs. Edges as in the int8
 * skeleton: clamped pointers, only real outputs stored. */
BASIC_INLINE void basic_float_mul_mat_avx2(basic_load8_fn load, size_t elem_bytes, int R, int C,
                                           int64_t n, const void *w, size_t w_stride, int n_rows,
                                           const void *x, size_t x_stride, int n_cols, float *out,
                                           size_t out_stride) {
    enum { RMAX = BASIC_TILE_MAX, CMAX = BASIC_TILE_MAX };
    for (int r0 = 0; r0 < n_rows; r0 += R) {
        const uint8_t *wr[RMAX];
        basic_tile_rows(wr, w, w_stride, r0, R, n_rows);
        for (int c0 = 0; c0 < n_cols; c0 += C) {
            const uint8_t *xc[CMAX];
            basic_tile_rows(xc, x, x_stride, c0, C, n_cols);
            __m256 acc[RMAX][CMAX];
            basic_tile_zero(acc, R, C);
            int64_t k = 0;
            for (; k + 8 <= n; k += 8) {
                const size_t o = (size_t)k * elem_bytes;
                __m256 wv[RMAX];
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) wv[r] = load(wr[r] + o);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    __m256 xv = load(xc[c] + o);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
                }
            }
            if (k < n) {
                const size_t o = (size_t)k * elem_bytes;
                __m256 wv[RMAX];
                for (int r = 0; r < R; r++)
                    wv[r] = basic_load_tail(load, elem_bytes, wr[r] + o, (int)(n - k));
                for (int c = 0; c < C; c++) {
                    __m256 xv = basic_load_tail(load, elem_bytes, xc[c] + o, (int)(n - k));
                    for (int r = 0; r < R; r++) acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
                }
            }
            basic_tile_store(out, out_stride, r0, c0, R, C, n_rows, n_cols, acc, NULL);
        }
    }
}

/* type_kernels.dot of float format t from its t##_load8 (values elem_bytes
 * wide), and type_kernels.mul_mat on ISA set isa in rows x cols tiles: the
 * whole of each kernel is the skeleton above (f32_avx2.c, ...). */
#define BASIC_FLOAT_DOT_AVX2(t, elem_bytes)                                                    \
    float t##_dot_avx2(const void *w, const void *x, int64_t n) {                              \
        return basic_float_dot_avx2(t##_load8, elem_bytes, w, x, n);                           \
    }
#define BASIC_FLOAT_MUL_MAT(t, isa, elem_bytes, rows, cols)                                    \
    BASIC_MUL_MAT_DECLARE(t, isa) {                                                            \
        basic_float_mul_mat_avx2(t##_load8, elem_bytes, rows, cols, n, w, w_stride, n_rows, x, \
                                 x_stride, n_cols, out, out_stride);                           \
    }

/* ---------------------------------------------------- int8 block formats */

/* How a 32-wide weight type meets its Q8 partner:
 *   OFFSET: unsigned codes c, value d*(c - off); the block sum is
 *           sum(c*y) - off*sum(y) (Q4_0 off 8, Q5_0 off 16, partner Q8_0).
 *   AFFINE: unsigned codes c, value d*c + m; sum is d*dy*sum(c*y) + m*s,
 *           s = dy*sum(y) from Q8_1's integer sum, exact (Q4_1, Q5_1).
 *   SIGNED: signed codes (Q8_0 against Q8_0).
 * The skeletons take the format as a constant and are specialised for it. */
enum basic_int8_kind { BASIC_OFFSET, BASIC_AFFINE, BASIC_SIGNED };

struct basic_int8_fmt {
    enum basic_int8_kind kind;
    int off;          /* OFFSET only */
    int code_max;     /* largest unsigned code: 15 or 31 (not SIGNED) */
    bool flip;        /* panel_avx2.h: codes + 128 (xor 0x80), as OFFSET */
    size_t w_bytes;   /* weight block bytes; d at 0, m at 2 (AFFINE) */
    size_t x_bytes;   /* activation block bytes; d at 0, int16 sum at 2 (Q8_1) */
    size_t x_qs;      /* offset of the activation's 32 codes */
    /* the block's 32 codes, one byte each, element order */
    __m256i (*codes)(const uint8_t *block);
    /* OFFSET types with a decode kernel (gemv_int8.h): the codes of two
     * neighbouring blocks a, b (NULL: none) regrouped by halves */
    void (*pair)(const uint8_t *a, const uint8_t *b, __m256i *lo, __m256i *hi);
};

/* A format as one line: kind, offset (OFFSET only, else 0), largest code
 * (0 for SIGNED), the weight and activation block types, the codes. Each
 * type's kernel files (q4_0_avx2.c, ...) state theirs this way. */
#define BASIC_INT8_FMT_PAIRED(kind_, off_, code_max_, w_block, x_block, codes_, pair_)        \
    {                                                                                          \
        .kind = (kind_), .off = (off_), .code_max = (code_max_), .w_bytes = sizeof(w_block),   \
        .x_bytes = sizeof(x_block), .x_qs = offsetof(x_block, qs), .codes = (codes_),          \
        .pair = (pair_),                                                                       \
    }
#define BASIC_INT8_FMT(kind_, off_, code_max_, w_block, x_block, codes_)                       \
    BASIC_INT8_FMT_PAIRED(kind_, off_, code_max_, w_block, x_block, codes_, NULL)

/* basic_q8_1_s of four Q8_1 blocks, one per pointer. */
BASIC_INLINE __m128 basic_q8_1_s4(const uint8_t *p0, const uint8_t *p1, const uint8_t *p2,
                                  const uint8_t *p3) {
    return _mm_setr_ps(basic_q8_1_s(p0), basic_q8_1_s(p1), basic_q8_1_s(p2), basic_q8_1_s(p3));
}

/* The tile's block scales: dd[c][r] = d(row r) * d(column c) for the
 * block at byte offsets wo (weights) and xo (activations), 4 rows by up to
 * 4 columns (unused entries repeat row or column 0). The empty asm makes
 * the table live in memory, so each use below is a broadcast load (or an
 * FMA's embedded broadcast) instead of the shuffles the compiler would
 * otherwise use to pick lanes out of registers. */
BASIC_INLINE void basic_scales(float dd[4][4], const uint8_t *const *wr, int R,
                               const uint8_t *const *xc, int C, size_t wo, size_t xo) {
    const __m128 dw = basic_f16x4(wr[0] + wo, wr[R > 1 ? 1 : 0] + wo, wr[R > 2 ? 2 : 0] + wo,
                                  wr[R > 3 ? 3 : 0] + wo);
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) _mm_storeu_ps(dd[c], _mm_mul_ps(dw, _mm_set1_ps(basic_f16(xc[c] + xo))));
    __asm__("" : "+m"(*(float(*)[16])dd));
}

/* ------------------------------------------------ AVX2 int8 skeletons */

/* sum of adjacent u8*s8 pairs (int16, exact here), then of int16 pairs */
BASIC_INLINE __m256i basic_dot_u8s8_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* The exact int32 lane sums of one weight block against one activation
 * block, for AVX2. `codes` is the weight block's bytes and, for SIGNED, its
 * absolute values are passed separately so a tile computes them once. */
BASIC_INLINE __m256i basic_block_avx2(const struct basic_int8_fmt f, __m256i codes,
                                      __m256i abs_codes, __m256i y) {
    if (f.kind == BASIC_SIGNED)
        return basic_dot_u8s8_avx2(abs_codes, _mm256_sign_epi8(y, codes));
    __m256i p = _mm256_maddubs_epi16(codes, y);
    if (f.kind == BASIC_OFFSET)
        p = _mm256_sub_epi16(p, _mm256_maddubs_epi16(_mm256_set1_epi8((char)f.off), y));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* The exact int32 lane sums of weight block a against activation block b. */
BASIC_INLINE __m256i basic_isum_avx2(const struct basic_int8_fmt f, const uint8_t *a,
                                     const uint8_t *b) {
    __m256i c = f.codes(a);
    __m256i y = _mm256_loadu_si256((const __m256i *)(b + f.x_qs));
    return basic_block_avx2(f, c, _mm256_abs_epi8(c), y);
}

typedef __m256i (*basic_isum_fn)(const struct basic_int8_fmt f, const uint8_t *a,
                                 const uint8_t *b);

/* Two pairs of f16 (at p0, q0 and p1, q1) converted at once: four 16-bit
 * loads packed in a general register, one VCVTPH2PS, one multiply. Lane 0
 * is p0*q0 and lane 2 p1*q1, the same products the scalar code forms. */
BASIC_INLINE __m128 basic_f16_products2(const uint8_t *p0, const uint8_t *q0, const uint8_t *p1,
                                        const uint8_t *q1) {
    uint16_t h[4];
    memcpy(&h[0], p0, 2);
    memcpy(&h[1], q0, 2);
    memcpy(&h[2], p1, 2);
    memcpy(&h[3], q1, 2);
    uint64_t bits = (uint64_t)h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 |
                    (uint64_t)h[3] << 48;
    __m128 v = _mm_cvtph_ps(_mm_cvtsi64_si128((long long)bits));
    return _mm_mul_ps(v, _mm_movehdup_ps(v));
}

/* type_kernels.dot for either ISA (isum gives the block's int32 lanes). One
 * accumulator, blocks in order, then the same horizontal sum as the tile
 * kernels: dot and mul_mat give bit-identical results (a batched prompt and
 * token-by-token decoding agree exactly), and so do the AVX2 and VNNI sets,
 * whose lanes are the same exact sums of 4 adjacent products. That is also
 * ggml's AVX2 order. Two blocks per step share one scale conversion, which
 * would otherwise be a third of the work per block. */
BASIC_INLINE float basic_int8_dot(const struct basic_int8_fmt f, basic_isum_fn isum,
                                  const void *w, const void *x, int64_t n) {
    const uint8_t *a = w, *b = x;
    const int64_t nb = n / 32;
    __m256 acc = _mm256_setzero_ps();
    float ms = 0.0f;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2, a += 2 * f.w_bytes, b += 2 * f.x_bytes) {
        const uint8_t *a1 = a + f.w_bytes, *b1 = b + f.x_bytes;
        __m128 d = basic_f16_products2(a, b, a1, b1);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum(f, a, b)), _mm256_broadcastss_ps(d), acc);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum(f, a1, b1)),
                              _mm256_broadcastss_ps(_mm_movehl_ps(d, d)), acc);
        if (f.kind == BASIC_AFFINE) {
            ms += basic_f16(a + 2) * basic_q8_1_s(b);
            ms += basic_f16(a1 + 2) * basic_q8_1_s(b1);
        }
    }
    if (i < nb) {
        __m128 d = basic_f16_products2(a, b, a, b);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum(f, a, b)), _mm256_broadcastss_ps(d), acc);
        if (f.kind == BASIC_AFFINE) ms += basic_f16(a + 2) * basic_q8_1_s(b);
    }
    return basic_hsum256(acc) + ms;
}

BASIC_INLINE float basic_int8_dot_avx2(const struct basic_int8_fmt f, const void *w,
                                       const void *x, int64_t n) {
    return basic_int8_dot(f, basic_isum_avx2, w, x, n);
}

/* One pass of type_kernels.mul_mat over all rows and the given columns, in
 * tiles of R weight rows by C activation columns: each weight block is
 * unpacked once per C columns and each activation block loaded once per R
 * rows. A partial tile at the edge repeats its last row or column (clamped
 * pointers) and stores only the real ones. */
BASIC_INLINE void basic_int8_pass_avx2(const struct basic_int8_fmt f, int R, int C, int64_t n,
                                          const void *w, size_t w_stride, int n_rows,
                                          const void *x, size_t x_stride, int n_cols, float *out,
                                          size_t out_stride) {
    enum { RMAX = 4, CMAX = 4 };
    const int64_t nb = n / 32;
    for (int r0 = 0; r0 < n_rows; r0 += R) {
        const uint8_t *wr[RMAX];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            wr[r] = (const uint8_t *)w + (size_t)(r0 + r < n_rows ? r0 + r : n_rows - 1) * w_stride;
        for (int c0 = 0; c0 < n_cols; c0 += C) {
            const uint8_t *xc[CMAX];
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                xc[c] = (const uint8_t *)x +
                        (size_t)(c0 + c < n_cols ? c0 + c : n_cols - 1) * x_stride;
            __m256 acc[RMAX][CMAX];
            __m128 ms[RMAX];
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                ms[r] = _mm_setzero_ps();
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) acc[r][c] = _mm256_setzero_ps();
            }
            /* the next row group, streamed in while this one computes: the
             * hardware prefetcher alone loses track of R interleaved rows */
            const size_t pf = (size_t)R * w_stride;
            for (int64_t i = 0; i < nb; i++) {
                const size_t wo = (size_t)i * f.w_bytes, xo = (size_t)i * f.x_bytes;
                __m256i wc[RMAX], wa[RMAX];
                float dd[4][4];
                basic_scales(dd, wr, R, xc, C, wo, xo);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    _mm_prefetch((const char *)wr[r] + pf + wo, _MM_HINT_T0);
                    wc[r] = f.codes(wr[r] + wo);
                    wa[r] = f.kind == BASIC_SIGNED ? _mm256_abs_epi8(wc[r]) : wc[r];
                }
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    const uint8_t *xb = xc[c] + xo;
                    __m256i y = _mm256_loadu_si256((const __m256i *)(xb + f.x_qs));
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        __m256i s = basic_block_avx2(f, wc[r], wa[r], y);
                        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                                    _mm256_set1_ps(dd[c][r]), acc[r][c]);
                    }
                }
                if (f.kind == BASIC_AFFINE) {
                    /* m*s for the whole tile, 4 columns per op; multiply and add
                     * rounded separately, as in the dot */
                    __m128 s4 = basic_q8_1_s4(xc[0] + xo, xc[C > 1 ? 1 : 0] + xo, xc[C > 2 ? 2 : 0] + xo,
                                              xc[C > 3 ? 3 : 0] + xo);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++)
                        ms[r] = _mm_add_ps(ms[r], _mm_mul_ps(_mm_set1_ps(basic_f16(wr[r] + wo + 2)), s4));
                }
            }
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                float m[4];
                _mm_storeu_ps(m, ms[r]);
#pragma GCC unroll 4
                for (int c = 0; c < C; c++)
                    if (r0 + r < n_rows && c0 + c < n_cols)
                        out[(size_t)(c0 + c) * out_stride + (size_t)(r0 + r)] =
                            basic_hsum256(acc[r][c]) + m[c];
            }
        }
    }
}

/* Tile shapes of the AVX2 pass (16 registers): 2 x 4 for the bulk of the
 * columns (8 accumulators, 2 weight blocks, activation, temporaries); the
 * last n_cols % 4 columns take one narrower pass with more rows per tile,
 * 4 x 1, 4 x 2 or 2 x 3, so that few columns cost no more than their share. */
#define BASIC_AVX2_ROWS 2
#define BASIC_AVX2_COLS 4

BASIC_INLINE void basic_int8_mul_mat_avx2(const struct basic_int8_fmt f, int64_t n, const void *w,
                                          size_t w_stride, int n_rows, const void *x,
                                          size_t x_stride, int n_cols, float *out,
                                          size_t out_stride) {
    const int main_cols = n_cols / BASIC_AVX2_COLS * BASIC_AVX2_COLS;
    if (main_cols)
        basic_int8_pass_avx2(f, BASIC_AVX2_ROWS, BASIC_AVX2_COLS, n, w, w_stride, n_rows, x,
                             x_stride, main_cols, out, out_stride);
    const uint8_t *xr = (const uint8_t *)x + (size_t)main_cols * x_stride;
    float *outr = out + (size_t)main_cols * out_stride;
    switch (n_cols - main_cols) {
    case 1: basic_int8_pass_avx2(f, 4, 1, n, w, w_stride, n_rows, xr, x_stride, 1, outr, out_stride); break;
    case 2: basic_int8_pass_avx2(f, 4, 2, n, w, w_stride, n_rows, xr, x_stride, 2, outr, out_stride); break;
    case 3: basic_int8_pass_avx2(f, 2, 3, n, w, w_stride, n_rows, xr, x_stride, 3, outr, out_stride); break;
    default: break;
    }
}

/* ------------------------------------------ AVX-512 VNNI skeletons */
#ifdef __AVX512VNNI__

/* Bit j of the 32-bit mask at qh as byte j: 0x10 or 0 (one masked move). */
BASIC_INLINE __m256i basic_fifth_bits_avx512(const uint8_t *qh) {
    uint32_t bits;
    memcpy(&bits, qh, sizeof bits);
    return _mm256_maskz_mov_epi8((__mmask32)bits, _mm256_set1_epi8(0x10));
}

/* The int32 lane sums of one block pair as one VPDPBUSD (256-bit, which
 * Zen 4 runs at full rate; 512-bit would only pair two blocks per op).
 * `init` carries the offset correction so it costs nothing per pair:
 * OFFSET: init = -off*sum(y) (per activation block), u = codes, s = y;
 * SIGNED: init = -128*sum(w) (per weight block), u = y+128, s = codes;
 * AFFINE: init = 0. */
BASIC_INLINE __m256i basic_block_vnni(__m256i init, __m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(init, u, s);
}

/* The exact int32 lane sums of one block pair with VNNI. */
BASIC_INLINE __m256i basic_isum_vnni(const struct basic_int8_fmt f, const uint8_t *a,
                                     const uint8_t *b) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i c = f.codes(a);
    __m256i y = _mm256_loadu_si256((const __m256i *)(b + f.x_qs));
    if (f.kind == BASIC_SIGNED)
        return _mm256_dpbusd_epi32(zero, _mm256_abs_epi8(c), _mm256_sign_epi8(y, c));
    __m256i s = _mm256_dpbusd_epi32(zero, c, y);
    if (f.kind == BASIC_OFFSET)
        s = _mm256_sub_epi32(s, _mm256_dpbusd_epi32(zero, _mm256_set1_epi8((char)f.off), y));
    return s;
}

BASIC_INLINE float basic_int8_dot_vnni(const struct basic_int8_fmt f, const void *w,
                                       const void *x, int64_t n) {
    return basic_int8_dot(f, basic_isum_vnni, w, x, n);
}

/* As basic_int8_pass_avx2, with 32 vector registers for 4 x C tiles and
 * the offset corrections folded into VPDPBUSD's accumulator input. The
 * per-(row, column) work is one VPDPBUSD, one convert and one FMA whose
 * scale comes from a small table (a broadcast load, not an ALU op). */
BASIC_INLINE void basic_int8_pass_vnni(const struct basic_int8_fmt f, int C, int64_t n, const void *w,
                                          size_t w_stride, int n_rows, const void *x,
                                          size_t x_stride, int n_cols, float *out,
                                          size_t out_stride) {
    enum { R = BASIC_TILE_MAX, CMAX = BASIC_TILE_MAX };
    const int64_t nb = n / 32;
    const __m256i zero = _mm256_setzero_si256();
    for (int r0 = 0; r0 < n_rows; r0 += R) {
        const uint8_t *wr[R];
        basic_tile_rows(wr, w, w_stride, r0, R, n_rows);
        for (int c0 = 0; c0 < n_cols; c0 += C) {
            const uint8_t *xc[CMAX];
            basic_tile_rows(xc, x, x_stride, c0, C, n_cols);
            __m256 acc[R][CMAX];
            __m128 ms[R];
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) ms[r] = _mm_setzero_ps();
            basic_tile_zero(acc, R, C);
            /* the next row group, streamed in while this one computes: the
             * hardware prefetcher alone loses track of R interleaved rows */
            const size_t pf = (size_t)R * w_stride;
            for (int64_t i = 0; i < nb; i++) {
                const size_t wo = (size_t)i * f.w_bytes, xo = (size_t)i * f.x_bytes;
                __m256i wc[R], winit[R];
                float dd[4][4];
                basic_scales(dd, wr, R, xc, C, wo, xo);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    _mm_prefetch((const char *)wr[r] + pf + wo, _MM_HINT_T0);
                    wc[r] = f.codes(wr[r] + wo);
                    winit[r] = zero;
                    if (f.kind == BASIC_SIGNED)
                        winit[r] = _mm256_sub_epi32(
                            zero, _mm256_dpbusd_epi32(zero, _mm256_set1_epi8((char)0x80), wc[r]));
                }
#pragma GCC unroll 4
                for (int c = 0; c < C; c++) {
                    const uint8_t *xb = xc[c] + xo;
                    __m256i y = _mm256_loadu_si256((const __m256i *)(xb + f.x_qs));
                    __m256i xinit = zero;
                    if (f.kind == BASIC_OFFSET)
                        xinit = _mm256_sub_epi32(
                            zero, _mm256_dpbusd_epi32(zero, _mm256_set1_epi8((char)f.off), y));
                    if (f.kind == BASIC_SIGNED) y = _mm256_xor_si256(y, _mm256_set1_epi8((char)0x80));
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        __m256i s = f.kind == BASIC_SIGNED
                                        ? basic_block_vnni(winit[r], y, wc[r])
                                        : basic_block_vnni(xinit, wc[r], y);
                        acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s),
                                                    _mm256_set1_ps(dd[c][r]), acc[r][c]);
                    }
                }
                if (f.kind == BASIC_AFFINE) {
                    __m128 s4 = basic_q8_1_s4(xc[0] + xo, xc[C > 1 ? 1 : 0] + xo, xc[C > 2 ? 2 : 0] + xo,
                                              xc[C > 3 ? 3 : 0] + xo);
                    __m128 mw = basic_f16x4(wr[0] + wo + 2, wr[1] + wo + 2, wr[2] + wo + 2,
                                            wr[3] + wo + 2);
                    float m[R];
                    _mm_storeu_ps(m, mw);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++)
                        ms[r] = _mm_add_ps(ms[r], _mm_mul_ps(_mm_set1_ps(m[r]), s4));
                }
            }
            basic_tile_store(out, out_stride, r0, c0, R, C, n_rows, n_cols, acc, ms);
        }
    }
}
/* Tile shapes of the VNNI pass: 4 x 4 (16 accumulators, 4 weight blocks,
 * the activation and temporaries in 32 registers); the last n_cols % 4
 * columns take one narrower pass, so a single column (decode through
 * mul_mat) costs one pass of 4 x 1 tiles, not four columns' work. */
#define BASIC_VNNI_COLS 4

BASIC_INLINE void basic_int8_mul_mat_vnni(const struct basic_int8_fmt f, int64_t n, const void *w,
                                          size_t w_stride, int n_rows, const void *x,
                                          size_t x_stride, int n_cols, float *out,
                                          size_t out_stride) {
    const int main_cols = n_cols / BASIC_VNNI_COLS * BASIC_VNNI_COLS;
    if (main_cols)
        basic_int8_pass_vnni(f, BASIC_VNNI_COLS, n, w, w_stride, n_rows, x, x_stride, main_cols,
                             out, out_stride);
    const uint8_t *xr = (const uint8_t *)x + (size_t)main_cols * x_stride;
    float *outr = out + (size_t)main_cols * out_stride;
    switch (n_cols - main_cols) {
    case 1: basic_int8_pass_vnni(f, 1, n, w, w_stride, n_rows, xr, x_stride, 1, outr, out_stride); break;
    case 2: basic_int8_pass_vnni(f, 2, n, w, w_stride, n_rows, xr, x_stride, 2, outr, out_stride); break;
    case 3: basic_int8_pass_vnni(f, 3, n, w, w_stride, n_rows, xr, x_stride, 3, outr, out_stride); break;
    default: break;
    }
}
#endif /* __AVX512VNNI__ */
#endif /* __AVX2__ */

#endif
