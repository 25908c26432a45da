/*
 * json.c — the strict JSON reader behind json.h.
 *
 * Recursive descent over the text with a depth counter; every node and
 * string goes into one arena owned by the doc, so freeing is one walk over
 * the arena's chunks. An array or object collects its children in a
 * temporary vector and copies them into the arena when it closes (children
 * are complete by then, so the copy is shallow). Sections:
 *   - arena
 *   - scanner helpers and errors
 *   - strings (escapes, UTF-8 validation)
 *   - numbers
 *   - values, arrays, objects
 *   - public entry points
 */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ arena */

struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

struct json_doc {
    struct chunk *chunks;
    struct json_value root;
};

#define CHUNK_MIN 4096

/* n bytes, 16-byte aligned, owned by doc; NULL when out of memory. */
static void *arena_alloc(struct json_doc *doc, size_t n) {
    n = (n + 15) & ~(size_t)15;
    struct chunk *c = doc->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (c && cap < 2 * c->cap && c->cap < ((size_t)1 << 24)) cap = 2 * c->cap;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = doc->chunks;
        c->used = 0;
        c->cap = cap;
        doc->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

/* -------------------------------------------------- scanner and errors */

struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    struct json_doc *doc;
    struct ember_err *err;
};

static enum ember_status fail(struct parser *p, size_t at, const char *what) {
    return ember_fail(p->err, EMBER_ECORRUPT, "JSON: %s at byte %zu", what, at);
}

static enum ember_status oom(struct parser *p) {
    return ember_fail(p->err, EMBER_ENOMEM, "JSON: out of memory at byte %zu",
                      p->pos);
}

static void skip_ws(struct parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static bool take_lit(struct parser *p, const char *lit) {
    size_t n = strlen(lit);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n)) return false;
    p->pos += n;
    return true;
}

/* ---------------------------------------------------------------- strings */

static int hex4(const char *s) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63));
    o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Length of the valid UTF-8 sequence at s[0..n) (no overlongs, surrogates
 * or code points above U+10FFFF), 0 when invalid. */
static size_t utf8_valid(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t k;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) k = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) k = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) k = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}

/* A \u escape at p->s[p->pos] (just after the backslash-u): one code point,
 * combining a surrogate pair. Advances past it. */
static enum ember_status unicode_escape(struct parser *p, uint32_t *cp) {
    size_t at = p->pos - 2;
    int hi = p->len - p->pos >= 4 ? hex4(p->s + p->pos) : -1;
    if (hi < 0) return fail(p, at, "bad \\u escape");
    p->pos += 4;
    if (hi >= 0xdc00 && hi <= 0xdfff) return fail(p, at, "lone low surrogate");
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = (uint32_t)hi;
        return EMBER_OK;
    }
    int lo = p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u'
                 ? hex4(p->s + p->pos + 2)
                 : -1;
    if (lo < 0xdc00 || lo > 0xdfff) return fail(p, at, "lone high surrogate");
    p->pos += 6;
    *cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
    return EMBER_OK;
}

static enum ember_status escape(struct parser *p, char *o, size_t *n) {
    size_t at = p->pos;
    if (p->pos + 1 >= p->len) return fail(p, at, "unterminated string");
    char c = p->s[p->pos + 1];
    p->pos += 2;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        o[0] = to[k - from];
        *n = 1;
        return EMBER_OK;
    }
    if (c != 'u') return fail(p, at, "bad escape");
    uint32_t cp = 0;
    enum ember_status st = unicode_escape(p, &cp);
    if (st) return st;
    *n = put_utf8(o, cp);
    return EMBER_OK;
}

/* A string at p->pos (on its opening quote), decoded into the arena. The
 * decoded form is never longer than the source, so one allocation of the
 * source span suffices. */
static enum ember_status parse_string(struct parser *p, const char **out,
                                      size_t *out_len) {
    size_t start = p->pos++;
    size_t end = p->pos;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) return fail(p, start, "unterminated string");
    char *buf = arena_alloc(p->doc, end - start);
    if (!buf) return oom(p);
    size_t n = 0;
    while (p->s[p->pos] != '"') {
        const unsigned char *u = (const unsigned char *)p->s + p->pos;
        if (*u == '\\') {
            size_t k = 0;
            enum ember_status st = escape(p, buf + n, &k);
            if (st) return st;
            n += k;
        } else if (*u < 0x20) {
            return fail(p, p->pos, "control character in string");
        } else {
            size_t k = utf8_valid(u, p->len - p->pos);
            if (!k) return fail(p, p->pos, "invalid UTF-8 in string");
            memcpy(buf + n, u, k);
            n += k;
            p->pos += k;
        }
    }
    p->pos++;
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return EMBER_OK;
}

/* ---------------------------------------------------------------- numbers */

static size_t digits(const struct parser *p, size_t i) {
    while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    return i;
}

static enum ember_status parse_number(struct parser *p, struct json_value *v) {
    size_t start = p->pos, i = p->pos;
    if (i < p->len && p->s[i] == '-') i++;
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') return fail(p, start, "bad number");
    size_t int_end = p->s[i] == '0' ? i + 1 : digits(p, i);
    i = int_end;
    bool is_int = true;
    if (i < p->len && p->s[i] == '.') {
        size_t j = digits(p, i + 1);
        if (j == i + 1) return fail(p, start, "bad number");
        i = j, is_int = false;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (p->s[j] == '+' || p->s[j] == '-')) j++;
        size_t k = digits(p, j);
        if (k == j) return fail(p, start, "bad number");
        i = k, is_int = false;
    }
    char tmp[64];
    size_t n = i - start;
    char *buf = n < sizeof tmp ? tmp : malloc(n + 1);
    if (!buf) return oom(p);
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    errno = 0;
    v->type = JSON_NUMBER;
    v->num = strtod(buf, NULL);
    bool range = isinf(v->num);
    if (is_int) {
        errno = 0;
        long long ll = strtoll(buf, NULL, 10);
        v->is_int = errno == 0;
        v->integer = ll;
    }
    if (buf != tmp) free(buf);
    if (range) return fail(p, start, "number out of range");
    p->pos = i;
    return EMBER_OK;
}

