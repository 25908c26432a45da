/*
 * install_kquants.c — installs the x86 kernels for Q2_K..Q6_K and the Q8_K
 * activation quantizer into a kernel table (cpu_kernels.h). AVX-512 runs after AVX2
 * (install_x86.c) and only overrides the slots it does better.
 * Built without ISA flags: it only stores pointers.
 */
#include "cpu_kernels.h"
#include "kquant_kernels.h"
#include "pack_x8.h"

void cpu_install_avx2_kquants(struct type_kernels *t);
void cpu_install_avx512_kquants(struct type_kernels *t);

void cpu_install_avx2_kquants(struct type_kernels *t) {
    t[EMBER_TYPE_Q8_K].quantize = q8_k_quantize_avx2;
    cpu_set_dot(t, EMBER_TYPE_Q2_K, q2_k_dot_avx2, q2_k_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q3_K, q3_k_dot_avx2, q3_k_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q4_K, q4_k_dot_avx2, q4_k_mul_mat_avx2);
    cpu_set_exact(t, EMBER_TYPE_Q4_K, q4_k_mul_mat_exact_avx2);
    /* packing wins from 16 columns with AVX2 (56.0 against 55.7 GMAC/s),
     * from 8 on the AVX-512 set (54.9 against 49.5) */
    cpu_set_packed(t, EMBER_TYPE_Q4_K, 16, q4_kx8_pack_bytes, q4_kx8_pack, q4_k_mul_mat_packed_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q5_K, q5_k_dot_avx2, q5_k_mul_mat_avx2);
    cpu_set_dot(t, EMBER_TYPE_Q6_K, q6_k_dot_avx2, q6_k_mul_mat_avx2);
    cpu_set_exact(t, EMBER_TYPE_Q6_K, q6_k_mul_mat_exact_avx2);
    /* block_kq_x8 (one byte per code): its packer costs about as much as
     * the product of 16 columns; from there packing wins (AVX2, Xeon:
     * 43 against 42 GMAC/s at 16 columns, 58 against 46 at 32) */
    cpu_set_packed(t, EMBER_TYPE_Q2_K, 16, kq_x8_pack_bytes, q2_k_x8_pack, kq_x8_mul_mat_packed_avx2);
    cpu_set_packed(t, EMBER_TYPE_Q3_K, 16, kq_x8_pack_bytes, q3_k_x8_pack, kq_x8_mul_mat_packed_avx2);
    cpu_set_packed(t, EMBER_TYPE_Q5_K, 16, kq_x8_pack_bytes, q5_k_x8_pack, kq_x8_mul_mat_packed_avx2);
    cpu_set_packed(t, EMBER_TYPE_Q6_K, 16, kq_x8_pack_bytes, q6_k_x8_pack, kq_x8_mul_mat_packed_avx2);
}

void cpu_install_avx512_kquants(struct type_kernels *t) {
    cpu_set_dot(t, EMBER_TYPE_Q2_K, NULL, q2_k_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q3_K, NULL, q3_k_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q4_K, q4_k_dot_avx512, q4_k_mul_mat_avx512);
    cpu_set_exact(t, EMBER_TYPE_Q4_K, q4_k_mul_mat_exact_avx512);
    cpu_set_packed(t, EMBER_TYPE_Q4_K, 8, q4_kx8_pack_bytes, q4_kx8_pack, q4_k_mul_mat_packed_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q5_K, NULL, q5_k_mul_mat_avx512);
    cpu_set_dot(t, EMBER_TYPE_Q6_K, q6_k_dot_avx512, q6_k_mul_mat_avx512);
    cpu_set_exact(t, EMBER_TYPE_Q6_K, q6_k_mul_mat_exact_avx512);
    /* the AVX-512 row kernels are faster, so packing pays from ~20
     * columns (Q6_K at 16: 59 against 60, at 24: 72 against 68) */
    cpu_set_packed(t, EMBER_TYPE_Q2_K, 20, kq_x8_pack_bytes, q2_k_x8_pack, kq_x8_mul_mat_packed_avx512);
    cpu_set_packed(t, EMBER_TYPE_Q3_K, 20, kq_x8_pack_bytes, q3_k_x8_pack, kq_x8_mul_mat_packed_avx512);
    cpu_set_packed(t, EMBER_TYPE_Q5_K, 20, kq_x8_pack_bytes, q5_k_x8_pack, kq32_x8_mul_mat_packed_avx512);
    cpu_set_packed(t, EMBER_TYPE_Q6_K, 20, kq_x8_pack_bytes, q6_k_x8_pack, kq_x8_mul_mat_packed_avx512);
}
