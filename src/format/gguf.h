/*
 * gguf.h — read-only access to a GGUF v2/v3 file through mmap.
 *
 * gguf_open() maps the file and validates the whole header, metadata and
 * tensor table before anything is handed out: every length, count, type,
 * shape and offset is checked against the file size with overflow-safe
 * arithmetic. After it succeeds, every accessor below returns pointers into
 * the mapping that are known to be in bounds. Tensor data is never copied.
 * Strings in the file are not NUL-terminated: they come with their length.
 */
#ifndef EMBER_GGUF_H
#define EMBER_GGUF_H

#include <stdbool.h>
#include <stdint.h>

#include "ember.h"

enum gguf_vtype {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4,
    GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STR = 8, GGUF_ARR = 9,
    GGUF_U64 = 10, GGUF_I64 = 11, GGUF_F64 = 12,
};

struct gguf_file;

struct gguf_str {
    const char *p; /* into the mapping; not NUL-terminated */
    uint64_t len;
};

struct gguf_tensor {
    struct gguf_str name;
    int type;         /* ggml type id, one ember supports */
    int n_dims;       /* 1..4 */
    int64_t ne[4];    /* ne[0] is the fastest-varying dim; unused dims are 1 */
    uint64_t n_elems;
    uint64_t n_bytes;
    uint64_t offset;  /* from the start of the data section */
    const void *data; /* in the mapping, aligned, n_bytes long */
};

/* Open and validate; on failure *out is NULL and err says what and where. */
enum ember_status gguf_open(const char *path, struct gguf_file **out,
                            struct ember_err *err);
void gguf_close(struct gguf_file *f);

/* The path given to gguf_open (the caller's string). */
const char *gguf_path(const struct gguf_file *f);
uint32_t gguf_version(const struct gguf_file *f);
uint64_t gguf_file_size(const struct gguf_file *f);
uint64_t gguf_alignment(const struct gguf_file *f);
uint64_t gguf_data_offset(const struct gguf_file *f);

/* ---- metadata ---- */
int64_t gguf_n_kv(const struct gguf_file *f);
int64_t gguf_find_key(const struct gguf_file *f, const char *key); /* -1 if absent */
struct gguf_str gguf_key(const struct gguf_file *f, int64_t i);
enum gguf_vtype gguf_kv_type(const struct gguf_file *f, int64_t i);
/* Pair i as the file encodes it (key, value type, value), for a writer
 * that copies it unchanged (gguf_write.h). */
struct gguf_str gguf_kv_raw(const struct gguf_file *f, int64_t i);

/* Typed getters by key. They return false if the key is absent or holds a
 * type that cannot represent the result (any integer type converts to any
 * other when the value fits; floats accept F32/F64). */
bool gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *v);
bool gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *v);
bool gguf_get_f32(const struct gguf_file *f, const char *key, float *v);
bool gguf_get_bool(const struct gguf_file *f, const char *key, bool *v);
bool gguf_get_str(const struct gguf_file *f, const char *key, struct gguf_str *v);

/* Value of kv i as a scalar (for printing): only for non-array kinds. */
bool gguf_kv_i64(const struct gguf_file *f, int64_t i, int64_t *v);
bool gguf_kv_f64(const struct gguf_file *f, int64_t i, double *v);
struct gguf_str gguf_kv_str(const struct gguf_file *f, int64_t i);

/* Arrays (kv of type GGUF_ARR). */
enum gguf_vtype gguf_arr_type(const struct gguf_file *f, int64_t i);
uint64_t gguf_arr_len(const struct gguf_file *f, int64_t i);
/* Raw little-endian element data of a numeric array (may be unaligned). */
const void *gguf_arr_data(const struct gguf_file *f, int64_t i);
/* Element j of a string array: O(1). */
struct gguf_str gguf_arr_str(const struct gguf_file *f, int64_t i, uint64_t j);
/* Element j of a numeric array, converted (0 out of range, or for a float
 * that int64 cannot hold). */
int64_t gguf_arr_i64(const struct gguf_file *f, int64_t i, uint64_t j);
double gguf_arr_f64(const struct gguf_file *f, int64_t i, uint64_t j);

/* ---- tensors ---- */
int64_t gguf_n_tensors(const struct gguf_file *f);
const struct gguf_tensor *gguf_tensor(const struct gguf_file *f, int64_t i);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f,
                                           const char *name);

/* Compare a file string with a C string. */
bool gguf_str_eq(struct gguf_str s, const char *c);

#endif
