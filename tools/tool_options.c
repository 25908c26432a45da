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

void tool_options_init(struct ember_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    const char *isa = getenv("EMBER_ISA");
    o->cpu_isa = isa && *isa ? isa : NULL;
    const char *repack = getenv("EMBER_REPACK");
    o->no_pack = repack && !strcmp(repack, "0");
}

/* A set's name (whether this CPU runs it is the backend's to say). */
static bool known_isa(const char *name) {
    for (int i = 0; i < CPU_ISA_COUNT; i++)
        if (!strcmp(name, cpu_isa_name((enum cpu_isa)i))) return true;
    return false;
}

int tool_options_flag(int argc, char **argv, int *i, struct ember_options *o) {
    const char *a = argv[*i];
    if (strcmp(a, "--cpu-isa")) return 0;
    const char *v = args_value(argc, argv, i);
    if (!v) return EXIT_USAGE;
    if (!known_isa(v)) {
        cli_error("%s expects one of scalar, avx2, avx512, neon, got '%s'", a, v);
        return EXIT_USAGE;
    }
    o->cpu_isa = v;
    return 1;
}
