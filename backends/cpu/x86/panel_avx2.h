/*
 * panel_avx2.h — private to backends/cpu/x86: the batch product (prefill) of the
 * 32-wide int8 block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) with AVX2, as a
 * packed-panel GEMM.
 *
 * Why a second kernel next to basic_int8_pass_avx2: that one keeps one
 * 8-lane accumulator per (row, column) and so pays a convert, a scale and an
 * FMA for every 32 products of every pair, plus a horizontal sum at the end.
 * Here 8 weight rows are first unpacked and transposed into a panel whose
 * 32-bit lane r holds 4 consecutive codes of row r. One broadcast of 4
 * activation codes against one panel vector then gives, after VPMADDUBSW,
 * the partial sums of all 8 rows in their own lanes: the block's int32 sums
 * come out as one vector per column, scaled by one vector of 8 row scales.
 * The unpacking is paid once per call, not once per column, so every
 * further column costs only the multiply-adds.
 *
 * Exactness: codes are 0..15 or 0..31 (unsigned operand) against int8
 * activations in [-127, 127]; VPMADDUBSW's pair sums are at most 3810 (Q4)
 * or 7874 (Q5), so 8 resp. 4 of them add up in int16 without overflow
 * before VPMADDWD widens them. Q8_0's signed codes use the sign trick and
 * widen every step. The offset of Q4_0/Q5_0 (-off*sum(y)) is subtracted in
 * int32 from column sums computed once per group of columns. Each block's
 * integer sum is exact; the float accumulation runs over the blocks in
 * order, so every output has one summation order whatever the threads.
 * With VNNI (the AVX-512 set) each broadcast costs one VPDPBUSD into int32,
 * Q8_0's too: its codes are stored +128 and treated as an offset format.
 * The order differs from the decode dot's (8 lanes, then a horizontal
 * sum), so a batched prompt and token-by-token decoding agree to float
 * rounding, not bit for bit.
 */
#ifndef EMBER_PANEL_AVX2_H
#define EMBER_PANEL_AVX2_H

#include <stdbool.h>

#include "basic_kernels.h"
#include "gemv_int8.h"

#ifdef __AVX2__

enum {
    PANEL_ROWS = 8,   /* weight rows per panel: one per 32-bit lane */
    PANEL_GROUP = 4,  /* panels packed together, sharing the column sums */
    PANEL_KC = 64,    /* blocks per K chunk: 16 KB of codes per panel */
    PANEL_COLS = 4,   /* columns per tile (4 accumulators, 4 int sums) */
    PANEL_MIN_COLS = 4, /* fewer columns: basic_int8_pass_avx2 is cheaper */
    PANEL_PREP = 512,  /* blocks per K chunk of packed weights */
    PANEL_AHEAD = 24   /* decode prefetches this many packed blocks ahead */
};

struct panel {
    __m256i codes[PANEL_KC][8]; /* [block][k/4]: lane r = codes 4k..4k+3 of row r */
    float d[PANEL_KC][PANEL_ROWS];
    float m[PANEL_KC][PANEL_ROWS]; /* AFFINE only */
};

/* The 8x8 transpose of 32-bit elements: v[r] lane k becomes v[k] lane r. */
BASIC_INLINE void panel_transpose8(__m256i v[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x20);
        v[k + 4] = _mm256_permute2x128_si256(u[k], u[k + 4], 0x31);
    }
}

/* Blocks b0 .. b0+nbk-1 of 8 rows (pointers already clamped) into p. */
BASIC_INLINE void panel_pack(const struct basic_int8_fmt f, const uint8_t *const wr[8], int64_t b0,
                             int nbk, struct panel *p) {
    for (int i = 0; i < nbk; i++) {
        const size_t wo = (size_t)(b0 + i) * f.w_bytes;
        __m256i v[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; r++) {
            v[r] = f.codes(wr[r] + wo);
            if (f.flip) v[r] = _mm256_xor_si256(v[r], _mm256_set1_epi8((char)0x80));
            p->d[i][r] = basic_f16(wr[r] + wo);
            if (f.kind == BASIC_AFFINE) p->m[i][r] = basic_f16(wr[r] + wo + 2);
        }
        panel_transpose8(v);
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) p->codes[i][k] = v[k];
    }
}

/* What the tiles need of C columns' blocks b0 .. b0+nbk-1 besides their
 * codes, converted once for all panels: the scale d, Q8_1's s (AFFINE)
 * and off*sum(y) (OFFSET). Each is then one broadcast load in the tile. */
struct panel_cols {
    float d[4][PANEL_PREP], s[4][PANEL_PREP];
    int32_t off[4][PANEL_PREP];
};

