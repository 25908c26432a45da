/*
 * pack_cache.c — the repack cache file (pack_cache.h).
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

const char *pack_cache_dir(void) {
    static char buf[PATH_MAX];
    const char *off = getenv("EMBER_REPACK_CACHE");
    if (off && !strcmp(off, "0")) return NULL;
    const char *d = getenv("EMBER_CACHE_DIR");
    if (d && *d) return d;
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int n = x && *x ? snprintf(buf, sizeof buf, "%s/ember", x)
          : h && *h ? snprintf(buf, sizeof buf, "%s/.cache/ember", h)
                    : -1;
    return n > 0 && n < (int)sizeof buf ? buf : NULL;
}

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
    if (map->size == HEAD_BYTES + (uint64_t)total && !memcmp(map->data, &want, sizeof want))
        return map->data + HEAD_BYTES;
    os_unmap(map);
    return NULL;
}

bool pack_cache_write(const char *dir, const char *model_path, const char *isa, const void *data,
                      size_t total) {
    char path[PATH_MAX];
    uint8_t head[HEAD_BYTES] = {0};
    struct head h;
    if (!cache_path(dir, model_path, isa, path, sizeof path) ||
        !expected_head(model_path, isa, total, &h) || !os_mkdirs(dir))
        return false;
    memcpy(head, &h, sizeof h);
    return os_write_file_atomic(path, head, sizeof head, data, total);
}
