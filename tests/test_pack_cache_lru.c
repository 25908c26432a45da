/*
 * test_pack_cache_lru.c — the repack cache's size cap (pack_cache.h), in a
 * fresh mkdtemp folder with small fake model files: the least recently
 * used entry is evicted first; a hit (pack_cache_open) makes an entry
 * survive the next eviction; an entry bigger than the cap is refused and
 * leaves no file; other files of the folder (a look-alike name, another
 * writer's temporary, a symbolic link, a subdirectory) are neither removed
 * nor followed nor counted; and the cache files end within the cap.
 *
 * Recency is set with explicit mtimes (utimensat, years in the past), so
 * nothing sleeps and the order never depends on clock resolution. Entries
 * are recognised as "the repack-*.bin file that appeared with this write"
 * rather than by recomputing pack_cache.c's name hash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pack_cache.h"

#define ISA "lru-test"
#define PACKED 4096                 /* packed bytes per entry */
#define ENTRY (4096 + PACKED)       /* file size: 4 KiB header + bytes */
#define CAP (3 * ENTRY + ENTRY / 2) /* room for three entries, not four */
#define N_MODELS 7

static char root[PATH_MAX], cache[PATH_MAX], model[N_MODELS][PATH_MAX];
static char entry[N_MODELS][NAME_MAX + 1]; /* model i's cache file name */
static uint8_t data[CAP]; /* big enough for an entry over the cap */

/* ---------------------------------------------------------------- helpers */

static void put_file(const char *path, size_t n) {
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < n; i++) fputc((int)(i * 7 + n), f);
    if (f) fclose(f);
}

/* Set path's mtime (and atime) to t seconds since the epoch, on the link
 * itself when nofollow. */
static void set_mtime(const char *path, time_t t, int nofollow) {
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    utimensat(AT_FDCWD, path, ts, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
}

/* out = dir/name; paths here are short, so running out of room is a bug
 * of the test and stops it. */
static void join(char *out, const char *dir, const char *name) {
    if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
        fprintf(stderr, "path too long: %s/%s\n", dir, name);
        exit(2);
    }
}

static void in_cache(char *out, const char *name) { join(out, cache, name); }

/* A name pack_cache gives its files: repack-<16 lowercase hex>.bin (so
 * the look-alike "repack-0123.bin" bystander is not one). */
static int is_cache_name(const char *s) {
    if (strlen(s) != 7 + 16 + 4 || strncmp(s, "repack-", 7) || strcmp(s + 23, ".bin")) return 0;
    return strspn(s + 7, "0123456789abcdef") == 16;
}

/* The repack-*.bin regular files of the cache folder: how many, their
 * total size, and (into out, when one is found) one not among known[0..k). */
static int scan(uint64_t *total, char known[][NAME_MAX + 1], int k, char *out) {
    DIR *d = opendir(cache);
    int n = 0;
    *total = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));) {
        char p[PATH_MAX];
        struct stat st;
        in_cache(p, e->d_name);
        if (!is_cache_name(e->d_name) || lstat(p, &st) || !S_ISREG(st.st_mode)) continue;
        n++;
        *total += (uint64_t)st.st_size;
        int seen = 0;
        for (int i = 0; i < k; i++) seen |= !strcmp(known[i], e->d_name);
        if (!seen && out) memcpy(out, e->d_name, strlen(e->d_name) + 1); /* 27 bytes */
    }
    closedir(d);
    return n;
}

/* Write model i's entry; returns pack_cache_write's answer and records the
 * file that appeared as entry[i] ("" when none did). */
static int write_entry(int i, size_t packed, uint64_t cap) {
    uint64_t total;
    entry[i][0] = '\0';
    int ok = pack_cache_write(cache, model[i], ISA, data, packed, cap);
    scan(&total, entry, N_MODELS, entry[i]);
    return ok;
}

static int exists(int i) {
    char p[PATH_MAX];
    struct stat st;
    if (!entry[i][0]) return 0;
    in_cache(p, entry[i]);
    return lstat(p, &st) == 0;
}

static time_t mtime_of(const char *path) {
    struct stat st;
    return lstat(path, &st) ? 0 : st.st_mtim.tv_sec;
}

/* ------------------------------------------------- the folder's bystanders */

/* Files pack_cache must leave alone, all old (so an LRU that looked at
 * them would pick them first) and large (so one that counted them would
 * evict real entries to make room). */
static const char *bystander[] = {
    "notes.txt",                            /* unrelated */
    "repack-0123456789abcdef.bin.tmp.4242", /* another ember mid-write */
    "repack-0123456789abcdef.bin.old",      /* not a .bin */
    "repack-0123.bin",                      /* not a name pack_cache makes */
};
#define N_BYSTANDERS (int)(sizeof bystander / sizeof *bystander)
#define BYSTANDER_SIZE (2 * CAP)
#define OLD ((time_t)946684800) /* 2000-01-01 */

static char link_path[PATH_MAX], target[PATH_MAX], subdir[PATH_MAX], subfile[PATH_MAX];

static void make_bystanders(void) {
    char p[PATH_MAX];
    for (int i = 0; i < N_BYSTANDERS; i++) {
        in_cache(p, bystander[i]);
        put_file(p, BYSTANDER_SIZE);
        set_mtime(p, OLD, 0);
    }
    /* a link named like an entry, to a big old file outside the folder */
    join(target, root, "target.bin");
    put_file(target, BYSTANDER_SIZE);
    set_mtime(target, OLD, 0);
    in_cache(link_path, "repack-00000000000000aa.bin");
    if (symlink(target, link_path)) perror("symlink");
    set_mtime(link_path, OLD, 1);
    /* a subdirectory named like an entry, with a file of that name inside */
    in_cache(subdir, "repack-00000000000000bb.bin");
    mkdir(subdir, 0700);
    join(subfile, subdir, "repack-00000000000000cc.bin");
    put_file(subfile, BYSTANDER_SIZE);
    set_mtime(subfile, OLD, 0);
    set_mtime(subdir, OLD, 0);
}

