/*
 * q4_1.c — Q4_1: blocks of 32 values as f16 scale d, f16 offset m and 32
 * 4-bit codes, value = d * code + m. Its dot partner is Q8_1.
 *
 * The quantizer is ggml's reference rounding (the gguf package's too): m is
 * the block minimum, d spans min..max in 15 steps, codes round half up.
 */
#include "quant_impl.h"

void q4_1_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        float d = quant_f16_to_f32(b[i].d), m = quant_f16_to_f32(b[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            dst[j] = d * (float)(b[i].qs[j] & 0xf) + m;
            dst[j + QK4_1 / 2] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}

void q4_1_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1) {
        float min, max;
        quant_min_max(src, QK4_1, &min, &max);
        float d = (max - min) / 15;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = quant_f32_to_f16(d);
        b[i].m = quant_f32_to_f16(min);
        for (int j = 0; j < QK4_1 / 2; j++) {
            float v0 = (src[j] - min) * id, v1 = (src[j + QK4_1 / 2] - min) * id;
            int q0 = quant_clampi((int)(v0 + 0.5f), 0, 15);
            int q1 = quant_clampi((int)(v1 + 0.5f), 0, 15);
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* sum(w*x) = d_w*d_x*sum(code*q) + m_w*sum(x); the Q8_1 block carries
 * sum(q), and s = d_x*sum(q) is exact in float, so the offset costs one
 * rounded multiply per block (ggml rounds s to f16 first). */
float q4_1_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q4_1 *a = w;
    const block_q8_1 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int32_t isum = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            isum += (a[i].qs[j] & 0xf) * b[i].qs[j];
            isum += (a[i].qs[j] >> 4) * b[i].qs[j + QK4_1 / 2];
        }
        float dd = quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d);
        sum += (float)isum * dd + quant_f16_to_f32(a[i].m) * quant_q8_1_s(&b[i]);
    }
    return sum;
}
