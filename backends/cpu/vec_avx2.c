/*
 * vec_avx2.c — AVX2+FMA float kernels (vec.h): 8 lanes, with tails through
 * a zero-padded stack copy so every lane runs the same code. exp as in
 * vec_avx512.c.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "vec.h"

static inline __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Copy a tail of k < 8 floats into a zeroed 8-float buffer. */
static inline __m256 load_tail(const float *p, int k) {
    float t[8] = {0};
    memcpy(t, p, (size_t)k * sizeof *t);
    return _mm256_loadu_ps(t);
}

static inline void store_tail(float *p, __m256 v, int k) {
    float t[8];
    _mm256_storeu_ps(t, v);
    memcpy(p, t, (size_t)k * sizeof *t);
}

static float dot_avx2(const float *a, const float *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < n) s1 = _mm256_fmadd_ps(load_tail(a + i, n - i), load_tail(b + i, n - i), s1);
    return hsum256(_mm256_add_ps(s0, s1));
}

static void mad_avx2(float *y, const float *x, float a, int n) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
    if (i < n)
        store_tail(y + i, _mm256_fmadd_ps(load_tail(x + i, n - i), va, load_tail(y + i, n - i)), n - i);
}

static void scale_avx2(float *y, float a, int n) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), va));
    if (i < n) store_tail(y + i, _mm256_mul_ps(load_tail(y + i, n - i), va), n - i);
}

static void scale_f16_avx2(float *y, float a, int n) {
    __m256 va = _mm256_set1_ps(a);
    for (int i = 0; i < n; i += 8) {
        int k = n - i < 8 ? n - i : 8;
        __m256 x = k == 8 ? _mm256_loadu_ps(y + i) : load_tail(y + i, k);
        __m256 r = _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_mul_ps(x, va), _MM_FROUND_TO_NEAREST_INT));
        if (k == 8) _mm256_storeu_ps(y + i, r);
        else store_tail(y + i, r, k);
    }
}

static float exp_sub_avx2(float *x, float max, int n) {
    __m256 vm = _mm256_set1_ps(max), sum = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    float s = hsum256(sum);
    if (i < n) {
        float t[8];
        _mm256_storeu_ps(t, exp256(_mm256_sub_ps(load_tail(x + i, n - i), vm)));
        for (int k = 0; k < n - i; k++) s += t[k];
        memcpy(x + i, t, (size_t)(n - i) * sizeof *t);
    }
    return s;
}

static float max_avx2(const float *x, int n) {
    __m256 m = _mm256_set1_ps(x[0]);
    int i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float t[8], r;
    _mm256_storeu_ps(t, m);
    r = t[0];
    for (int k = 1; k < 8; k++) r = t[k] > r ? t[k] : r;
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

static void silu_mul_avx2(float *g, const float *u, int n) {
    __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(g + i);
        __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp256(_mm256_sub_ps(zero, v))));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    if (i < n) {
        __m256 v = load_tail(g + i, n - i);
        __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, exp256(_mm256_sub_ps(zero, v))));
        store_tail(g + i, _mm256_mul_ps(s, load_tail(u + i, n - i)), n - i);
    }
}

/* Lanes 0..k-1 of 8 on (k in 1..8), for masked loads of a tail. */
static inline __m256i lane_mask(int k) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 8 values of row data, v + i in floats or (half) in f16; a short last
 * vector (k < 8 values) reads only those, the other lanes zero. */
static inline __m256 ld_row(const void *v, long i, bool half, int k) {
    if (half) {
        if (k >= 8) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)v + i)));
        uint16_t t[8] = {0};
        memcpy(t, (const uint16_t *)v + i, (size_t)k * sizeof *t);
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t));
    }
    if (k >= 8) return _mm256_loadu_ps((const float *)v + i);
    return _mm256_maskload_ps((const float *)v + i, lane_mask(k));
}

