/*
 * gptq_kernels.h — the GPTQ matrix kernels of each ISA (cpu_kernels.h's
 * mul_mat_gptq; bodies in gptq_simd.h), for the installers and the tests.
 * Each is defined only in builds for its target.
 */
#ifndef EMBER_GPTQ_KERNELS_H
#define EMBER_GPTQ_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

void gptq_mul_mat_avx2(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride);
void gptq_mul_mat_avx512(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride);
/* int8 activations (AVX-512 VNNI); the float kernel where it cannot */
void gptq_mul_mat_vnni_avx512(const struct gptq_matrix *m, int64_t o0, int64_t o1,
                              const float *x, size_t x_stride, int n_cols, float *out,
                              size_t out_stride);
void gptq_mul_mat_neon(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride);

#endif
