/*
 * f16.c — the unquantized float formats F32, F16 and BF16: their scalar
 * conversions (quant_f16_to_f32 and friends) and their `_ref` kernels.
 *
 * Conversions to the narrow types round to nearest, ties to even, including
 * into and out of the F16 subnormal range, and overflow to infinity. A NaN
 * stays a NaN and becomes quiet: F16 keeps the top ten payload bits and sets
 * the quiet bit (what x86 F16C does, so SIMD code can match this exactly);
 * BF16 keeps the top payload bits and sets bit 6, as ggml does. Widening is
 * exact and keeps NaN payloads untouched. Dots accumulate in double, as
 * ggml's scalar F32/F16 dots do; each product is rounded to float first (for
 * F16 and BF16 operands that product is exact).
 */
#include "quant_impl.h"

/* ------------------------------------------------------------ conversions */

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float quant_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24, exact in float */
        float mag = (float)mant * 0x1p-24f;
        return f32_from_bits(sign | f32_bits(mag));
    }
    if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
    /* rebias the exponent from 15 to 127 */
    return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t quant_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7fffffffu;

    if (a > 0x7f800000u) /* NaN */
        return (uint16_t)(sign | 0x7e00 | ((a >> 13) & 0x3ff));
    /* 65520 is halfway between 65504 (odd mantissa) and 2^16: ties go up */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);
    if (a >= 0x38800000u) {
        /* normal half: round the 13 dropped bits to even; a carry out of
         * the mantissa correctly bumps the exponent */
        uint32_t r = a + 0xfffu + ((a >> 13) & 1);
        return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
    }
    /* 2^-25 itself is a tie between 0 and the smallest subnormal: even is 0 */
    if (a <= 0x33000000u) return sign;
    /* subnormal half: value = m * 2^(e-150), in units of 2^-24 that is
     * m >> (126 - e), rounded to even. A round-up to 0x400 yields the
     * smallest normal, which is the right encoding. */
    uint32_t e = a >> 23;
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - e; /* 14..24 here */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

float quant_bf16_to_f32(uint16_t h) {
    return f32_from_bits((uint32_t)h << 16);
}

uint16_t quant_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    /* cannot overflow 32 bits: the largest non-NaN input is 0xff800000 */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

/* -------------------------------------------------------------------- F32 */

void f32_dequant_ref(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void f32_quantize_ref(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

float f32_dot_ref(const void *w, const void *x, int64_t n) {
    const float *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(a[i] * b[i]);
    return (float)sum;
}

/* -------------------------------------------------------------------- F16 */

void f16_dequant_ref(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = quant_f16_to_f32(h[i]);
}

void f16_quantize_ref(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = quant_f32_to_f16(src[i]);
}

float f16_dot_ref(const void *w, const void *x, int64_t n) {
    const uint16_t *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(quant_f16_to_f32(a[i]) * quant_f16_to_f32(b[i]));
    return (float)sum;
}

/* ------------------------------------------------------------------- BF16 */

void bf16_dequant_ref(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++) dst[i] = quant_bf16_to_f32(h[i]);
}

void bf16_quantize_ref(const float *src, void *dst, int64_t n) {
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++) h[i] = quant_f32_to_bf16(src[i]);
}

float bf16_dot_ref(const void *w, const void *x, int64_t n) {
    const uint16_t *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)(quant_bf16_to_f32(a[i]) * quant_bf16_to_f32(b[i]));
    return (float)sum;
}
