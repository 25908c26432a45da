/*
 * q8_0.c — Q8_0 and Q8_1: blocks of 32 int8 codes with an f16 scale,
 * value = d * code. Q8_0 is both a weight type and the activation format of
 * Q4_0/Q5_0/Q8_0 dots; Q8_1 is activation-only (partner of Q4_1/Q5_1) and
 * also stores sum(codes), so that s = d * sum(codes) is exact.
 *
 * Quantization is ggml's reference rounding (the gguf package's for Q8_0):
 * d = absmax / 127, code = roundf(x * (1/d)), halves away from zero.
 */
#include "quant_impl.h"

#include <math.h>

static float block_absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    return amax;
}

/* One block of 32 codes, as both formats have them: returns the unrounded
 * d = absmax / 127 and the sum of the codes (for Q8_1's s). */
static inline float q8_block(const float *src, int8_t *qs, int *sum) {
    float d = block_absmax(src, QK8_0) / 127;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    int s = 0;
    for (int j = 0; j < QK8_0; j++) {
        qs[j] = (int8_t)roundf(src[j] * id);
        s += qs[j];
    }
    *sum = s;
    return d;
}

/* ------------------------------------------------------------------- Q8_0 */

void q8_0_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        float d = quant_f16_to_f32(b[i].d);
        for (int j = 0; j < QK8_0; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void q8_0_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q8_0 *b = dst;
    int sum;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0)
        b[i].d = quant_f32_to_f16(q8_block(src, b[i].qs, &sum));
}

float q8_0_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q8_0 *a = w, *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int32_t isum = 0;
        for (int j = 0; j < QK8_0; j++) isum += a[i].qs[j] * b[i].qs[j];
        sum += (float)isum * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
    }
    return sum;
}

/* ------------------------------------------------------------------- Q8_1 */

/* Ignores s: the values are d * code alone. */
void q8_1_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK8_1; i++, dst += QK8_1) {
        float d = quant_f16_to_f32(b[i].d);
        for (int j = 0; j < QK8_1; j++) dst[j] = (float)b[i].qs[j] * d;
    }
}

void q8_1_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        int sum;
        float d = q8_block(src, b[i].qs, &sum);
        b[i].d = quant_f32_to_f16(d);
        b[i].sum = (int16_t)sum;
    }
}
