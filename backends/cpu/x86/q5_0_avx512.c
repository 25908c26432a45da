/*
 * q5_0_avx512.c — Q5_0 weights against Q8_0 activations with AVX-512 VNNI
 * (256-bit VPDPBUSD): the decode dot and the 4x4-tiled batch product. The
 * fifth bits become 0x10 bytes by one masked move (AVX512BW); the -16
 * offset enters as -16*sum(y) (basic_kernels.h has the skeletons).
 */
#include <stddef.h>
#include <string.h>

#include "pack_x8.h"

#include "panel_avx512.h"

static inline __m256i q5_0_codes(const uint8_t *blk) {
    return _mm256_or_si256(basic_nibbles(blk + offsetof(block_q5_0, qs)),
                           basic_fifth_bits_avx512(blk + offsetof(block_q5_0, qh)));
}

static const struct basic_int8_fmt q5_0_fmt =
    BASIC_INT8_FMT(BASIC_OFFSET, 16, 31, block_q5_0, block_q8_0, q5_0_codes);

BASIC_INT8_KERNELS_AVX512(q5_0)

/* Q5_0 rows as block_q8_0x8 with codes + 128 (pack_x8.h): a value is
 * d * (code - 16), a Q8_0 code with the same scale, so the AVX-512 Q8_0
 * product reads them exactly. Row by row (one stream), each block's 32
 * codes made at once and scattered as 8 words of 4. */
void q5_0_x8_pack_biased_avx512(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst) {
    block_q8_0x8 *out = dst;
    const int64_t nb = n / QK5_0;
    const __m256i bias = _mm256_set1_epi8(128 - 16);
    for (int64_t r0 = 0; r0 < n_rows; r0 += PACK_ROWS)
        for (int r = 0; r < PACK_ROWS; r++)
            for (int64_t i = 0; i < nb; i++) {
                const uint8_t *b = quant_x8_src(w, w_stride, n_rows, r0, r, i, sizeof(block_q5_0));
                block_q8_0x8 *o = out + r0 / PACK_ROWS * nb + i;
                memcpy(&o->d[r], b, sizeof o->d[r]);
                uint32_t c[8];
                _mm256_storeu_si256((__m256i *)c, _mm256_add_epi8(q5_0_codes(b), bias));
                for (int k = 0; k < 8; k++) memcpy(o->qs[k][r], &c[k], 4);
            }
}
