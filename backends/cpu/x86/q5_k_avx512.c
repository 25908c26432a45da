/*
 * q5_k_avx512.c — AVX-512 (BW + VNNI) Q5_K mul_mat: the AVX2 unpacker
 * feeding the AVX-512 tile of q8_k_avx512.c, which runs the batched
 * product about 1.5x faster than the AVX2 tile. The dot stays AVX2.
 */
#include "kquant_avx2.h"

KQ_MUL_MAT(q5_k, avx512, q5_k_dot_avx2)
