/*
 * kquant_kernels.h — private to backends/cpu/x86: the x86 K-quant kernels
 * (Q2_K..Q6_K against Q8_K activations) and the unpacked super-block form
 * their batched products share.
 *
 * Decode (one activation row) reads each weight block once, so the `dot`
 * kernels work straight from the packed ggml layout. Prefill reuses every
 * weight block across many activation rows, so the `mul_mat` kernels first
 * unpack a few super-blocks of a few rows into `struct kq_unpacked` (one
 * unsigned byte per code plus ready-made scale vectors) and hand them to one
 * int8 tile kernel per ISA (kq_mul_mat_avx2/avx512 in q8_k_avx2.c and
 * q8_k_avx512.c). The per-type work is then only the unpacking, done once
 * per weight block and batch instead of once per activation row.
 *
 * Every K-quant super-block dot with a Q8_K block b decomposes as
 *   b.d * (d * sum_e scale(e) * code(e) * b.qs[e]
 *          - dmin * sum_j mins[j] * b.bsums[j])
 * with unsigned codes: the affine types (Q2_K, Q4_K, Q5_K) put their real
 * minimums in `mins`; the symmetric ones (Q3_K, Q6_K) store codes offset by
 * 4 or 32 and fold the offset into `mins` as offset * scale with dmin = d.
 * Both integer sums are exact, so results differ from the `_ref` kernels only
 * by float rounding. This relies on the Q8_K invariant that bsums[j] is the
 * sum of qs[16j .. 16j+15], which q8_k_quantize_* guarantee.
 */
#ifndef EMBER_KQUANT_KERNELS_H
#define EMBER_KQUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* One row's super-block, unpacked. 64-byte aligned so the tile kernels can
 * use aligned loads; 640 bytes. */
struct kq_unpacked {
    uint8_t codes[256];    /* unsigned codes in element order */
    int16_t scales[8][16]; /* per 32-value chunk k: 8 copies of the scale of
                                 values 32k..32k+15, then 8 of 32k+16..32k+31,
                                 matching maddubs' pairing of adjacent bytes */
    float dmins[16];       /* dmin * mins, filled by the AVX-512 driver
                                 (not by the unpackers) */
    int16_t mins[16];      /* per 16 values, multiplied by Q8_K bsums */
    float d, dmin;         /* super-block factors, see above */
    uint8_t pad[24];
};
/* The tile kernels use aligned 64-byte loads on codes, scales and dmins. */
_Static_assert(sizeof(struct kq_unpacked) == 640, "kq_unpacked layout");
_Static_assert(offsetof(struct kq_unpacked, scales) % 64 == 0, "kq_unpacked.scales alignment");
_Static_assert(offsetof(struct kq_unpacked, dmins) % 64 == 0, "kq_unpacked.dmins alignment");
_Static_assert(offsetof(struct kq_unpacked, mins) % 32 == 0, "kq_unpacked.mins alignment");

/* Unpack one weight super-block of the given type into *u. */
typedef void (*kq_unpack_fn)(const void *block, struct kq_unpacked *u);
/* The type's dot kernel, for batches too narrow to repay unpacking. */
typedef float (*kq_dot_fn)(const void *w, const void *x, int64_t n);

void q2_k_unpack_avx2(const void *block, struct kq_unpacked *u);
void q3_k_unpack_avx2(const void *block, struct kq_unpacked *u);
void q4_k_unpack_avx2(const void *block, struct kq_unpacked *u);
void q5_k_unpack_avx2(const void *block, struct kq_unpacked *u);
void q6_k_unpack_avx2(const void *block, struct kq_unpacked *u);

/* The type_kernels.mul_mat contract (quant.h) for any K-quant with `unpack`,
 * `dot` and blocks of `block_bytes`. Works in tiles of a few rows by a few
 * columns over groups of super-blocks; no allocation (the scratch is on the
 * stack, 80 KiB). */
void kq_mul_mat_avx2(kq_unpack_fn unpack, kq_dot_fn dot, size_t block_bytes, int64_t n,
                     const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                     int n_cols, float *out, size_t out_stride);
void kq_mul_mat_avx512(kq_unpack_fn unpack, kq_dot_fn dot, size_t block_bytes, int64_t n,
                       const void *w, size_t w_stride, int n_rows, const void *x, size_t x_stride,
                       int n_cols, float *out, size_t out_stride);

/* The type_kernels slots, one set per (type, ISA). */
#define KQ_DECLARE(t, isa)                                                                         \
    float t##_dot_##isa(const void *w, const void *x, int64_t n);                                  \
    void t##_mul_mat_##isa(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,   \
                           size_t x_stride, int n_cols, float *out, size_t out_stride)

KQ_DECLARE(q2_k, avx2);
KQ_DECLARE(q3_k, avx2);
KQ_DECLARE(q4_k, avx2);
/* type_kernels.mul_mat_packed of Q4_K over block_q4_kx8 (q4_kx8_kernels.h) */
void q4_k_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x, size_t x_stride,
                              int n_cols, float *out, size_t out_stride);
void q4_k_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                size_t x_stride, int n_cols, float *out, size_t out_stride);
KQ_DECLARE(q5_k, avx2);
KQ_DECLARE(q6_k, avx2);
KQ_DECLARE(q4_k, avx512);
KQ_DECLARE(q6_k, avx512);
/* type_kernels.mul_mat_exact: bit for bit the same set's dot per column */
void q4_k_mul_mat_exact_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                             size_t x_stride, int n_cols, float *out, size_t out_stride);
void q6_k_mul_mat_exact_avx2(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                             size_t x_stride, int n_cols, float *out, size_t out_stride);
void q4_k_mul_mat_exact_avx512(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_cols, float *out,
                               size_t out_stride);
void q6_k_mul_mat_exact_avx512(int64_t n, const void *w, size_t w_stride, int n_rows,
                               const void *x, size_t x_stride, int n_cols, float *out,
                               size_t out_stride);
/* Q2_K, Q3_K and Q5_K keep the AVX2 dot under AVX-512 and only get the
 * faster batched product. */
void q2_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride);
void q3_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride);
void q5_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride);

/* The packed bands of the other K-quants (block_kq_x8, pack_x8.h): the
 * packers over each type's AVX2 unpacker, and mul_mat_packed over them
 * (kq_x8_avx2.c, kq_x8_avx512.c; the kq32 one for scales per 32 values). */
void q2_k_x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
void q3_k_x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
void q5_k_x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
void q6_k_x8_pack(int64_t n, const void *w, size_t w_stride, int64_t n_rows, void *dst);
void kq_x8_mul_mat_packed_avx2(int64_t n, const void *wp, int n_rows, const void *x,
                               size_t x_stride, int n_cols, float *out, size_t out_stride);
void kq_x8_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                 size_t x_stride, int n_cols, float *out, size_t out_stride);
void kq32_x8_mul_mat_packed_avx512(int64_t n, const void *wp, int n_rows, const void *x,
                                   size_t x_stride, int n_cols, float *out, size_t out_stride);

void q8_k_quantize_avx2(const float *src, void *dst, int64_t n);

#endif
