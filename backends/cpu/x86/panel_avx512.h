/*
 * panel_avx512.h — private to backends/cpu/x86: mul_mat_packed of the packed
 * 32-wide types (block_q4_0x8, block_q8_0x8 with codes
 * +128) with 512-bit VNNI, for decode and prefill alike.
 *
 * Why a second packed kernel next to panel_avx2.h's: there one VPDPBUSD
 * covers the 8 rows of one packed group. Here two neighbouring groups share
 * a 512-bit vector (group g in the low half, g+1 in the high), so one
 * VPDPBUSD, its activation word broadcast from memory, covers 16 rows, and
 * the unpacking, the scaling and the stores are paid once per 16 rows. The
 * packed layout stays the 8-row one (the repack cache and the AVX2 set
 * share it); joining two groups costs one insert per 32 bytes of codes.
 *
 * The arithmetic is panel_avx2.h's: each block's integer sum is exact
 * (codes unsigned, at most 255, against int8 activations in [-127, 127];
 * the offset's -off*sum(y) is the accumulator's starting value), the float
 * accumulation runs over the blocks in order. Chunks k and k+4 of a block
 * come from the same stored bytes (low and high nibbles), so they are
 * consumed in pairs; integer sums do not depend on that order.
 */
#ifndef EMBER_PANEL_AVX512_H
#define EMBER_PANEL_AVX512_H

#include "panel_avx2.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)

enum {
    P16_ROWS = 16, /* rows per vector: two packed groups */
    P16_COLS = 8   /* columns per tile: 8 accumulators and 8 int sums */
};

/* The 32 bytes at a (low half) and at b (high half). */
BASIC_INLINE __m512i p16_join(const void *a, const void *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

/* 16 f16 values, 8 at a (low half) and 8 at b, as floats. */
BASIC_INLINE __m512 p16_halves(const void *a, const void *b) {
    return _mm512_cvtph_ps(_mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a)), _mm_loadu_si128((const __m128i *)b), 1));
}

/* Chunks j and j+4 (codes 4j..4j+3 and 4j+16..4j+19 of each row, one row
 * per lane) of the blocks a and b of two groups; see packed_codes. */
BASIC_INLINE void p16_codes(const uint8_t *a, const uint8_t *b, size_t pw_bytes, int j, __m512i *lo,
                            __m512i *hi) {
    if (pw_bytes == sizeof(block_q8_0x8)) {
        const size_t o = offsetof(block_q8_0x8, qs);
        *lo = p16_join(a + o + 32 * j, b + o + 32 * j);
        *hi = p16_join(a + o + 32 * (j + 4), b + o + 32 * (j + 4));
        return;
    }
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const size_t o = offsetof(block_q4_0x8, qs) + 32 * (size_t)j;
    const __m512i v = p16_join(a + o, b + o);
    *lo = _mm512_and_si512(v, low4);
    *hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
}

/* What the tiles need of up to P16_COLS columns besides their codes (as
 * struct panel_cols: d, and the offset's term, here negated: it is the
 * starting value of each block's sum). */
struct p16_cols {
    float d[P16_COLS][PANEL_PREP];
    int32_t noff[P16_COLS][PANEL_PREP];
};

BASIC_INLINE void p16_prep_cols(const struct basic_int8_fmt f, int C, const uint8_t *const xc[P16_COLS],
                                int64_t b0, int nbk, struct p16_cols *pc) {
    for (int c = 0; c < C; c++)
        for (int i = 0; i < nbk; i++) {
            const uint8_t *xb = xc[c] + (size_t)(b0 + i) * f.x_bytes;
            pc->d[c][i] = basic_f16(xb);
            pc->noff[c][i] = -f.off * panel_code_sum(xb + f.x_qs);
        }
}

/* The 32-bit word of activation codes 4k..4k+3 of a block, in every lane. */
BASIC_INLINE __m512i p16_bcast(const void *qs, int k) {
    int32_t v;
    memcpy(&v, (const uint8_t *)qs + 4 * k, sizeof v);
    return _mm512_set1_epi32(v);
}

/* 16 rows (groups at ga and gb, already at block b0) by C columns over
 * nbk blocks; acc[c] lane r is (row r, column c) and carries over between
 * K chunks. Decode (C == 1) keeps two sums per block, so that the eight
 * VPDPBUSD of a block form two dependency chains, not one. */
BASIC_INLINE void p16_tile(const struct basic_int8_fmt f, int C, const uint8_t *ga, const uint8_t *gb,
                           size_t pw_bytes, const uint8_t *const xc[P16_COLS], int64_t b0, int nbk,
                           const struct p16_cols *pc, __m512 acc_io[P16_COLS]) {
    __m512 acc[P16_COLS];
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) acc[c] = acc_io[c];
    for (int i = 0; i < nbk; i++) {
        const uint8_t *a = ga + (size_t)i * pw_bytes, *b = gb + (size_t)i * pw_bytes;
        if (C == 1) {
            basic_prefetch((uintptr_t)a + PANEL_AHEAD * pw_bytes, pw_bytes);
            basic_prefetch((uintptr_t)b + PANEL_AHEAD * pw_bytes, pw_bytes);
        }
        const uint8_t *xb[P16_COLS];
        __m512i s[P16_COLS], t = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            xb[c] = xc[c] + (size_t)(b0 + i) * f.x_bytes + f.x_qs;
            s[c] = _mm512_set1_epi32(pc->noff[c][i]);
        }
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            __m512i lo, hi;
            p16_codes(a, b, pw_bytes, j, &lo, &hi);
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) s[c] = _mm512_dpbusd_epi32(s[c], lo, p16_bcast(xb[c], j));
            if (C == 1) {
                t = _mm512_dpbusd_epi32(t, hi, p16_bcast(xb[0], j + 4));
                continue;
            }
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) s[c] = _mm512_dpbusd_epi32(s[c], hi, p16_bcast(xb[c], j + 4));
        }
        if (C == 1) s[0] = _mm512_add_epi32(s[0], t);
        const __m512 dw = p16_halves(a, b); /* the blocks' d[8] come first */
