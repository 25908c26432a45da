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
 * a directory) and a message that starts with the path. */
enum ember_status os_map_file(const char *path, struct os_map *m,
                              struct ember_err *err);
void os_unmap(struct os_map *m);

/* A mapped file that shrinks under us turns reads of the lost pages into
 * SIGBUS (on Linux; never silently zeros). After this call, such a fault
 * inside any mapping made by os_map_file writes msg to stderr and exits the
 * process with status 1; SIGBUS anywhere else keeps its default action. */
void os_on_mapped_file_fault(const char *msg);

/* Wall-clock milliseconds from a monotonic clock. */
double os_now_ms(void);

/* Bytes this process may allocate: physical memory, lowered by an
 * address-space or data-segment limit (ulimit -v / -d) when one is set.
 * *why names the bound that applied, for messages. */
uint64_t os_memory_available(const char **why);

/* A large zeroed allocation straight from the system (so freeing it
 * returns the memory), or NULL. Freed with os_free_large and the same
 * size. Not on huge pages: asking for them made start-up slower and less
 * predictable here (compaction stalls of up to a second). */
void *os_alloc_large(size_t n);
void os_free_large(void *p, size_t n);

/* Tell the system this process no longer needs the whole pages inside
 * [p, p+n) of a read-only file mapping: they leave its resident set (a
 * later read faults them back in from the page cache). */
void os_drop_pages(const void *p, size_t n);

/* Identity of a file's current contents, as far as the file system tells:
 * replaced or rewritten files get another inode or mtime. */
struct os_file_id {
    uint64_t dev, ino, size, mtime_ns;
};
/* false when path cannot be stat'ed. */
bool os_file_id(const char *path, struct os_file_id *id);
/* The running executable's identity (all zeros where unknown). */
void os_self_id(struct os_file_id *id);
/* The canonical absolute path of path, malloc'ed, or NULL. */
char *os_realpath(const char *path);

/* Create dir and its missing parents (mode 0700); false on failure. */
bool os_mkdirs(const char *dir);
/* Write head then data as the file path, atomically: into a temporary file
 * beside it, "<path>.tmp.<pid>", flushed to disk, then renamed over path,
 * so a reader sees the old file or the whole new one, never a part. false
 * (and no temporary left) on any failure, e.g. a full disk. Cleaners of a
 * folder (pack_cache.c's eviction) rely on that name to leave another
 * process's write in progress alone: keep it path plus a suffix. */
bool os_write_file_atomic(const char *path, const void *head, size_t head_len,
                          const void *data, size_t len);

/* Directory housekeeping, for caches that must stay under a size cap. */
struct os_dir_file {
    char name[256]; /* NAME_MAX (255) + 1: any name readdir returns */
    uint64_t size, mtime_ns;
};
/* The regular files directly inside dir whose name want() accepts, with
 * their size and mtime, in no particular order. Symbolic links (never
 * followed), subdirectories and other kinds are left out. Returns a
 * malloc'ed array the caller free()s, count in *n; NULL with *n = 0 when
 * dir cannot be read, nothing matched or memory ran out. Work: one readdir
 * pass, and one lstat per accepted name. */
struct os_dir_file *os_list_files(const char *dir, bool (*want)(const char *name), size_t *n);
/* Remove path (a link itself, never its target; never a directory). true
 * when path is gone afterwards, also when another process removed it
 * first. */
bool os_remove_file(const char *path);
/* Set path's modification (and access) time to now, so an mtime order is a
 * use order (atime alone is unreliable under relatime/noatime); false when
 * it cannot (missing, not ours and not writable). */
bool os_touch(const char *path);

#endif
