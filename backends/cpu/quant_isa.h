/*
 * quant_isa.h — the entry points that install each instruction set's
 * kernels into the quant_ops table (see quant_ops_writable). Each is
 * defined under quant/x86/ or quant/arm/ and only built for its target.
 */
#ifndef EMBER_QUANT_ISA_H
#define EMBER_QUANT_ISA_H

void quant_install_avx2(void);
void quant_install_avx512(void);
void quant_install_neon(void);

#endif