#pragma GCC unroll 8
        for (int c = 0; c < C; c++)
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[c]), _mm512_mul_ps(dw, _mm512_set1_ps(pc->d[c][i])),
                                     acc[c]);
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) acc_io[c] = acc[c];
}

/* Columns c0 .. c0+C-1 of K chunk b0 .. b0+nbk-1 against every pair of
 * 8-row groups of a packed band (groups of nb blocks). An odd last
 * group is paired with itself; its copy's lanes are never stored. */
BASIC_INLINE void p16_columns(const struct basic_int8_fmt f, int C, const uint8_t *wp, size_t pw_bytes,
                              int64_t nb, int n_rows, int64_t b0, int nbk, const void *x,
                              size_t x_stride, int c0, float *out, size_t out_stride) {
    const uint8_t *xc[P16_COLS];
    struct p16_cols pc;
    const int n_groups = (n_rows + PACK_ROWS - 1) / PACK_ROWS;
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) xc[c] = (const uint8_t *)x + (size_t)(c0 + c) * x_stride;
    p16_prep_cols(f, C, xc, b0, nbk, &pc);
    for (int g = 0; g < n_groups; g += 2) {
        const int r0 = g * PACK_ROWS, rows = n_rows - r0;
        const __mmask16 m = rows >= P16_ROWS ? (__mmask16)0xffff : (__mmask16)((1u << rows) - 1);
        const uint8_t *ga = wp + ((size_t)g * (size_t)nb + (size_t)b0) * pw_bytes;
        const uint8_t *gb = g + 1 < n_groups ? ga + (size_t)nb * pw_bytes : ga;
        float *o = out + (size_t)c0 * out_stride + (size_t)r0;
        __m512 acc[P16_COLS];
#pragma GCC unroll 8
        for (int c = 0; c < C; c++)
            acc[c] = b0 ? _mm512_maskz_loadu_ps(m, o + (size_t)c * out_stride) : _mm512_setzero_ps();
        p16_tile(f, C, ga, gb, pw_bytes, xc, b0, nbk, &pc, acc);
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) _mm512_mask_storeu_ps(o + (size_t)c * out_stride, m, acc[c]);
    }
}

/* type_kernels.mul_mat_packed of Q4_0 or Q8_0 in the AVX-512 set (f is
 * the type's format, pw_bytes its packed block; Q8_0 runs as an offset
 * format, its codes packed +128 by q8_0x8_pack_biased). */
BASIC_INLINE void p16_mul_mat(struct basic_int8_fmt f, size_t pw_bytes, int64_t n, const void *wp,
                              int n_rows, const void *x, size_t x_stride, int n_cols, float *out,
                              size_t out_stride) {
    f = panel_vnni_fmt(f);
    const int64_t nb = n / 32;
    for (int64_t b0 = 0; b0 < nb; b0 += PANEL_PREP) {
        const int nbk = nb - b0 < PANEL_PREP ? (int)(nb - b0) : PANEL_PREP;
        const int main_cols = n_cols / P16_COLS * P16_COLS;
#define P16_RUN(C, c0) p16_columns(f, C, wp, pw_bytes, nb, n_rows, b0, nbk, x, x_stride, c0, out, out_stride)
        for (int c0 = 0; c0 < main_cols; c0 += P16_COLS) P16_RUN(P16_COLS, c0);
        switch (n_cols - main_cols) {
        case 1: P16_RUN(1, main_cols); break;
        case 2: P16_RUN(2, main_cols); break;
        case 3: P16_RUN(3, main_cols); break;
        case 4: P16_RUN(4, main_cols); break;
        case 5: P16_RUN(5, main_cols); break;
        case 6: P16_RUN(6, main_cols); break;
        case 7: P16_RUN(7, main_cols); break;
        default: break;
        }
#undef P16_RUN
    }
}

/* type_kernels.mul_mat_packed of t (Q4_0, Q8_0) over block_##t##x8. */
#define BASIC_INT8_PACKED_AVX512(t)                                                            \
    void t##_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,       \
                                   size_t x_stride, int n_cols, float *out,                    \
                                   size_t out_stride) {                                        \
        p16_mul_mat(t##_fmt, sizeof(block_##t##x8), n, wp, n_rows, x, x_stride, n_cols, out,   \
                    out_stride);                                                               \
    }

#endif /* AVX-512 F, BW, VNNI */
#endif