/* The sum of the 32 int8 codes at qs: VPSADBW sums them moved to
 * unsigned by +128. */
BASIC_INLINE int32_t panel_code_sum(const uint8_t *qs) {
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    __m256i y = _mm256_loadu_si256((const __m256i *)qs);
    __m256i s = _mm256_sad_epu8(_mm256_xor_si256(y, bias), _mm256_setzero_si256());
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
    return _mm_cvtsi128_si32(h) - 32 * 128;
}

BASIC_INLINE void panel_prep_cols(const struct basic_int8_fmt f, int C, const uint8_t *const xc[4],
                                  int64_t b0, int nbk, struct panel_cols *pc) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < nbk; i++) {
            const uint8_t *xb = xc[c] + (size_t)(b0 + i) * f.x_bytes;
            pc->d[c][i] = basic_f16(xb);
            if (f.kind == BASIC_AFFINE) pc->s[c][i] = basic_q8_1_s(xb);
            if (f.kind == BASIC_OFFSET) pc->off[c][i] = f.off * panel_code_sum(xb + f.x_qs);
        }
}

/* The 32-bit word of activation codes 4k..4k+3 of a block, in every lane. */
BASIC_INLINE __m256i panel_bcast(const uint8_t *qs, int k) {
    int32_t v;
    memcpy(&v, qs + 4 * k, sizeof v);
    return _mm256_set1_epi32(v);
}

/* s32 + the 4-byte dot products of u (unsigned) and s (signed) per lane:
 * one VPDPBUSD where the set has VNNI (only the AVX-512 files define it). */
BASIC_INLINE __m256i panel_dp(bool vnni, __m256i s32, __m256i u, __m256i s) {
#ifdef __AVX512VNNI__
    if (vnni) return _mm256_dpbusd_epi32(s32, u, s);
#endif
    (void)vnni;
    return _mm256_add_epi32(s32, basic_dot_u8s8_avx2(u, s));
}

/* Chunk k (codes 4k..4k+3 of each row, one row per lane) of one block of
 * a packed layout, told apart by its size: block_q4_0x8 (chunk k in the
 * low nibbles of vector k, chunk k+4 in the high ones) or block_q8_0x8
 * (bytes as stored, +128 if f.flip). */
BASIC_INLINE __m256i packed_codes(const uint8_t *blk, size_t pw_bytes, int k) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    if (pw_bytes == sizeof(block_q8_0x8))
        return _mm256_loadu_si256((const __m256i *)(blk + offsetof(block_q8_0x8, qs) + 32 * k));
    __m256i v = _mm256_loadu_si256((const __m256i *)(blk + offsetof(block_q4_0x8, qs) + 32 * (k & 3)));
    return _mm256_and_si256(k < 4 ? v : _mm256_srli_epi16(v, 4), low4);
}

/* Chunks h..h+3 of block i into the column sums (s16 then s32, or s32
 * alone with VNNI or Q8_0's sign trick); see panel_tile. */
BASIC_INLINE void panel_half(const struct basic_int8_fmt f, bool vnni, int C, const struct panel *p,
                             const uint8_t *pw, size_t pw_bytes, int i, int h,
                             const uint8_t *const xb[4], __m256i s32[4], __m256i s16[4]) {
#pragma GCC unroll 4
    for (int k = h; k < h + 4; k++) {
        /* (the panel path passes pw NULL: no arithmetic on it) */
        const __m256i w = pw ? packed_codes(pw + (size_t)i * pw_bytes, pw_bytes, k) : p->codes[i][k];
        if (f.kind == BASIC_SIGNED) {
            const __m256i a = _mm256_abs_epi8(w);
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                s32[c] = panel_dp(vnni, s32[c], a, _mm256_sign_epi8(panel_bcast(xb[c], k), w));
        } else if (vnni) {
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) s32[c] = panel_dp(vnni, s32[c], w, panel_bcast(xb[c], k));
        } else {
#pragma GCC unroll 4
            for (int c = 0; c < C; c++)
                s16[c] = _mm256_add_epi16(s16[c], _mm256_maddubs_epi16(w, panel_bcast(xb[c], k)));
        }
    }
    /* int16 sums that fit: 8 pair sums of 4-bit codes, 4 of 5-bit ones */
    if (!vnni && f.kind != BASIC_SIGNED && (h == 4 || f.code_max > 15)) {
        const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            s32[c] = _mm256_add_epi32(s32[c], _mm256_madd_epi16(s16[c], ones));
            s16[c] = _mm256_setzero_si256();
        }
    }
}

