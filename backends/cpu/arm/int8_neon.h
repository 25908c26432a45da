/*
 * int8_neon.h — private to backends/cpu/arm: what the kernels of the
 * 32-wide int8 block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 against Q8_0 or
 * Q8_1) share: the codes of Q4_0 and Q8_0 blocks, a format description, the
 * dot skeleton and the 4x4 SDOT tile, and the macros that make a type's
 * type_kernels slots from its format. Include only from files built with the
 * NEON flags.
 */
#ifndef EMBER_INT8_NEON_H
#define EMBER_INT8_NEON_H

#include "quant_impl.h"
#include "simd_neon.h"

/* ------------------------------------------------ 32-wide int8 blocks */

/* The 32 codes of a weight block as int8 (elements 0..15, 16..31), such
 * that SDOT against the activation's codes gives the block's exact integer
 * sum (Q4_0 and Q5_0 with their offset already taken off). */
typedef void (*neon_codes_fn)(const uint8_t *blk, int8x16_t v[2]);

/* The f16 at p, as raw bits. Every block type starts with its scale d;
 * Q4_1/Q5_1 keep m and Q8_1 s right after it, at byte 2. */
static inline uint16_t neon_h16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, sizeof h);
    return h;
}

static inline void neon_q4_0_block_codes(const uint8_t *blk, int8x16_t v[2]) {
    neon_q4_0_codes(blk + offsetof(block_q4_0, qs), &v[0], &v[1]);
}

static inline void neon_q8_0_block_codes(const uint8_t *blk, int8x16_t v[2]) {
    const int8_t *qs = (const int8_t *)blk + offsetof(block_q8_0, qs);
    v[0] = vld1q_s8(qs);
    v[1] = vld1q_s8(qs + 16);
}

/* A 32-wide weight type against its Q8 partner, as the skeletons below
 * take it (a constant, so each kernel is specialised for its type):
 * symmetric types (Q4_0, Q5_0, Q8_0) against Q8_0 add d_w*d_x*isum per
 * block; affine ones (Q4_1, Q5_1) against Q8_1 add m_w*s_x on top. */
struct neon_q8_fmt {
    size_t w_bytes;       /* weight block bytes */
    size_t x_bytes, x_qs; /* activation block bytes, offset of its codes */
    bool affine;
    neon_codes_fn codes;
};

#define NEON_Q8_FMT(w_block, x_block, affine_, codes_)                                          \
    {                                                                                          \
        .w_bytes = sizeof(w_block), .x_bytes = sizeof(x_block),                                \
        .x_qs = offsetof(x_block, qs), .affine = (affine_), .codes = (codes_),                 \
    }

/* Lane sums of the integer dot product of weight block a and activation
 * block b: two SDOTs. */
static inline __attribute__((always_inline)) int32x4_t
neon_q8_block_dot(const struct neon_q8_fmt f, const uint8_t *a, const uint8_t *b) {
    int8x16_t v[2];
    f.codes(a, v);
    const int8_t *y = (const int8_t *)(b + f.x_qs);
    int32x4_t p = vdotq_s32(vdupq_n_s32(0), v[0], vld1q_s8(y));
    return vdotq_s32(p, v[1], vld1q_s8(y + 16));
}

/* The four f16 at byte offset o of blocks p, p + stride, ... as floats. */
static inline float32x4_t neon_f16x4_at(const uint8_t *p, size_t stride, size_t o) {
    return neon_f16x4(neon_h16(p + o), neon_h16(p + stride + o), neon_h16(p + 2 * stride + o),
                      neon_h16(p + 3 * stride + o));
}

/* Q8_1's s = d * sum(codes) of the block at p (f16 d at 0, int16 sum at
 * 2), exact in float as in quant_q8_1_s; and of four blocks stride apart. */
static inline float neon_q8_1_s(const uint8_t *p) {
    int16_t sum;
    memcpy(&sum, p + 2, sizeof sum);
    return neon_f16(neon_h16(p)) * (float)sum;
}

static inline float32x4_t neon_q8_1_s4(const uint8_t *p, size_t stride) {
    const float s[4] = {neon_q8_1_s(p), neon_q8_1_s(p + stride), neon_q8_1_s(p + 2 * stride),
                        neon_q8_1_s(p + 3 * stride)};
    return vld1q_f32(s);
}

/* type_kernels.dot of a 32-wide type: four blocks' integer sums are reduced
 * into one vector, converted (exactly) and scaled by d_w*d_x, so each
 * block's term is rounded as in the `_ref` dot; only the order of the float
 * additions differs. The last nb % 4 blocks are added one by one. */
