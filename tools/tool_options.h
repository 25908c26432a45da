/*
 * tool_options.h — the engine options of every tool (struct ember_options,
 * src/core/options.h): read from the environment and from the flags the
 * tools share. tools/ is the only floor that reads the environment.
 */
#ifndef EMBER_TOOL_OPTIONS_H
#define EMBER_TOOL_OPTIONS_H

#include <stdbool.h>

#include "options.h" /* src/core: struct ember_options */

/* The defaults, then the EMBER_* variables:
 *   EMBER_ISA=SET          the CPU kernel set (scalar, avx2, avx512, neon)
 *   EMBER_REPACK=0         batches read the weights as the file lays them out,
 *                          without packing bands of rows first (for measuring)
 *   EMBER_TEST_DEVICE=B    tests: the CPU backend also lists "cpu-dev", a test
 *                          device of B bytes for -ngl (no GPU needed) */
void tool_options_init(struct ember_options *o);

/* Whether a is -ngl or one of its long names (bench takes a list). */
bool tool_options_is_ngl(const char *a);

/* When argv[*i] is one of the shared flags below, apply it (advancing *i
 * past its value) and return 1; 0 when it is not one; EXIT_USAGE after
 * printing one line when its value is missing. */
int tool_options_flag(int argc, char **argv, int *i, struct ember_options *o);

#define TOOL_OPTIONS_HELP                                                              \
    "  -ngl, --n-gpu-layers N  run the last N layers on a GPU (N >= the layer count:\n" \
    "                          all of them and the output layer; default 0)\n"          \
    "  --device NAME           the GPU for -ngl (ember info --devices; default: the\n"  \
    "                          first)\n"                                                 \
    "  --cpu-isa SET           CPU kernel set: scalar, avx2, avx512, neon (best)\n"     \
    "  -ctk, --cache-type-k T  KV cache type of keys: f16 (default), f32, q8_0\n"      \
    "  -ctv, --cache-type-v T  KV cache type of values: f16 (default), f32, q8_0\n"    \
    "  --kv-block N            positions per KV cache block (default 16)\n"         \
    "  --vocab FILE.gguf       take the tokenizer from this GGUF (for a Hugging Face\n" \
    "                          directory without tokenizer.json)\n"

#endif
