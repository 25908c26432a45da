/*
 * gptq_vnni_avx512.c — GPTQ INT4/INT8 matrix kernel for AVX-512 VNNI with
 * int8 activations: the speed path of the avx512 set. Falls back to the
 * float kernel (gptq_avx512.c) for act-order (g_idx), groups that are not
 * a multiple of 32 inputs (and more than one), and inputs past
 * GPTQ_VNNI_MAX_IN.
 *
 * Activations are quantized per 32 inputs (d = max|x| / 127, codes
 * rounded to nearest; the inputs past n_in are 0) once per call, each
 * block's code sum kept. qweight words are used as they are: for INT4 a
 * word's low nibbles (w & 0x0f0f0f0f) are inputs 0,2,4,6 of its eight and
 * the high ones inputs 1,3,5,7, so one vpdpbusd (weights as the unsigned
 * operand, 0..15, activations signed) per nibble half adds four products
 * into each output's lane, against activations arranged the same way
 * (even and odd bytes of each 8); for INT8 the word's four bytes are four
 * consecutive inputs. Zero points are taken out per group with the
 * activation sums: sum (q - z) x = sum q x - z sum x. So, per output and
 * group: y += s * (sum_b d_b * dot_b - z * sum_b d_b * sum_b), where dot_b
 * is the integer product of 32-input block b.
 *
 * Bands are walked a chunk of GV_WIDE vectors at a time through each
 * block's 4 (INT4) or 8 (INT8) word rows: a few concurrent streams the
 * prefetchers follow. The error against the float reference is that of
 * int8 activations (test_gptq_kernels bounds it; test_gptq checks the
 * fixtures' logits and perplexity with it).
 */
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>

#include "gptq_kernels.h"

#define GPTQ_VNNI_MAX_IN 16384 /* activations kept on the stack: 16 KB a column */
#define GPTQ_VNNI_COLS 4       /* columns per pass: 4 x 4 int32 sums in registers */
#define GPTQ_VNNI_WIDE 4       /* vectors of 16 outputs per chunk */
#define GPTQ_VNNI_BAND 1024    /* outputs whose float sums stay in L1 (and L2) */
#define QB 32                  /* inputs per activation block */

struct gptq_act {
    int32_t w[GPTQ_VNNI_MAX_IN / 4]; /* INT4: even, odd words per 8 inputs; INT8: per 4 */
    float d[GPTQ_VNNI_MAX_IN / QB];  /* block scales */
    float ds[GPTQ_VNNI_MAX_IN / QB]; /* d times the block's code sum */
};

/* x (n values) as int8 blocks arranged for `bits`. */
static void quantize_act(const float *x, int64_t n, int bits, struct gptq_act *a) {
    int64_t nb = (n + QB - 1) / QB;
    for (int64_t b = 0; b < nb; b++) {
        int8_t q[QB] = {0};
        float amax = 0;
        int64_t i0 = b * QB, k = n - i0 < QB ? n - i0 : QB;
        for (int64_t i = 0; i < k; i++) {
            float v = fabsf(x[i0 + i]);
            amax = v > amax ? v : amax;
        }
        float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int64_t i = 0; i < k; i++) { /* round to nearest even, as lrintf */
            q[i] = (int8_t)_mm_cvtss_si32(_mm_set_ss(x[i0 + i] * id));
            sum += q[i];
        }
        a->d[b] = d;
        a->ds[b] = d * (float)sum;
        uint8_t *w = (uint8_t *)(a->w + b * (QB / 4));
        if (bits == 8) {
            for (int i = 0; i < QB; i++) w[i] = (uint8_t)q[i];
        } else { /* per 8 inputs: the even ones' bytes, then the odd ones' */
            for (int r = 0; r < QB / 8; r++)
                for (int j = 0; j < 4; j++) {
                    w[r * 8 + j] = (uint8_t)q[r * 8 + 2 * j];
                    w[r * 8 + 4 + j] = (uint8_t)q[r * 8 + 2 * j + 1];
                }
        }
    }
}

/* Outputs [o0, o1) (a multiple of 16, at most GPTQ_VNNI_BAND) for NC
 * columns whose activations are a[0..NC). */
