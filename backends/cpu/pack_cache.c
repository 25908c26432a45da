/*
 * pack_cache.c — the repack cache file (pack_cache.h): where it lives, its
 * name and header, reading and writing it, and keeping the folder under
 * its size cap (least recently used first).
 */
#include "pack_cache.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_BYTES 4096 /* the packed bytes start on a page */

struct head {
    char magic[8];
    uint64_t total;
    struct os_file_id model, exe;
    char isa[24];
};
_Static_assert(sizeof(struct head) <= HEAD_BYTES, "pack cache header");

/* The header this ember would write for the model now; false when the
 * model file cannot be identified. */
static bool expected_head(const char *model_path, const char *isa, size_t total, struct head *h) {
    memset(h, 0, sizeof *h); /* padding too: headers are compared whole */
    memcpy(h->magic, "EMBERPK1", 8);
    h->total = total;
    snprintf(h->isa, sizeof h->isa, "%s", isa);
    os_self_id(&h->exe);
    return os_file_id(model_path, &h->model);
}

/* <dir>/repack-<FNV-1a of the model's real path and the set>.bin */
static bool cache_path(const char *dir, const char *model_path, const char *isa, char *out,
                       size_t cap) {
    char *real = os_realpath(model_path);
    if (!real) return false;
    uint64_t hash = 0xcbf29ce484222325u;
    for (const char *s = real;; s++) {
        hash = (hash ^ (uint8_t)*s) * 0x100000001b3u;
        if (!*s) break;
    }
    for (const char *s = isa; *s; s++) hash = (hash ^ (uint8_t)*s) * 0x100000001b3u;
    free(real);
    int n = snprintf(out, cap, "%s/repack-%016llx.bin", dir, (unsigned long long)hash);
    return n > 0 && (size_t)n < cap;
}

const void *pack_cache_open(const char *dir, const char *model_path, const char *isa, size_t total,
                            struct os_map *map) {
    char path[PATH_MAX];
    struct head want;
    struct ember_err ignored = {0};
    memset(map, 0, sizeof *map);
    if (!cache_path(dir, model_path, isa, path, sizeof path) ||
        !expected_head(model_path, isa, total, &want) || os_map_file(path, map, &ignored))
        return NULL;
    if (map->size == HEAD_BYTES + (uint64_t)total && !memcmp(map->data, &want, sizeof want)) {
        /* the LRU order is the mtime order; failing to touch only makes
         * this file look older than it is */
        os_touch(path);
        return map->data + HEAD_BYTES;
    }
    os_unmap(map);
    return NULL;
}

/* Whether name is one cache_path makes: repack-<16 lowercase hex>.bin.
 * Exact on purpose: eviction removes only what this code wrote, and a
 * write in progress ("<name>.tmp.<pid>", os_write_file_atomic) does not
 * end in ".bin", so another ember's temporary is never touched. */
static bool is_cache_name(const char *s) {
    if (strncmp(s, "repack-", 7)) return false;
    for (int i = 7; i < 7 + 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return !strcmp(s + 7 + 16, ".bin");
}

/* Oldest first; names break ties so the order does not depend on readdir. */
static int by_mtime(const void *a, const void *b) {
    const struct os_dir_file *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns) return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Remove dir's cache files, least recently used first, until they sum to
 * at most cap. keep (a name in dir, or NULL) is the file just written: it
 * is never removed and counts keep_bytes as the most recent, whatever its
 * mtime says (a clock step back must not evict it). Best effort: an unlink
 * that fails leaves that file counted and moves on to the next one. */
static void evict(const char *dir, const char *keep, uint64_t keep_bytes, uint64_t cap) {
    size_t n;
    struct os_dir_file *fs = os_list_files(dir, is_cache_name, &n);
    uint64_t sum = keep_bytes;
    for (size_t i = 0; i < n; i++)
        if (!keep || strcmp(fs[i].name, keep)) sum += fs[i].size;
    if (sum > cap) qsort(fs, n, sizeof *fs, by_mtime);
    for (size_t i = 0; i < n && sum > cap; i++) {
        char path[PATH_MAX];
        if (keep && !strcmp(fs[i].name, keep)) continue;
        int len = snprintf(path, sizeof path, "%s/%s", dir, fs[i].name);
        if (len > 0 && (size_t)len < sizeof path && os_remove_file(path)) sum -= fs[i].size;
    }
    free(fs);
}

bool pack_cache_write(const char *dir, const char *model_path, const char *isa, const void *data,
                      size_t total, uint64_t cap_bytes) {
    char path[PATH_MAX];
    uint8_t head[HEAD_BYTES] = {0};
    struct head h;
    if (!cache_path(dir, model_path, isa, path, sizeof path) ||
        !expected_head(model_path, isa, total, &h))
        return false;
    if (total > cap_bytes || cap_bytes - total < HEAD_BYTES) {
        /* Too big to keep: refused before writing rather than written and
         * removed (the same end, without the disk traffic). An older file
         * under this name is stale (the caller missed it) and goes too. */
        os_remove_file(path);
        evict(dir, NULL, 0, cap_bytes);
        return false;
    }
    if (!os_mkdirs(dir)) return false;
    memcpy(head, &h, sizeof h);
    if (!os_write_file_atomic(path, head, sizeof head, data, total)) return false;
    evict(dir, strrchr(path, '/') + 1, HEAD_BYTES + (uint64_t)total, cap_bytes);
    return true;
}
