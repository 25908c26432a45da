/*
 * cli_suggest.h — what to say about a command-line word ember does not
 * know: the nearest known name ("did you mean --temp?"), or, for a flag
 * llama.cpp has and ember does not yet, that it is one. Every message is
 * one "ember: error:" line; the callers exit with EXIT_USAGE.
 */
#ifndef EMBER_CLI_SUGGEST_H
#define EMBER_CLI_SUGGEST_H

#include <stddef.h>

/* The closest of the n names to word by edit distance (transpositions
 * count once), or NULL when none is close enough to be a typo. */
const char *cli_nearest(const char *word, const char *const *names, size_t n);

/* Whether flag (any "=value" ignored) is a common llama.cpp flag. */
int cli_is_llama_flag(const char *flag);

/* Report the unknown flag of `ember cmd`. help is the command's usage text
 * (its known flags are the words there that start with '-'); NULL gives no
 * suggestion. Always returns EXIT_USAGE (2). */
int cli_unknown_flag(const char *cmd, const char *flag, const char *help);

#endif
