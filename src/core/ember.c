/*
 * ember.c — the error record shared by every module (see ember.h).
 */
#include "ember.h"

#include <stdio.h>

#undef ember_fail /* the analyzer's macro (ember.h); this is the function */

static enum ember_status vfail(struct ember_err *err, enum ember_status st,
                               const char *fmt, va_list ap) {
    if (err) {
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return st;
}

enum ember_status ember_fail(struct ember_err *err, enum ember_status st,
                             const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(err, st, fmt, ap);
    va_end(ap);
    return st;
}

enum ember_status ember_fail_at(struct ember_err *err, const char *file,
                                int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(err, EMBER_ECORRUPT, fmt, ap);
    va_end(ap);
    if (err) {
        size_t n = 0;
        while (n < sizeof err->msg && err->msg[n]) n++;
        snprintf(err->msg + n, sizeof err->msg - n, " [%s:%d]", file, line);
    }
    return EMBER_ECORRUPT;
}
