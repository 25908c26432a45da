/*
 * safetensors.c — the safetensors reader of safetensors.h.
 *
 * The header is parsed by the strict JSON reader (json.h) into a tree that
 * the file keeps (tensor names point into it). Every entry is checked
 * before the next, then the ranges are sorted by offset to find overlaps,
 * and the tensors by name for lookups and duplicates. Sections: dtypes,
 * one entry, the whole header, accessors.
 */
#include "safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "os.h"

#define TRY_ST(x) do { enum ember_status st_ = (x); if (st_) return st_; } while (0)

struct st_file {
    const char *path;
    struct os_map map;       /* zero when st_parse got the bytes */
    const uint8_t *base;
    uint64_t size, data_off; /* data starts at 8 + header length */
    struct json_doc *doc;
    const struct json_value *meta; /* __metadata__ or NULL */
    struct st_tensor *t;     /* sorted by name */
    int64_t n;
};

/* ------------------------------------------------------------- dtypes */

static const struct { const char *name; size_t size; } dtypes[] = {
    [ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2},
    [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4}, [ST_I16] = {"I16", 2},
    [ST_I8] = {"I8", 1},   [ST_U8] = {"U8", 1},   [ST_BOOL] = {"BOOL", 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

const char *st_dtype_name(enum st_dtype t) {
    return (unsigned)t < N_DTYPES ? dtypes[t].name : "?";
}
size_t st_dtype_size(enum st_dtype t) { return (unsigned)t < N_DTYPES ? dtypes[t].size : 0; }

/* ---------------------------------------------------------- one entry */

/* A JSON array of n non-negative integers into v (at most max of them). */
static bool int_array(const struct json_value *a, size_t max, uint64_t *v, size_t *n) {
    if (!a || a->type != JSON_ARRAY || a->len > max) return false;
    for (size_t i = 0; i < a->len; i++) {
        const struct json_value *x = &a->items[i];
        if (x->type != JSON_NUMBER || !x->is_int || x->integer < 0) return false;
        v[i] = (uint64_t)x->integer;
    }
    *n = a->len;
    return true;
}

/* Check the entry of one tensor and fill t (its data pointer excepted). */
static enum ember_status parse_entry(const struct st_file *f, const struct json_member *m,
                                     uint64_t data_size, struct st_tensor *t,
                                     struct ember_err *err) {
    const char *nm = m->key;
    const struct json_value *e = &m->value;
    if (m->key_len == 0 || strlen(m->key) != m->key_len)
        return EMBER_CORRUPT(err, "%s: a tensor name is empty or holds a NUL byte", f->path);
    if (e->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "%s: tensor '%s' is not a JSON object", f->path, nm);
    for (size_t i = 0; i < e->len; i++) {
        const char *k = e->members[i].key;
        if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
            return EMBER_CORRUPT(err, "%s: tensor '%s' has an unknown field '%.40s'", f->path,
                                 nm, k);
    }
    const struct json_value *dt = json_get(e, "dtype"), *sh = json_get(e, "shape"),
                            *off = json_get(e, "data_offsets");
    if (!dt || dt->type != JSON_STRING)
        return EMBER_CORRUPT(err, "%s: tensor '%s' has no dtype string", f->path, nm);
    size_t d = 0;
    while (d < N_DTYPES && strcmp(dt->str, dtypes[d].name)) d++;
    if (d == N_DTYPES)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s: tensor '%s' has dtype '%.20s' (supported: F32, F16, BF16, I64, I32, "
                          "I16, I8, U8, BOOL)", f->path, nm, dt->str);
    uint64_t shape[ST_MAX_DIMS], ofs[2];
    size_t nd, no;
    if (!sh || sh->type != JSON_ARRAY)
        return EMBER_CORRUPT(err, "%s: tensor '%s' has no shape array", f->path, nm);
    if (sh->len > ST_MAX_DIMS)
        return ember_fail(err, EMBER_EUNSUPPORTED, "%s: tensor '%s' has %zu dims (at most %d)",
                          f->path, nm, sh->len, ST_MAX_DIMS);
    if (!int_array(sh, ST_MAX_DIMS, shape, &nd))
        return EMBER_CORRUPT(err, "%s: tensor '%s' has a shape that is not a list of "
                             "non-negative integers", f->path, nm);
    if (!int_array(off, 2, ofs, &no) || no != 2 || ofs[0] > ofs[1])
        return EMBER_CORRUPT(err, "%s: tensor '%s' has data_offsets that are not [begin, end] "
                             "with begin <= end", f->path, nm);
    uint64_t elems = 1, bytes;
    for (size_t i = 0; i < nd; i++)
        if (!ember_mul_u64(elems, shape[i], &elems) || shape[i] > INT64_MAX)
            return EMBER_CORRUPT(err, "%s: tensor '%s' has a shape whose size overflows", f->path,
                                 nm);
    if (!ember_mul_u64(elems, dtypes[d].size, &bytes))
        return EMBER_CORRUPT(err, "%s: tensor '%s' has a shape whose size overflows", f->path, nm);
    if (bytes != ofs[1] - ofs[0])
        return EMBER_CORRUPT(err, "%s: tensor '%s' is %llu bytes by its shape and dtype but its "
                             "data_offsets span %llu", f->path, nm, (unsigned long long)bytes,
                             (unsigned long long)(ofs[1] - ofs[0]));
    if (ofs[1] > data_size)
        return EMBER_CORRUPT(err, "%s: tensor '%s' ends at data offset %llu, past the end of the "
                             "file (%llu bytes of data)", f->path, nm,
                             (unsigned long long)ofs[1], (unsigned long long)data_size);
    *t = (struct st_tensor){.name = nm, .name_len = m->key_len, .dtype = (enum st_dtype)d,
                            .n_dims = (int)nd, .n_elems = elems, .n_bytes = bytes,
                            .offset = ofs[0]};
    for (size_t i = 0; i < nd; i++) t->shape[i] = (int64_t)shape[i];
    return EMBER_OK;
}

/* ------------------------------------------------------- whole header */

static int by_offset(const void *a, const void *b) {
    const struct st_tensor *x = *(const struct st_tensor *const *)a,
                           *y = *(const struct st_tensor *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return (x->n_bytes > y->n_bytes) - (x->n_bytes < y->n_bytes);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct st_tensor *)a)->name, ((const struct st_tensor *)b)->name);
}

