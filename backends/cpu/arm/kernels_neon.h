/*
 * kernels_neon.h — prototypes of the AArch64 NEON kernels (the *_neon.c
 * files here, built with -march=armv8.2-a+dotprod+fp16) that install_arm.c
 * puts into a kernel table (cpu_kernels.h). Each has the signature of the
 * type_kernels slot it fills and the contract of the `_ref` kernel it replaces (quant_impl.h): quantizers
 * are bit-identical to the reference, dots agree to rounding (the K-quant
 * dots exactly, the others up to float summation order).
 */
#ifndef EMBER_KERNELS_NEON_H
#define EMBER_KERNELS_NEON_H

#include <stddef.h>
#include <stdint.h>

/* Unquantized formats. */
float f32_dot_neon(const void *w, const void *x, int64_t n);
float f16_dot_neon(const void *w, const void *x, int64_t n);
void f16_dequant_neon(const void *src, float *dst, int64_t n);
void f16_quantize_neon(const float *src, void *dst, int64_t n);
float bf16_dot_neon(const void *w, const void *x, int64_t n);
void bf16_dequant_neon(const void *src, float *dst, int64_t n);
void bf16_quantize_neon(const float *src, void *dst, int64_t n);

/* 32-wide blocks against Q8_0 (Q4_0, Q5_0, Q8_0) or Q8_1 (Q4_1, Q5_1). */
float q4_0_dot_neon(const void *w, const void *x, int64_t n);
float q4_1_dot_neon(const void *w, const void *x, int64_t n);
float q5_0_dot_neon(const void *w, const void *x, int64_t n);
float q5_1_dot_neon(const void *w, const void *x, int64_t n);
float q8_0_dot_neon(const void *w, const void *x, int64_t n);
void q4_0_dequant_neon(const void *src, float *dst, int64_t n);
void q8_0_dequant_neon(const void *src, float *dst, int64_t n);

/* Activation quantizers. */
void q8_0_quantize_neon(const float *src, void *dst, int64_t n);
void q8_1_quantize_neon(const float *src, void *dst, int64_t n);
void q8_k_quantize_neon(const float *src, void *dst, int64_t n);

/* K-quants against Q8_K. */
float q2_k_dot_neon(const void *w, const void *x, int64_t n);
float q3_k_dot_neon(const void *w, const void *x, int64_t n);
float q4_k_dot_neon(const void *w, const void *x, int64_t n);
float q5_k_dot_neon(const void *w, const void *x, int64_t n);
float q6_k_dot_neon(const void *w, const void *x, int64_t n);

/* Tiled products (the type_kernels mul_mat slot): 4 weight rows by 4
 * activation rows at a time, dot kernels for the edges. */
void q4_0_mul_mat_neon_4x4(int64_t n, const void *w, size_t w_stride, int n_rows,
                           const void *x, size_t x_stride, int n_cols, float *out,
                           size_t out_stride);
void q8_0_mul_mat_neon_4x4(int64_t n, const void *w, size_t w_stride, int n_rows,
                           const void *x, size_t x_stride, int n_cols, float *out,
                           size_t out_stride);
/* The same with the int8 matrix multiply (int8_i8mm.c, built with +i8mm):
 * installed only when the CPU has it. */
void q4_0_mul_mat_i8mm(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride);
void q8_0_mul_mat_i8mm(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                       size_t x_stride, int n_cols, float *out, size_t out_stride);

#endif
