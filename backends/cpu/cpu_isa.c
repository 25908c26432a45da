/*
 * cpu_isa.c — what this CPU can run, and picking a kernel set by name
 * (cpu_features.h). Detection runs once; the choice belongs to whoever
 * creates a CPU backend (tools/ passes --cpu-isa or EMBER_ISA down), so
 * nothing here is chosen globally.
 */
#include <pthread.h>
#include <string.h>

#include "cpu_isa.h"

static struct cpu_features features;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

static const char *const isa_names[CPU_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

static void detect(void) { cpu_detect(&features); }

const struct cpu_features *cpu_features(void) {
    pthread_once(&detect_once, detect);
    return &features;
}

const char *cpu_isa_name(enum cpu_isa isa) {
    return (unsigned)isa < CPU_ISA_COUNT ? isa_names[isa] : "?";
}

const struct cpu_isa_entry *cpu_isa_entry_for(enum cpu_isa isa) {
    for (int i = 0; i < cpu_isa_table_len; i++)
        if (cpu_isa_table[i].isa == isa) return &cpu_isa_table[i];
    return NULL;
}

bool cpu_isa_supported(enum cpu_isa isa) {
    if (isa == CPU_ISA_SCALAR) return true;
    const struct cpu_isa_entry *e = cpu_isa_entry_for(isa);
    return e && e->supported(cpu_features());
}

enum cpu_isa cpu_isa_best(void) {
    for (int i = 0; i < cpu_isa_table_len; i++)
        if (cpu_isa_table[i].supported(cpu_features())) return cpu_isa_table[i].isa;
    return CPU_ISA_SCALAR;
}

enum ember_status cpu_isa_pick(const char *want, enum cpu_isa *out, struct ember_err *err) {
    if (!want || !*want) {
        *out = cpu_isa_best();
        return EMBER_OK;
    }
    for (int i = 0; i < CPU_ISA_COUNT; i++) {
        if (strcmp(want, isa_names[i])) continue;
        if (!cpu_isa_supported((enum cpu_isa)i))
            return ember_fail(err, EMBER_EINVAL,
                              "kernel set '%s': this CPU or build does not support it", want);
        *out = (enum cpu_isa)i;
        return EMBER_OK;
    }
    return ember_fail(err, EMBER_EINVAL,
                      "kernel set '%s' is not one of scalar, avx2, avx512, neon", want);
}
