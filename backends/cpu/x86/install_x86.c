/*
 * install_x86.c — put the x86 kernels into a kernel table (cpu_kernels.h). Each set
 * installs its own kernel groups (basic: F32/F16/BF16 and the 32-wide block
 * types with their activation quantizers; kquants: Q2_K..Q6_K with Q8_K); a
 * type a set does not cover keeps the scalar reference. AVX-512 builds on
 * AVX2: it installs the AVX2 kernels first and overrides what it improves.
 * Built without ISA flags: it only stores pointers.
 */
#include "cpu_kernels.h"
#include "gptq_kernels.h"

void cpu_install_avx2_basic(struct type_kernels *t);
void cpu_install_avx2_kquants(struct type_kernels *t);
void cpu_install_avx512_basic(struct type_kernels *t);
void cpu_install_avx512_kquants(struct type_kernels *t);

void cpu_install_avx2(struct type_kernels *t) {
    cpu_install_avx2_basic(t);
    cpu_install_avx2_kquants(t);
    t[EMBER_TYPE_GPTQ4].mul_mat_gptq = t[EMBER_TYPE_GPTQ8].mul_mat_gptq = gptq_mul_mat_avx2;
}

void cpu_install_avx512(struct type_kernels *t) {
    cpu_install_avx2(t);
    cpu_install_avx512_basic(t);
    cpu_install_avx512_kquants(t);
    t[EMBER_TYPE_GPTQ4].mul_mat_gptq = t[EMBER_TYPE_GPTQ8].mul_mat_gptq = gptq_mul_mat_vnni_avx512;
}
