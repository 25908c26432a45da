/*
 * q5_k.c — Q5_K: Q4_K with a fifth code bit. Same 8 sub-blocks of 32,
 * packed 6-bit scales/mins and f16 d/dmin; value = d*scale*code - dmin*min
 * with 5-bit codes. Its dot partner is Q8_K.
 *
 * The low 4 bits are laid out as in Q4_K; the fifth bit of value e is bit
 * e/32 (its sub-block) of qh[e%32]. The quantizer is Q4_K's with codes 0..31.
 */
#include "quant_impl.h"

static int q5k_code(const block_q5_k *b, int e) {
    uint8_t byte = b->qs[32 * (e / 64) + e % 32];
    int low = (e % 64) < 32 ? byte & 0xf : byte >> 4;
    return low | ((b->qh[e % 32] >> (e / 32)) & 1) << 4;
}

void q5_k_dequant_ref(const void *src, float *dst, int64_t n) {
    const block_q5_k *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = quant_f16_to_f32(b[i].d), dmin = quant_f16_to_f32(b[i].dmin);
        for (int e = 0; e < QK_K; e++) {
            float dl, ml;
            quant_k_sub_affine(b[i].scales, e / 32, d, dmin, &dl, &ml);
            dst[e] = dl * (float)q5k_code(&b[i], e) - ml;
        }
    }
}

void q5_k_quantize_ref(const float *src, void *dst, int64_t n) {
    block_q5_k *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float d, dmin;
        uint8_t sc[8], m[8];
        k_fit_header(src, 31, &b[i].d, &b[i].dmin, b[i].scales, &d, &dmin, sc, m);
        memset(b[i].qs, 0, sizeof b[i].qs);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int e = 0; e < QK_K; e++) {
            float dl = d * (float)sc[e / 32], ml = dmin * (float)m[e / 32];
            int q = quant_k_affine_code(src[e], dl, ml, 31);
            b[i].qs[32 * (e / 64) + e % 32] |= (uint8_t)((q & 0xf) << ((e % 64) < 32 ? 0 : 4));
            b[i].qh[e % 32] |= (uint8_t)((q >> 4) << (e / 32));
        }
    }
}

float q5_k_dot_ref(const void *w, const void *x, int64_t n) {
    const block_q5_k *a = w;
    const block_q8_k *b = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32_t isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            k_scale_min_get(a[i].scales, j, &sc, &m);
            int32_t s = 0;
            for (int e = 32 * j; e < 32 * j + 32; e++) s += q5k_code(&a[i], e) * b[i].qs[e];
            isum += sc * s;
            msum += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
        }
        sum = quant_k_affine_step(sum, b[i].d, a[i].d, a[i].dmin, isum, msum);
    }
    return sum;
}
