/*
 * os_posix.c — POSIX implementation of os.h: read-only mmap of model files
 * (with a SIGBUS guard over the mappings, and each file's size and mtime
 * kept to notice changes the guard cannot see), a monotonic clock,
 * available memory (physical, rlimits, the cgroup's limit) and large
 * allocations.
 */
#include "os.h"

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
 * hi is 0. Volatile so the handler sees stores made before the fault.
 * 64 slots: a model, its vocabulary and a sharded Hugging Face directory. */
#define OS_MAX_GUARDED 64
static volatile uintptr_t guard_lo[OS_MAX_GUARDED], guard_hi[OS_MAX_GUARDED];
static const char *volatile fault_msg;

/* What each guarded file was when mapped, to notice a change the mapping
 * cannot show: a truncation by less than a page leaves the last page
 * readable (zeros past the new end), and a rewrite in place changes bytes
 * under us. The fd stays open so the same file is asked, not the path. */
struct guard_file {
    int fd;
    off_t size;
    struct timespec mtime;
    char *path;
};
static struct guard_file guard_file[OS_MAX_GUARDED];
static char changed_path[1024]; /* the first file found changed at unmap */

static bool file_changed(const struct guard_file *g) {
    struct stat st;
    if (fstat(g->fd, &st) != 0) return true;
    return st.st_size != g->size || st.st_mtim.tv_sec != g->mtime.tv_sec ||
           st.st_mtim.tv_nsec != g->mtime.tv_nsec;
}

/* Guard [p, p + n) and remember fd's file; false when every slot is taken
 * (the caller then closes fd: the mapping works, unguarded). */
static bool guard_add(const void *p, uint64_t n, int fd, const struct stat *st, const char *path) {
    for (int i = 0; i < OS_MAX_GUARDED; i++)
        if (!guard_hi[i]) {
            guard_file[i] = (struct guard_file){fd, st->st_size, st->st_mtim, strdup(path)};
            guard_lo[i] = (uintptr_t)p;
            guard_hi[i] = (uintptr_t)p + (uintptr_t)n;
            return true;
        }
    return false;
}

static void guard_remove(const void *p) {
    for (int i = 0; i < OS_MAX_GUARDED; i++)
        if (guard_hi[i] && guard_lo[i] == (uintptr_t)p) {
            guard_hi[i] = 0;
            struct guard_file *g = &guard_file[i];
            if (!changed_path[0] && file_changed(g))
                snprintf(changed_path, sizeof changed_path, "%s", g->path ? g->path : "?");
            close(g->fd);
            free(g->path);
            *g = (struct guard_file){.fd = -1};
        }
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
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before the
     * regular-file check below refuses it */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
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
    if (p == MAP_FAILED) {
        close(fd);
        return ember_fail(err, EMBER_EIO, "%s: cannot mmap: %s", path,
                          strerror(e));
    }
    m->data = p;
    m->size = (uint64_t)st.st_size;
    if (!guard_add(p, m->size, fd, &st, path)) close(fd);
    return EMBER_OK;
}

enum ember_status os_mapped_files_check(struct ember_err *err) {
    for (int i = 0; i < OS_MAX_GUARDED && !changed_path[0]; i++)
        if (guard_hi[i] && file_changed(&guard_file[i]))
            snprintf(changed_path, sizeof changed_path, "%s", guard_file[i].path ? guard_file[i].path : "?");
    if (!changed_path[0]) return EMBER_OK;
    return ember_fail(err, EMBER_EIO, "%s: the file changed or was truncated while in use, "
                      "so the results may be wrong", changed_path);
}

enum os_path_kind os_path_kind(const char *path) {
    struct stat st;
    if (stat(path, &st)) return OS_PATH_NONE;
    if (S_ISREG(st.st_mode)) return OS_PATH_FILE;
    return S_ISDIR(st.st_mode) ? OS_PATH_DIR : OS_PATH_OTHER;
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

/* The number in file path ("max" or absent: UINT64_MAX). */
static uint64_t read_limit(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f) return UINT64_MAX;
    char buf[64], *end;
    bool got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!got || buf[0] < '0' || buf[0] > '9') return UINT64_MAX;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    return errno || end == buf ? UINT64_MAX : (uint64_t)v;
}

/* The smallest limit file `name` holds in dir/rel and each of its ancestors
 * up to dir itself: a parent's limit binds its children too. */
static uint64_t limit_up(const char *dir, const char *rel, const char *name) {
    char path[4096], sub[2048];
    snprintf(sub, sizeof sub, "%s", rel);
    uint64_t best = UINT64_MAX;
    for (;;) {
        size_t n = strlen(sub);
        while (n && sub[n - 1] == '/') sub[--n] = '\0';
        snprintf(path, sizeof path, "%s%s/%s", dir, sub, name);
        uint64_t v = read_limit(path);
        if (v < best) best = v;
        char *slash = strrchr(sub, '/');
        if (!n) return best;
        if (slash) *slash = '\0';
        else sub[0] = '\0';
    }
}

uint64_t os_cgroup_memory_limit(const char *root, const char *self_cgroup) {
    FILE *f = fopen(self_cgroup, "re");
    if (!f) return UINT64_MAX;
    char line[2048], dir[4096];
    uint64_t best = UINT64_MAX;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c1 = *c2 = '\0';
        const char *ctrl = c1 + 1, *rel = c2 + 1;
        uint64_t v = UINT64_MAX;
        if (!strcmp(line, "0") && !*ctrl) { /* v2: pure, or hybrid's unified/ */
            snprintf(dir, sizeof dir, "%s", root);
            v = limit_up(dir, rel, "memory.max");
            snprintf(dir, sizeof dir, "%s/unified", root);
            uint64_t u = limit_up(dir, rel, "memory.max");
            if (u < v) v = u;
        } else if (strstr(ctrl, "memory")) { /* v1: the memory hierarchy */
            snprintf(dir, sizeof dir, "%s/memory", root);
            v = limit_up(dir, rel, "memory.limit_in_bytes");
        }
        if (v < best) best = v;
    }
    fclose(f);
    return best;
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
    /* a container's cgroup limit, usually far below the host's memory */
    uint64_t cg = os_cgroup_memory_limit("/sys/fs/cgroup", "/proc/self/cgroup");
    if (cg < avail) {
        avail = cg;
        *why = "the cgroup memory limit, memory.max or memory.limit_in_bytes";
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
