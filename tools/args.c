/*
 * args.c — command-line value parsing and small CLI helpers (args.h).
 */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("ember: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *args_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

bool args_int(const char *flag, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) {
        cli_error("%s expects an integer, got '%s'", flag, s);
        return false;
    }
    if (v < lo || v > hi) {
        cli_error("%s must be between %ld and %ld, got %ld", flag, lo, hi, v);
        return false;
    }
    *out = v;
    return true;
}

bool args_float(const char *flag, const char *s, double lo, double hi, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        cli_error("%s expects a number, got '%s'", flag, s);
        return false;
    }
    if (v < lo || v > hi) {
        cli_error("%s must be between %g and %g, got %g", flag, lo, hi, v);
        return false;
    }
    *out = (float)v;
    return true;
}

bool args_u64(const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') {
        cli_error("%s expects a non-negative integer, got '%s'", flag, s);
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end) {
        cli_error("%s expects a non-negative integer, got '%s'", flag, s);
        return false;
    }
    *out = v;
    return true;
}

char *read_text(const char *path, uint64_t max, uint64_t *len) {
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > max) {
            cli_error("%s is larger than %llu bytes", path ? path : "standard input",
                      (unsigned long long)max);
            free(buf);
            buf = NULL;
            break;
        }
        if (got == 0) {
            if (ferror(f)) {
                cli_error("%s: read error: %s", path ? path : "standard input", strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (path) fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    *len = n;
    return buf;
}

int default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 64) n = 64;
    return (int)n;
}
