/*
 * quant_impl.h — the ggml block layouts, small numeric helpers, and the
 * prototypes of every scalar `_ref` kernel: private to quant/ and to the
 * kernels above it that read the same blocks (backends/cpu/).
 *
 * The structs mirror ggml's block_* types byte for byte (checked by the
 * static asserts below), so a pointer into a GGUF tensor can be read as an
 * array of them. Halves are kept as raw uint16_t bits. Like GGUF itself this
 * assumes a little-endian host. Blocks are at most 2-byte aligned except
 * block_q8_k (4), which ember only ever creates itself.
 *
 * Floating-point contraction is switched off for every file that includes
 * this header: a fused multiply-add rounds once instead of twice, and the
 * reference kernels must round exactly like the gguf package and ggml's
 * scalar code. GCC already does not contract under -std=c11; clang needs the
 * pragma.
 */
#ifndef EMBER_QUANT_IMPL_H
#define EMBER_QUANT_IMPL_H

#include <stdint.h>
#include <string.h>

#include "quant.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ---------------------------------------------------------------- layouts */

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12 /* packed 6-bit scales and mins of Q4_K/Q5_K */

typedef struct {
    uint16_t d;          /* f16 scale */
    uint8_t qs[QK4_0 / 2]; /* element j in the low nibble of byte j, j+16 high */
} block_q4_0;

typedef struct {
    uint16_t d, m;       /* f16 scale and offset (the block minimum) */
    uint8_t qs[QK4_1 / 2];
} block_q4_1;

typedef struct {
    uint16_t d;
    uint8_t qh[4];       /* bit j = fifth bit of element j (little-endian u32) */
    uint8_t qs[QK5_0 / 2];
} block_q5_0;

typedef struct {
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
} block_q5_1;

typedef struct {
    uint16_t d;
    int8_t qs[QK8_0];
} block_q8_0;

/* Unlike ggml's block_q8_1, which stores s = d * sum(qs) as f16, the sum
 * stays an integer: f16(d) * sum is then exact in float (11 + 12 bits), so
 * the offset term m_w * s_x of a Q4_1/Q5_1 dot carries no f16 rounding of
 * its own. That rounding (relative 2^-11 of |m_w * s_x| per block, a term
 * that mostly cancels against the code term) was about 1000 times the
 * float error of the rest of the dot on SmolLM2's Q4_1 layers. */
typedef struct {
    uint16_t d;          /* f16 scale */
    int16_t sum;         /* sum(qs), |sum| <= 32 * 127 */
    int8_t qs[QK8_1];
} block_q8_1;

typedef struct {
    uint8_t scales[QK_K / 16]; /* low nibble scale, high nibble min, per 16 */
    uint8_t qs[QK_K / 4];      /* 2-bit quants */
    uint16_t d, dmin;
} block_q2_k;

typedef struct {
    uint8_t hmask[QK_K / 8];   /* high (third) bit of each quant */
    uint8_t qs[QK_K / 4];      /* low 2 bits */
    uint8_t scales[12];        /* 16 6-bit scales, biased by 32 */
    uint16_t d;
} block_q3_k;

typedef struct {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE]; /* 8 6-bit scales and 8 6-bit mins */
    uint8_t qs[QK_K / 2];
} block_q4_k;

typedef struct {
    uint16_t d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];         /* fifth bits: bit j of byte l = sub-block j, element l */
    uint8_t qs[QK_K / 2];
} block_q5_k;

typedef struct {
    uint8_t ql[QK_K / 2];      /* low 4 bits */
    uint8_t qh[QK_K / 4];      /* high 2 bits */
    int8_t scales[QK_K / 16];
    uint16_t d;
} block_q6_k;

typedef struct {
    float d;                   /* not a half: activations need the range */
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];  /* sum of qs per 16, for the K-quant min terms */
} block_q8_k;

_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 layout");

_Static_assert(sizeof(block_q4_1) == 20, "block_q4_1 layout");
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "block_q5_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 layout");
_Static_assert(sizeof(block_q8_1) == 36, "block_q8_1 layout");

