/*
 * repack.c — the CPU backend's prepare_weights: the matrices whose kernel
 * set has a faster layout for them (type_kernels.pack), copied into it once
 * (as llama.cpp's CPU "repack" does), by all CPUs, into one buffer — or
 * mapped from the cache file an earlier load wrote (pack_cache.h).
 *
 * The model's memory for those types moves from the file's pages (dropped
 * once copied) to the buffer. Only speed depends on it: when the buffer
 * cannot be allocated, or the options say no_repack, matmul reads the
 * mapped file as it is.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_impl.h"
#include "os.h"
#include "pack_cache.h"

struct backend_weights {
    struct backend_buffer *alloc; /* the packed copies: a buffer of ours, or ... */
    struct backend_buffer mapped; /* ... a view of the cache file, */
    struct os_map map;            /* mapped here */
    const char *note;             /* weights_note */
};

/* One packing task: PACK_TASK_ROWS rows of one matrix (a multiple of
 * PACK_ROWS, so each task starts a group of the packed layout). */
#define PACK_TASK_ROWS 256
struct pack_job {
    const struct cpu_kernels *k;
    struct tensor *const *ts; /* the matrices to pack */
    int64_t *first_task;      /* task index where matrix i starts; one past the end last */
};

static void pack_task(void *arg, int task) {
    const struct pack_job *j = arg;
    int i = 0;
    while (j->first_task[i + 1] <= task) i++;
    struct tensor *t = j->ts[i];
    const struct type_kernels *q = &j->k->type[t->type];
    int64_t r0 = (task - j->first_task[i]) * (int64_t)PACK_TASK_ROWS;
    int64_t rows = t->n_out - r0 < PACK_TASK_ROWS ? t->n_out - r0 : PACK_TASK_ROWS;
    const uint8_t *src = (const uint8_t *)t->part[0] + (size_t)r0 * t->row_bytes;
    q->pack(t->n_in, src, t->row_bytes, rows,
            (uint8_t *)t->prepared + (size_t)(r0 / PACK_ROWS) * q->pack_bytes(PACK_ROWS, t->n_in));
    /* the file's copy is not read again (but for a tied embedding's
     * lookups, which fault pages back in) */
    os_drop_pages(src, (size_t)rows * t->row_bytes);
}

/* Bytes of t's packed copy, rounded up so the next one starts on a line. */
static size_t packed_size(const struct cpu_kernels *k, const struct tensor *t) {
    return (k->type[t->type].pack_bytes(t->n_out, t->n_in) + 63) & ~(size_t)63;
}

/* Point the n matrices ts at their places in one buffer of packed copies. */
static void place_packed(const struct cpu_kernels *k, struct tensor **ts, int n,
                         struct backend_buffer *buf) {
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        ts[i]->buf = buf;
        ts[i]->prepared = (const uint8_t *)buf->data + at;
        at += packed_size(k, ts[i]);
    }
}

/* Repack the n matrices ts into their places by all CPUs (first: their
 * task ranges, first[n] the task count). */
static void repack(const struct cpu_kernels *k, struct tensor **ts, int n, int64_t *first) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct threadpool *pool = threadpool_new(cpus < 1 ? 1 : cpus > 16 ? 16 : (int)cpus);
    struct pack_job job = {k, ts, first};
    if (pool) {
        threadpool_run(pool, pack_task, &job, (int)first[n]);
        threadpool_free(pool);
    } else {
        for (int64_t t = 0; t < first[n]; t++) pack_task(&job, (int)t);
    }
}

/* The packed copies of ts (n of them, with packed layouts, total bytes):
 * mapped from the cache or made now. */
static void pack_into(struct cpu_backend *b, const char *source_id, struct tensor **ts,
                      int n, int64_t *first, size_t total, struct backend_weights *w) {
    const char *isa = cpu_isa_name(b->k->isa);
    const void *cached = b->cache_dir && source_id
                             ? pack_cache_open(b->cache_dir, source_id, isa, total, &w->map)
                             : NULL;
    if (cached) {
        w->mapped = (struct backend_buffer){(void *)cached, total};
        place_packed(b->k, ts, n, &w->mapped);
        w->note = "cache";
        return;
    }
    if (!(w->alloc = cpu_buffer_alloc(&b->base, total))) return;
    place_packed(b->k, ts, n, w->alloc);
    repack(b->k, ts, n, first);
    w->note = !b->cache_dir || !source_id ? "repacked"
              : pack_cache_write(b->cache_dir, source_id, isa, w->alloc->data, total,
                                 b->cache_cap ? b->cache_cap : PACK_CACHE_DEFAULT_CAP)
                  ? "repacked, cache written"
                  : "repacked, cache not writable";
}

enum ember_status cpu_prepare_weights(struct ember_backend *be, const char *source_id,
                                      struct tensor *const *all, int n_all,
                                      struct backend_weights **out, struct ember_err *err) {
    struct cpu_backend *b = (struct cpu_backend *)be;
    struct backend_weights *w = calloc(1, sizeof *w);
    if (!w) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    w->note = "none";
    *out = w;
    if (b->no_repack) return EMBER_OK;
    struct tensor **ts = calloc((size_t)n_all + 1, sizeof *ts);
    int64_t *first = calloc((size_t)n_all + 1, sizeof *first);
    size_t total = 0;
    int n = 0;
    if (ts && first) {
        for (int i = 0; i < n_all; i++) {
            const struct type_kernels *q = cpu_type_kernels(b->k, all[i]->type);
            if (!q || !q->pack || !q->mul_mat_packed) continue;
            total += packed_size(b->k, all[i]);
            first[n + 1] = first[n] + (all[i]->n_out + PACK_TASK_ROWS - 1) / PACK_TASK_ROWS;
            ts[n++] = all[i];
        }
        if (total) pack_into(b, source_id, ts, n, first, total, w);
    }
    free(ts);
    free(first);
    return EMBER_OK;
}

void cpu_release_weights(struct backend_weights *w) {
    if (!w) return;
    os_unmap(&w->map);
    cpu_buffer_free(w->alloc);
    free(w);
}

const char *cpu_weights_note(const struct backend_weights *w) { return w ? w->note : "none"; }