/* One tile: the panel's 8 rows by C columns over nbk blocks (from the
 * per-call panel p, or, when pw is set, from weights packed by 8 rows
 * (see packed_codes) at block b0); acc[c] lane r is output (row r, column
 * c) and carries over between K chunks. */
BASIC_INLINE void panel_tile(const struct basic_int8_fmt f, bool vnni, int C, const struct panel *p,
                             const uint8_t *pw, size_t pw_bytes, const uint8_t *const xc[4], int64_t b0,
                             int nbk, const struct panel_cols *pc, __m256 acc_io[4]) {
    /* in locals, so the accumulators stay in registers */
    __m256 acc[4];
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) acc[c] = acc_io[c];
    for (int i = 0; i < nbk; i++) {
        const uint8_t *xb[4];
        if (pw && C == 1) basic_prefetch((uintptr_t)pw + (uintptr_t)(i + PANEL_AHEAD) * pw_bytes, pw_bytes);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) xb[c] = xc[c] + (size_t)(b0 + i) * f.x_bytes + f.x_qs;
        __m256i s32[4], s16[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) s32[c] = s16[c] = _mm256_setzero_si256();
        /* two halves of 4 chunks, each a call with a constant h, so the
         * packed layouts' nibble choice is decided at compile time (a loop
         * over h left branches in the inner loop, and unrolled as a loop the
         * compiler hoisted the loads and spilled) */
        panel_half(f, vnni, C, p, pw, pw_bytes, i, 0, xb, s32, s16);
        panel_half(f, vnni, C, p, pw, pw_bytes, i, 4, xb, s32, s16);
        const __m256 dw = pw ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(pw + (size_t)i * pw_bytes)))
                             : _mm256_loadu_ps(p->d[i]);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            __m256i s = s32[c];
            if (f.kind == BASIC_OFFSET) s = _mm256_sub_epi32(s, _mm256_set1_epi32(pc->off[c][i]));
            const __m256 dd = _mm256_mul_ps(dw, _mm256_broadcast_ss(&pc->d[c][i]));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), dd, acc[c]);
            if (f.kind == BASIC_AFFINE)
                acc[c] = _mm256_fmadd_ps(_mm256_loadu_ps(p->m[i]), _mm256_broadcast_ss(&pc->s[c][i]), acc[c]);
        }
    }
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) acc_io[c] = acc[c];
}

/* Lanes below `rows` of v into dst (the rest of an edge panel is padding). */
BASIC_INLINE void panel_store(float *dst, __m256 v, int rows) {
    if (rows >= 8) {
        _mm256_storeu_ps(dst, v);
        return;
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(dst, _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), lane), v);
}

BASIC_INLINE __m256 panel_load(const float *src, int rows) {
    if (rows >= 8) return _mm256_loadu_ps(src);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(src, _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), lane));
}

/* Columns c0 .. c0+C-1 of one K chunk against every packed panel. The
 * running sums live in `out` between chunks (first chunk: from zero). */
BASIC_INLINE void panel_columns(const struct basic_int8_fmt f, bool vnni, int C, const struct panel *pk,
                                int n_panels, int rows_left, int64_t b0, int nbk, const void *x,
                                size_t x_stride, int c0, float *out, size_t out_stride) {
    const uint8_t *xc[4];
    struct panel_cols pc;
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    panel_prep_cols(f, C, xc, b0, nbk, &pc);
    for (int g = 0; g < n_panels; g++) {
        const int rows = rows_left - g * PANEL_ROWS;
        float *o = out + (size_t)c0 * out_stride + (size_t)g * PANEL_ROWS;
        __m256 acc[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[c] = b0 ? panel_load(o + (size_t)c * out_stride, rows) : _mm256_setzero_ps();
        panel_tile(f, vnni, C, &pk[g], NULL, 0, xc, b0, nbk, &pc, acc);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) panel_store(o + (size_t)c * out_stride, acc[c], rows);
    }
}

/* The panel GEMM over all rows and columns (at least PANEL_MIN_COLS) from
 * rows of blocks. */