/* y rows r < MR, NV vectors each (the last holding kl values), += sum
 * over the block's rows t of w[r*ldw + t] * v_t (see vec_avx512.c). */
static inline __attribute__((always_inline)) void
mad_tile(float *y, long ldy, const void *v, bool half, long stride, const float *w, long ldw,
         int rows, int MR, int NV, int kl) {
    __m256 a[8][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int c = 0; c < NV; c++)
            a[r][c] = c < NV - 1 || kl == 8 ? _mm256_loadu_ps(y + r * ldy + 8 * c)
                                            : _mm256_maskload_ps(y + r * ldy + 8 * c, lane_mask(kl));
    for (int t = 0; t < rows; t++) {
        __m256 x[2];
#pragma GCC unroll 2
        for (int c = 0; c < NV; c++) x[c] = ld_row(v, t * stride + 8 * c, half, c == NV - 1 ? kl : 8);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m256 wr = _mm256_broadcast_ss(w + r * ldw + t);
#pragma GCC unroll 2
            for (int c = 0; c < NV; c++) a[r][c] = _mm256_fmadd_ps(x[c], wr, a[r][c]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int c = 0; c < NV; c++) {
            if (c < NV - 1 || kl == 8) _mm256_storeu_ps(y + r * ldy + 8 * c, a[r][c]);
            else _mm256_maskstore_ps(y + r * ldy + 8 * c, lane_mask(kl), a[r][c]);
        }
}

/* mad_tile over all m rows of y, MR rows at a time: 8 for one vector, 6
 * for two, so the accumulators, a row of v and the weight fit in the 16
 * registers. */
static inline __attribute__((always_inline)) void
mad_tiles(float *y, long ldy, const void *v, bool half, long stride, const float *w, long ldw,
          int m, int rows, int NV, int kl) {
    const int most = NV == 1 ? 8 : 6;
    for (int r0 = 0; r0 < m; r0 += most) {
        float *yr = y + r0 * ldy;
        const float *wr = w + r0 * ldw;
        switch (m - r0 < most ? m - r0 : most) {
        case 1: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 1, NV, kl); break;
        case 2: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 2, NV, kl); break;
        case 3: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 3, NV, kl); break;
        case 4: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 4, NV, kl); break;
        case 5: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 5, NV, kl); break;
        case 6: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, 6, NV, kl); break;
        case 7: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, NV == 1 ? 7 : 6, NV, kl); break;
        default: mad_tile(yr, ldy, v, half, stride, wr, ldw, rows, NV == 1 ? 8 : 6, NV, kl); break;
        }
    }
}

/* mad_rows_m over spans of up to 16 values. */
static inline __attribute__((always_inline)) void
mad_rows_m_any(float *y, long ldy, const void *v, bool half, long stride, const float *w, long ldw,
               int m, int rows, int n) {
    for (int j = 0; j < n; j += 16) {
        int left = n - j, kl = left > 8 ? (left >= 16 ? 8 : left - 8) : left;
        const void *vj = half ? (const void *)((const uint16_t *)v + j) : (const void *)((const float *)v + j);
        if (left > 8) mad_tiles(y + j, ldy, vj, half, stride, w, ldw, m, rows, 2, kl);
        else mad_tiles(y + j, ldy, vj, half, stride, w, ldw, m, rows, 1, kl);
    }
}

static void mad_rows_m_avx2(float *y, long ldy, const float *v, long stride, const float *w, long ldw,
                            int m, int rows, int n) {
    mad_rows_m_any(y, ldy, v, false, stride, w, ldw, m, rows, n);
}

static void mad_rows_mh_avx2(float *y, long ldy, const uint16_t *v, long stride, const float *w,
                             long ldw, int m, int rows, int n) {
    mad_rows_m_any(y, ldy, v, true, stride, w, ldw, m, rows, n);
}

const struct vec_kernels vec_avx2 = VEC_KERNELS(avx2);
