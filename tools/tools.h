/*
 * tools.h — the `ember` subcommands main.c dispatches to, and the stdout
 * writer they share. Each takes its own argv (argv[0] is the subcommand
 * name) and returns the process exit status: 0, EXIT_RUNTIME (1) or
 * EXIT_USAGE (2).
 */
#ifndef EMBER_TOOLS_H
#define EMBER_TOOLS_H

#include <stddef.h>

int cmd_run(int argc, char **argv);
int tool_bench(int argc, char **argv);
int tool_info(int argc, char **argv);
int tool_perplexity(int argc, char **argv);
int tool_tokenize(int argc, char **argv);
int tool_template(int argc, char **argv);
int tool_quantize(int argc, char **argv);
int tool_convert(int argc, char **argv);

/* Write and flush stdout; exits 0 on a closed pipe, 1 on other errors. */
void out_write(const char *s, size_t n);

#endif
