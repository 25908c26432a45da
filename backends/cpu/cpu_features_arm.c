/*
 * cpu_features_arm.c — feature detection on AArch64 Linux (built only
 * there): the kernel publishes the CPU's features in the aux vector.
 */
#include <sys/auxv.h>

#include "cpu_features.h"

#define HWCAP_ASIMD_BIT (1ul << 1)
#define HWCAP_ASIMDHP_BIT (1ul << 10)
#define HWCAP_ASIMDDP_BIT (1ul << 20)
#define HWCAP2_I8MM_BIT (1ul << 13)

void cpu_detect(struct cpu_features *f) {
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    f->neon = hw & HWCAP_ASIMD_BIT;
    f->fp16 = hw & HWCAP_ASIMDHP_BIT;
    f->dotprod = hw & HWCAP_ASIMDDP_BIT;
    f->i8mm = hw2 & HWCAP2_I8MM_BIT;
}
