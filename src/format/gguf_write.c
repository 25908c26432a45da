/*
 * gguf_write.c — the GGUF v3 writer (gguf_write.h). The metadata is encoded
 * into one buffer as it is given; the tensor table is kept as a list until
 * gguf_write_begin lays out the offsets and writes both.
 */
#include "gguf_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ALIGN_DEFAULT = 32 };

struct wtensor {
    char *name;
    uint64_t name_len, n_bytes, offset;
    int type, n_dims;
    int64_t ne[4];
};

struct gguf_writer {
    uint8_t *meta;            /* encoded pairs */
    uint64_t meta_len, meta_cap, n_kv;
    uint64_t *key_at;         /* offset of each pair, for the duplicate check */
    uint32_t alignment;
    struct wtensor *t;
    int64_t n_t, cap_t;
    FILE *out;
    char *path, *tmp;
    int64_t cur;              /* tensor being written */
    uint64_t cur_done;        /* its bytes so far */
};

enum ember_status gguf_writer_new(struct gguf_writer **out, struct ember_err *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    (*out)->alignment = ALIGN_DEFAULT;
    return EMBER_OK;
}

void gguf_writer_free(struct gguf_writer *w) {
    if (!w) return;
    if (w->out) {
        fclose(w->out);
        remove(w->tmp);
    }
    for (int64_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w->meta);
    free(w->key_at);
    free(w->path);
    free(w->tmp);
    free(w);
}

static enum ember_status put(struct gguf_writer *w, const void *p, uint64_t n, struct ember_err *err) {
    if (w->meta_len + n > w->meta_cap) {
        uint64_t cap = w->meta_cap ? w->meta_cap : 4096;
        while (cap < w->meta_len + n) cap *= 2;
        uint8_t *m = realloc(w->meta, cap);
        if (!m) return ember_fail(err, EMBER_ENOMEM, "out of memory writing GGUF metadata");
        w->meta = m;
        w->meta_cap = cap;
    }
    memcpy(w->meta + w->meta_len, p, n);
    w->meta_len += n;
    return EMBER_OK;
}

static enum ember_status put_u32(struct gguf_writer *w, uint32_t v, struct ember_err *err) {
    return put(w, &v, 4, err);
}

static enum ember_status put_str(struct gguf_writer *w, const char *s, uint64_t len, struct ember_err *err) {
    if (put(w, &len, 8, err)) return err->status;
    return put(w, s, len, err);
}

/* The key of the pair at offset `at` of the buffer. */
static struct gguf_str key_of(const struct gguf_writer *w, uint64_t at) {
    uint64_t len;
    memcpy(&len, w->meta + at, 8);
    return (struct gguf_str){(const char *)w->meta + at + 8, len};
}

/* Starts a pair: refuses a key already given, notes where it begins. */
static enum ember_status begin_pair(struct gguf_writer *w, const char *key, uint64_t len, struct ember_err *err) {
    for (uint64_t i = 0; i < w->n_kv; i++) {
        struct gguf_str k = key_of(w, w->key_at[i]);
        if (k.len == len && !memcmp(k.p, key, len))
            return ember_fail(err, EMBER_EINVAL, "GGUF writer: metadata key '%.*s' given twice", (int)len, key);
    }
    uint64_t *ka = realloc(w->key_at, (w->n_kv + 1) * sizeof *ka);
    if (!ka) return ember_fail(err, EMBER_ENOMEM, "out of memory writing GGUF metadata");
    w->key_at = ka;
    w->key_at[w->n_kv++] = w->meta_len;
    return EMBER_OK;
}

enum ember_status gguf_writer_raw(struct gguf_writer *w, struct gguf_str pair, struct ember_err *err) {
    uint64_t klen;
    if (pair.len < 12) return ember_fail(err, EMBER_EINVAL, "GGUF writer: a metadata pair of %llu bytes", (unsigned long long)pair.len);
    memcpy(&klen, pair.p, 8);
    if (klen > pair.len - 12) return ember_fail(err, EMBER_EINVAL, "GGUF writer: a metadata pair's key overruns it");
    if (begin_pair(w, pair.p + 8, klen, err)) return err->status;
    uint32_t t, v;
    memcpy(&t, pair.p + 8 + klen, 4);
    if (klen == 17 && !memcmp(pair.p + 8, "general.alignment", 17) && t == GGUF_U32 && pair.len == 8 + klen + 8) {
        memcpy(&v, pair.p + 8 + klen + 4, 4);
        if (v == 0 || (v & (v - 1)))
            return ember_fail(err, EMBER_EINVAL, "GGUF writer: general.alignment %u is not a power of two", v);
        w->alignment = v;
    }
    return put(w, pair.p, pair.len, err);
}

