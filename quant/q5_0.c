/*
 * q5_0.c — Q5_0: blocks of 32 values as one f16 scale, the fifth bits of
 * the 32 codes in a 32-bit mask and their low nibbles, value = d*(code-16).
 * Its dot partner is Q8_0.
 *
 * The quantizer is ggml's reference rounding (the gguf package's too), the
 * 5-bit twin of Q4_0: d = (signed value of largest magnitude) / -16.
 */
#include "quant_impl.h"

void q5_0_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        float d = quant_f16_to_f32(b[i].d);
        uint32_t qh = quant_q5_high_bits(b[i].qh);
        for (int j = 0; j < QK5_0; j++)
            dst[j] = (float)(quant_q5_code(b[i].qs, qh, j) - 16) * d;
    }
}

void q5_0_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0) {
        float d = quant_signed_absmax(src, QK5_0) / -16;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = quant_f32_to_f16(d);
        uint32_t qh = 0;
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int j = 0; j < QK5_0; j++) {
            float v = src[j] * id;
            int q = quant_clampi((int)(v + 16.5f), 0, 31);
            quant_q5_put(b[i].qs, &qh, j, q);
        }
        quant_q5_put_mask(b[i].qh, qh);
    }
}

float q5_0_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q5_0 *a = w;
    const block_q8_0 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        uint32_t qh = quant_q5_high_bits(a[i].qh);
        int32_t isum = 0;
        for (int j = 0; j < QK5_0; j++)
            isum += (quant_q5_code(a[i].qs, qh, j) - 16) * b[i].qs[j];
        sum += (float)isum * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
    }
    return sum;
}
