/*
 * install_basic.c — installs the x86 kernels for F32/F16/BF16, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q8_0 and their activation quantizers (none yet).
 */
void quant_install_avx2_basic(void);
void quant_install_avx512_basic(void);

void quant_install_avx2_basic(void) {}
void quant_install_avx512_basic(void) {}
