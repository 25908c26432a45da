/*
 * fuzz_common.h — what the libFuzzer harnesses in tests/fuzz/ share.
 *
 * Each harness defines FUZZ_ENTRY (LLVMFuzzerTestOneInput unless the includer
 * renames it) and optionally FUZZ_INIT (LLVMFuzzerInitialize). The fuzz
 * build (make fuzz) links them with libFuzzer; tests/test_fuzz_regressions.c
 * includes all of them, renamed, and replays tests/fuzz/regressions/<name>/
 * through the same code in the normal build. Everything here is static so
 * several harnesses can share one translation unit.
 */
#ifndef EMBER_FUZZ_COMMON_H
#define EMBER_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#define FUZZ_INIT LLVMFuzzerInitialize
#endif

/* A harness invariant broke: print what and abort, so libFuzzer keeps the
 * input and the replay test fails. */
#define FUZZ_CHECK(cond, ...)                                         \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "fuzz check failed at %s:%d: ", __FILE__, \
                    __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                             \
            fputc('\n', stderr);                                      \
            abort();                                                  \
        }                                                             \
    } while (0)

/* Put data into one reusable in-memory file and return a path that opens
 * it (/proc/self/fd/N of a memfd), so gguf_open maps it like any model. */
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("ember-fuzz", MFD_CLOEXEC);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    return path;
}

/* Where tests/data is: $EMBER_DATA, else relative to the repository root
 * (make fuzz and make test run there). */
static inline const char *fuzz_data_dir(void) {
    const char *d = getenv("EMBER_DATA");
    return d && *d ? d : "tests/data";
}

#endif
