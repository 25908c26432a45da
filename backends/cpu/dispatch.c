/*
 * dispatch.c — choose the kernel set once at start-up (cpu_features.h).
 *
 * The quant_ops table starts with the scalar reference kernels; installing
 * a set overwrites the entries it implements. EMBER_ISA=scalar keeps the
 * references, which is how tests compare every set against them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_isa.h"

static struct cpu_features features;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static enum cpu_isa chosen = CPU_ISA_SCALAR;
static bool installed;
static pthread_mutex_t install_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const isa_names[CPU_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

static void detect(void) { cpu_detect(&features); }

const struct cpu_features *cpu_features(void) {
    pthread_once(&detect_once, detect);
    return &features;
}

const char *cpu_isa_name(enum cpu_isa isa) {
    return (unsigned)isa < CPU_ISA_COUNT ? isa_names[isa] : "?";
}

static const struct cpu_isa_entry *entry_for(enum cpu_isa isa) {
    for (int i = 0; i < cpu_isa_table_len; i++)
        if (cpu_isa_table[i].isa == isa) return &cpu_isa_table[i];
    return NULL;
}

bool cpu_isa_supported(enum cpu_isa isa) {
    if (isa == CPU_ISA_SCALAR) return true;
    const struct cpu_isa_entry *e = entry_for(isa);
    return e && e->supported(cpu_features());
}

enum cpu_isa cpu_isa_chosen(void) { return chosen; }

const struct vec_kernels *cpu_vec_kernels(enum cpu_isa isa) {
    if (isa == CPU_ISA_SCALAR) return &vec_ref;
    const struct cpu_isa_entry *e = cpu_isa_supported(isa) ? entry_for(isa) : NULL;
    return e ? e->vec : NULL;
}

/* EMBER_ISA, if set, names the set; otherwise the best supported one. */
static enum ember_status pick(enum cpu_isa *out, struct ember_err *err) {
    const char *want = getenv("EMBER_ISA");
    if (!want || !*want) {
        *out = CPU_ISA_SCALAR;
        for (int i = 0; i < cpu_isa_table_len; i++)
            if (cpu_isa_table[i].supported(cpu_features())) {
                *out = cpu_isa_table[i].isa;
                break;
            }
        return EMBER_OK;
    }
    for (int i = 0; i < CPU_ISA_COUNT; i++) {
        if (strcmp(want, isa_names[i])) continue;
        if (!cpu_isa_supported((enum cpu_isa)i))
            return ember_fail(err, EMBER_EINVAL,
                              "EMBER_ISA=%s: this CPU or build does not support it", want);
        *out = (enum cpu_isa)i;
        return EMBER_OK;
    }
    return ember_fail(err, EMBER_EINVAL,
                      "EMBER_ISA=%s is not one of scalar, avx2, avx512, neon", want);
}

enum ember_status cpu_dispatch_init(struct ember_err *err) {
    enum ember_status st = EMBER_OK;
    pthread_mutex_lock(&install_mu);
    if (!installed) {
        enum cpu_isa isa;
        st = pick(&isa, err);
        if (st == EMBER_OK) {
            const struct cpu_isa_entry *e = entry_for(isa);
            if (e) {
                e->install_quant();
                vec_install(e->vec);
            }
            chosen = isa;
            installed = true;
        }
    }
    pthread_mutex_unlock(&install_mu);
    return st;
}
