/*
 * gguf.c — the GGUF v2/v3 reader behind gguf.h.
 *
 * The file is mapped read-only and parsed once, front to back, by a cursor
 * that checks every read against the end of the mapping. Counts taken from
 * the file are checked against the bytes left before anything is allocated,
 * so a tiny hostile file cannot ask for a huge allocation. Sections:
 *   - cursor: bounded little-endian reads
 *   - name index: a small hash for duplicate detection and lookup
 *   - metadata: key/value pairs and arrays
 *   - tensor table: shapes, types, offsets, overlap check
 *   - accessors
 */
#include "gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"
#include "quant.h"

#define GGUF_MAX_NAME 64          /* ggml's limit, including the NUL */
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_ALIGNMENT (1u << 16)

struct gguf_kv {
    struct gguf_str key;
    enum gguf_vtype type;
    uint64_t off;            /* scalar value, or first array element */
    enum gguf_vtype arr_type;
    uint64_t arr_len;
    uint64_t *str_off;       /* string arrays: offset of each element */
    uint64_t start, end;     /* the whole pair (key, type, value) */
};

struct gguf_file {
    const char *path;
    struct os_map map;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    struct gguf_kv *kv;
    int64_t n_tensors;
    struct gguf_tensor *tensors;
    int64_t *kv_index;       /* hash slots over keys, -1 empty */
    uint64_t kv_index_cap;
    int64_t *tensor_index;   /* hash slots over tensor names, -1 empty */
    uint64_t tensor_index_cap;
};

/* ---------------------------------------------------------------- cursor */

struct cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    const char *path;
    struct ember_err *err;
};

static enum ember_status corrupt_at(struct cursor *c, uint64_t off,
                                    const char *what) {
    return EMBER_CORRUPT(c->err, "%s: %s (offset %llu)", c->path, what,
                         (unsigned long long)off);
}

static uint64_t left(const struct cursor *c) { return c->size - c->pos; }

static enum ember_status take(struct cursor *c, void *dst, uint64_t n,
                              const char *what) {
    if (left(c) < n) return corrupt_at(c, c->pos, what);
    memcpy(dst, c->base + c->pos, n);
    c->pos += n;
    return EMBER_OK;
}

static enum ember_status take_u32(struct cursor *c, uint32_t *v,
                                  const char *what) {
    return take(c, v, 4, what);
}

static enum ember_status take_u64(struct cursor *c, uint64_t *v,
                                  const char *what) {
    return take(c, v, 8, what);
}

static enum ember_status take_str(struct cursor *c, struct gguf_str *s,
                                  const char *what) {
    uint64_t at = c->pos, len = 0;
    if (take_u64(c, &len, what)) return c->err->status;
    if (len > left(c)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: length %llu runs past the end of the file",
                 what, (unsigned long long)len);
        return corrupt_at(c, at, msg);
    }
    s->p = (const char *)c->base + c->pos;
    s->len = len;
    c->pos += len;
    return EMBER_OK;
}

/* Size of one value of a scalar type, 0 for STR/ARR, -1 if unknown. */
static int scalar_size(uint32_t t) {
    switch (t) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: return 1;
    case GGUF_U16: case GGUF_I16: return 2;
    case GGUF_U32: case GGUF_I32: case GGUF_F32: return 4;
    case GGUF_U64: case GGUF_I64: case GGUF_F64: return 8;
    case GGUF_STR: case GGUF_ARR: return 0;
    default: return -1;
    }
}

/* ------------------------------------------------------------ name index */

static uint64_t hash_name(const char *p, uint64_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint64_t i = 0; i < len; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h;
}

