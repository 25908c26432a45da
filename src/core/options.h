/*
 * options.h — the settings that reach below tools/. tools/ is the only
 * floor that reads the environment and the command line; it fills one of
 * these (tools/options.c: flags first, then EMBER_* variables, then
 * defaults) and hands it down, so the library never calls getenv.
 */
#ifndef EMBER_OPTIONS_H
#define EMBER_OPTIONS_H

#include <stdbool.h>

struct ember_options {
    const char *backend;    /* "cpu" (NULL: cpu) */
    /* issue [7]: --device NAME (NULL: the first usable GPU), and -ngl:
     * repeating layers to run there (the last ones; >= the layer count:
     * all of them and the output layer; 0: none, the CPU runs all) */
    const char *device;
    int n_gpu_layers;
    const char *cpu_isa;    /* CPU kernel set by name; NULL: the best this CPU runs */
    bool no_pack;           /* batches read weights unpacked too (EMBER_REPACK=0) */
    int cache_type_k, cache_type_v; /* KV cache types, enum kv_type (0: f16) */
    int kv_block;           /* positions per KV block (0: the default, 16) */
    const char *vocab;      /* --vocab: a GGUF whose tokenizer replaces the
                               model's (a Hugging Face directory without
                               tokenizer.json); read by tools/ only */
};

#endif