/* A scalar pair of type t whose value is the n bytes at v. */
static enum ember_status scalar(struct gguf_writer *w, const char *key, enum gguf_vtype t, const void *v, int n,
                                struct ember_err *err) {
    uint64_t len = strlen(key);
    if (begin_pair(w, key, len, err) || put_str(w, key, len, err) || put_u32(w, (uint32_t)t, err)) return err->status;
    if (t == GGUF_U32 && !strcmp(key, "general.alignment")) {
        uint32_t a;
        memcpy(&a, v, 4);
        if (a == 0 || (a & (a - 1)))
            return ember_fail(err, EMBER_EINVAL, "GGUF writer: general.alignment %u is not a power of two", a);
        w->alignment = a;
    }
    return put(w, v, (uint64_t)n, err);
}

enum ember_status gguf_writer_u32(struct gguf_writer *w, const char *key, uint32_t v, struct ember_err *err) {
    return scalar(w, key, GGUF_U32, &v, 4, err);
}
enum ember_status gguf_writer_i32(struct gguf_writer *w, const char *key, int32_t v, struct ember_err *err) {
    return scalar(w, key, GGUF_I32, &v, 4, err);
}
enum ember_status gguf_writer_f32(struct gguf_writer *w, const char *key, float v, struct ember_err *err) {
    return scalar(w, key, GGUF_F32, &v, 4, err);
}
enum ember_status gguf_writer_bool(struct gguf_writer *w, const char *key, bool v, struct ember_err *err) {
    uint8_t b = v;
    return scalar(w, key, GGUF_BOOL, &b, 1, err);
}

enum ember_status gguf_writer_str(struct gguf_writer *w, const char *key, const char *s, uint64_t len,
                                  struct ember_err *err) {
    uint64_t klen = strlen(key);
    if (begin_pair(w, key, klen, err) || put_str(w, key, klen, err) || put_u32(w, GGUF_STR, err)) return err->status;
    return put_str(w, s, len, err);
}

static int numeric_size(enum gguf_vtype t) {
    switch (t) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
    case GGUF_U16: case GGUF_I16: return 2;
    case GGUF_U32: case GGUF_I32: case GGUF_F32: return 4;
    case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
    default: return -1;
    }
}

static enum ember_status arr_head(struct gguf_writer *w, const char *key, enum gguf_vtype t, uint64_t n,
                                  struct ember_err *err) {
    uint64_t klen = strlen(key);
    if (begin_pair(w, key, klen, err) || put_str(w, key, klen, err) || put_u32(w, GGUF_ARR, err) ||
        put_u32(w, (uint32_t)t, err))
        return err->status;
    return put(w, &n, 8, err);
}

enum ember_status gguf_writer_arr(struct gguf_writer *w, const char *key, enum gguf_vtype t, const void *data,
                                  uint64_t n, struct ember_err *err) {
    int sz = numeric_size(t);
    if (sz <= 0) return ember_fail(err, EMBER_EINVAL, "GGUF writer: array '%s' of a non-numeric type", key);
    if (n > UINT64_MAX / (uint64_t)sz) return ember_fail(err, EMBER_EINVAL, "GGUF writer: array '%s' too long", key);
    if (arr_head(w, key, t, n, err)) return err->status;
    return put(w, data, n * (uint64_t)sz, err);
}

enum ember_status gguf_writer_arr_str(struct gguf_writer *w, const char *key, const struct gguf_str *s, uint64_t n,
                                      struct ember_err *err) {
    if (arr_head(w, key, GGUF_STR, n, err)) return err->status;
    for (uint64_t i = 0; i < n; i++)
        if (put_str(w, s[i].p, s[i].len, err)) return err->status;
    return EMBER_OK;
}

enum ember_status gguf_writer_tensor(struct gguf_writer *w, const char *name, uint64_t name_len, int type,
                                     int n_dims, const int64_t *ne, uint64_t n_bytes, struct ember_err *err) {
    if (n_dims < 1 || n_dims > 4) return ember_fail(err, EMBER_EINVAL, "GGUF writer: tensor '%.*s' has %d dims", (int)name_len, name, n_dims);
    for (int64_t i = 0; i < w->n_t; i++)
        if (w->t[i].name_len == name_len && !memcmp(w->t[i].name, name, name_len))
            return ember_fail(err, EMBER_EINVAL, "GGUF writer: tensor '%.*s' given twice", (int)name_len, name);
    if (w->n_t == w->cap_t) {
        int64_t cap = w->cap_t ? 2 * w->cap_t : 64;
        struct wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t) return ember_fail(err, EMBER_ENOMEM, "out of memory");
        w->t = t;
        w->cap_t = cap;
    }
    struct wtensor *t = &w->t[w->n_t];
    *t = (struct wtensor){.name = malloc(name_len + 1), .name_len = name_len, .n_bytes = n_bytes,
                          .type = type, .n_dims = n_dims, .ne = {1, 1, 1, 1}};
    if (!t->name) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    memcpy(t->name, name, name_len);
    t->name[name_len] = 0;
    memcpy(t->ne, ne, (size_t)n_dims * sizeof *ne);
    w->n_t++;
    return EMBER_OK;
}

