/*
 * q4_k.c — Q4_K: super-blocks of 256 values in 8 sub-blocks of 32, each
 * with a 6-bit scale and 6-bit min (packed in 12 bytes, see k_fit.c) times
 * the f16 super-scales d and dmin; codes are 4-bit:
 * value = d*scale * code - dmin*min. Its dot partner is Q8_K.
 *
 * Codes come in 64-value chunks of 32 bytes: value e sits in byte
 * 32*(e/64) + e%32, low nibble for the first 32 of the chunk, high nibble
 * for the second. The quantizer fits each sub-block (k_fit.c), rounds scales
 * and mins to 6 bits against d = max/63, and requantizes.
 */
#include "quant_impl.h"

static int q4k_code(const block_q4_k *b, int e) {
    uint8_t byte = b->qs[32 * (e / 64) + e % 32];
    return (e % 64) < 32 ? byte & 0xf : byte >> 4;
}

void q4_k_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q4_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = quant_f16_to_f32(b[i].d), dmin = quant_f16_to_f32(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            float dl, ml;
            quant_k_sub_affine(b[i].scales, e / 32, d, dmin, &dl, &ml);
            dst[e] = dl * (float)q4k_code(&b[i], e) - ml;
        }
    }
}

void q4_k_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q4_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float d, dmin;
        uint8_t sc[8], m[8];
        k_fit_header(src, 15, &b[i].d, &b[i].dmin, b[i].scales, &d, &dmin, sc, m);
        memset(b[i].qs, 0, sizeof b[i].qs);
        for (int e = 0; e < QK_K; e++) {
            float dl = d * (float)sc[e / 32], ml = dmin * (float)m[e / 32];
            int q = quant_k_affine_code(src[e], dl, ml, 15);
            b[i].qs[32 * (e / 64) + e % 32] |= (uint8_t)(q << ((e % 64) < 32 ? 0 : 4));
        }
    }
}

/* Integer code*q sums per sub-block weighted by the 6-bit scales; the mins
 * use Q8_K's bsums (two per 32-value sub-block). */
float q4_k_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q4_k *a = w;
    const block_q8_k *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            k_scale_min_get(a[i].scales, j, &sc, &m);
            int32_t s = 0;
            for (int e = 32 * j; e < 32 * j + 32; e++) s += q4k_code(&a[i], e) * b[i].qs[e];
            isum += sc * s;
            msum += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        }
        sum = quant_k_affine_step(sum, b[i].d, a[i].d, a[i].dmin, isum, msum);
    }
    return sum;
}
