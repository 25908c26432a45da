/*
 * safetensors.h — read-only access to one safetensors file through mmap.
 *
 * The format: a little-endian u64 N, then N bytes of JSON header, then the
 * data. The header is an object mapping each tensor name to {"dtype",
 * "shape", "data_offsets": [begin, end]} (offsets into the data, which
 * starts right after the header), plus an optional "__metadata__" object of
 * strings. st_open() maps the file and validates the whole header before
 * anything is handed out: N bounded (ST_MAX_HEADER) and inside the file,
 * the JSON strict (json.h), every member of every entry known and typed,
 * dtypes among those below, shapes of at most ST_MAX_DIMS non-negative
 * dims, shape × dtype size == end - begin (overflow-checked), every range
 * inside the data and no two ranges overlapping, no duplicate names. After
 * it succeeds every st_tensor's data pointer is in bounds. Tensor data is
 * never copied. Errors name the file and the tensor.
 */
#ifndef EMBER_SAFETENSORS_H
#define EMBER_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

#define ST_MAX_HEADER ((uint64_t)100 << 20) /* the format's own limit, 100 MB */
#define ST_MAX_DIMS 4

enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL };

struct st_tensor {
    const char *name;        /* NUL-terminated, owned by the file */
    size_t name_len;
    enum st_dtype dtype;
    int n_dims;              /* 0..ST_MAX_DIMS (0: a scalar) */
    int64_t shape[ST_MAX_DIMS]; /* slowest first, as the header lists them */
    uint64_t n_elems, n_bytes;
    uint64_t offset;         /* from the start of the data */
    const void *data;        /* in the mapping, n_bytes long */
};

struct st_file;

/* Map and validate path. On failure *out is NULL and err says what, in
 * which file and, where it applies, which tensor. */
enum ember_status st_open(const char *path, struct st_file **out, struct ember_err *err);
/* The same over bytes the caller keeps alive (fuzzing, tests); path only
 * names them in messages. */
enum ember_status st_parse(const void *bytes, uint64_t size, const char *path,
                           struct st_file **out, struct ember_err *err);
void st_close(struct st_file *f);

const char *st_path(const struct st_file *f);
uint64_t st_file_size(const struct st_file *f);
int64_t st_n_tensors(const struct st_file *f);
/* Tensors in name order (bytewise). */
const struct st_tensor *st_tensor(const struct st_file *f, int64_t i);
const struct st_tensor *st_find(const struct st_file *f, const char *name);
/* A string of __metadata__, or NULL. */
const char *st_metadata(const struct st_file *f, const char *key);

const char *st_dtype_name(enum st_dtype t);
size_t st_dtype_size(enum st_dtype t);

#endif
