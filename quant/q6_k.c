/*
 * q6_k.c — Q6_K: super-blocks of 256 values in 16 sub-blocks of 16, each
 * with a signed 8-bit scale times the f16 super-scale d; codes are 6-bit,
 * value = d*scale * (code-32). Its dot partner is Q8_K.
 *
 * Value e = 128h + 32k + l (h half, k quarter, l < 32): its low nibble is
 * in ql[64h + 32*(k%2) + l] (low nibble for k < 2, high for k >= 2), its
 * top 2 bits at bit 2k of qh[32h + l]. The quantizer fits each sub-block
 * symmetrically (k_fit.c) and maps the largest-magnitude scale to -128.
 */
#include "quant_impl.h"

/* Signed code in [-32, 31] of value e. */
static int q6_code(const block_q6_k *b, int e) {
    int h = e / 128, k = (e % 128) / 32, l = e % 32;
    uint8_t byte = b->ql[64 * h + 32 * (k % 2) + l];
    int low = k < 2 ? byte & 0xf : byte >> 4;
    int high = (b->qh[32 * h + l] >> (2 * k)) & 3;
    return (low | high << 4) - 32;
}

void q6_k_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q6_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = quant_f16_to_f32(b[i].d);
        for (int e = 0; e < QK_K; e++) {
            float dl = d * (float)b[i].scales[e / 16];
            dst[e] = dl * (float)q6_code(&b[i], e);
        }
    }
}

void q6_k_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q6_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float scales[16];
        float max_s = quant_kfit_sub16(src, 32, scales);
        b[i].d = quant_f16_scale(max_s / -128);
        float d = quant_f16_to_f32(b[i].d);
        for (int j = 0; j < 16; j++)
            b[i].scales[j] = (int8_t)(d != 0.0f ? quant_round_code(scales[j] / d, -128, 127) : 0);
        memset(b[i].ql, 0, sizeof b[i].ql);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int e = 0; e < QK_K; e++) {
            float dl = d * (float)b[i].scales[e / 16];
            int q = dl != 0.0f ? quant_round_code(src[e] / dl, -32, 31) : 0;
            int u = q + 32, h = e / 128, k = (e % 128) / 32, l = e % 32;
            b[i].ql[64 * h + 32 * (k % 2) + l] |= (uint8_t)((u & 0xf) << (k < 2 ? 0 : 4));
            b[i].qh[32 * h + l] |= (uint8_t)((u >> 4) << (2 * k));
        }
    }
}

float q6_k_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q6_k *a = w;
    const block_q8_k *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0;
        for (int j = 0; j < 16; j++) {
            int32_t s = 0;
            for (int e = 16 * j; e < 16 * j + 16; e++) s += q6_code(&a[i], e) * b[i].qs[e];
            isum += a[i].scales[j] * s;
        }
        sum += (float)isum * (quant_f16_to_f32(a[i].d) * b[i].d);
    }
    return sum;
}
