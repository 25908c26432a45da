/*
 * q5_k_avx512.c — AVX-512 (BW + VNNI) Q5_K mul_mat: the AVX2 unpacker
 * feeding the AVX-512 tile of q8_k_avx512.c, which runs the batched
 * product about 1.5x faster than the AVX2 tile. The dot stays AVX2.
 */
#include "kquant_kernels.h"
#include "quant_impl.h"

void q5_k_mul_mat_avx512(int64_t n, const void *w, size_t w_stride, int n_rows, const void *x,
                         size_t x_stride, int n_cols, float *out, size_t out_stride) {
    kq_mul_mat_avx512(q5_k_unpack_avx2, q5_k_dot_avx2, sizeof(block_q5_k), n, w, w_stride, n_rows,
                      x, x_stride, n_cols, out, out_stride);
}
