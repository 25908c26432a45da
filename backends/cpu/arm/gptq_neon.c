/*
 * gptq_neon.c — GPTQ INT4/INT8 matrix kernels for AArch64 NEON: four
 * outputs (one 128-bit load of qweight words) at a time, float
 * activations. The body is gptq_simd.h's; this file supplies its vector
 * vocabulary.
 */
#include <arm_neon.h>
#include <stdbool.h>
#include <string.h>

#include "gptq_kernels.h"

typedef float32x4_t gv;
typedef uint32x4_t gvi;
#define GV_LANES 4
#define GV_WIDE 4 /* 4 x 4 accumulators of 32 registers */
#define GPTQ_NAME(x) gptq_##x##_neon

static inline gv gv_zero(void) { return vdupq_n_f32(0); }
static inline gv gv_fma(gv a, gv b, gv c) { return vfmaq_f32(c, a, b); }
static inline gv gv_sub(gv a, gv b) { return vsubq_f32(a, b); }
static inline gv gv_set1(float v) { return vdupq_n_f32(v); }
static inline gv gv_loadu(const float *p) { return vld1q_f32(p); }
static inline void gv_storeu(float *p, gv v) { vst1q_f32(p, v); }
static inline gvi gvi_loadu(const int32_t *p) { return vld1q_u32((const uint32_t *)p); }
static inline gv gv_q(gvi q, int sh, int mask) {
    return vcvtq_f32_u32(vandq_u32(vshlq_u32(q, vdupq_n_s32(-sh)), vdupq_n_u32((uint32_t)mask)));
}
static inline gv gv_scales(const uint16_t *p) {
    float16x4_t h;
    memcpy(&h, p, sizeof h);
    return vcvt_f32_f16(h);
}
static inline void gv_prefetch(const void *p) { __builtin_prefetch(p); }
static inline gv gv_mul(gv a, gv b) { return vmulq_f32(a, b); }

#include "gptq_simd.h"