BASIC_INLINE void panel_int8_gemm(const struct basic_int8_fmt f, bool vnni, int64_t n, const void *w,
                                  size_t w_stride, int n_rows, const void *x, size_t x_stride,
                                  int n_cols, float *out, size_t out_stride) {
    const int64_t nb = n / 32;
    struct panel pk[PANEL_GROUP]; /* 82 KB: thread stacks are megabytes */
    for (int r0 = 0; r0 < n_rows; r0 += PANEL_ROWS * PANEL_GROUP) {
        const int rows_left = n_rows - r0;
        const int n_panels = rows_left >= PANEL_ROWS * PANEL_GROUP
                                 ? PANEL_GROUP
                                 : (rows_left + PANEL_ROWS - 1) / PANEL_ROWS;
        for (int64_t b0 = 0; b0 < nb; b0 += PANEL_KC) {
            const int nbk = nb - b0 < PANEL_KC ? (int)(nb - b0) : PANEL_KC;
            for (int g = 0; g < n_panels; g++) {
                const uint8_t *wr[8];
                for (int r = 0; r < 8; r++) {
                    int row = r0 + g * PANEL_ROWS + r;
                    wr[r] = (const uint8_t *)w + (size_t)(row < n_rows ? row : n_rows - 1) * w_stride;
                }
                panel_pack(f, wr, b0, nbk, &pk[g]);
            }
            const int main_cols = n_cols / PANEL_COLS * PANEL_COLS;
            float *o = out + r0;
            for (int c0 = 0; c0 < main_cols; c0 += PANEL_COLS)
                panel_columns(f, vnni, PANEL_COLS, pk, n_panels, rows_left, b0, nbk, x, x_stride, c0, o, out_stride);
            switch (n_cols - main_cols) {
            case 1: panel_columns(f, vnni, 1, pk, n_panels, rows_left, b0, nbk, x, x_stride, main_cols, o, out_stride); break;
            case 2: panel_columns(f, vnni, 2, pk, n_panels, rows_left, b0, nbk, x, x_stride, main_cols, o, out_stride); break;
            case 3: panel_columns(f, vnni, 3, pk, n_panels, rows_left, b0, nbk, x, x_stride, main_cols, o, out_stride); break;
            default: break;
            }
        }
    }
}

/* type_kernels.mul_mat for the 32-wide int8 types: the panel GEMM for 4 or
 * more columns; for fewer (decode), the per-pair tiles of basic_kernels.h,
 * which need no packing. */
