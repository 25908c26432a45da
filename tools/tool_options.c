/*
 * tool_options.c — engine options from the environment and the shared flags
 * (tool_options.h).
 */
#include "tool_options.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cpu_features.h"
#include "kv_cache.h"

void tool_options_init(struct ember_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    const char *isa = getenv("EMBER_ISA");
    o->cpu_isa = isa && *isa ? isa : NULL;
    const char *repack = getenv("EMBER_REPACK");
    o->no_pack = repack && !strcmp(repack, "0");
    /* tests: the CPU's test device, with this budget in bytes */
    const char *test_dev = getenv("EMBER_TEST_DEVICE");
    o->test_device_memory = test_dev ? strtoull(test_dev, NULL, 10) : 0;
}

bool tool_options_is_ngl(const char *a) {
    return !strcmp(a, "-ngl") || !strcmp(a, "--n-gpu-layers") || !strcmp(a, "--gpu-layers");
}

/* A set's name (whether this CPU runs it is the backend's to say). */
static bool known_isa(const char *name) {
    for (int i = 0; i < CPU_ISA_COUNT; i++)
        if (!strcmp(name, cpu_isa_name((enum cpu_isa)i))) return true;
    return false;
}

/* -ctk / -ctv NAME: a KV cache type. */
static int cache_type_flag(const char *a, const char *v, int *out) {
    int t = kv_type_parse(v);
    if (t < 0) {
        cli_error("%s expects f16, f32 or q8_0, got '%s'", a, v);
        return EXIT_USAGE;
    }
    *out = t;
    return 1;
}

int tool_options_flag(int argc, char **argv, int *i, struct ember_options *o) {
    const char *a = argv[*i], *v;
    bool ctk = !strcmp(a, "-ctk") || !strcmp(a, "--cache-type-k");
    bool ctv = !strcmp(a, "-ctv") || !strcmp(a, "--cache-type-v");
    bool ngl = tool_options_is_ngl(a);
    if (strcmp(a, "--cpu-isa") && strcmp(a, "--kv-block") && strcmp(a, "--vocab") && strcmp(a, "--device") &&
        !ctk && !ctv && !ngl)
        return 0;
    if (!(v = args_value(argc, argv, i))) return EXIT_USAGE;
    if (!strcmp(a, "--vocab")) {
        o->vocab = v;
        return 1;
    }
    if (!strcmp(a, "--device")) {
        o->device = v;
        return 1;
    }
    if (ngl) {
        long n;
        if (!args_int(a, v, 0, 1L << 20, &n)) return EXIT_USAGE;
        o->n_gpu_layers = (int)n;
        return 1;
    }
    if (ctk || ctv) return cache_type_flag(a, v, ctk ? &o->cache_type_k : &o->cache_type_v);
    if (!strcmp(a, "--kv-block")) {
        long n;
        if (!args_int(a, v, 1, 4096, &n)) return EXIT_USAGE;
        o->kv_block = (int)n;
        return 1;
    }
    if (!known_isa(v)) {
        cli_error("%s expects one of scalar, avx2, avx512, neon, got '%s'", a, v);
        return EXIT_USAGE;
    }
    o->cpu_isa = v;
    return 1;
}
