/*
 * install_x86.c — put the x86 kernels into the quant_ops table. Each set
 * installs its own kernel groups (basic: F32/F16/BF16 and the 32-wide block
 * types with their activation quantizers; kquants: Q2_K..Q6_K with Q8_K); a
 * type a set does not cover keeps the scalar reference. AVX-512 builds on
 * AVX2: it installs the AVX2 kernels first and overrides what it improves.
 * Built without ISA flags: it only stores pointers.
 */
#include "quant_isa.h"

void quant_install_avx2_basic(void);
void quant_install_avx2_kquants(void);
void quant_install_avx512_basic(void);
void quant_install_avx512_kquants(void);

void quant_install_avx2(void) {
    quant_install_avx2_basic();
    quant_install_avx2_kquants();
}

void quant_install_avx512(void) {
    quant_install_avx2();
    quant_install_avx512_basic();
    quant_install_avx512_kquants();
}
