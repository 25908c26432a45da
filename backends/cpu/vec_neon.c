/*
 * vec_neon.c — AArch64 NEON float kernels (vec.h): 4 lanes, scalar tails
 * with the same polynomial exp, so every element gets the same math.
 */
#include <arm_neon.h>
#include <math.h>
#include <stdbool.h>

#include "vec.h"

static inline float32x4_t exp128(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3f)), vdupq_n_f32(88.7f));
    float32x4_t n = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t e = vshlq_n_s32(vcvtnq_s32_f32(n), 23);
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), e));
}

static inline float exp1(float x) { return vgetq_lane_f32(exp128(vdupq_n_f32(x)), 0); }

static float dot_neon(const float *a, const float *b, int n) {
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void mad_neon(float *y, const float *x, float a, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void scale_neon(float *y, float a, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), a));
    for (; i < n; i++) y[i] *= a;
}

static void scale_f16_neon(float *y, float a, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vcvt_f32_f16(vcvt_f16_f32(vmulq_n_f32(vld1q_f32(y + i), a))));
    for (; i < n; i++) y[i] = vgetq_lane_f32(vcvt_f32_f16(vcvt_f16_f32(vdupq_n_f32(y[i] * a))), 0);
}

static float exp_sub_neon(float *x, float max, int n) {
    float32x4_t vm = vdupq_n_f32(max), sum = vdupq_n_f32(0);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t e = exp128(vsubq_f32(vld1q_f32(x + i), vm));
        vst1q_f32(x + i, e);
        sum = vaddq_f32(sum, e);
    }
    float s = vaddvq_f32(sum);
    for (; i < n; i++) s += (x[i] = exp1(x[i] - max));
    return s;
}

static float max_neon(const float *x, int n) {
    float32x4_t m = vdupq_n_f32(x[0]);
    int i = 0;
    for (; i + 4 <= n; i += 4) m = vmaxq_f32(m, vld1q_f32(x + i));
    float r = vmaxvq_f32(m);
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

static void silu_mul_neon(float *g, const float *u, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(g + i);
        float32x4_t s = vdivq_f32(v, vaddq_f32(vdupq_n_f32(1.0f), exp128(vnegq_f32(v))));
        vst1q_f32(g + i, vmulq_f32(s, vld1q_f32(u + i)));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + exp1(-g[i])) * u[i];
}

/* y in registers, 32 values (8 accumulators) at a time; the rest through
 * mad. */
static void mad_row_neon(float *y, const float *v, long stride, const float *w, int rows, int n) {
    int j = 0;
    for (; j + 32 <= n; j += 32) {
        float32x4_t a[8];
        for (int c = 0; c < 8; c++) a[c] = vld1q_f32(y + j + 4 * c);
        for (int t = 0; t < rows; t++) {
            const float *vt = v + t * stride + j;
            for (int c = 0; c < 8; c++) a[c] = vfmaq_n_f32(a[c], vld1q_f32(vt + 4 * c), w[t]);
        }
        for (int c = 0; c < 8; c++) vst1q_f32(y + j + 4 * c, a[c]);
    }
    if (j < n)
        for (int t = 0; t < rows; t++) mad_neon(y + j, v + t * stride + j, w[t], n - j);
}

/* As mad_row_neon over f16 rows, 4 values at a time widened with FCVTL;
 * a short tail converts value by value. */
static void mad_row_h_neon(float *y, const uint16_t *v, long stride, const float *w, int rows, int n) {
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        float32x4_t a = vld1q_f32(y + j);
        for (int t = 0; t < rows; t++)
            a = vfmaq_n_f32(a, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(v + t * stride + j))), w[t]);
        vst1q_f32(y + j, a);
    }
    for (; j < n; j++) {
        float a = y[j];
        for (int t = 0; t < rows; t++) {
            float16x4_t h = vreinterpret_f16_u16(vdup_n_u16(v[t * stride + j]));
            a = fmaf(w[t], vgetq_lane_f32(vcvt_f32_f16(h), 0), a);
        }
        y[j] = a;
    }
}
/* Four values of row data at v + i, floats or (half) f16 widened. */
static inline float32x4_t ld4(const void *v, long i, bool half) {
    if (half) return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)v + i)));
    return vld1q_f32((const float *)v + i);
}

/* mad_rows for m rows of y: tiles of 4 rows by 16 values (16
 * accumulators), each row of v loaded once per tile; spans narrower than
 * 16 values and the last rows of y through the one-row kernels. */
static inline void mad_rows_m_any(float *y, long ldy, const void *v, bool half, long stride,
                                  const float *w, long ldw, int m, int rows, int n) {
    int j = 0, r0 = 0;
    for (; j + 16 <= n; j += 16) {
        for (r0 = 0; r0 + 4 <= m; r0 += 4) {
            float32x4_t a[4][4];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) a[r][c] = vld1q_f32(y + (r0 + r) * ldy + j + 4 * c);
            for (int t = 0; t < rows; t++) {
                float32x4_t x[4];
                for (int c = 0; c < 4; c++) x[c] = ld4(v, t * stride + j + 4 * c, half);
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++) a[r][c] = vfmaq_n_f32(a[r][c], x[c], w[(r0 + r) * ldw + t]);
            }
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) vst1q_f32(y + (r0 + r) * ldy + j + 4 * c, a[r][c]);
        }
    }
    for (int r = 0; r < m; r++) {
        /* what the tiles left: the span past j for every row, and the rows
         * past r0 (of the spans before j) */
        int from = r >= r0 ? 0 : j;
        if (from >= n) continue;
        float *yr = y + r * ldy + from;
        const float *wr = w + r * ldw;
        if (half) mad_row_h_neon(yr, (const uint16_t *)v + from, stride, wr, rows, n - from);
        else mad_row_neon(yr, (const float *)v + from, stride, wr, rows, n - from);
    }
}

static void mad_rows_m_neon(float *y, long ldy, const float *v, long stride, const float *w, long ldw,
                            int m, int rows, int n) {
    mad_rows_m_any(y, ldy, v, false, stride, w, ldw, m, rows, n);
}

static void mad_rows_mh_neon(float *y, long ldy, const uint16_t *v, long stride, const float *w,
                             long ldw, int m, int rows, int n) {
    mad_rows_m_any(y, ldy, v, true, stride, w, ldw, m, rows, n);
}

const struct vec_kernels vec_neon = VEC_KERNELS(neon);
