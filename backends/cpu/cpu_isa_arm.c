/*
 * cpu_isa_arm.c — the AArch64 kernel sets and what each needs.
 */
#include "cpu_isa.h"
#include "cpu_kernels.h"

static bool has_neon(const struct cpu_features *f) { return f->neon && f->dotprod; }

const struct cpu_isa_entry cpu_isa_table[] = {
    {CPU_ISA_NEON, has_neon, cpu_install_neon, &vec_neon},
};
const int cpu_isa_table_len = sizeof cpu_isa_table / sizeof cpu_isa_table[0];