static inline __attribute__((always_inline)) void gptq_vnni_band(
    const struct gptq_matrix *m, int64_t o0, int64_t o1, const struct gptq_act *a, float *out,
    size_t os, const int NC, const int BITS) {
    const int pf = 32 / BITS, rows = QB / pf; /* word rows per activation block */
    const int64_t nb = o1 - o0, gs = m->l.group_size;
    const int64_t n_blocks = (m->n_in + QB - 1) / QB, bpg = m->l.n_groups == 1 ? n_blocks : gs / QB;
    const int zw = (int)((m->n_out + pf - 1) / pf);
    _Alignas(64) float facc[GPTQ_VNNI_COLS][GPTQ_VNNI_BAND], zb[GPTQ_VNNI_BAND];
    const __m512i lo = _mm512_set1_epi8(0x0f);
    for (int c = 0; c < NC; c++)
        for (int64_t k = 0; k < nb; k++) out[(size_t)c * os + o0 + k] = 0;
    for (int64_t g = 0; g < m->l.n_groups; g++) {
        /* the band's zero points, 16 at a time: 16 / pf words of qzeros
         * spread over the lanes (o0 is a multiple of 16) */
        const int32_t *zr = m->qzeros + g * zw;
        const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        const __m512i zidx = _mm512_srli_epi32(lane, BITS == 4 ? 3 : 2);
        const __m512i zsh = _mm512_slli_epi32(_mm512_and_si512(lane, _mm512_set1_epi32(pf - 1)),
                                              BITS == 4 ? 2 : 3);
        for (int64_t k = 0; k < nb; k += 16) {
            __m512i w = _mm512_maskz_loadu_epi32((__mmask16)((1u << (16 / pf)) - 1),
                                                 zr + (o0 + k) / pf);
            w = _mm512_srlv_epi32(_mm512_permutexvar_epi32(zidx, w), zsh);
            w = _mm512_add_epi32(_mm512_and_si512(w, _mm512_set1_epi32((1 << BITS) - 1)),
                                 _mm512_set1_epi32(m->l.zero_add));
            _mm512_store_ps(zb + k, _mm512_cvtepi32_ps(w));
            for (int c = 0; c < NC; c++) _mm512_store_ps(facc[c] + k, _mm512_setzero_ps());
        }
        float xs[GPTQ_VNNI_COLS] = {0};
        int64_t b1 = (g + 1) * bpg < n_blocks ? (g + 1) * bpg : n_blocks;
        for (int64_t b = g * bpg; b < b1; b++) {
            for (int c = 0; c < NC; c++) xs[c] += a[c].ds[b];
            const int32_t *base = m->qweight + b * rows * m->n_out + o0;
            /* the last block's word rows past the matrix: only when n_in
             * ends inside it (their activations are 0; never read) */
            int nr = (int)((((m->n_in + pf - 1) / pf) - b * rows) < rows
                               ? ((m->n_in + pf - 1) / pf) - b * rows
                               : rows);
            int64_t k = 0;
            for (; k < nb; k += GPTQ_VNNI_WIDE * 16) {
                int W = nb - k >= GPTQ_VNNI_WIDE * 16 ? GPTQ_VNNI_WIDE : (int)((nb - k) / 16);
                __m512i acc[GPTQ_VNNI_COLS][GPTQ_VNNI_WIDE];
#pragma GCC unroll 4
                for (int c = 0; c < NC; c++)
#pragma GCC unroll 4
                    for (int v = 0; v < GPTQ_VNNI_WIDE; v++) acc[c][v] = _mm512_setzero_si512();
                for (int r = 0; r < nr; r++) {
                    const int32_t *row = base + (int64_t)r * m->n_out + k;
                    if (BITS == 4) {
                        __m512i ev[GPTQ_VNNI_COLS], od[GPTQ_VNNI_COLS];
#pragma GCC unroll 4
                        for (int c = 0; c < NC; c++) {
                            ev[c] = _mm512_set1_epi32(a[c].w[(b * rows + r) * 2]);
                            od[c] = _mm512_set1_epi32(a[c].w[(b * rows + r) * 2 + 1]);
                        }
#pragma GCC unroll 4
                        for (int v = 0; v < GPTQ_VNNI_WIDE; v++) {
                            if (v >= W) break;
                            _mm_prefetch((const char *)(row + rows * m->n_out + v * 16), _MM_HINT_T0);
                            __m512i q = _mm512_loadu_si512((const void *)(row + v * 16));
                            __m512i qe = _mm512_and_si512(q, lo);
                            __m512i qo = _mm512_and_si512(_mm512_srli_epi32(q, 4), lo);
#pragma GCC unroll 4
                            for (int c = 0; c < NC; c++) {
                                acc[c][v] = _mm512_dpbusd_epi32(acc[c][v], qe, ev[c]);
                                acc[c][v] = _mm512_dpbusd_epi32(acc[c][v], qo, od[c]);
                            }
                        }
                    } else {
                        __m512i xv[GPTQ_VNNI_COLS];
#pragma GCC unroll 4
                        for (int c = 0; c < NC; c++) xv[c] = _mm512_set1_epi32(a[c].w[b * rows + r]);
#pragma GCC unroll 4
                        for (int v = 0; v < GPTQ_VNNI_WIDE; v++) {
                            if (v >= W) break;
                            _mm_prefetch((const char *)(row + rows * m->n_out + v * 16), _MM_HINT_T0);
                            __m512i q = _mm512_loadu_si512((const void *)(row + v * 16));
#pragma GCC unroll 4
                            for (int c = 0; c < NC; c++)
                                acc[c][v] = _mm512_dpbusd_epi32(acc[c][v], q, xv[c]);
                        }
                    }
                }
#pragma GCC unroll 4
                for (int c = 0; c < NC; c++) {
                    __m512 d = _mm512_set1_ps(a[c].d[b]);
#pragma GCC unroll 4
                    for (int v = 0; v < GPTQ_VNNI_WIDE; v++) {
                        if (v >= W) break;
                        float *f = facc[c] + k + v * 16;
                        _mm512_store_ps(f, _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(acc[c][v]),
                                                           _mm512_load_ps(f)));
                    }
                }
            }
        }
        for (int64_t k = 0; k < nb; k += 16) {
            __m512 s = _mm512_cvtph_ps(
                _mm256_loadu_si256((const __m256i *)(m->scales + g * m->n_out + o0 + k)));
            __m512 z = _mm512_load_ps(zb + k);
            for (int c = 0; c < NC; c++) {
                float *y = out + (size_t)c * os + o0 + k;
                __m512 t = _mm512_fnmadd_ps(z, _mm512_set1_ps(xs[c]), _mm512_load_ps(facc[c] + k));
                _mm512_storeu_ps(y, _mm512_fmadd_ps(s, t, _mm512_loadu_ps(y)));
            }
        }
    }
}