static enum ember_status check_metadata(const struct st_file *f, const struct json_value *m,
                                        struct ember_err *err) {
    if (m->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "%s: __metadata__ is not a JSON object", f->path);
    for (size_t i = 0; i < m->len; i++)
        if (m->members[i].value.type != JSON_STRING)
            return EMBER_CORRUPT(err, "%s: __metadata__ '%.40s' is not a string", f->path,
                                 m->members[i].key);
    return EMBER_OK;
}

/* Ranges must not overlap; zero-length tensors overlap nothing. */
static enum ember_status check_overlaps(struct st_file *f, struct ember_err *err) {
    if (f->n < 2) return EMBER_OK;
    const struct st_tensor **s = malloc((size_t)f->n * sizeof *s);
    if (!s) return ember_fail(err, EMBER_ENOMEM, "%s: out of memory", f->path);
    for (int64_t i = 0; i < f->n; i++) s[i] = &f->t[i];
    qsort(s, (size_t)f->n, sizeof *s, by_offset);
    enum ember_status st = EMBER_OK;
    const struct st_tensor *prev = NULL;
    for (int64_t i = 0; i < f->n && !st; i++) {
        if (!s[i]->n_bytes) continue;
        if (prev && s[i]->offset < prev->offset + prev->n_bytes)
            st = EMBER_CORRUPT(err, "%s: tensors '%s' and '%s' overlap (data offsets %llu and "
                               "%llu)", f->path, prev->name, s[i]->name,
                               (unsigned long long)prev->offset, (unsigned long long)s[i]->offset);
        prev = s[i];
    }
    free(s);
    return st;
}

