/*
 * os.h — the few operating-system services ember needs, behind one seam.
 *
 * Platform code lives in os_posix.c; nothing else calls open/mmap directly,
 * so a port or a fault-injection test has one place to change.
 */
#ifndef EMBER_OS_H
#define EMBER_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

struct os_map {
    const uint8_t *data; /* NULL for an empty file */
    uint64_t size;
};

/* Map a regular file read-only. Fails with EMBER_EIO (missing, unreadable,
 * a directory, a FIFO or device: refused at once, never waited on) and a
 * message that starts with the path. The file stays open until os_unmap,
 * so os_mapped_files_check can tell whether it changed. */
enum ember_status os_map_file(const char *path, struct os_map *m,
                              struct ember_err *err);
void os_unmap(struct os_map *m);

/* What path names: OS_PATH_NONE (absent or unreadable), a regular file or
 * a directory (OS_PATH_OTHER for anything else). Follows symlinks. */
enum os_path_kind { OS_PATH_NONE, OS_PATH_FILE, OS_PATH_DIR, OS_PATH_OTHER };
enum os_path_kind os_path_kind(const char *path);

/* A mapped file that shrinks under us turns reads of the lost pages into
 * SIGBUS (on Linux; never silently zeros). After this call, such a fault
 * inside any mapping made by os_map_file writes msg to stderr and exits the
 * process with status 1; SIGBUS anywhere else keeps its default action. */
void os_on_mapped_file_fault(const char *msg);

/* EMBER_EIO naming the first file mapped by os_map_file that has changed
 * (size or modification time) since it was mapped, checked at os_unmap and
 * for the mappings still live; EMBER_OK otherwise. A truncation by less
 * than a page raises no SIGBUS (the last page still reads, as zeros), so
 * this is what catches it: call it before reporting success. One fstat per
 * live mapping. */
enum ember_status os_mapped_files_check(struct ember_err *err);

/* Wall-clock milliseconds from a monotonic clock. */
double os_now_ms(void);

/* Bytes this process may allocate: physical memory, lowered by an
 * address-space or data-segment limit (ulimit -v / -d) or the cgroup's
 * memory limit when one is set. *why names the bound that applied, for
 * messages. Allocation is lazy, so this check is what refuses a context
 * that could never be filled. */
uint64_t os_memory_available(const char **why);

/* The tightest memory limit of the cgroup this process is in and its
 * ancestors, or UINT64_MAX for none: cgroup v2 memory.max (also under a
 * hybrid mount's unified/), v1 memory.limit_in_bytes, found through
 * self_cgroup (/proc/self/cgroup) under root (/sys/fs/cgroup). Both paths
 * are parameters so tests can give a made-up tree. */
uint64_t os_cgroup_memory_limit(const char *root, const char *self_cgroup);

/* A large zeroed allocation straight from the system (so freeing it
 * returns the memory), or NULL. Freed with os_free_large and the same
 * size. Not on huge pages: asking for them made start-up slower and less
 * predictable here (compaction stalls of up to a second). */
void *os_alloc_large(size_t n);
void os_free_large(void *p, size_t n);

#endif
