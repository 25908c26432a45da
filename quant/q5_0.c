/*
 * q5_0.c — Q5_0: blocks of 32 values as one f16 scale, the fifth bits of
 * the 32 codes in a 32-bit mask and their low nibbles, value = d*(code-16).
 * Its dot partner is Q8_0.
 *
 * The quantizer is ggml's reference rounding (the gguf package's too), the
 * 5-bit twin of Q4_0: d = (signed value of largest magnitude) / -16.
 */
#include "quant_impl.h"

#include <math.h>

static uint32_t q5_high_bits(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
           (uint32_t)qh[3] << 24;
}

/* Code j (0..31) of a block: low nibble from qs, fifth bit from qh. */
static int q5_code(const uint8_t *qs, uint32_t qh, int j) {
    int lo = j < 16 ? qs[j] & 0xf : qs[j - 16] >> 4;
    return lo | (int)((qh >> j) & 1) << 4;
}

void q5_0_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        float d = quant_f16_to_f32(b[i].d);
        uint32_t qh = q5_high_bits(b[i].qh);
        for (int j = 0; j < QK5_0; j++)
            dst[j] = (float)(q5_code(b[i].qs, qh, j) - 16) * d;
    }
}

void q5_0_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0) {
        float max = src[0], amax = fabsf(src[0]);
        for (int j = 1; j < QK5_0; j++)
            if (fabsf(src[j]) > amax) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        float d = max / -16;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = quant_f32_to_f16(d);
        uint32_t qh = 0;
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int j = 0; j < QK5_0; j++) {
            float v = src[j] * id;
            int q = quant_clampi((int)(v + 16.5f), 0, 31);
            b[i].qs[j % 16] |= (uint8_t)((q & 0xf) << (j < 16 ? 0 : 4));
            qh |= (uint32_t)(q >> 4) << j;
        }
        for (int k = 0; k < 4; k++) b[i].qh[k] = (uint8_t)(qh >> (8 * k));
    }
}

float q5_0_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q5_0 *a = w;
    const block_q8_0 *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        uint32_t qh = q5_high_bits(a[i].qh);
        int32_t isum = 0;
        for (int j = 0; j < QK5_0; j++)
            isum += (q5_code(a[i].qs, qh, j) - 16) * b[i].qs[j];
        sum += (float)isum * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
    }
    return sum;
}