/* ---------------------------------------------------- values and containers */

static enum ember_status parse_value(struct parser *p, struct json_value *v);

/* A growable temporary vector of elements of size `size`. */
struct vec {
    void *data;
    size_t n, cap, size;
};

static void *vec_push(struct vec *v) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 8;
        void *d = realloc(v->data, cap * v->size);
        if (!d) return NULL;
        v->data = d;
        v->cap = cap;
    }
    return (char *)v->data + v->size * v->n++;
}

/* Move the vector's elements into the arena (NULL for none). */
static enum ember_status vec_finish(struct parser *p, struct vec *v,
                                    const void **out) {
    *out = NULL;
    if (v->n) {
        void *d = arena_alloc(p->doc, v->n * v->size);
        if (!d) return oom(p);
        memcpy(d, v->data, v->n * v->size);
        *out = d;
    }
    return EMBER_OK;
}

/* After an element: ',' continues (true), the closer ends (false). */
static enum ember_status next_or_close(struct parser *p, char close, bool *more) {
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
        p->pos++;
        *more = true;
        return EMBER_OK;
    }
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        *more = false;
        return EMBER_OK;
    }
    return fail(p, p->pos, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
}

static enum ember_status array_items(struct parser *p, struct vec *items) {
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return EMBER_OK;
    }
    for (bool more = true; more;) {
        struct json_value *e = vec_push(items);
        if (!e) return oom(p);
        enum ember_status st = parse_value(p, e);
        if (!st) st = next_or_close(p, ']', &more);
        if (st) return st;
    }
    return EMBER_OK;
}

static enum ember_status object_member(struct parser *p, struct json_member *m) {
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, p->pos, "expected a string key");
    enum ember_status st = parse_string(p, &m->key, &m->key_len);
    if (st) return st;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, p->pos, "expected ':'");
    p->pos++;
    return parse_value(p, &m->value);
}

static enum ember_status object_members(struct parser *p, struct vec *members) {
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return EMBER_OK;
    }
    for (bool more = true; more;) {
        struct json_member *m = vec_push(members);
        if (!m) return oom(p);
        enum ember_status st = object_member(p, m);
        if (!st) st = next_or_close(p, '}', &more);
        if (st) return st;
    }
    return EMBER_OK;
}

/* An array or object at p->pos (on its opener). */
static enum ember_status parse_container(struct parser *p, struct json_value *v) {
    bool is_arr = p->s[p->pos] == '[';
    if (++p->depth > JSON_MAX_DEPTH)
        return ember_fail(p->err, EMBER_ECORRUPT, "JSON: nested deeper than %d at byte %zu",
                          JSON_MAX_DEPTH, p->pos);
    p->pos++;
    struct vec vec = {.size = is_arr ? sizeof(struct json_value) : sizeof(struct json_member)};
    enum ember_status st = is_arr ? array_items(p, &vec) : object_members(p, &vec);
    const void *data = NULL;
    if (!st) st = vec_finish(p, &vec, &data);
    free(vec.data);
    if (st) return st;
    p->depth--;
    v->type = is_arr ? JSON_ARRAY : JSON_OBJECT;
    v->len = vec.n;
    if (is_arr) v->items = data;
    else v->members = data;
    return EMBER_OK;
}

static enum ember_status parse_value(struct parser *p, struct json_value *v) {
    memset(v, 0, sizeof *v);
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, p->pos, "unexpected end of input");
    char c = p->s[p->pos];
    if (c == '{' || c == '[') return parse_container(p, v);
    if (c == '"') {
        v->type = JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    if (take_lit(p, "true")) v->type = JSON_TRUE;
    else if (take_lit(p, "false")) v->type = JSON_FALSE;
    else if (take_lit(p, "null")) v->type = JSON_NULL;
    else return fail(p, p->pos, "unexpected character");
    return EMBER_OK;
}

/* ---------------------------------------------------------- entry points */

void json_free(struct json_doc *doc) {
    if (!doc) return;
    for (struct chunk *c = doc->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(doc);
}

enum ember_status json_parse(const char *text, size_t len,
                             struct json_doc **out, struct ember_err *err) {
    *out = NULL;
    if (len > JSON_MAX_BYTES)
        return ember_fail(err, EMBER_EINVAL, "JSON: %zu bytes is over the limit of %zu", len,
                          JSON_MAX_BYTES);
    struct json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return ember_fail(err, EMBER_ENOMEM, "JSON: out of memory");
    struct parser p = {.s = text, .len = len, .doc = doc, .err = err};
    enum ember_status st = parse_value(&p, &doc->root);
    if (!st) {
        skip_ws(&p);
        if (p.pos != len) st = fail(&p, p.pos, "trailing characters after the value");
    }
    if (st) {
        json_free(doc);
        return st;
    }
    *out = doc;
    return EMBER_OK;
}

const struct json_value *json_root(const struct json_doc *doc) { return &doc->root; }

const struct json_value *json_get(const struct json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = obj->len; i-- > 0;) {
        const struct json_member *m = &obj->members[i];
        if (m->key_len == n && !memcmp(m->key, key, n)) return &m->value;
    }
    return NULL;
}