static inline __attribute__((always_inline)) float
neon_q8_dot(const struct neon_q8_fmt f, const void *w, const void *x, int64_t n) {
    const uint8_t *a = w, *b = x;
    const size_t wb = f.w_bytes, xb = f.x_bytes;
    int64_t nb = n / 32, i = 0;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (; i + 4 <= nb; i += 4) {
        const uint8_t *ai = a + (size_t)i * wb, *bi = b + (size_t)i * xb;
        int32x4_t s = neon_hsum4(neon_q8_block_dot(f, ai, bi), neon_q8_block_dot(f, ai + wb, bi + xb),
                                 neon_q8_block_dot(f, ai + 2 * wb, bi + 2 * xb),
                                 neon_q8_block_dot(f, ai + 3 * wb, bi + 3 * xb));
        float32x4_t dd = vmulq_f32(neon_f16x4_at(ai, wb, 0), neon_f16x4_at(bi, xb, 0));
        if (f.affine) {
            float32x4_t ms = vmulq_f32(neon_f16x4_at(ai, wb, 2), neon_q8_1_s4(bi, xb));
            acc = vaddq_f32(acc, vaddq_f32(vmulq_f32(vcvtq_f32_s32(s), dd), ms));
        } else {
            acc = vaddq_f32(acc, vmulq_f32(vcvtq_f32_s32(s), dd));
        }
    }
    float sum = vaddvq_f32(acc);
    for (; i < nb; i++) {
        const uint8_t *ai = a + (size_t)i * wb, *bi = b + (size_t)i * xb;
        float dd = neon_f16(neon_h16(ai)) * neon_f16(neon_h16(bi));
        if (f.affine)
            sum += (float)vaddvq_s32(neon_q8_block_dot(f, ai, bi)) * dd +
                   neon_f16(neon_h16(ai + 2)) * neon_q8_1_s(bi);
        else
            sum += (float)vaddvq_s32(neon_q8_block_dot(f, ai, bi)) * dd;
    }
    return sum;
}

/* type_kernels.dot of a 32-wide type t from its format t##_fmt. */
#define NEON_Q8_DOT(t)                                                                         \
    float t##_dot_neon(const void *w, const void *x, int64_t n) {                              \
        return neon_q8_dot(t##_fmt, w, x, n);                                                  \
    }

/* One full 4x4 SDOT tile of a symmetric type against Q8_0 (a
 * neon_tile_fn's work): every weight block is unpacked once and used
 * against four activation rows; acc[r] holds weight row r against columns
 * 0..3. */
static inline __attribute__((always_inline)) void
neon_q8_tile_4x4(const struct neon_q8_fmt f, int64_t nb, const uint8_t *w, size_t w_stride,
                 const uint8_t *x, size_t x_stride, float *out, size_t out_stride) {
    float32x4_t acc[NEON_TILE];
    for (int r = 0; r < NEON_TILE; r++) acc[r] = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < nb; i++) {
        const block_q8_0 *xb[NEON_TILE];
        for (int c = 0; c < NEON_TILE; c++)
            xb[c] = (const block_q8_0 *)(x + (size_t)c * x_stride) + i;
        int8x16_t y0[NEON_TILE], y1[NEON_TILE];
        for (int c = 0; c < NEON_TILE; c++) {
            y0[c] = vld1q_s8(xb[c]->qs);
            y1[c] = vld1q_s8(xb[c]->qs + 16);
        }
        float32x4_t dx = neon_f16x4(xb[0]->d, xb[1]->d, xb[2]->d, xb[3]->d);
        for (int r = 0; r < NEON_TILE; r++) {
            const uint8_t *wb = w + (size_t)r * w_stride + (size_t)i * f.w_bytes;
            int8x16_t v[2];
            f.codes(wb, v);
            int32x4_t p[NEON_TILE];
            for (int c = 0; c < NEON_TILE; c++)
                p[c] = vdotq_s32(vdotq_s32(vdupq_n_s32(0), v[0], y0[c]), v[1], y1[c]);
            int32x4_t s = neon_hsum4(p[0], p[1], p[2], p[3]);
            float32x4_t dd = vmulq_n_f32(dx, neon_f16(neon_h16(wb)));
            acc[r] = vaddq_f32(acc[r], vmulq_f32(vcvtq_f32_s32(s), dd));
        }
    }
    for (int r = 0; r < NEON_TILE; r++)
        for (int c = 0; c < NEON_TILE; c++) out[(size_t)c * out_stride + r] = acc[r][c];
}

/* type_kernels.mul_mat of a symmetric 32-wide type t (format t##_fmt) in
 * 4x4 SDOT tiles, t's dot for the edges. */
#define NEON_Q8_MUL_MAT_4X4(t)                                                                 \
    static void t##_tile_4x4(int64_t nb, const uint8_t *w, size_t w_stride, const uint8_t *x,  \
                             size_t x_stride, float *out, size_t out_stride) {                 \
        neon_q8_tile_4x4(t##_fmt, nb, w, w_stride, x, x_stride, out, out_stride);              \
    }                                                                                          \
    void t##_mul_mat_neon_4x4(int64_t n, const void *w, size_t w_stride, int n_rows,           \
                              const void *x, size_t x_stride, int n_cols, float *out,          \
                              size_t out_stride) {                                             \
        neon_mul_mat_4x4(t##_tile_4x4, t##_dot_neon, n, w, w_stride, n_rows, x, x_stride,      \
                         n_cols, out, out_stride);                                             \
    }

#endif
