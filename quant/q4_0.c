/*
 * q4_0.c — Q4_0: blocks of 32 values as one f16 scale and 32 4-bit codes,
 * value = d * (code - 8). Its dot partner is Q8_0.
 *
 * The quantizer is ggml's reference rounding, which the gguf package
 * reproduces: d is the signed value of largest magnitude divided by -8, so
 * that value lands exactly on code 0 and the other side may clip at 15. The
 * first value of largest magnitude wins a tie, as numpy's argmax does.
 */
#include "quant_impl.h"

void q4_0_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = quant_f16_to_f32(b[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            dst[j] = (float)((b[i].qs[j] & 0xf) - 8) * d;
            dst[j + QK4_0 / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void q4_0_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0) {
        float d = quant_signed_absmax(src, QK4_0) / -8;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = quant_f32_to_f16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            /* x*id lies in [-8, 8]; +8.5 then truncation rounds half up */
            float v0 = src[j] * id, v1 = src[j + QK4_0 / 2] * id;
            int q0 = quant_clampi((int)(v0 + 8.5f), 0, 15);
            int q1 = quant_clampi((int)(v1 + 8.5f), 0, 15);
            b[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* Integer sum per block, one float scale per block. */
float q4_0_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q4_0 *a = w;
    const block_q8_0 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int32_t isum = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            isum += ((a[i].qs[j] & 0xf) - 8) * b[i].qs[j];
            isum += ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + QK4_0 / 2];
        }
        sum += (float)isum * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
    }
    return sum;
}