static enum ember_status out_write(struct gguf_writer *w, const void *p, uint64_t n, struct ember_err *err) {
    if (n && fwrite(p, 1, n, w->out) != n)
        return ember_fail(err, EMBER_EIO, "%s: write failed (disk full?)", w->tmp);
    return EMBER_OK;
}

static enum ember_status out_pad(struct gguf_writer *w, uint64_t at, struct ember_err *err) {
    static const uint8_t zero[256];
    uint64_t pad = (w->alignment - at % w->alignment) % w->alignment;
    while (pad) {
        uint64_t k = pad < sizeof zero ? pad : sizeof zero;
        if (out_write(w, zero, k, err)) return err->status;
        pad -= k;
    }
    return EMBER_OK;
}

/* Header, metadata and table; returns the bytes written through *at. */
static enum ember_status write_head(struct gguf_writer *w, uint64_t *at, struct ember_err *err) {
    uint32_t magic_ver[2] = {0x46554747u /* "GGUF" */, 3};
    uint64_t counts[2] = {(uint64_t)w->n_t, w->n_kv};
    if (out_write(w, magic_ver, 8, err) || out_write(w, counts, 16, err) || out_write(w, w->meta, w->meta_len, err))
        return err->status;
    *at = 24 + w->meta_len;
    for (int64_t i = 0; i < w->n_t; i++) {
        const struct wtensor *t = &w->t[i];
        uint32_t nd = (uint32_t)t->n_dims, ty = (uint32_t)t->type;
        if (out_write(w, &t->name_len, 8, err) || out_write(w, t->name, t->name_len, err) ||
            out_write(w, &nd, 4, err) || out_write(w, t->ne, 8 * (uint64_t)nd, err) || out_write(w, &ty, 4, err) ||
            out_write(w, &t->offset, 8, err))
            return err->status;
        *at += 8 + t->name_len + 4 + 8 * (uint64_t)nd + 4 + 8;
    }
    return EMBER_OK;
}

enum ember_status gguf_write_begin(struct gguf_writer *w, const char *path, struct ember_err *err) {
    uint64_t off = 0;
    for (int64_t i = 0; i < w->n_t; i++) {
        w->t[i].offset = off;
        off += w->t[i].n_bytes;
        off += (w->alignment - off % w->alignment) % w->alignment;
    }
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    w->tmp = malloc(n + 5);
    if (!w->path || !w->tmp) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    memcpy(w->path, path, n + 1);
    memcpy(w->tmp, path, n);
    memcpy(w->tmp + n, ".tmp", 5);
    w->out = fopen(w->tmp, "wb");
    if (!w->out) return ember_fail(err, EMBER_EIO, "%s: cannot create it: %s", w->tmp, strerror(errno));
    uint64_t at = 0;
    if (write_head(w, &at, err) || out_pad(w, at, err)) return err->status;
    w->cur = 0;
    w->cur_done = 0;
    return EMBER_OK;
}

enum ember_status gguf_write_data(struct gguf_writer *w, const void *p, uint64_t n, struct ember_err *err) {
    const uint8_t *b = p;
    while (n) {
        while (w->cur < w->n_t && w->cur_done == w->t[w->cur].n_bytes) {
            if (out_pad(w, w->t[w->cur].n_bytes, err)) return err->status;
            w->cur++;
            w->cur_done = 0;
        }
        if (w->cur >= w->n_t) return ember_fail(err, EMBER_EINVAL, "GGUF writer: more data than the tensors hold");
        uint64_t room = w->t[w->cur].n_bytes - w->cur_done, k = n < room ? n : room;
        if (out_write(w, b, k, err)) return err->status;
        w->cur_done += k;
        b += k;
        n -= k;
    }
    return EMBER_OK;
}

enum ember_status gguf_write_end(struct gguf_writer *w, struct ember_err *err) {
    /* every tensor complete (empty ones included), the last one padded */
    while (w->cur < w->n_t && w->cur_done == w->t[w->cur].n_bytes) {
        if (out_pad(w, w->t[w->cur].n_bytes, err)) return err->status;
        w->cur++;
        w->cur_done = 0;
    }
    if (w->cur < w->n_t)
        return ember_fail(err, EMBER_EINVAL, "GGUF writer: tensor '%s' is missing data", w->t[w->cur].name);
    FILE *f = w->out;
    w->out = NULL;
    if (fclose(f) != 0) {
        remove(w->tmp);
        return ember_fail(err, EMBER_EIO, "%s: write failed (disk full?)", w->tmp);
    }
    if (rename(w->tmp, w->path) != 0) {
        remove(w->tmp);
        return ember_fail(err, EMBER_EIO, "%s: cannot rename it to %s", w->tmp, w->path);
    }
    return EMBER_OK;
}
