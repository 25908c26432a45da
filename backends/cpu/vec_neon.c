/*
 * vec_neon.c — AArch64 NEON float kernels (vec.h): 4 lanes, scalar tails
 * with the same polynomial exp, so every element gets the same math.
 */
#include <arm_neon.h>

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

/* Four rows at a time, one pairwise reduction for all four. */
static void dot_rows_neon(float *s, const float *q, const float *k, long stride, int rows, int n,
                          float scale) {
    const int full = n & ~3;
    int t = 0;
    for (; t + 4 <= rows; t += 4) {
        const float *kt = k + t * stride;
        float32x4_t a[4];
        for (int r = 0; r < 4; r++) a[r] = vdupq_n_f32(0);
        for (int i = 0; i < full; i += 4) {
            float32x4_t qv = vld1q_f32(q + i);
            for (int r = 0; r < 4; r++) a[r] = vfmaq_f32(a[r], qv, vld1q_f32(kt + r * stride + i));
        }
        float32x4_t sum = vpaddq_f32(vpaddq_f32(a[0], a[1]), vpaddq_f32(a[2], a[3]));
        float tl[4];
        vst1q_f32(tl, sum);
        for (int r = 0; r < 4; r++) {
            for (int i = full; i < n; i++) tl[r] += q[i] * kt[r * stride + i];
            s[t + r] = tl[r] * scale;
        }
    }
    for (; t < rows; t++) s[t] = dot_neon(q, k + t * stride, n) * scale;
}

/* y in registers, 32 values (8 accumulators) at a time; the rest through
 * mad. */
static void mad_rows_neon(float *y, const float *v, long stride, const float *w, int rows, int n) {
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

/* As mad_rows_neon over f16 rows, 4 values at a time widened with FCVTL;
 * a short tail converts value by value. */
static void mad_rows_h_neon(float *y, const uint16_t *v, long stride, const float *w, int rows, int n) {
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
            a += w[t] * vgetq_lane_f32(vcvt_f32_f16(h), 0);
        }
        y[j] = a;
    }
}
const struct vec_kernels vec_neon = VEC_KERNELS(neon);
