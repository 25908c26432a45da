/*
 * vec_avx512.c — AVX-512F float kernels (vec.h): 16 lanes, masked tails, so
 * no scalar remainder loops. exp is a Cephes-style range reduction plus a
 * degree-6 polynomial (about 2 ulp), with the input clamped so the result
 * never overflows.
 */
#include <immintrin.h>
#include <stdbool.h>

#include "vec.h"

static inline __mmask16 tail_mask(int n) { return (__mmask16)((1u << n) - 1); }

static inline __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

static float dot_avx512(const float *a, const float *b, int n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static void mad_avx512(float *y, const float *x, float a, int n) {
    __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
        __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), va, _mm512_maskz_loadu_ps(m, y + i));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

static void scale_avx512(float *y, float a, int n) {
    __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, y + i), va));
    }
}

static void scale_f16_avx512(float *y, float a, int n) {
    __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
        __m256i h = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, y + i), va), _MM_FROUND_TO_NEAREST_INT);
        _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(h));
    }
}

static float exp_sub_avx512(float *x, float max, int n) {
    __m512 vm = _mm512_set1_ps(max), sum = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
        __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm));
        _mm512_mask_storeu_ps(x + i, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

static float max_avx512(const float *x, int n) {
    __m512 m = _mm512_set1_ps(x[0]);
    for (int i = 0; i < n; i += 16) {
        __mmask16 k = n - i >= 16 ? 0xffff : tail_mask(n - i);
        m = _mm512_mask_max_ps(m, k, m, _mm512_maskz_loadu_ps(k, x + i));
    }
    return _mm512_reduce_max_ps(m);
}

static void silu_mul_avx512(float *g, const float *u, int n) {
    __m512 one = _mm512_set1_ps(1.0f);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
        __m512 v = _mm512_maskz_loadu_ps(m, g + i);
        __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), v))));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* 16 values of row data, v + i in floats or (half) in f16, lanes outside
 * m zero. */
static inline __m512 ld_row(const void *v, long i, bool half, __mmask16 m) {
    if (half) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)v + i));
    return _mm512_maskz_loadu_ps(m, (const float *)v + i);
}

/* y rows r < MR, NV vectors each (the last masked by ml), += sum over the
 * block's rows t of w[r*ldw + t] * v_t: MR*NV accumulators, each row of v
 * loaded (and widened) once for all MR rows of y. */
static inline __attribute__((always_inline)) void
mad_tile(float *y, long ldy, const void *v, bool half, long stride, const float *w, long ldw,
         int rows, int MR, int NV, __mmask16 ml) {
    __m512 a[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++)
            a[r][c] = _mm512_maskz_loadu_ps(c == NV - 1 ? ml : 0xffff, y + r * ldy + 16 * c);
    for (int t = 0; t < rows; t++) {
        __m512 x[4];
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) x[c] = ld_row(v, t * stride + 16 * c, half, c == NV - 1 ? ml : 0xffff);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512 wr = _mm512_set1_ps(w[r * ldw + t]);
#pragma GCC unroll 4
            for (int c = 0; c < NV; c++) a[r][c] = _mm512_fmadd_ps(x[c], wr, a[r][c]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++)
            _mm512_mask_storeu_ps(y + r * ldy + 16 * c, c == NV - 1 ? ml : 0xffff, a[r][c]);
}

/* mad_tile over all m rows of y, MR rows at a time: at most 8, and at most
 * 6 for spans of 3 or 4 vectors, so the accumulators (24 at most), a row
 * of v and the broadcast weight fit in the 32 registers. */
static inline __attribute__((always_inline)) void
mad_tiles(float *y, long ldy, const void *v, bool half, long stride, const float *w, long ldw,
          int m, int rows, int NV, __mmask16 ml) {
    const int most = NV <= 2 ? 8 : 6;
    for (int r0 = 0; r0 < m; r0 += most) {
        float *yr = y + r0 * ldy;
        const float *wr = w + r0 * ldw;
        switch (m - r0 < most ? m - r0 : most) {
        case 1: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 1, NV, ml); break;
        case 2: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 2, NV, ml); break;
        case 3: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 3, NV, ml); break;
        case 4: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 4, NV, ml); break;
        case 5: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 5, NV, ml); break;
        case 6: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 6, NV, ml); break;
        case 7: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, most < 7 ? most : 7, NV, ml); break;
        default: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, most < 8 ? most : 8, NV, ml); break;
        }
    }
}

/* mad_rows_m over spans of up to 64 values, each span's NV a constant. */
static inline __attribute__((always_inline)) void
mad_rows_m_any(float *y, long ldy, const void *v, bool half, long stride, const float *w, long ldw,
               int m, int rows, int n) {
    for (int j = 0; j < n; j += 64) {
        int left = n - j, nv = left >= 64 ? 4 : (left + 15) / 16;
        __mmask16 ml = left >= 16 * nv ? (__mmask16)0xffff : tail_mask(left - 16 * (nv - 1));
        const void *vj = half ? (const void *)((const uint16_t *)v + j) : (const void *)((const float *)v + j);
        switch (nv) {
        case 1: mad_tiles(y + j, ldy, vj, half, stride, w, ldw, m, rows, 1, ml); break;
        case 2: mad_tiles(y + j, ldy, vj, half, stride, w, ldw, m, rows, 2, ml); break;
        case 3: mad_tiles(y + j, ldy, vj, half, stride, w, ldw, m, rows, 3, ml); break;
        default: mad_tiles(y + j, ldy, vj, half, stride, w, ldw, m, rows, 4, ml); break;
        }
    }
}

static void mad_rows_m_avx512(float *y, long ldy, const float *v, long stride, const float *w, long ldw,
                              int m, int rows, int n) {
    mad_rows_m_any(y, ldy, v, false, stride, w, ldw, m, rows, n);
}

static void mad_rows_mh_avx512(float *y, long ldy, const uint16_t *v, long stride, const float *w,
                               long ldw, int m, int rows, int n) {
    mad_rows_m_any(y, ldy, v, true, stride, w, ldw, m, rows, n);
}

const struct vec_kernels vec_avx512 = VEC_KERNELS(avx512);
