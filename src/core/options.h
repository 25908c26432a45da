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
    /* issue [7]: --device NAME (NULL: the first usable GPU), and -ngl:
     * repeating layers to run there (the last ones; >= the layer count:
     * all of them and the output layer; 0: none, the CPU runs all) */
    const char *device;
    int n_gpu_layers;
    /* the context -ngl's plan reserves device KV cache for: positions per
     * sequence (0: the model's trained length, capped at 4096) and
     * sequences (0: 1) */
    int n_ctx, n_seq;
    /* tests only (EMBER_TEST_DEVICE=BYTES): when non-zero the CPU backend
     * also lists "cpu-dev", a device of host memory reached through the
     * device calls (kv_mem, copy_in/out) that reports this many bytes */
    uint64_t test_device_memory;
    const char *cpu_isa;    /* CPU kernel set by name; NULL: the best this CPU runs */
    bool no_pack;           /* batches read weights unpacked too (EMBER_REPACK=0) */
    int cache_type_k, cache_type_v; /* KV cache types, enum kv_type (0: f16) */
    int kv_block;           /* positions per KV block (0: the default, 16) */
    const char *vocab;      /* --vocab: a GGUF whose tokenizer replaces the
                               model's (a Hugging Face directory without
                               tokenizer.json); read by tools/ only */
};

#endif
