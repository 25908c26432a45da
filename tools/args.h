/*
 * args.h — strict parsing of command-line values, shared by every
 * subcommand. A value that is not a number, has trailing junk, or is out
 * of range is a usage error: the parser prints one line naming the flag and
 * the caller exits with status 2.
 */
#ifndef EMBER_ARGS_H
#define EMBER_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#define EXIT_RUNTIME 1 /* the input or the machine failed */
#define EXIT_USAGE 2   /* the command line was wrong */

/* Print "ember: error: MSG" on stderr (one line). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fetch the value after argv[*i] (advancing *i); NULL and a message if none. */
const char *args_value(int argc, char **argv, int *i);
bool args_int(const char *flag, const char *s, long lo, long hi, long *out);
bool args_float(const char *flag, const char *s, double lo, double hi, float *out);
bool args_u64(const char *flag, const char *s, uint64_t *out);

/* Read a whole file or stdin (path NULL) into a NUL-terminated buffer of at
 * most max bytes; *len gets the length. NULL and a printed error on failure. */
char *read_text(const char *path, uint64_t max, uint64_t *len);

/* Default thread count: the number of online CPUs (physical cores where the
 * kernel tells us), at least 1. */
int default_threads(void);

#endif