BASIC_INLINE void panel_int8_mul_mat_avx2(const struct basic_int8_fmt f, int64_t n, const void *w,
                                          size_t w_stride, int n_rows, const void *x,
                                          size_t x_stride, int n_cols, float *out,
                                          size_t out_stride) {
    if (n_cols < GEMV_MAX_COLS && gemv_int8_fits(f))
        gemv_int8(f, false, f.pair, n, w, w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
    else if (n_cols < PANEL_MIN_COLS)
        basic_int8_mul_mat_avx2(f, n, w, w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
    else
        panel_int8_gemm(f, false, n, w, w_stride, n_rows, x, x_stride, n_cols, out,
                        out_stride);
}

#ifdef __AVX512VNNI__
/* f as the VNNI kernels run it. VPDPBUSD has no int16 stage to overflow:
 * Q8_0's codes move to unsigned by +128 (at packing, or by f.flip in
 * panel_pack) and the offset comes off as 128*sum(y), one instruction per
 * broadcast instead of a sign fix-up and one. */
BASIC_INLINE struct basic_int8_fmt panel_vnni_fmt(struct basic_int8_fmt f) {
    if (f.kind == BASIC_SIGNED) {
        f.kind = BASIC_OFFSET;
        f.off = 128;
        f.code_max = 255;
        f.flip = true;
    }
    return f;
}

BASIC_INLINE void panel_int8_mul_mat_vnni(const struct basic_int8_fmt f, int64_t n, const void *w,
                                          size_t w_stride, int n_rows, const void *x,
                                          size_t x_stride, int n_cols, float *out,
                                          size_t out_stride) {
    if (n_cols < GEMV_MAX_COLS && gemv_int8_fits(f)) {
        gemv_int8(f, true, f.pair, n, w, w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
        return;
    }
    if (n_cols < PANEL_MIN_COLS) {
        basic_int8_mul_mat_vnni(f, n, w, w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
        return;
    }
    panel_int8_gemm(panel_vnni_fmt(f), true, n, w, w_stride, n_rows, x, x_stride, n_cols, out, out_stride);
}
#endif

/* ------------------------------------------------ packed Q4_0 and Q8_0 */

/* Columns c0 .. c0+C-1 of K chunk b0 .. b0+nbk-1 against every 8-row group
 * of a packed band (groups of nb blocks of pw_bytes each). */
BASIC_INLINE void packed_columns(const struct basic_int8_fmt f, int C, const uint8_t *wp,
                                 size_t pw_bytes, int64_t nb, int n_rows, int64_t b0, int nbk,
                                 const void *x, size_t x_stride, int c0, float *out,
                                 size_t out_stride) {
    const uint8_t *xc[4];
    struct panel_cols pc;
    if (!wp) return; /* never: tells the analyzer the tile reads pw, not p */
#pragma GCC unroll 4
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    panel_prep_cols(f, C, xc, b0, nbk, &pc);
    for (int r0 = 0; r0 < n_rows; r0 += PACK_ROWS) {
        float *o = out + (size_t)c0 * out_stride + (size_t)r0;
        __m256 acc[4];
#pragma GCC unroll 4
        for (int c = 0; c < C; c++)
            acc[c] = b0 ? panel_load(o + (size_t)c * out_stride, n_rows - r0) : _mm256_setzero_ps();
        const uint8_t *g = wp + ((size_t)(r0 / PACK_ROWS) * (size_t)nb + (size_t)b0) * pw_bytes;
        panel_tile(f, false, C, NULL, g, pw_bytes, xc, b0, nbk, &pc, acc);
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) panel_store(o + (size_t)c * out_stride, acc[c], n_rows - r0);
    }
}

/* type_kernels.mul_mat_packed of Q4_0 or Q8_0 in the AVX2 set (f is its
 * format; pw_bytes its packed block), over a band a batch packed. The
 * AVX-512 set has its own, 16 rows wide (panel_avx512.h). */
BASIC_INLINE void packed_mul_mat(const struct basic_int8_fmt f, size_t pw_bytes, int64_t n,
                                 const void *wp, int n_rows, const void *x, size_t x_stride,
                                 int n_cols, float *out, size_t out_stride) {
    const int64_t nb = n / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += PANEL_PREP) {
        const int nbk = nb - b0 < PANEL_PREP ? (int)(nb - b0) : PANEL_PREP;
        const int main_cols = n_cols / PANEL_COLS * PANEL_COLS;
        for (int c0 = 0; c0 < main_cols; c0 += PANEL_COLS)
            packed_columns(f, PANEL_COLS, wp, pw_bytes, nb, n_rows, b0, nbk, x, x_stride, c0, out, out_stride);
        switch (n_cols - main_cols) {
        case 1: packed_columns(f, 1, wp, pw_bytes, nb, n_rows, b0, nbk, x, x_stride, main_cols, out, out_stride); break;
        case 2: packed_columns(f, 2, wp, pw_bytes, nb, n_rows, b0, nbk, x, x_stride, main_cols, out, out_stride); break;
        case 3: packed_columns(f, 3, wp, pw_bytes, nb, n_rows, b0, nbk, x, x_stride, main_cols, out, out_stride); break;
        default: break;
        }
    }
}

/* ---------------------------------------------- the slots of one type */

/* type_kernels.dot and .mul_mat of a 32-wide int8 type t (AVX2 set) from its
 * format t##_fmt: the whole of each kernel is the skeleton above, so a type
 * states only its codes and format (q4_0_avx2.c, ...). */
#define BASIC_INT8_KERNELS_AVX2(t)                                                             \
    float t##_dot_avx2(const void *w, const void *x, int64_t n) {                              \
        return basic_int8_dot_avx2(t##_fmt, w, x, n);                                          \
    }                                                                                          \
    BASIC_MUL_MAT_DECLARE(t, avx2) {                                                           \
        panel_int8_mul_mat_avx2(t##_fmt, n, w, w_stride, n_rows, x, x_stride, n_cols, out,     \
                                out_stride);                                                   \
    }

/* type_kernels.mul_mat_packed of t (Q4_0, Q8_0) over block_##t##x8. */
#define BASIC_INT8_PACKED_AVX2(t)                                                              \
    void t##_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x,         \
                                 size_t x_stride, int n_cols, float *out, size_t out_stride) { \
        packed_mul_mat(t##_fmt, sizeof(block_##t##x8), n, wp, n_rows, x, x_stride, n_cols, out, \
                       out_stride);                                                            \
    }

#ifdef __AVX512VNNI__
/* The same for the AVX-512 VNNI set (the packed product is panel_avx512.h's). */
#define BASIC_INT8_KERNELS_AVX512(t)                                                           \
    float t##_dot_avx512(const void *w, const void *x, int64_t n) {                            \
        return basic_int8_dot_vnni(t##_fmt, w, x, n);                                          \
    }                                                                                          \
    BASIC_MUL_MAT_DECLARE(t, avx512) {                                                         \
        panel_int8_mul_mat_vnni(t##_fmt, n, w, w_stride, n_rows, x, x_stride, n_cols, out,     \
                                out_stride);                                                   \
    }
#endif

#endif /* __AVX2__ */
#endif
