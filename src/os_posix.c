/*
 * os_posix.c — POSIX implementation of os.h: read-only mmap of model files
 * and a monotonic clock.
 */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum ember_status os_map_file(const char *path, struct os_map *m,
                              struct ember_err *err) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ember_fail(err, EMBER_EIO, "%s: cannot open: %s", path,
                          strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ember_fail(err, EMBER_EIO, "%s: cannot stat: %s", path,
                          strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return ember_fail(err, EMBER_EIO, "%s: is a directory, not a model file",
                          path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ember_fail(err, EMBER_EIO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return EMBER_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (p == MAP_FAILED)
        return ember_fail(err, EMBER_EIO, "%s: cannot mmap: %s", path,
                          strerror(e));
    m->data = p;
    m->size = (uint64_t)st.st_size;
    return EMBER_OK;
}

void os_unmap(struct os_map *m) {
    if (m->data) munmap((void *)m->data, (size_t)m->size);
    m->data = NULL;
    m->size = 0;
}

double os_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
