/*
 * check.h — the tiny test protocol shared by every C test.
 *
 * Each check prints one line: "ok NAME" or "not ok NAME: WHY" (or "SKIP NAME:
 * WHY"). tests/run.sh counts those lines across all tests; a test binary
 * exits non-zero when any of its checks failed.
 */
#ifndef EMBER_CHECK_H
#define EMBER_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...)                                        \
    do {                                                        \
        if (cond) {                                             \
            printf("ok ");                                      \
            printf(__VA_ARGS__);                                \
            printf("\n");                                       \
        } else {                                                \
            check_failures++;                                   \
            printf("not ok ");                                  \
            printf(__VA_ARGS__);                                \
            printf("  [%s:%d: %s]\n", __FILE__, __LINE__, #cond); \
        }                                                       \
        fflush(stdout);                                         \
    } while (0)

#define SKIP(...)               \
    do {                        \
        printf("SKIP ");        \
        printf(__VA_ARGS__);    \
        printf("\n");           \
        fflush(stdout);         \
    } while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

#endif
