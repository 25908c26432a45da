/*
 * os_posix.c — POSIX implementation of os.h: read-only mmap of model files
 * (with a SIGBUS guard over the mappings), a monotonic clock, large
 * allocations, file identity, atomic file writes and the directory
 * housekeeping a size-capped cache needs (list, remove, touch).
 */
#include "os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Address ranges of live mappings, read by the SIGBUS handler. Written only
 * while mapping/unmapping (model loading, one thread); a slot is free when
 * hi is 0. Volatile so the handler sees stores made before the fault. */
#define OS_MAX_GUARDED 16
static volatile uintptr_t guard_lo[OS_MAX_GUARDED], guard_hi[OS_MAX_GUARDED];
static const char *volatile fault_msg;

static void guard_add(const void *p, uint64_t n) {
    for (int i = 0; i < OS_MAX_GUARDED; i++)
        if (!guard_hi[i]) {
            guard_lo[i] = (uintptr_t)p;
            guard_hi[i] = (uintptr_t)p + (uintptr_t)n;
            return;
        }
}

static void guard_remove(const void *p) {
    for (int i = 0; i < OS_MAX_GUARDED; i++)
        if (guard_hi[i] && guard_lo[i] == (uintptr_t)p) guard_hi[i] = 0;
}

static atomic_flag fault_reported = ATOMIC_FLAG_INIT;

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < OS_MAX_GUARDED; i++)
        if (guard_hi[i] && a >= guard_lo[i] && a < guard_hi[i] && fault_msg) {
            /* Several threads may fault at once: one message, one exit. */
            if (atomic_flag_test_and_set(&fault_reported))
                for (;;) pause();
            size_t n = strlen(fault_msg);
            ssize_t w = write(STDERR_FILENO, fault_msg, n);
            (void)w;
            _exit(1);
        }
    /* Not ours: the default action happens when the access is retried. */
    signal(sig, SIG_DFL);
}

void os_on_mapped_file_fault(const char *msg) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    fault_msg = msg;
    sigaction(SIGBUS, &sa, NULL);
}

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
    guard_add(p, m->size);
    return EMBER_OK;
}

void os_unmap(struct os_map *m) {
    if (m->data) {
        guard_remove(m->data);
        munmap((void *)m->data, (size_t)m->size);
    }
    m->data = NULL;
    m->size = 0;
}

double os_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

uint64_t os_memory_available(const char **why) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t avail = UINT64_MAX;
    *why = "physical memory";
    if (pages > 0 && psize > 0) avail = (uint64_t)pages * (uint64_t)psize;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < avail) {
        avail = (uint64_t)rl.rlim_cur;
        *why = "the address-space limit, ulimit -v";
    }
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < avail) {
        avail = (uint64_t)rl.rlim_cur;
        *why = "the data-size limit, ulimit -d";
    }
    return avail;
}

void *os_alloc_large(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void os_free_large(void *p, size_t n) {
    if (p) munmap(p, n);
}

void os_drop_pages(const void *p, size_t n) {
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0) return;
    uintptr_t a = ((uintptr_t)p + (uintptr_t)ps - 1) & ~(uintptr_t)(ps - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)(ps - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED); /* advice only */
}

static void file_id_of(const struct stat *st, struct os_file_id *id) {
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

bool os_file_id(const char *path, struct os_file_id *id) {
    struct stat st;
    memset(id, 0, sizeof *id);
    if (stat(path, &st) != 0) return false;
    file_id_of(&st, id);
    return true;
}

void os_self_id(struct os_file_id *id) {
    if (!os_file_id("/proc/self/exe", id)) memset(id, 0, sizeof *id);
}

char *os_realpath(const char *path) { return realpath(path, NULL); }

bool os_mkdirs(const char *dir) {
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++)
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) return false;
            buf[i] = c;
        }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

bool os_write_file_atomic(const char *path, const void *head, size_t head_len,
                          const void *data, size_t len) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = write_all(fd, head, head_len) && write_all(fd, data, len) && fdatasync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) == 0) return true;
    unlink(tmp);
    return false;
}

struct os_dir_file *os_list_files(const char *dir, bool (*want)(const char *name), size_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct os_dir_file *fs = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (struct dirent *e; ok && (e = readdir(d));) {
        struct stat st;
        /* lstat: a link is judged as a link (and dropped), never by what
         * it points to. */
        if (!want(e->d_name) || strlen(e->d_name) >= sizeof fs->name ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue; /* also a file removed since readdir saw it */
        if (len == cap) {
            size_t c = cap ? 2 * cap : 16;
            struct os_dir_file *g = realloc(fs, c * sizeof *g);
            if (!g) {
                ok = false;
                break;
            }
            fs = g;
            cap = c;
        }
        struct os_dir_file *f = &fs[len++];
        memcpy(f->name, e->d_name, strlen(e->d_name) + 1);
        struct os_file_id id;
        file_id_of(&st, &id);
        f->size = id.size;
        f->mtime_ns = id.mtime_ns;
    }
    closedir(d);
    if (!ok || !len) {
        free(fs);
        return NULL;
    }
    *n = len;
    return fs;
}

bool os_remove_file(const char *path) { return unlink(path) == 0 || errno == ENOENT; }

bool os_touch(const char *path) { return utimensat(AT_FDCWD, path, NULL, 0) == 0; }
