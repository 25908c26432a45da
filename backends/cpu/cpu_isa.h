/*
 * cpu_isa.h — private to the CPU backend: the per-architecture list of
 * kernel sets. cpu_isa_x86.c or cpu_isa_arm.c (the Makefile builds the one
 * for the target) defines cpu_detect() and cpu_isa_table; dispatch.c and
 * cpu_kernels.c walk the table without knowing which architecture it is on.
 */
#ifndef EMBER_CPU_ISA_H
#define EMBER_CPU_ISA_H

#include "cpu_features.h"
#include "cpu_kernels.h"
#include "vec.h"

struct cpu_isa_entry {
    enum cpu_isa isa;
    bool (*supported)(const struct cpu_features *f);
    void (*install)(struct type_kernels *t); /* override a reference table's slots */
    const struct vec_kernels *vec;           /* float kernels of this set */
};

void cpu_detect(struct cpu_features *f);
extern const struct cpu_isa_entry cpu_isa_table[]; /* best first */
extern const int cpu_isa_table_len;

/* The entry of a set, or NULL (scalar has none). */
const struct cpu_isa_entry *cpu_isa_entry_for(enum cpu_isa isa);

#endif
