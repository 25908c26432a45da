/*
 * cpu_features.h — what this CPU can run, and which kernel set ember uses.
 *
 * Detection runs once (cpuid + xgetbv on x86, getauxval on ARM). A CPU
 * backend instance runs one instruction set: the best one detected, or the
 * one its creator names (tools/: --cpu-isa or EMBER_ISA: scalar, avx2,
 * avx512, neon), which must be available. Its kernels come from
 * cpu_kernels_for() (cpu_kernels.h); every set falls back to the scalar
 * reference for what it does not implement.
 */
#ifndef EMBER_CPU_FEATURES_H
#define EMBER_CPU_FEATURES_H

#include <stdbool.h>

#include "ember.h"

struct cpu_features {
    bool avx2, fma, f16c;                  /* x86 */
    bool avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16, os_avx512;
    bool neon, dotprod, i8mm, fp16;        /* ARM */
    /* Which core this is, for reports (a benchmark means little without
     * it): x86 "brand (vendor family F model M)", decimal as Linux's
     * /proc/cpuinfo prints them; ARM "implementer 0xII part 0xPPP" from
     * MIDR_EL1. Empty when the CPU does not say. */
    char name[112];
};

enum cpu_isa { CPU_ISA_SCALAR, CPU_ISA_AVX2, CPU_ISA_AVX512, CPU_ISA_NEON, CPU_ISA_COUNT };

/* Filled once; safe from any thread. */
const struct cpu_features *cpu_features(void);
const char *cpu_isa_name(enum cpu_isa isa);
/* Whether this CPU (and this build) can run the set. */
bool cpu_isa_supported(enum cpu_isa isa);

/* The best set this CPU and build can run. */
enum cpu_isa cpu_isa_best(void);
/* The set named `want` ("scalar", "avx2", ...; NULL or "" for the best);
 * EMBER_EINVAL when the name is unknown or this CPU cannot run that set. */
enum ember_status cpu_isa_pick(const char *want, enum cpu_isa *out, struct ember_err *err);

#endif
