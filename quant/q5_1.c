/*
 * q5_1.c — Q5_1: blocks of 32 values as f16 scale d, f16 offset m, the
 * fifth bits in a 32-bit mask and the low nibbles, value = d*code + m. Its
 * dot partner is Q8_1.
 *
 * The quantizer is ggml's reference rounding (the gguf package's too), the
 * 5-bit twin of Q4_1.
 */
#include "quant_impl.h"

void q5_1_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        float d = quant_f16_to_f32(b[i].d), m = quant_f16_to_f32(b[i].m);
        uint32_t qh = quant_q5_high_bits(b[i].qh);
        for (int j = 0; j < QK5_1; j++)
            dst[j] = d * (float)quant_q5_code(b[i].qs, qh, j) + m;
    }
}

void q5_1_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1) {
        float min, max;
        quant_min_max(src, QK5_1, &min, &max);
        float d = (max - min) / 31;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = quant_f32_to_f16(d);
        b[i].m = quant_f32_to_f16(min);
        uint32_t qh = 0;
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int j = 0; j < QK5_1; j++) {
            float v = (src[j] - min) * id;
            int q = quant_clampi((int)(v + 0.5f), 0, 31);
            quant_q5_put(b[i].qs, &qh, j, q);
        }
        quant_q5_put_mask(b[i].qh, qh);
    }
}

/* Same split as Q4_1: integer code sum plus offset times Q8_1's s. */
float q5_1_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q5_1 *a = w;
    const block_q8_1 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        uint32_t qh = quant_q5_high_bits(a[i].qh);
        int32_t isum = 0;
        for (int j = 0; j < QK5_1; j++)
            isum += quant_q5_code(a[i].qs, qh, j) * b[i].qs[j];
        float dd = quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d);
        sum += (float)isum * dd + quant_f16_to_f32(a[i].m) * quant_q8_1_s(&b[i]);
    }
    return sum;
}
