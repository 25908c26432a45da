/*
 * cpu_features_arm.c — feature detection on AArch64 Linux (built only
 * there): the kernel publishes the CPU's features in the aux vector.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>

#include "cpu_features.h"

#define HWCAP_ASIMD_BIT (1ul << 1)
#define HWCAP_ASIMDHP_BIT (1ul << 10)
#define HWCAP_ASIMDDP_BIT (1ul << 20)
#define HWCAP2_I8MM_BIT (1ul << 13)
#define HWCAP_CPUID_BIT (1ul << 11) /* the kernel emulates EL0 reads of ID registers */

void cpu_detect(struct cpu_features *f) {
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    if (hw & HWCAP_CPUID_BIT) {
        uint64_t midr;
        __asm__ volatile("mrs %0, MIDR_EL1" : "=r"(midr));
        snprintf(f->name, sizeof f->name, "implementer 0x%02x part 0x%03x", (unsigned)(midr >> 24) & 0xff,
                 (unsigned)(midr >> 4) & 0xfff);
    }
    f->neon = hw & HWCAP_ASIMD_BIT;
    f->fp16 = hw & HWCAP_ASIMDHP_BIT;
    f->dotprod = hw & HWCAP_ASIMDDP_BIT;
    f->i8mm = hw2 & HWCAP2_I8MM_BIT;
}
