/*
 * install_x86.c — put the x86 kernels into the quant_ops table. Each
 * function installs one set; a type a set does not cover keeps the scalar
 * reference. Built without ISA flags: it only stores pointers.
 */
#include "quant_impl.h"
#include "quant_isa.h"

void quant_install_avx2(void) {}

void quant_install_avx512(void) { quant_install_avx2(); }