static int bystanders_intact(void) {
    char p[PATH_MAX], t[PATH_MAX];
    struct stat st;
    for (int i = 0; i < N_BYSTANDERS; i++) {
        in_cache(p, bystander[i]);
        if (lstat(p, &st) || st.st_size != BYSTANDER_SIZE || st.st_mtim.tv_sec != OLD) return 0;
    }
    ssize_t n = readlink(link_path, t, sizeof t - 1);
    if (n < 0 || lstat(link_path, &st) || !S_ISLNK(st.st_mode)) return 0;
    t[n] = '\0';
    if (strcmp(t, target) || stat(target, &st) || st.st_size != BYSTANDER_SIZE ||
        st.st_mtim.tv_sec != OLD)
        return 0;
    if (lstat(subdir, &st) || !S_ISDIR(st.st_mode)) return 0;
    return !stat(subfile, &st) && st.st_size == BYSTANDER_SIZE && st.st_mtim.tv_sec == OLD;
}

/* ------------------------------------------------------------------ test */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    join(root, tmp && *tmp ? tmp : "/tmp", "ember-lru-XXXXXX");
    if (!mkdtemp(root)) {
        CHECK(0, "mkdtemp %s", root);
        return CHECK_DONE();
    }
    join(cache, root, "cache");
    mkdir(cache, 0700);
    for (int i = 0; i < N_MODELS; i++) {
        char name[32];
        snprintf(name, sizeof name, "model%d.gguf", i);
        join(model[i], root, name);
        put_file(model[i], 100 + (size_t)i);
    }
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 31 + 1);
    make_bystanders();

    /* three entries fit; make their use order 0, 1, 2 explicit */
    int wrote = 1;
    for (int i = 0; i < 3; i++) {
        wrote &= write_entry(i, PACKED, CAP);
        char p[PATH_MAX];
        in_cache(p, entry[i]);
        set_mtime(p, OLD + 1000 * (i + 1), 0);
    }
    CHECK(wrote && exists(0) && exists(1) && exists(2),
          "three entries within the cap are written and all kept");

    /* a fourth: the least recently used (0) goes, and only it */
    CHECK(write_entry(3, PACKED, CAP), "a fourth entry is written");
    CHECK(!exists(0) && exists(1) && exists(2) && exists(3),
          "over the cap, the least recently used entry is evicted, and only it");
    struct os_map map;
    CHECK(!pack_cache_open(cache, model[0], ISA, PACKED, &map), "an evicted entry is a miss");
    char p3[PATH_MAX];
    in_cache(p3, entry[3]);
    set_mtime(p3, OLD + 4000, 0);

    /* a hit on 1, now the oldest, makes it the most recent: 2 goes next */
    char p1[PATH_MAX];
    in_cache(p1, entry[1]);
    const uint8_t *hit = pack_cache_open(cache, model[1], ISA, PACKED, &map);
    CHECK(hit && !memcmp(hit, data, PACKED), "a hit maps the stored bytes");
    if (hit) os_unmap(&map);
    CHECK(mtime_of(p1) > OLD + 4000, "a hit sets its file's mtime to now (%lld)",
          (long long)mtime_of(p1));
    CHECK(write_entry(4, PACKED, CAP), "a fifth entry is written");
    CHECK(exists(1) && !exists(2) && exists(3) && exists(4),
          "the entry hit survives the eviction; the next oldest goes instead");

    /* an entry bigger than the cap (its header alone tips it over) is
     * refused and leaves nothing */
    uint64_t before, after;
    int n_before = scan(&before, entry, N_MODELS, NULL);
    CHECK(!write_entry(5, CAP - 4095, CAP), "an entry alone over the cap is refused");
    int n_after = scan(&after, entry, N_MODELS, NULL);
    CHECK(!entry[5][0] && n_after == n_before && after == before && exists(1) && exists(3) &&
              exists(4),
          "the refused entry leaves no file, and evicts nothing that was within the cap");
    /* a stale entry under a refused write's name goes too: model 1's file
     * holds PACKED bytes, and now it is to store more than the cap */
    CHECK(!pack_cache_write(cache, model[1], ISA, data, CAP, CAP) && !exists(1) &&
              exists(3) && exists(4),
          "a refused write also removes that model's stale entry, and only it");

    /* a smaller cap evicts down to it at the next write, oldest first */
    CHECK(write_entry(6, PACKED, 2 * ENTRY), "a write under a smaller cap succeeds");
    CHECK(!exists(3) && exists(4) && exists(6), "a smaller cap evicts the oldest down to it");

    uint64_t total;
    int n = scan(&total, entry, N_MODELS, NULL);
    CHECK(n == 2 && total <= 2 * ENTRY,
          "the cache files end within the cap (%d files, %llu bytes)", n,
          (unsigned long long)total);
    CHECK(bystanders_intact(),
          "other files, a temporary, a symlink (and its target) and a subdirectory are untouched");

    /* leave nothing behind: depth first, links removed, never followed */
    if (nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS))
        fprintf(stderr, "could not remove %s\n", root);
    return CHECK_DONE();
}
