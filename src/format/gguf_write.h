/*
 * gguf_write.h — writing a GGUF v3 file: metadata, a tensor table, then the
 * tensors' data, each at an offset aligned as general.alignment says (32
 * unless the metadata sets it).
 *
 * Metadata and the table are gathered first (they fix every offset); then
 * gguf_write_begin writes them to PATH.tmp, the tensors' data follows in
 * table order (gguf_write_data, any number of calls per tensor), and
 * gguf_write_end checks every byte arrived, then renames PATH.tmp to PATH,
 * so a failed or interrupted write never leaves a half file under PATH.
 * Errors are returned (struct ember_err), never printed.
 */
#ifndef EMBER_GGUF_WRITE_H
#define EMBER_GGUF_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "ember.h"
#include "gguf.h"

struct gguf_writer;

enum ember_status gguf_writer_new(struct gguf_writer **out, struct ember_err *err);
/* Frees; a write begun and not ended removes its PATH.tmp. */
void gguf_writer_free(struct gguf_writer *w);

/* Metadata, in the order given; a key given twice is an error. raw: a pair
 * as gguf_kv_raw hands it out of another file. */
enum ember_status gguf_writer_raw(struct gguf_writer *w, struct gguf_str pair, struct ember_err *err);
enum ember_status gguf_writer_u32(struct gguf_writer *w, const char *key, uint32_t v, struct ember_err *err);
enum ember_status gguf_writer_i32(struct gguf_writer *w, const char *key, int32_t v, struct ember_err *err);
enum ember_status gguf_writer_f32(struct gguf_writer *w, const char *key, float v, struct ember_err *err);
enum ember_status gguf_writer_bool(struct gguf_writer *w, const char *key, bool v, struct ember_err *err);
enum ember_status gguf_writer_str(struct gguf_writer *w, const char *key, const char *s, uint64_t len,
                                  struct ember_err *err);
/* Arrays: n values of a numeric type t (GGUF_U8 .. GGUF_F64, little-endian
 * data), or n strings. */
enum ember_status gguf_writer_arr(struct gguf_writer *w, const char *key, enum gguf_vtype t,
                                  const void *data, uint64_t n, struct ember_err *err);
enum ember_status gguf_writer_arr_str(struct gguf_writer *w, const char *key, const struct gguf_str *s,
                                      uint64_t n, struct ember_err *err);

/* A tensor of ggml type `type` and shape ne[0..n_dims) (ne[0] fastest),
 * whose data is n_bytes long. */
enum ember_status gguf_writer_tensor(struct gguf_writer *w, const char *name, uint64_t name_len, int type,
                                     int n_dims, const int64_t *ne, uint64_t n_bytes, struct ember_err *err);

enum ember_status gguf_write_begin(struct gguf_writer *w, const char *path, struct ember_err *err);
/* The next n bytes of the tensors' data, in table order. */
enum ember_status gguf_write_data(struct gguf_writer *w, const void *p, uint64_t n, struct ember_err *err);
enum ember_status gguf_write_end(struct gguf_writer *w, struct ember_err *err);

#endif
