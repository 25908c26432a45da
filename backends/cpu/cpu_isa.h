/*
 * cpu_isa.h — private to the CPU backend: the per-architecture list of
 * kernel sets. cpu_isa_x86.c or cpu_isa_arm.c (the Makefile builds the one
 * for the target) defines cpu_detect() and cpu_isa_table; dispatch.c walks
 * the table without knowing which architecture it is on.
 */
#ifndef EMBER_CPU_ISA_H
#define EMBER_CPU_ISA_H

#include "cpu_features.h"
#include "vec.h"

struct cpu_isa_entry {
    enum cpu_isa isa;
    bool (*supported)(const struct cpu_features *f);
    void (*install_quant)(void);   /* overwrite quant_ops entries with this set */
    const struct vec_kernels *vec; /* float kernels of this set */
};

void cpu_detect(struct cpu_features *f);
extern const struct cpu_isa_entry cpu_isa_table[]; /* best first */
extern const int cpu_isa_table_len;

#endif
