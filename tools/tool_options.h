/*
 * tool_options.h — the engine options of every tool (struct ember_options,
 * src/core/options.h): read from the environment and from the flags the
 * tools share. tools/ is the only floor that reads the environment.
 */
#ifndef EMBER_TOOL_OPTIONS_H
#define EMBER_TOOL_OPTIONS_H

#include "options.h" /* src/core: struct ember_options */

/* The defaults, then the EMBER_* variables:
 *   EMBER_ISA=SET          the CPU kernel set (scalar, avx2, avx512, neon)
 *   EMBER_REPACK=0         batches read the weights as the file lays them out,
 *                          without packing bands of rows first (for measuring) */
void tool_options_init(struct ember_options *o);

/* When argv[*i] is one of the shared flags below, apply it (advancing *i
 * past its value) and return 1; 0 when it is not one; EXIT_USAGE after
 * printing one line when its value is missing. */
int tool_options_flag(int argc, char **argv, int *i, struct ember_options *o);

#define TOOL_OPTIONS_HELP                                                              \
    "  --cpu-isa SET           CPU kernel set: scalar, avx2, avx512, neon (best)\n"     \
    "  -ctk, --cache-type-k T  KV cache type of keys: f16 (default), f32, q8_0\n"      \
    "  -ctv, --cache-type-v T  KV cache type of values: f16 (default), f32, q8_0\n"    \
    "  --kv-block N            positions per KV cache block (default 16)\n"         \
    "  --vocab FILE.gguf       take the tokenizer from this GGUF (for a Hugging Face\n" \
    "                          directory without tokenizer.json)\n"

#endif