static void gptq_vnni_band_nc(const struct gptq_matrix *m, int64_t o0, int64_t o1,
                              const struct gptq_act *a, int nc, float *out, size_t os) {
#define VNNI_CASE(NC, B) gptq_vnni_band(m, o0, o1, a, out, os, NC, B); return
    if (m->l.bits == 4) {
        switch (nc) {
        case 1: VNNI_CASE(1, 4);
        case 2: VNNI_CASE(2, 4);
        case 3: VNNI_CASE(3, 4);
        default: VNNI_CASE(4, 4);
        }
    }
    switch (nc) {
    case 1: VNNI_CASE(1, 8);
    case 2: VNNI_CASE(2, 8);
    case 3: VNNI_CASE(3, 8);
    default: VNNI_CASE(4, 8);
    }
#undef VNNI_CASE
}

void gptq_mul_mat_vnni_avx512(const struct gptq_matrix *m, int64_t o0, int64_t o1,
                              const float *x, size_t x_stride, int n_cols, float *out,
                              size_t out_stride) {
    bool ok = !m->g_idx && (m->l.n_groups == 1 || m->l.group_size % QB == 0) &&
              m->n_in <= GPTQ_VNNI_MAX_IN && o1 - o0 >= 16;
    if (!ok) {
        gptq_mul_mat_avx512(m, o0, o1, x, x_stride, n_cols, out, out_stride);
        return;
    }
    static _Thread_local struct gptq_act act[GPTQ_VNNI_COLS];
    int64_t end = o0 + (o1 - o0) / 16 * 16;
    for (int c = 0; c < n_cols; c += GPTQ_VNNI_COLS) {
        int nc = n_cols - c < GPTQ_VNNI_COLS ? n_cols - c : GPTQ_VNNI_COLS;
        for (int k = 0; k < nc; k++)
            quantize_act(x + (size_t)(c + k) * x_stride, m->n_in, m->l.bits, &act[k]);
        for (int64_t o = o0; o < end; o += GPTQ_VNNI_BAND)
            gptq_vnni_band_nc(m, o, o + GPTQ_VNNI_BAND < end ? o + GPTQ_VNNI_BAND : end, act, nc,
                              out + (size_t)c * out_stride, out_stride);
    }
    if (end < o1) gptq_mul_mat_avx512(m, end, o1, x, x_stride, n_cols, out, out_stride);
}
