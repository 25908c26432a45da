/*
 * tool_options.c — engine options from the environment and the shared flags
 * (tool_options.h).
 */
#include "tool_options.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cpu_features.h"

/* $EMBER_CACHE_DIR, else $XDG_CACHE_HOME/ember, else $HOME/.cache/ember;
 * NULL (no cache) when EMBER_REPACK_CACHE=0 or none of them is set. */
static const char *cache_dir_from_env(void) {
    static char buf[PATH_MAX];
    const char *off = getenv("EMBER_REPACK_CACHE");
    if (off && !strcmp(off, "0")) return NULL;
    const char *d = getenv("EMBER_CACHE_DIR");
    if (d && *d) return d;
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int n = x && *x ? snprintf(buf, sizeof buf, "%s/ember", x)
          : h && *h ? snprintf(buf, sizeof buf, "%s/.cache/ember", h)
                    : -1;
    return n > 0 && n < (int)sizeof buf ? buf : NULL;
}

void tool_options_init(struct ember_options *o) {
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    const char *isa = getenv("EMBER_ISA");
    o->cpu_isa = isa && *isa ? isa : NULL;
    const char *repack = getenv("EMBER_REPACK");
    o->no_repack = repack && !strcmp(repack, "0");
    o->cache_dir = cache_dir_from_env();
}

/* A set's name (whether this CPU runs it is the backend's to say). */
static bool known_isa(const char *name) {
    for (int i = 0; i < CPU_ISA_COUNT; i++)
        if (!strcmp(name, cpu_isa_name((enum cpu_isa)i))) return true;
    return false;
}

int tool_options_flag(int argc, char **argv, int *i, struct ember_options *o) {
    const char *a = argv[*i];
    if (!strcmp(a, "--no-pack-cache")) {
        o->cache_dir = NULL;
        return 1;
    }
    const char **dst = !strcmp(a, "--cpu-isa") ? &o->cpu_isa
                       : !strcmp(a, "--cache-dir") ? &o->cache_dir
                                                   : NULL;
    if (!dst) return 0;
    const char *v = args_value(argc, argv, i);
    if (!v) return EXIT_USAGE;
    if (dst == &o->cpu_isa && !known_isa(v)) {
        cli_error("%s expects one of scalar, avx2, avx512, neon, got '%s'", a, v);
        return EXIT_USAGE;
    }
    *dst = v;
    return 1;
}