static enum ember_status parse_header(struct st_file *f, struct ember_err *err) {
    uint64_t hlen;
    if (f->size < 8)
        return EMBER_CORRUPT(err, "%s: %llu bytes is too short for a safetensors file", f->path,
                             (unsigned long long)f->size);
    memcpy(&hlen, f->base, 8); /* little-endian: the hosts ember runs on */
    if (hlen > ST_MAX_HEADER)
        return EMBER_CORRUPT(err, "%s: header length %llu is over the limit of %llu bytes",
                             f->path, (unsigned long long)hlen,
                             (unsigned long long)ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return EMBER_CORRUPT(err, "%s: header length %llu runs past the end of the file "
                             "(%llu bytes)", f->path, (unsigned long long)hlen,
                             (unsigned long long)f->size);
    if (hlen < 2 || f->base[8] != '{')
        return EMBER_CORRUPT(err, "%s: header is not a JSON object (not a safetensors file?)",
                             f->path);
    f->data_off = 8 + hlen;
    struct ember_err je = {0};
    if (json_parse((const char *)f->base + 8, (size_t)hlen, &f->doc, &je))
        return ember_fail(err, je.status, "%s: header: %s", f->path, je.msg);
    const struct json_value *root = json_root(f->doc);
    if (root->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "%s: header is not a JSON object", f->path);
    f->t = calloc(root->len ? root->len : 1, sizeof *f->t);
    if (!f->t) return ember_fail(err, EMBER_ENOMEM, "%s: out of memory", f->path);
    uint64_t data_size = f->size - f->data_off;
    for (size_t i = 0; i < root->len; i++) {
        const struct json_member *m = &root->members[i];
        if (!strcmp(m->key, "__metadata__")) {
            if (f->meta)
                return EMBER_CORRUPT(err, "%s: __metadata__ appears twice", f->path);
            TRY_ST(check_metadata(f, &m->value, err));
            f->meta = &m->value;
            continue;
        }
        struct st_tensor *t = &f->t[f->n];
        TRY_ST(parse_entry(f, m, data_size, t, err));
        t->data = f->base + f->data_off + t->offset;
        f->n++;
    }
    qsort(f->t, (size_t)f->n, sizeof *f->t, by_name);
    for (int64_t i = 1; i < f->n; i++)
        if (!strcmp(f->t[i - 1].name, f->t[i].name))
            return EMBER_CORRUPT(err, "%s: tensor '%s' appears twice", f->path, f->t[i].name);
    return check_overlaps(f, err);
}

enum ember_status st_parse(const void *bytes, uint64_t size, const char *path,
                           struct st_file **out, struct ember_err *err) {
    *out = NULL;
    struct st_file *f = calloc(1, sizeof *f);
    if (!f) return ember_fail(err, EMBER_ENOMEM, "%s: out of memory", path);
    f->path = path;
    f->base = bytes;
    f->size = size;
    enum ember_status st = parse_header(f, err);
    if (st) {
        st_close(f);
        return st;
    }
    *out = f;
    return EMBER_OK;
}

enum ember_status st_open(const char *path, struct st_file **out, struct ember_err *err) {
    struct os_map m;
    *out = NULL;
    enum ember_status st = os_map_file(path, &m, err);
    if (st) return st;
    st = st_parse(m.data, m.size, path, out, err);
    if (st) {
        os_unmap(&m);
        return st;
    }
    (*out)->map = m;
    return EMBER_OK;
}

void st_close(struct st_file *f) {
    if (!f) return;
    json_free(f->doc);
    free(f->t);
    os_unmap(&f->map);
    free(f);
}

/* ----------------------------------------------------------- accessors */

const char *st_path(const struct st_file *f) { return f->path; }
uint64_t st_file_size(const struct st_file *f) { return f->size; }
int64_t st_n_tensors(const struct st_file *f) { return f->n; }
const struct st_tensor *st_tensor(const struct st_file *f, int64_t i) {
    return i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const struct st_tensor *st_find(const struct st_file *f, const char *name) {
    struct st_tensor key = {.name = name};
    return f->n ? bsearch(&key, f->t, (size_t)f->n, sizeof *f->t, by_name) : NULL;
}

const char *st_metadata(const struct st_file *f, const char *key) {
    const struct json_value *v = json_get(f->meta, key);
    return v ? v->str : NULL;
}
