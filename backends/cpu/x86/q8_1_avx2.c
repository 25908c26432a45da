/*
 * q8_1_avx2.c — the Q8_1 activation quantizer with AVX2, bit-identical to
 * q8_1_quantize_ref: Q8_0's codes and d, plus the integer sum of the codes.
 */
#include "basic_kernels.h"

void q8_1_quantize_avx2(const float *src, void *dst, int64_t n) {
    block_q8_1 *b = dst;
    int sum;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float d = basic_q8_block_avx2(src, b[i].qs, &sum);
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        b[i].sum = (int16_t)sum;
    }
}
