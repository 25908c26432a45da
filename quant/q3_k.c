/*
 * q3_k.c — Q3_K: super-blocks of 256 values in 16 sub-blocks of 16, each
 * with a signed 6-bit scale (stored +32) times the f16 super-scale d; codes
 * are 3-bit, value = d*(scale-32) * (code-4). Its dot partner is Q8_K.
 *
 * The code's low 2 bits sit where Q2_K puts its codes; the third bit of
 * value e is bit (4*(e/128) + (e%128)/32) of hmask[e%32]. ggml stores that
 * bit set to mean "no -4 offset", so code = low2 + 4*bit. The 12 scale bytes
 * hold the low nibbles of scales 0-7 in bytes 0-7 (low nibble) and of 8-15
 * (high nibble); bytes 8-11 hold the top 2 bits of scale j at byte 8 + j%4,
 * bit 2*(j/4). The quantizer fits each sub-block symmetrically (k_fit.c)
 * and maps the largest-magnitude scale to -32.
 */
#include "quant_impl.h"

static int q3_scale(const block_q3_k *b, int j) {
    int lo = (j < 8 ? b->scales[j] : b->scales[j - 8] >> 4) & 0xf;
    int hi = (b->scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (lo | hi << 4) - 32;
}

/* Signed code in [-4, 3] of value e. */
static int q3_code(const block_q3_k *b, int e) {
    int low = (b->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
    int high = (b->hmask[e % 32] >> (4 * (e / 128) + (e % 128) / 32)) & 1;
    return low + 4 * high - 4;
}

void q3_k_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q3_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = quant_f16_to_f32(b[i].d);
        for (int e = 0; e < QK_K; e++) {
            float dl = d * (float)q3_scale(&b[i], e / 16);
            dst[e] = dl * (float)q3_code(&b[i], e);
        }
    }
}

void q3_k_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q3_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float scales[16];
        float max_s = quant_kfit_sub16(src, 4, scales);
        b[i].d = quant_f16_scale(max_s / -32);
        float d = quant_f16_to_f32(b[i].d);
        memset(b[i].scales, 0, sizeof b[i].scales);
        int sc[16];
        for (int j = 0; j < 16; j++) {
            sc[j] = d != 0.0f ? quant_round_code(scales[j] / d, -32, 31) : 0;
            int u = sc[j] + 32;
            b[i].scales[j % 8] |= (uint8_t)((u & 0xf) << (j < 8 ? 0 : 4));
            b[i].scales[8 + j % 4] |= (uint8_t)((u >> 4) << (2 * (j / 4)));
        }
        memset(b[i].qs, 0, sizeof b[i].qs);
        memset(b[i].hmask, 0, sizeof b[i].hmask);
        for (int e = 0; e < QK_K; e++) {
            float dl = d * (float)sc[e / 16];
            int q = dl != 0.0f ? quant_round_code(src[e] / dl, -4, 3) : 0;
            int u = q + 4;
            b[i].qs[32 * (e / 128) + e % 32] |= (uint8_t)((u & 3) << (2 * ((e % 128) / 32)));
            b[i].hmask[e % 32] |= (uint8_t)((u >> 2) << (4 * (e / 128) + (e % 128) / 32));
        }
    }
}

float q3_k_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q3_k *a = w;
    const block_q8_k *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0;
        for (int j = 0; j < 16; j++) {
            int32_t s = 0;
            for (int e = 16 * j; e < 16 * j + 16; e++) s += q3_code(&a[i], e) * b[i].qs[e];
            isum += q3_scale(&a[i], j) * s;
        }
        sum += (float)isum * (quant_f16_to_f32(a[i].d) * b[i].d);
    }
    return sum;
}