static bool str_same(struct gguf_str a, struct gguf_str b) {
    return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

/* Insert name #i into slots (cap a power of two); returns the index of an
 * existing equal name, or -1 when inserted. */
static int64_t index_insert(int64_t *slots, uint64_t cap,
                            const struct gguf_str *names, size_t stride,
                            int64_t i) {
    const struct gguf_str *n =
        (const struct gguf_str *)((const char *)names + (size_t)i * stride);
    uint64_t h = hash_name(n->p, n->len) & (cap - 1);
    while (slots[h] >= 0) {
        const struct gguf_str *o = (const struct gguf_str *)(
            (const char *)names + (size_t)slots[h] * stride);
        if (str_same(*o, *n)) return slots[h];
        h = (h + 1) & (cap - 1);
    }
    slots[h] = i;
    return -1;
}

static int64_t *index_new(int64_t n, uint64_t *cap) {
    uint64_t c = 16;
    while (c < (uint64_t)n * 2) c <<= 1;
    int64_t *slots = malloc(c * sizeof *slots);
    if (!slots) return NULL;
    for (uint64_t i = 0; i < c; i++) slots[i] = -1;
    *cap = c;
    return slots;
}

/* -------------------------------------------------------------- metadata */

static enum ember_status read_array(struct cursor *c, struct gguf_kv *kv) {
    uint64_t at = c->pos;
    uint32_t et = 0;
    if (take_u32(c, &et, "array element type is cut off")) return c->err->status;
    if (et == GGUF_ARR) return corrupt_at(c, at, "nested arrays are not supported");
    int esz = scalar_size(et);
    if (esz < 0) return corrupt_at(c, at, "unknown array element type");
    uint64_t n = 0;
    if (take_u64(c, &n, "array length is cut off")) return c->err->status;
    kv->arr_type = (enum gguf_vtype)et;
    kv->arr_len = n;
    kv->off = c->pos;
    if (esz > 0) {
        uint64_t bytes;
        if (!ember_mul_u64(n, (uint64_t)esz, &bytes) || bytes > left(c))
            return corrupt_at(c, at + 4, "array length runs past the end of the file");
        c->pos += bytes;
        return EMBER_OK;
    }
    /* Strings: each takes at least 8 bytes, which bounds the index size. */
    if (n > left(c) / 8)
        return corrupt_at(c, at + 4, "string array length runs past the end of the file");
    kv->str_off = malloc((n ? n : 1) * sizeof *kv->str_off);
    if (!kv->str_off)
        return ember_fail(c->err, EMBER_ENOMEM, "%s: out of memory", c->path);
    for (uint64_t j = 0; j < n; j++) {
        struct gguf_str s;
        kv->str_off[j] = c->pos;
        if (take_str(c, &s, "array string")) return c->err->status;
    }
    return EMBER_OK;
}

static enum ember_status read_kv(struct cursor *c, struct gguf_kv *kv) {
    if (take_str(c, &kv->key, "metadata key")) return c->err->status;
    uint64_t at = c->pos;
    uint32_t t = 0;
    if (take_u32(c, &t, "metadata value type is cut off")) return c->err->status;
    int sz = scalar_size(t);
    if (sz < 0) return corrupt_at(c, at, "unknown metadata value type");
    kv->type = (enum gguf_vtype)t;
    kv->off = c->pos;
    if (t == GGUF_ARR) return read_array(c, kv);
    if (t == GGUF_STR) {
        struct gguf_str s;
        return take_str(c, &s, "metadata string");
    }
    if ((uint64_t)sz > left(c)) return corrupt_at(c, c->pos, "metadata value is cut off");
    c->pos += (uint64_t)sz;
    return EMBER_OK;
}

static enum ember_status read_metadata(struct cursor *c, struct gguf_file *f) {
    /* Each pair needs at least 8 (key length) + 4 (type) + 1 bytes. */
    if ((uint64_t)f->n_kv > left(c) / 13)
        return corrupt_at(c, 16, "metadata count is larger than the file could hold");
    f->kv = calloc((size_t)f->n_kv + 1, sizeof *f->kv);
    if (!f->kv) return ember_fail(c->err, EMBER_ENOMEM, "%s: out of memory", c->path);
    f->kv_index = index_new(f->n_kv, &f->kv_index_cap);
    if (!f->kv_index) return ember_fail(c->err, EMBER_ENOMEM, "%s: out of memory", c->path);
    for (int64_t i = 0; i < f->n_kv; i++) {
        uint64_t at = c->pos;
        if (read_kv(c, &f->kv[i])) return c->err->status;
        f->kv[i].start = at;
        f->kv[i].end = c->pos;
        if (index_insert(f->kv_index, f->kv_index_cap, &f->kv[0].key, sizeof f->kv[0], i) >= 0)
            return corrupt_at(c, at, "duplicate metadata key");
    }

    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = gguf_find_key(f, "general.alignment");
    if (ai >= 0) {
        const struct gguf_kv *kv = &f->kv[ai];
        uint32_t a = 0;
        if (kv->type != GGUF_U32)
            return corrupt_at(c, kv->off - 4, "general.alignment is not a u32");
        memcpy(&a, c->base + kv->off, 4);
        if (a == 0 || (a & (a - 1)) || a > GGUF_MAX_ALIGNMENT)
            return corrupt_at(c, kv->off,
                              "general.alignment must be a power of two up to 65536");
        f->alignment = a;
    }
    return EMBER_OK;
}

/* ---------------------------------------------------------- tensor table */

static enum ember_status read_tensor_info(struct cursor *c, struct gguf_tensor *t) {
    uint64_t at = c->pos;
    if (take_str(c, &t->name, "tensor name")) return c->err->status;
    if (t->name.len >= GGUF_MAX_NAME) return corrupt_at(c, at, "tensor name is too long");
    if (t->name.len == 0) return corrupt_at(c, at, "tensor name is empty");
    uint32_t nd = 0;
    at = c->pos;
    if (take_u32(c, &nd, "tensor n_dims is cut off")) return c->err->status;
    if (nd < 1 || nd > 4) return corrupt_at(c, at, "tensor n_dims must be 1 to 4");
    t->n_dims = (int)nd;
    uint64_t n = 1;
    for (int d = 0; d < 4; d++) {
        uint64_t v = 1;
        at = c->pos;
        if (d < t->n_dims && take_u64(c, &v, "tensor shape is cut off"))
            return c->err->status;
        if (v == 0 || v > (uint64_t)INT64_MAX)
            return corrupt_at(c, at, "tensor dimension must be between 1 and 2^63-1");
        if (!ember_mul_u64(n, v, &n) || n > (uint64_t)INT64_MAX)
            return corrupt_at(c, at, "tensor element count overflows");
        t->ne[d] = (int64_t)v;
    }
    t->n_elems = n;
    uint32_t type = 0;
    at = c->pos;
    if (take_u32(c, &type, "tensor type is cut off")) return c->err->status;
    const struct quant_traits *q = quant_traits_for((int)type);
    if (!q) {
        const char *name = quant_type_name((int)type);
        if (!name) return corrupt_at(c, at, "unknown tensor type id");
        return ember_fail(c->err, EMBER_EUNSUPPORTED,
                          "%s: tensor '%.*s' has type %s, which ember does not support",
                          c->path, (int)t->name.len, t->name.p, name);
    }
    t->type = (int)type;
    if (t->ne[0] % q->block_elems)
        return corrupt_at(c, at, "tensor row length is not a multiple of its type's block size");
    if (!ember_mul_u64(n / (uint64_t)q->block_elems, (uint64_t)q->block_bytes, &t->n_bytes))
        return corrupt_at(c, at, "tensor byte size overflows");
    uint64_t off = 0;
    if (take_u64(c, &off, "tensor offset is cut off")) return c->err->status;
    t->offset = off;
    return EMBER_OK;
}

static int cmp_by_offset(const void *a, const void *b) {
    const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
    const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Place each tensor in the data section: aligned, inside the file, and not
 * overlapping another (checked on the sorted order, O(n log n)). */
static enum ember_status place_tensors(struct cursor *c, struct gguf_file *f) {
    uint64_t end_info = c->pos;
    uint64_t a = f->alignment;
    f->data_offset = (end_info + a - 1) / a * a;
    if (f->n_tensors == 0) return EMBER_OK;
    if (f->data_offset > c->size)
        return corrupt_at(c, end_info, "file ends before the tensor data section");
    uint64_t data_size = c->size - f->data_offset;
    for (int64_t i = 0; i < f->n_tensors; i++) {
        struct gguf_tensor *t = &f->tensors[i];
        uint64_t off = t->offset, end;
        char msg[160];
        if (off % a) {
            snprintf(msg, sizeof msg, "tensor '%.*s' offset is not aligned to %llu",
                     (int)t->name.len, t->name.p, (unsigned long long)a);
            return corrupt_at(c, f->data_offset + off, msg);
        }
        if (!ember_add_u64(off, t->n_bytes, &end) || end > data_size) {
            snprintf(msg, sizeof msg, "tensor '%.*s' extends past the end of the file",
                     (int)t->name.len, t->name.p);
            return corrupt_at(c, f->data_offset + off, msg);
        }
    }
    struct gguf_tensor **order = malloc((size_t)f->n_tensors * sizeof *order);
    if (!order) return ember_fail(c->err, EMBER_ENOMEM, "%s: out of memory", c->path);
    for (int64_t i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
    qsort(order, (size_t)f->n_tensors, sizeof *order, cmp_by_offset);
    enum ember_status st = EMBER_OK;
    for (int64_t i = 1; i < f->n_tensors && st == EMBER_OK; i++) {
        uint64_t prev_end = order[i - 1]->offset + order[i - 1]->n_bytes;
        if (order[i]->offset < prev_end) {
            char msg[200];
            snprintf(msg, sizeof msg, "tensor '%.*s' overlaps tensor '%.*s'",
                     (int)order[i]->name.len, order[i]->name.p,
                     (int)order[i - 1]->name.len, order[i - 1]->name.p);
            st = corrupt_at(c, f->data_offset + order[i]->offset, msg);
        }
    }
    free(order);
    if (st) return st;
    for (int64_t i = 0; i < f->n_tensors; i++) {
        struct gguf_tensor *t = &f->tensors[i];
        t->data = c->base + f->data_offset + t->offset;
    }
    return EMBER_OK;
}

static enum ember_status read_tensors(struct cursor *c, struct gguf_file *f) {
    /* Each entry needs at least 8 + 1 (name) + 4 + 8 + 4 + 8 bytes. */
    if ((uint64_t)f->n_tensors > left(c) / 33)
        return corrupt_at(c, 8, "tensor count is larger than the file could hold");
    f->tensors = calloc((size_t)f->n_tensors + 1, sizeof *f->tensors);
    f->tensor_index = index_new(f->n_tensors, &f->tensor_index_cap);
    if (!f->tensors || !f->tensor_index)
        return ember_fail(c->err, EMBER_ENOMEM, "%s: out of memory", c->path);
    for (int64_t i = 0; i < f->n_tensors; i++) {
        uint64_t at = c->pos;
        if (read_tensor_info(c, &f->tensors[i])) return c->err->status;
        if (index_insert(f->tensor_index, f->tensor_index_cap, &f->tensors[0].name,
                         sizeof f->tensors[0], i) >= 0) {
            char msg[120];
            snprintf(msg, sizeof msg, "duplicate tensor name '%.*s'",
                     (int)f->tensors[i].name.len, f->tensors[i].name.p);
            return corrupt_at(c, at, msg);
        }
    }
    return place_tensors(c, f);
}

/* Say what a non-GGUF file probably is: users meet HTML error pages, git-LFS
 * pointers and pre-GGUF ggml files far more often than random bytes. */
static enum ember_status not_gguf(struct cursor *c) {
    const char *p = (const char *)c->base;
    uint64_t n = c->size;
    const char *what = "not a GGUF file (bad magic)";
    if (n >= 4 && (!memcmp(p, "lmgg", 4) || !memcmp(p, "fmgg", 4) || !memcmp(p, "tjgg", 4)))
        what = "an old GGML/GGJT model, not GGUF: convert it with a current llama.cpp or download a .gguf";
    else if (n >= 24 && !memcmp(p, "version https://git-lfs", 23))
        what = "a git-LFS pointer file, not the model: fetch it with `git lfs pull` or download the file itself";
    else if (n >= 9 && p[8] == '{')
        what = "looks like safetensors, not GGUF";
    else {
        for (uint64_t i = 0; i < n && i < 64; i++) {
            if (p[i] == '<' && i + 5 <= n &&
                (!strncmp(p + i, "<!DOC", 5) || !strncmp(p + i, "<html", 5) ||
                 !strncmp(p + i, "<HTML", 5))) {
                what = "an HTML page, not a model: the download probably failed";
                break;
            }
        }
    }
    return corrupt_at(c, 0, what);
}

static enum ember_status parse(struct cursor *c, struct gguf_file *f) {
    if (c->size < 4 || memcmp(c->base, "GGUF", 4)) {
        if (c->size == 0) return corrupt_at(c, 0, "file is empty");
        return not_gguf(c);
    }
    c->pos = 4;
    if (take_u32(c, &f->version, "header is cut off")) return c->err->status;
    if (f->version == 1)
        return ember_fail(c->err, EMBER_EUNSUPPORTED,
                          "%s: GGUF version 1 is not supported; reconvert the model (offset 4)",
                          c->path);
    if (f->version != 2 && f->version != 3)
        return corrupt_at(c, 4, "unknown GGUF version");
    uint64_t nt = 0, nkv = 0;
    if (take_u64(c, &nt, "header is cut off")) return c->err->status;
    if (take_u64(c, &nkv, "header is cut off")) return c->err->status;
    if (nt > (uint64_t)INT64_MAX) return corrupt_at(c, 8, "tensor count is larger than the file could hold");
    if (nkv > (uint64_t)INT64_MAX) return corrupt_at(c, 16, "metadata count is larger than the file could hold");
    f->n_tensors = (int64_t)nt;
    f->n_kv = (int64_t)nkv;
    if (read_metadata(c, f)) return c->err->status;
    return read_tensors(c, f);
}

enum ember_status gguf_open(const char *path, struct gguf_file **out,
                            struct ember_err *err) {
    *out = NULL;
    struct gguf_file *f = calloc(1, sizeof *f);
    if (!f) return ember_fail(err, EMBER_ENOMEM, "%s: out of memory", path);
    f->path = path;
    enum ember_status st = os_map_file(path, &f->map, err);
    if (st == EMBER_OK) {
        struct cursor c = {f->map.data, f->map.size, 0, path, err};
        static const uint8_t empty[1];
        if (!c.base) c.base = empty;
        st = parse(&c, f);
    }
    if (st) {
        gguf_close(f);
        return st;
    }
    *out = f;
    return EMBER_OK;
}

void gguf_close(struct gguf_file *f) {
    if (!f) return;
    if (f->kv)
        for (int64_t i = 0; i < f->n_kv; i++) free(f->kv[i].str_off);
    free(f->kv);
    free(f->kv_index);
    free(f->tensors);
    free(f->tensor_index);
    os_unmap(&f->map);
    free(f);
}

/* ------------------------------------------------------------- accessors */

const char *gguf_path(const struct gguf_file *f) { return f->path; }
uint32_t gguf_version(const struct gguf_file *f) { return f->version; }
uint64_t gguf_file_size(const struct gguf_file *f) { return f->map.size; }
uint64_t gguf_alignment(const struct gguf_file *f) { return f->alignment; }
uint64_t gguf_data_offset(const struct gguf_file *f) { return f->data_offset; }
int64_t gguf_n_kv(const struct gguf_file *f) { return f->n_kv; }
int64_t gguf_n_tensors(const struct gguf_file *f) { return f->n_tensors; }

bool gguf_str_eq(struct gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && memcmp(s.p, c, n) == 0;
}

/* Look a name up in an index built by index_insert. */
static int64_t index_find(const int64_t *slots, uint64_t cap, const void *items,
                          size_t stride, const char *name) {
    if (!slots) return -1;
    struct gguf_str n = {name, strlen(name)};
    uint64_t h = hash_name(n.p, n.len) & (cap - 1);
    while (slots[h] >= 0) {
        const struct gguf_str *o = (const struct gguf_str *)(
            (const char *)items + (size_t)slots[h] * stride);
        if (str_same(*o, n)) return slots[h];
        h = (h + 1) & (cap - 1);
    }
    return -1;
}

int64_t gguf_find_key(const struct gguf_file *f, const char *key) {
    if (f->n_kv == 0) return -1;
    return index_find(f->kv_index, f->kv_index_cap, &f->kv[0].key, sizeof f->kv[0], key);
}

struct gguf_str gguf_key(const struct gguf_file *f, int64_t i) { return f->kv[i].key; }
enum gguf_vtype gguf_kv_type(const struct gguf_file *f, int64_t i) { return f->kv[i].type; }

struct gguf_str gguf_kv_raw(const struct gguf_file *f, int64_t i) {
    return (struct gguf_str){(const char *)f->map.data + f->kv[i].start, f->kv[i].end - f->kv[i].start};
}

/* Read a numeric value of type t at file offset off. */
static bool num_at(const struct gguf_file *f, enum gguf_vtype t, uint64_t off,
                   int64_t *iv, double *fv, bool *is_float) {
    const uint8_t *p = f->map.data + off;
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32;
            int32_t i32; float f32; uint64_t u64; int64_t i64; double f64; } u;
    int sz = scalar_size(t);
    if (sz <= 0) return false;
    memcpy(&u, p, (size_t)sz);
    *is_float = false;
    switch (t) {
    case GGUF_U8: case GGUF_BOOL: *iv = u.u8; break;
    case GGUF_I8: *iv = u.i8; break;
    case GGUF_U16: *iv = u.u16; break;
    case GGUF_I16: *iv = u.i16; break;
    case GGUF_U32: *iv = u.u32; break;
    case GGUF_I32: *iv = u.i32; break;
    case GGUF_I64: *iv = u.i64; break;
    case GGUF_U64:
        if (u.u64 > (uint64_t)INT64_MAX) return false;
        *iv = (int64_t)u.u64;
        break;
    case GGUF_F32: *fv = u.f32; *is_float = true; break;
    case GGUF_F64: *fv = u.f64; *is_float = true; break;
    default: return false;
    }
    if (!*is_float) *fv = (double)*iv;
    return true;
}

bool gguf_kv_i64(const struct gguf_file *f, int64_t i, int64_t *v) {
    double d;
    bool fl;
    return num_at(f, f->kv[i].type, f->kv[i].off, v, &d, &fl) && !fl;
}

bool gguf_kv_f64(const struct gguf_file *f, int64_t i, double *v) {
    int64_t iv;
    bool fl;
    return num_at(f, f->kv[i].type, f->kv[i].off, &iv, v, &fl);
}

struct gguf_str gguf_kv_str(const struct gguf_file *f, int64_t i) {
    struct gguf_str s = {"", 0};
    if (f->kv[i].type != GGUF_STR) return s;
    uint64_t off = f->kv[i].off;
    memcpy(&s.len, f->map.data + off, 8);
    s.p = (const char *)f->map.data + off + 8;
    return s;
}

bool gguf_get_i64(const struct gguf_file *f, const char *key, int64_t *v) {
    int64_t i = gguf_find_key(f, key);
    if (i < 0 || f->kv[i].type == GGUF_BOOL) return false;
    return gguf_kv_i64(f, i, v);
}

bool gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *v) {
    int64_t x;
    if (!gguf_get_i64(f, key, &x) || x < 0 || x > (int64_t)UINT32_MAX) return false;
    *v = (uint32_t)x;
    return true;
}

bool gguf_get_f32(const struct gguf_file *f, const char *key, float *v) {
    int64_t i = gguf_find_key(f, key);
    double d;
    if (i < 0 || (f->kv[i].type != GGUF_F32 && f->kv[i].type != GGUF_F64)) return false;
    if (!gguf_kv_f64(f, i, &d)) return false;
    *v = (float)d;
    return true;
}

bool gguf_get_bool(const struct gguf_file *f, const char *key, bool *v) {
    int64_t i = gguf_find_key(f, key);
    if (i < 0 || f->kv[i].type != GGUF_BOOL) return false;
    *v = f->map.data[f->kv[i].off] != 0;
    return true;
}

bool gguf_get_str(const struct gguf_file *f, const char *key, struct gguf_str *v) {
    int64_t i = gguf_find_key(f, key);
    if (i < 0 || f->kv[i].type != GGUF_STR) return false;
    *v = gguf_kv_str(f, i);
    return true;
}

enum gguf_vtype gguf_arr_type(const struct gguf_file *f, int64_t i) {
    return f->kv[i].arr_type;
}

uint64_t gguf_arr_len(const struct gguf_file *f, int64_t i) {
    return f->kv[i].type == GGUF_ARR ? f->kv[i].arr_len : 0;
}

const void *gguf_arr_data(const struct gguf_file *f, int64_t i) {
    return f->map.data + f->kv[i].off;
}

struct gguf_str gguf_arr_str(const struct gguf_file *f, int64_t i, uint64_t j) {
    struct gguf_str s = {"", 0};
    const struct gguf_kv *kv = &f->kv[i];
    if (kv->type != GGUF_ARR || kv->arr_type != GGUF_STR || j >= kv->arr_len) return s;
    uint64_t off = kv->str_off[j];
    memcpy(&s.len, f->map.data + off, 8);
    s.p = (const char *)f->map.data + off + 8;
    return s;
}

int64_t gguf_arr_i64(const struct gguf_file *f, int64_t i, uint64_t j) {
    const struct gguf_kv *kv = &f->kv[i];
    int64_t iv = 0;
    double d;
    bool fl;
    int sz = scalar_size(kv->arr_type);
    if (kv->type != GGUF_ARR || sz <= 0 || j >= kv->arr_len) return 0;
    if (!num_at(f, kv->arr_type, kv->off + j * (uint64_t)sz, &iv, &d, &fl)) return 0;
    if (!fl) return iv;
    /* a float outside int64's range (or NaN) has no conversion: 0, not UB */
    return d > -9223372036854775808.0 && d < 9223372036854775808.0 ? (int64_t)d : 0;
}

double gguf_arr_f64(const struct gguf_file *f, int64_t i, uint64_t j) {
    const struct gguf_kv *kv = &f->kv[i];
    int64_t iv;
    double d = 0;
    bool fl;
    int sz = scalar_size(kv->arr_type);
    if (kv->type != GGUF_ARR || sz <= 0 || j >= kv->arr_len) return 0;
    if (!num_at(f, kv->arr_type, kv->off + j * (uint64_t)sz, &iv, &d, &fl)) return 0;
    return d;
}

const struct gguf_tensor *gguf_tensor(const struct gguf_file *f, int64_t i) {
    return (i >= 0 && i < f->n_tensors) ? &f->tensors[i] : NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f,
                                           const char *name) {
    if (f->n_tensors == 0) return NULL;
    int64_t i = index_find(f->tensor_index, f->tensor_index_cap, &f->tensors[0].name,
                           sizeof f->tensors[0], name);
    return i >= 0 ? &f->tensors[i] : NULL;
}
