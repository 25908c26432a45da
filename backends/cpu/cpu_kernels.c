/*
 * cpu_kernels.c — builds each instruction set's kernel table once
 * (cpu_kernels.h): the references of quant/ first, then the set's
 * installer on top.
 */
#include "cpu_kernels.h"

#include <pthread.h>
#include <stdbool.h>

#include "cpu_isa.h"

static struct cpu_kernels tables[CPU_ISA_COUNT];
static bool built[CPU_ISA_COUNT];
static pthread_mutex_t build_mu = PTHREAD_MUTEX_INITIALIZER;

/* Every slot of quant/'s traits, the optional ones empty. */
static void fill_reference(struct cpu_kernels *k) {
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        const struct quant_traits *q = quant_traits_for(t);
        if (!q) continue;
        k->type[t] = (struct type_kernels){
            .vec_type = q->vec_type, .dequant = q->dequant, .quantize = q->quantize, .dot = q->dot,
        };
    }
    for (int t = EMBER_TYPE_GPTQ4; t <= EMBER_TYPE_GPTQ8; t++)
        k->type[t] = (struct type_kernels){.vec_type = EMBER_TYPE_F32,
                                           .mul_mat_gptq = gptq_mul_mat_ref};
    k->vec = vec_ref;
}

static void build(enum cpu_isa isa) {
    struct cpu_kernels *k = &tables[isa];
    k->isa = isa;
    fill_reference(k);
    const struct cpu_isa_entry *e = cpu_isa_entry_for(isa);
    if (e) {
        e->install(k->type);
        k->vec = *e->vec;
    }
}

const struct cpu_kernels *cpu_kernels_for(enum cpu_isa isa) {
    if ((unsigned)isa >= CPU_ISA_COUNT || !cpu_isa_supported(isa)) return NULL;
    pthread_mutex_lock(&build_mu);
    if (!built[isa]) build(isa);
    built[isa] = true;
    pthread_mutex_unlock(&build_mu);
    return &tables[isa];
}
