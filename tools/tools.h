/*
 * tools.h — entry points of the `ember` subcommands that live in tools/.
 * Each takes its own argv (argv[0] is the subcommand name) and returns the
 * process exit status (0, 1 for a runtime error, 2 for a usage error).
 */
#ifndef EMBER_TOOLS_H
#define EMBER_TOOLS_H

int tool_info(int argc, char **argv);
int tool_perplexity(int argc, char **argv);
int tool_tokenize(int argc, char **argv);

#endif
