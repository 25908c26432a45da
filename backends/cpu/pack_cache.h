/*
 * pack_cache.h — a model's repacked matrices kept in a file, so the next
 * load maps them instead of repacking.
 *
 * Why: repacking a 1B model costs a few hundred milliseconds at every
 * start (a new buffer faulted in, every weight page read); mapping a file
 * the page cache holds costs well under one. The file is only a copy: when
 * it is missing, stale, damaged or cannot be written, ember repacks in
 * memory as before and nothing else changes.
 *
 * One file per model path and kernel set, <dir>/repack-<hash>.bin: a 4 KiB
 * header, then the packed bytes. The header names what the bytes were made
 * from — the model file's identity (device, inode, size, mtime), the ember
 * executable's (a rebuilt ember may pack differently), the kernel set and
 * the byte count — and a file that differs in any of these or in length is
 * ignored and later replaced.
 *
 * The folder is capped: each write then removes the least recently used
 * cache files (oldest mtime first; a hit sets its file's mtime to now)
 * until the cache files together fit the cap. Only names this code writes
 * are ever removed (repack-<16 hex digits>.bin, regular files, not the
 * temporaries of a write in progress); everything else in the folder is
 * left alone and does not count.
 */
#ifndef EMBER_PACK_CACHE_H
#define EMBER_PACK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os.h"

/* The cap on the cache files' total size when the user chose none: room
 * for the packed matrices of a few small models (a 1.1B Q4_0 model packs
 * into about 0.6 GiB). */
#define PACK_CACHE_DEFAULT_CAP ((uint64_t)2 << 30)

/* Where the cache lives is the caller's choice (struct ember_options'
 * cache_dir: tools/ reads --cache-dir and EMBER_CACHE_DIR). */

/* The cached packed bytes of model_path for kernel set isa, exactly total
 * of them, mapped read-only into *map (os_unmap frees it); NULL when there
 * is no such file or it does not match. A hit marks the file most recently
 * used (its mtime; best effort). */
const void *pack_cache_open(const char *dir, const char *model_path, const char *isa, size_t total,
                            struct os_map *map);

/* Store total packed bytes as that cache file (creating dir), then remove
 * the least recently used other cache files of dir until all of them,
 * this one included, take at most cap_bytes (0 is a cap of nothing, not
 * "no cap"). false when it could not be written or alone exceeds the cap,
 * leaving no file for this model behind. Eviction is best effort: a file
 * that cannot be removed, or that another process removed first, is
 * skipped and never makes the write fail. Work: the write, then one
 * listing of dir, a sort and at most one unlink per cache file. */
bool pack_cache_write(const char *dir, const char *model_path, const char *isa, const void *data,
                      size_t total, uint64_t cap_bytes);

#endif
