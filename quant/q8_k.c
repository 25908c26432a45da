/*
 * q8_k.c — Q8_K, the activation format of every K-quant dot: 256 int8
 * codes with a float scale and the sums of each 16 codes (bsums), which let
 * the Q2_K/Q4_K/Q5_K dots apply their per-sub-block minimums with one
 * multiply per 16 values. ember never stores weights in it.
 *
 * Quantization is ggml's reference: the signed value of largest magnitude
 * maps to -127 (iscale = -127/max, d = 1/iscale, so d is negative when that
 * value is positive), codes round to nearest even and clip at 127. Unlike
 * ggml, an all-zero block also gets zero bsums rather than stale memory.
 */
#include "quant_impl.h"

#include <math.h>

void q8_k_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q8_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K)
        for (int j = 0; j < QK_K; j++) dst[j] = b[i].d * (float)b[i].qs[j];
}

void q8_k_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q8_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++)
            if (fabsf(src[j]) > amax) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        if (amax == 0.0f) {
            memset(&b[i], 0, sizeof b[i]);
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = quant_nearest_int(iscale * src[j]);
            b[i].qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int g = 0; g < QK_K / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += b[i].qs[16 * g + j];
            b[i].bsums[g] = (int16_t)sum;
        }
        b[i].d = 1.0f / iscale;
    }
}
