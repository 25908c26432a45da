/*
 * install_kquants.c — installs the x86 kernels for Q2_K..Q6_K and the Q8_K
 * activation quantizer (none yet).
 */
void quant_install_avx2_kquants(void);
void quant_install_avx512_kquants(void);

void quant_install_avx2_kquants(void) {}
void quant_install_avx512_kquants(void) {}
