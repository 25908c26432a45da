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

/* The 8 sums of a[0..7]'s lanes, in order: halves added, then three
 * rounds of hadd on the 256-bit halves. */
static inline __m256 hsum8x16(const __m512 a[8]) {
    __m256 b[8];
    for (int r = 0; r < 8; r++)
        b[r] = _mm256_add_ps(_mm512_castps512_ps256(a[r]),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[r]), 1)));
    __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(b[0], b[1]), _mm256_hadd_ps(b[2], b[3]));
    __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(b[4], b[5]), _mm256_hadd_ps(b[6], b[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20), _mm256_permute2f128_ps(h0, h1, 0x31));
}

/* As dot_rows_avx2: eight rows at a time, one reduction for all eight. */
static void dot_rows_avx512(float *s, const float *q, const float *k, long stride, int rows, int n,
                            float scale) {
    const __m256 vs = _mm256_set1_ps(scale);
    int t = 0;
    for (; t + 8 <= rows; t += 8) {
        const float *kt = k + t * stride;
        __m512 a[8];
        for (int r = 0; r < 8; r++) a[r] = _mm512_setzero_ps();
        for (int i = 0; i < n; i += 16) {
            __mmask16 m = n - i >= 16 ? 0xffff : tail_mask(n - i);
            __m512 qv = _mm512_maskz_loadu_ps(m, q + i);
#pragma GCC unroll 8
            for (int r = 0; r < 8; r++)
                a[r] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, kt + r * stride + i), a[r]);
        }
        _mm256_storeu_ps(s + t, _mm256_mul_ps(hsum8x16(a), vs));
    }
    for (; t < rows; t++) s[t] = dot_avx512(q, k + t * stride, n) * scale;
}

/* y in registers, 128 values (8 accumulators) at a time; a partial last
 * chunk goes 16 values at a time, masked. */
/* 16 values of row data, v + i in floats or (half) in f16, lanes outside
 * m zero. */
static inline __m512 ld_row(const void *v, long i, bool half, __mmask16 m) {
    if (half) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)v + i));
    return _mm512_maskz_loadu_ps(m, (const float *)v + i);
}

/* y[0 .. 16*NV) += sum_t w[t] * v_t over the same span, the last vector
 * masked by ml: NV accumulators kept in registers across all rows. One
 * vector (a block's scores, 16 positions) would be one chain of dependent
 * FMAs, so it is split over four chains of rows. */
static inline __attribute__((always_inline)) void
mad_span(float *y, const void *v, bool half, long stride, const float *w, int rows, int NV, __mmask16 ml) {
    __m512 a[8];
#pragma GCC unroll 8
    for (int c = 0; c < NV; c++) a[c] = _mm512_maskz_loadu_ps(c == NV - 1 ? ml : 0xffff, y + 16 * c);
    if (NV == 1) {
        __m512 b1 = _mm512_setzero_ps(), b2 = b1, b3 = b1;
        int t = 0;
        for (; t + 4 <= rows; t += 4) {
            a[0] = _mm512_fmadd_ps(ld_row(v, t * stride, half, ml), _mm512_set1_ps(w[t]), a[0]);
            b1 = _mm512_fmadd_ps(ld_row(v, (t + 1) * stride, half, ml), _mm512_set1_ps(w[t + 1]), b1);
            b2 = _mm512_fmadd_ps(ld_row(v, (t + 2) * stride, half, ml), _mm512_set1_ps(w[t + 2]), b2);
            b3 = _mm512_fmadd_ps(ld_row(v, (t + 3) * stride, half, ml), _mm512_set1_ps(w[t + 3]), b3);
        }
        for (; t < rows; t++) a[0] = _mm512_fmadd_ps(ld_row(v, t * stride, half, ml), _mm512_set1_ps(w[t]), a[0]);
        a[0] = _mm512_add_ps(a[0], _mm512_add_ps(b1, _mm512_add_ps(b2, b3)));
    } else {
        for (int t = 0; t < rows; t++) {
            const __m512 wt = _mm512_set1_ps(w[t]);
#pragma GCC unroll 8
            for (int c = 0; c < NV; c++)
                a[c] = _mm512_fmadd_ps(ld_row(v, t * stride + 16 * c, half, c == NV - 1 ? ml : 0xffff), wt, a[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < NV; c++) _mm512_mask_storeu_ps(y + 16 * c, c == NV - 1 ? ml : 0xffff, a[c]);
}

/* mad_rows over spans of up to 128 values, each span's NV a constant. */
static inline __attribute__((always_inline)) void
mad_rows_any(float *y, const void *v, bool half, long stride, const float *w, int rows, int n) {
    for (int j = 0; j < n; j += 128) {
        int left = n - j, nv = left >= 128 ? 8 : (left + 15) / 16;
        __mmask16 ml = left >= 16 * nv ? (__mmask16)0xffff : tail_mask(left - 16 * (nv - 1));
        const void *vj = half ? (const void *)((const uint16_t *)v + j) : (const void *)((const float *)v + j);
        switch (nv) {
        case 1: mad_span(y + j, vj, half, stride, w, rows, 1, ml); break;
        case 2: mad_span(y + j, vj, half, stride, w, rows, 2, ml); break;
        case 3: mad_span(y + j, vj, half, stride, w, rows, 3, ml); break;
        case 4: mad_span(y + j, vj, half, stride, w, rows, 4, ml); break;
        case 5: mad_span(y + j, vj, half, stride, w, rows, 5, ml); break;
        case 6: mad_span(y + j, vj, half, stride, w, rows, 6, ml); break;
        case 7: mad_span(y + j, vj, half, stride, w, rows, 7, ml); break;
        default: mad_span(y + j, vj, half, stride, w, rows, 8, ml); break;
        }
    }
}

static void mad_rows_avx512(float *y, const float *v, long stride, const float *w, int rows, int n) {
    mad_rows_any(y, v, false, stride, w, rows, n);
}

static void mad_rows_h_avx512(float *y, const uint16_t *v, long stride, const float *w, int rows, int n) {
    mad_rows_any(y, v, true, stride, w, rows, n);
}

const struct vec_kernels vec_avx512 = VEC_KERNELS(avx512);