/* Q8_1's s = d * sum(codes) from the stored (f16) d: exact in float. */
static inline float quant_q8_1_s(const block_q8_1 *b) {
    return quant_f16_to_f32(b->d) * (float)b->sum;
}
_Static_assert(sizeof(block_q2_k) == 84, "block_q2_k layout");
_Static_assert(sizeof(block_q3_k) == 110, "block_q3_k layout");
_Static_assert(sizeof(block_q4_k) == 144, "block_q4_k layout");
_Static_assert(sizeof(block_q5_k) == 176, "block_q5_k layout");
_Static_assert(sizeof(block_q6_k) == 210, "block_q6_k layout");
_Static_assert(sizeof(block_q8_k) == 292, "block_q8_k layout");

/* ---------------------------------------------------------------- helpers */

/* Round to nearest, ties to even, independent of the FPU rounding mode:
 * adding 1.5*2^23 pushes the fraction out of the mantissa, so the FPU's own
 * (round-to-nearest-even) addition does the rounding. Valid for
 * |f| < 2^22, which every caller guarantees by construction. */
static inline int quant_nearest_int(float f) {
    float biased = f + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &biased, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
}

static inline int quant_clampi(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

/* Nearest code in [lo, hi]. Clamps in float first, so any finite (or NaN,
 * which gives lo) input is safe for quant_nearest_int. */
static inline int quant_round_code(float v, int lo, int hi) {
    if (!(v > (float)lo)) return lo;
    if (v > (float)hi) return hi;
    return quant_nearest_int(v);
}

/* f16 bits of a super-block scale, saturated to the largest finite half so
 * a huge input clips instead of producing inf (and inf*0 = NaN) scales. */
static inline uint16_t quant_f16_scale(float d) {
    if (d > 65504.0f) d = 65504.0f;
    if (d < -65504.0f) d = -65504.0f;
    return quant_f32_to_f16(d);
}

/* Shared K-quant fitting (k_fit.c). Both return the fitted scale and fill L
 * with one code per value; neither touches more than n values.
 * symmetric: x ~ scale * L, L in [-nmax, nmax-1] (signed scale).
 * affine:    x ~ scale * L - *min_off, L in [0, nmax], scale >= 0,
 *            *min_off >= 0 (the offset only ever lowers, as in ggml). */
float kfit_symmetric(int n, int nmax, const float *x, int8_t *L);
float kfit_affine(int n, int nmax, const float *x, uint8_t *L, float *min_off);

/* Unpack scale j (0..7) and min j of the 12-byte Q4_K/Q5_K scale field. */
void k_scale_min_get(const uint8_t *packed, int j, uint8_t *sc, uint8_t *m);
/* Pack 8 6-bit scales and mins into the 12-byte field. */
void k_scale_min_put(uint8_t *packed, const uint8_t *sc, const uint8_t *m);
/* Fit a Q4_K/Q5_K super-block header (codes 0..nmax); see k_fit.c. */
void k_fit_header(const float *x, int nmax, uint16_t *d16, uint16_t *dmin16, uint8_t *packed,
                  float *d, float *dmin, uint8_t sc[8], uint8_t m[8]);

/* Shared by several formats' reference kernels below (math.h for fabsf). */
#include <math.h>

/* The value of largest magnitude among x[0..n-1], with its sign; the first
 * one wins a tie, as numpy's argmax does (Q4_0, Q5_0). */
static inline float quant_signed_absmax(const float *x, int n) {
    float max = x[0], amax = fabsf(x[0]);
    for (int j = 1; j < n; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

/* The smallest and largest of x[0..n-1] (Q4_1, Q5_1). */
static inline void quant_min_max(const float *x, int n, float *min, float *max) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *min = lo;
    *max = hi;
}

/* Q5_0/Q5_1: the fifth bits as one little-endian 32-bit mask. */
static inline uint32_t quant_q5_high_bits(const uint8_t qh[4]) {
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
           (uint32_t)qh[3] << 24;
}

/* Q5_0/Q5_1: code j (0..31) of a block, low nibble from qs, fifth bit from
 * the mask qh. */
static inline int quant_q5_code(const uint8_t *qs, uint32_t qh, int j) {
    int lo = j < 16 ? qs[j] & 0xf : qs[j - 16] >> 4;
    return lo | (int)((qh >> j) & 1) << 4;
}

/* Q5_0/Q5_1: code q (0..31) of element j into a zeroed qs and mask *qh. */
static inline void quant_q5_put(uint8_t *qs, uint32_t *qh, int j, int q) {
    qs[j % 16] |= (uint8_t)((q & 0xf) << (j < 16 ? 0 : 4));
    *qh |= (uint32_t)(q >> 4) << j;
}

/* The float step of an affine K-quant super-block dot (Q2_K, Q4_K, Q5_K)
 * against a Q8_K block of scale dy: sum + (dy*d * isum - dy*dmin * msum). */
static inline float quant_k_affine_step(float sum, float dy, uint16_t d, uint16_t dmin,
                                        int32_t isum, int32_t msum) {
    float dall = dy * quant_f16_to_f32(d);
    float dm = dy * quant_f16_to_f32(dmin);
    return sum + (dall * (float)isum - dm * (float)msum);
}

/* Q5_0/Q5_1: the mask of fifth bits into the block's 4 bytes, little-endian. */
static inline void quant_q5_put_mask(uint8_t qh[4], uint32_t mask) {
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(mask >> (8 * k));
}

/* Q3_K/Q6_K: fit each of the 16 sub-blocks of 16 values at x
 * symmetrically (codes in [-nmax, nmax-1]) into scales[]; returns the
 * fitted scale of largest magnitude (the first on a tie). */
static inline float quant_kfit_sub16(const float *x, int nmax, float scales[16]) {
    float max_s = 0.0f;
    int8_t L[16];
    for (int j = 0; j < 16; j++) {
        scales[j] = kfit_symmetric(16, nmax, x + 16 * j, L);
        if (fabsf(scales[j]) > fabsf(max_s)) max_s = scales[j];
    }
    return max_s;
}

/* Q4_K/Q5_K: the scale d*sc and offset dmin*m of sub-block j (32 values)
 * from the 12-byte field. */
static inline void quant_k_sub_affine(const uint8_t *packed, int j, float d, float dmin, float *dl,
                                      float *ml) {
    uint8_t sc, m;
    k_scale_min_get(packed, j, &sc, &m);
    *dl = d * (float)sc;
    *ml = dmin * (float)m;
}

/* The code in [0, nmax] of x in an affine sub-block of scale dl and
 * offset ml: round((x + ml) / dl), 0 where dl is not positive. */
static inline int quant_k_affine_code(float x, float dl, float ml, int nmax) {
    return dl > 0.0f ? quant_round_code((x + ml) / dl, 0, nmax) : 0;
}

/* ----------------------------------------------------- reference kernels */

#define QUANT_REF_DECLARE(t)                                        \
    void t##_dequant_ref(const void *src, float *dst, int64_t n);   \
    void t##_quantize_ref(const float *src, void *dst, int64_t n);  \
    float t##_dot_ref(const void *w, const void *x, int64_t n)

QUANT_REF_DECLARE(f32);
QUANT_REF_DECLARE(f16);
QUANT_REF_DECLARE(bf16);
QUANT_REF_DECLARE(q4_0);  /* dot with Q8_0 */
QUANT_REF_DECLARE(q4_1);  /* dot with Q8_1 */
QUANT_REF_DECLARE(q5_0);  /* dot with Q8_0 */
QUANT_REF_DECLARE(q5_1);  /* dot with Q8_1 */
QUANT_REF_DECLARE(q8_0);  /* dot with Q8_0 */
QUANT_REF_DECLARE(q2_k);  /* K-quants: dot with Q8_K */
QUANT_REF_DECLARE(q3_k);
QUANT_REF_DECLARE(q4_k);
QUANT_REF_DECLARE(q5_k);
QUANT_REF_DECLARE(q6_k);

/* Activation-only types: no dot of their own. */
void q8_1_dequant_ref(const void *src, float *dst, int64_t n);
void q8_1_quantize_ref(const float *src, void *dst, int64_t n);
void q8_k_dequant_ref(const void *src, float *dst, int64_t n);
void q8_k_quantize_ref(const float *src, void *dst, int64_t n);


#endif
