/*
 * options.h — the settings that reach below tools/. tools/ is the only
 * floor that reads the environment and the command line; it fills one of
 * these (tools/options.c: flags first, then EMBER_* variables, then
 * defaults) and hands it down, so the library never calls getenv.
 */
#ifndef EMBER_OPTIONS_H
#define EMBER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct ember_options {
    const char *backend;    /* "cpu" (NULL: cpu) */
    const char *cpu_isa;    /* CPU kernel set by name; NULL: the best this CPU runs */
    bool no_repack;         /* keep weights in the file's layout (EMBER_REPACK=0) */
    const char *cache_dir;  /* repack cache folder; NULL: no cache */
    uint64_t cache_cap;     /* repack cache size cap in bytes; 0: the default */
};

#endif
