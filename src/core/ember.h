/*
 * ember.h — what every module shares: the status codes and the error record.
 *
 * Library code (src/, quant/, models/, backends/) never prints and never exits.
 * A failing function fills a `struct ember_err` and returns a status; the CLI
 * prints the message once, as `ember: error: MSG`, and picks the exit code.
 */
#ifndef EMBER_H
#define EMBER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum ember_status {
    EMBER_OK = 0,
    EMBER_ECORRUPT,     /* a file is malformed or hostile */
    EMBER_ENOMEM,       /* an allocation failed or would be too large */
    EMBER_EIO,          /* open/read/mmap failed */
    EMBER_EUNSUPPORTED, /* well-formed, but something ember does not handle */
    EMBER_EINVAL,       /* a bad argument from the user (prompt too long, ...) */
};

/* One human-readable line, without the "ember: error: " prefix. */
struct ember_err {
    enum ember_status status;
    char msg[512];
};

/* Record an error; returns `st` so callers can `return ember_fail(...)`. */
enum ember_status ember_fail(struct ember_err *err, enum ember_status st,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The static analyzer cannot see into ember.c, so it would assume
 * ember_fail may return EMBER_OK and report uninitialised values on the
 * error paths; show it that the result is st. */
#ifdef __clang_analyzer__
#define ember_fail(err, st, ...) (ember_fail((err), (st), __VA_ARGS__), (st))
#endif

/* Raise corruption with the source line in debug builds (SQLite's CORRUPT_BKPT
 * idea): a fuzz finding then names the check that caught it. */
#ifdef EMBER_DEBUG
#define EMBER_CORRUPT(err, ...) \
    ember_fail_at((err), __FILE__, __LINE__, __VA_ARGS__)
#else
#define EMBER_CORRUPT(err, ...) ember_fail((err), EMBER_ECORRUPT, __VA_ARGS__)
#endif
enum ember_status ember_fail_at(struct ember_err *err, const char *file,
                                int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Overflow-checked size arithmetic: return 0 on overflow, 1 when *out is set. */
static inline int ember_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline int ember_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

#endif
