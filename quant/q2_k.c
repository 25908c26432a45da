/*
 * q2_k.c — Q2_K: super-blocks of 256 values in 16 sub-blocks of 16. Each
 * sub-block has a 4-bit scale and a 4-bit min (one byte, scale in the low
 * nibble), multiplied by the f16 super-scales d and dmin; codes are 2-bit:
 * value = d*scale * code - dmin*min. Its dot partner is Q8_K.
 *
 * Code of value e (0..255) sits in qs[32*(e/128) + e%32] at bit
 * 2*((e%128)/32): each 32-byte half holds four interleaved 32-value slices.
 * The quantizer fits each sub-block (k_fit.c), rounds the 16 scales and mins
 * to 4 bits against d = max/15, and requantizes with the rounded values.
 */
#include "quant_impl.h"

static int q2_code(const block_q2_k *b, int e) {
    return (b->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

void q2_k_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q2_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = quant_f16_to_f32(b[i].d), dmin = quant_f16_to_f32(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            uint8_t sc = b[i].scales[e / 16];
            float dl = d * (float)(sc & 0xf), ml = dmin * (float)(sc >> 4);
            dst[e] = dl * (float)q2_code(&b[i], e) - ml;
        }
    }
}

void q2_k_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q2_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float scales[16], mins[16], max_scale = 0.0f, max_min = 0.0f;
        uint8_t L[QK_K];
        for (int j = 0; j < 16; j++) {
            scales[j] = kfit_affine(16, 3, src + 16 * j, L + 16 * j, &mins[j]);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        b[i].d = quant_f16_scale(max_scale / 15);
        b[i].dmin = quant_f16_scale(max_min / 15);
        float d = quant_f16_to_f32(b[i].d), dmin = quant_f16_to_f32(b[i].dmin);
        for (int j = 0; j < 16; j++) {
            int sc = d > 0.0f ? quant_round_code(scales[j] / d, 0, 15) : 0;
            int m = dmin > 0.0f ? quant_round_code(mins[j] / dmin, 0, 15) : 0;
            b[i].scales[j] = (uint8_t)(sc | m << 4);
        }
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int e = 0; e < QK_K; e++) {
            uint8_t sc = b[i].scales[e / 16];
            float dl = d * (float)(sc & 0xf), ml = dmin * (float)(sc >> 4);
            int q = quant_k_affine_code(src[e], dl, ml, 3);
            b[i].qs[32 * (e / 128) + e % 32] |= (uint8_t)(q << (2 * ((e % 128) / 32)));
        }
    }
}

/* Per super-block: integer sums of code*q per sub-block weighted by the
 * integer scales, and the mins weighted by Q8_K's bsums; two float
 * multiplies at the end. */
float q2_k_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q2_k *a = w;
    const block_q8_k *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 16; j++) {
            int32_t s = 0;
            for (int e = 16 * j; e < 16 * j + 16; e++) s += q2_code(&a[i], e) * b[i].qs[e];
            isum += (a[i].scales[j] & 0xf) * s;
            msum += (a[i].scales[j] >> 4) * b[i].bsums[j];
        }
        sum = quant_k_affine_step(sum, b[i].d, a[i].d, a[i].dmin, isum, msum);
    }
    return sum;
}
