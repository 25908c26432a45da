/*
 * template_value.c — the values templates compute with, and what they mean
 * in Python (which is what jinja2 evaluates them as): truthiness, ==,
 * ordering, str() and repr() (`{{ [1, 'a'] }}` prints "[1, 'a']", floats
 * print as Python's shortest repr). Strings are bytes of UTF-8; length and
 * indexing count code points as Python does.
 *
 * Heap values are reference counted; every allocation costs render steps
 * in proportion to its size, so the step budget also bounds memory. Lists
 * and dicts record how deeply they nest (capped), so freeing, printing and
 * comparing them cannot recurse without bound. Sections:
 *   - errors, steps and buffers
 *   - allocation and reference counts
 *   - lists, dicts, namespaces
 *   - UTF-8 and Python whitespace
 *   - truth, equality, ordering
 *   - str() and repr()
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template_impl.h"
#include "unicode.h"

/* ------------------------------------------------ errors, steps, buffers */

#undef rt_fail /* the analyzer's macro (template_impl.h); this is the function */

enum ember_status rt_fail(struct rt *rt, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ember_fail(rt->err, EMBER_EINVAL, "template line %d: %s", rt->line, msg);
}

enum ember_status rt_steps(struct rt *rt, long n) {
    rt->steps -= n;
    if (rt->steps < 0)
        return rt_fail(rt, "render stopped after %ld steps (a template loop that does not end?)",
                       TEMPLATE_MAX_STEPS);
    return EMBER_OK;
}

enum ember_status sbuf_put(struct rt *rt, struct sbuf *b, const char *p, size_t n) {
    if (n > TEMPLATE_MAX_OUT - b->n)
        return rt_fail(rt, "output longer than %zu bytes", TEMPLATE_MAX_OUT);
    TRY(rt_steps(rt, 1 + (long)(n / 64)));
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
    return EMBER_OK;
}

enum ember_status sbuf_to_val(struct rt *rt, struct sbuf *b, struct val *out) {
    enum ember_status st = str_new(rt, b->p, b->n, out);
    free(b->p);
    memset(b, 0, sizeof *b);
    return st;
}

/* ---------------------------------------- allocation and reference counts */

static enum ember_status nomem(struct rt *rt) {
    return ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
}

enum ember_status obj_new(struct rt *rt, enum vkind kind, size_t size, struct val *out) {
    TRY(rt_steps(rt, 1));
    struct obj *o = calloc(1, size);
    if (!o) return nomem(rt);
    o->rc = 1;
    o->kind = (uint8_t)kind;
    out->k = (uint8_t)kind;
    out->u.o = o;
    return EMBER_OK;
}

enum ember_status str_new(struct rt *rt, const char *p, size_t len, struct val *out) {
    if (len > TEMPLATE_MAX_OUT) return rt_fail(rt, "string longer than %zu bytes", TEMPLATE_MAX_OUT);
    TRY(rt_steps(rt, (long)(len / 16)));
    TRY(obj_new(rt, V_STR, sizeof(struct vstr) + len + 1, out));
    struct vstr *s = out->u.s;
    s->len = len;
    if (p && len) memcpy(s->data, p, len);
    s->data[len] = '\0';
    return EMBER_OK;
}

void val_ref(struct val v) {
    if (v_heap(v) && v.u.o->rc != TMPL_IMMORTAL) v.u.o->rc++;
}

static void free_obj(struct obj *o) {
    switch (o->kind) {
    case V_LIST: {
        struct vlist *l = (struct vlist *)o;
        for (size_t i = 0; i < l->n; i++) val_unref(l->items[i]);
        free(l->items);
        break;
    }
    case V_DICT: {
        struct vdict *d = (struct vdict *)o;
        for (size_t i = 0; i < d->n; i++) {
            val_unref(d->keys[i]);
            val_unref(d->vals[i]);
        }
        free(d->keys);
        free(d->vals);
        break;
    }
    case V_NS: {
        struct vns *ns = (struct vns *)o;
        if (ns->attrs) val_unref((struct val){.k = V_DICT, .u.d = ns->attrs});
        break;
    }
    case V_METHOD: val_unref(((struct vmethod *)o)->self); break;
    case V_LOOP: {
        struct vloop *lp = (struct vloop *)o;
        if (lp->items) val_unref((struct val){.k = V_LIST, .u.l = lp->items});
        break;
    }
    default: break;
    }
    free(o);
}

void val_unref(struct val v) {
    if (!v_heap(v) || v.u.o->rc == TMPL_IMMORTAL) return;
    if (--v.u.o->rc == 0) free_obj(v.u.o);
}

/* ------------------------------------------------ lists, dicts, namespaces */

static int nest_of(struct val v) {
    if (v.k == V_LIST) return v.u.l->nest;
    if (v.k == V_DICT) return v.u.d->nest;
    return -1;
}

enum ember_status list_new(struct rt *rt, size_t cap, struct val *out) {
    TRY(obj_new(rt, V_LIST, sizeof(struct vlist), out));
    if (cap) {
        TRY(rt_steps(rt, (long)cap));
        out->u.l->items = malloc(cap * sizeof(struct val));
        if (!out->u.l->items) {
            val_clear(out);
            return nomem(rt);
        }
        out->u.l->cap = cap;
    }
    return EMBER_OK;
}

static enum ember_status grow(struct rt *rt, void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return EMBER_OK;
    size_t c = *cap ? *cap : 4;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return nomem(rt);
    *p = q;
    *cap = c;
    return EMBER_OK;
}

static enum ember_status check_nest(struct rt *rt, uint16_t *nest, struct val v) {
    int k = nest_of(v) + 1;
    if (k > TMPL_MAX_NEST) return rt_fail(rt, "lists or dicts nested deeper than %d", TMPL_MAX_NEST);
    if (k > *nest) *nest = (uint16_t)k;
    return EMBER_OK;
}

enum ember_status list_push(struct rt *rt, struct vlist *l, struct val v) {
    enum ember_status st = rt_steps(rt, 1);
    if (!st) st = check_nest(rt, &l->nest, v);
    if (!st) st = grow(rt, (void **)&l->items, &l->cap, l->n + 1, sizeof(struct val));
    if (st) {
        val_unref(v);
        return st;
    }
    l->items[l->n++] = v;
    return EMBER_OK;
}

enum ember_status dict_new(struct rt *rt, struct val *out) {
    return obj_new(rt, V_DICT, sizeof(struct vdict), out);
}

const struct val *dict_find(const struct vdict *d, struct val key) {
    for (size_t i = 0; i < d->n; i++)
        if (val_eq(d->keys[i], key)) return &d->vals[i];
    return NULL;
}

const struct val *dict_find_str(const struct vdict *d, const char *key, size_t len) {
    for (size_t i = 0; i < d->n; i++) {
        const struct val *k = &d->keys[i];
        if (k->k == V_STR && k->u.s->len == len && !memcmp(k->u.s->data, key, len)) return &d->vals[i];
    }
    return NULL;
}

static bool hashable(struct val v) {
    if (v.k == V_LIST) {
        if (v.u.l->gen) return true;
        if (!v.u.l->tuple) return false;
        for (size_t i = 0; i < v.u.l->n; i++)
            if (!hashable(v.u.l->items[i])) return false;
        return true;
    }
    return v.k != V_DICT && v.k != V_NS && v.k != V_UNDEF;
}

enum ember_status dict_set(struct rt *rt, struct vdict *d, struct val key, struct val v) {
    enum ember_status st = rt_steps(rt, 1 + (long)(d->n / 8));
    if (!st && !hashable(key)) st = rt_fail(rt, "unhashable type: '%s'", val_type_name(key));
    if (!st) st = check_nest(rt, &d->nest, v);
    struct val *old = st ? NULL : (struct val *)dict_find(d, key);
    if (!st && old) {
        val_unref(key);
        val_unref(*old);
        *old = v;
        return EMBER_OK;
    }
    size_t cap = d->cap;
    if (!st) st = grow(rt, (void **)&d->keys, &cap, d->n + 1, sizeof(struct val));
    if (!st) st = grow(rt, (void **)&d->vals, &d->cap, d->n + 1, sizeof(struct val));
    if (st) {
        val_unref(key);
        val_unref(v);
        return st;
    }
    d->keys[d->n] = key;
    d->vals[d->n++] = v;
    return EMBER_OK;
}

/* The runtime keeps one reference to every namespace so that cycles
 * (ns.self = ns) are broken when the render ends. */
enum ember_status ns_new(struct rt *rt, struct val *out) {
    if (rt->n_ns == rt->cap_ns) {
        size_t cap = rt->cap_ns ? 2 * rt->cap_ns : 8;
        struct vns **v = realloc(rt->nss, cap * sizeof *v);
        if (!v) return nomem(rt);
        rt->nss = v;
        rt->cap_ns = cap;
    }
    struct val d, ns;
    TRY(dict_new(rt, &d));
    enum ember_status st = obj_new(rt, V_NS, sizeof(struct vns), &ns);
    if (st) {
        val_unref(d);
        return st;
    }
    /* The analyzer cannot follow reference counts: it takes the dict as
     * leaked here, but the namespace owns it and free_obj releases it. */
    ns.u.ns->attrs = d.u.d; // NOLINT(clang-analyzer-unix.Malloc)
    ns.u.ns->h.rc++;
    rt->nss[rt->n_ns++] = ns.u.ns;
    *out = ns;
    return EMBER_OK;
}

void rt_release_namespaces(struct rt *rt) {
    for (size_t i = 0; i < rt->n_ns; i++) { /* empty them all first: cycles */
        struct vdict *d = rt->nss[i]->attrs;
        rt->nss[i]->attrs = NULL;
        if (d) val_unref((struct val){.k = V_DICT, .u.d = d});
    }
    for (size_t i = 0; i < rt->n_ns; i++) val_unref((struct val){.k = V_NS, .u.ns = rt->nss[i]});
    free(rt->nss);
    rt->nss = NULL;
    rt->n_ns = rt->cap_ns = 0;
}

/* ------------------------------------------------ UTF-8 and whitespace */

size_t utf8_count(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xc0) != 0x80;
    return k;
}

size_t utf8_offset(const char *s, size_t n, size_t i) {
    size_t off = 0;
    for (; i > 0 && off < n; i--) {
        off++;
        while (off < n && ((unsigned char)s[off] & 0xc0) == 0x80) off++;
    }
    return off;
}

bool py_space_at(const char *s, size_t n, size_t *adv) {
    unsigned char c = (unsigned char)s[0];
    *adv = 1;
    if (c < 0x80) return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20);
    uint32_t cp = unicode_utf8_decode(s, n, adv);
    return (unicode_flags(cp) & UCP_SPACE) != 0;
}

/* ------------------------------------------------ truth, equality, order */

bool val_truthy(struct val v) {
    switch (v.k) {
    case V_UNDEF:
    case V_NONE: return false;
    case V_BOOL: return v.u.b;
    case V_INT: return v.u.i != 0;
    case V_FLOAT: return v.u.f != 0.0;
    case V_STR: return v.u.s->len > 0;
    case V_LIST: return v.u.l->gen || v.u.l->n > 0;
    case V_DICT: return v.u.d->n > 0;
    default: return true;
    }
}

static bool is_num(struct val v) { return v.k == V_BOOL || v.k == V_INT || v.k == V_FLOAT; }
static double num_f(struct val v) {
    return v.k == V_FLOAT ? v.u.f : v.k == V_INT ? (double)v.u.i : (double)v.u.b;
}
static int64_t num_i(struct val v) { return v.k == V_INT ? v.u.i : (int64_t)v.u.b; }

bool val_eq(struct val a, struct val b) {
    if (is_num(a) && is_num(b)) {
        if (a.k == V_FLOAT || b.k == V_FLOAT) return num_f(a) == num_f(b);
        return num_i(a) == num_i(b);
    }
    if (a.k != b.k) return false;
    switch (a.k) {
    case V_UNDEF:
    case V_NONE: return true;
    case V_STR:
        return a.u.s->len == b.u.s->len && !memcmp(a.u.s->data, b.u.s->data, a.u.s->len);
    case V_LIST:
        if (a.u.l->gen || b.u.l->gen) return a.u.l == b.u.l;
        if (a.u.l->n != b.u.l->n || a.u.l->tuple != b.u.l->tuple) return false;
        for (size_t i = 0; i < a.u.l->n; i++)
            if (!val_eq(a.u.l->items[i], b.u.l->items[i])) return false;
        return true;
    case V_DICT:
        if (a.u.d->n != b.u.d->n) return false;
        for (size_t i = 0; i < a.u.d->n; i++) {
            const struct val *o = dict_find(b.u.d, a.u.d->keys[i]);
            if (!o || !val_eq(a.u.d->vals[i], *o)) return false;
        }
        return true;
    case V_METHOD:
        return a.u.meth->id == b.u.meth->id && val_eq(a.u.meth->self, b.u.meth->self);
    default: return a.u.o == b.u.o;
    }
}

enum ember_status val_cmp(struct rt *rt, struct val a, struct val b, int *cmp) {
    if (is_num(a) && is_num(b)) {
        if (a.k == V_FLOAT || b.k == V_FLOAT) {
            double x = num_f(a), y = num_f(b);
            *cmp = x < y ? -1 : x > y;
        } else {
            int64_t x = num_i(a), y = num_i(b);
            *cmp = x < y ? -1 : x > y;
        }
        return EMBER_OK;
    }
    if (a.k == V_STR && b.k == V_STR) {
        size_t n = a.u.s->len < b.u.s->len ? a.u.s->len : b.u.s->len;
        int c = memcmp(a.u.s->data, b.u.s->data, n);
        *cmp = c ? (c < 0 ? -1 : 1) : (a.u.s->len < b.u.s->len ? -1 : a.u.s->len > b.u.s->len);
        return EMBER_OK;
    }
    if (a.k == V_LIST && b.k == V_LIST && a.u.l->tuple == b.u.l->tuple && !a.u.l->gen && !b.u.l->gen) {
        for (size_t i = 0; i < a.u.l->n && i < b.u.l->n; i++) {
            if (val_eq(a.u.l->items[i], b.u.l->items[i])) continue;
            return val_cmp(rt, a.u.l->items[i], b.u.l->items[i], cmp);
        }
        *cmp = a.u.l->n < b.u.l->n ? -1 : a.u.l->n > b.u.l->n;
        return EMBER_OK;
    }
    return rt_fail(rt, "'<' not supported between instances of '%s' and '%s'", val_type_name(a),
                   val_type_name(b));
}

const char *val_type_name(struct val v) {
    switch (v.k) {
    case V_UNDEF: return "Undefined";
    case V_NONE: return "NoneType";
    case V_BOOL: return "bool";
    case V_INT: return "int";
    case V_FLOAT: return "float";
    case V_STR: return "str";
    case V_LIST: return v.u.l->gen ? "generator" : v.u.l->tuple ? "tuple" : "list";
    case V_DICT: return "dict";
    case V_NS: return "Namespace";
    case V_MACRO: return "Macro";
    case V_METHOD: return "builtin_function_or_method";
    default: return "LoopContext";
    }
}

/* ------------------------------------------------------ str() and repr() */

void py_float_repr(double f, char out[32]) {
    if (isnan(f) || isinf(f)) {
        snprintf(out, 32, "%s", isnan(f) ? "nan" : f < 0 ? "-inf" : "inf");
        return;
    }
    char e[40];
    for (int prec = 1; prec <= 17; prec++) { /* the shortest that reads back */
        snprintf(e, sizeof e, "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f) break;
    }
    /* e is [-]d[.ddd]e[+-]XX: split into digits and a decimal exponent */
    const char *p = e;
    char *o = out;
    if (*p == '-') *o++ = *p++;
    char dig[20] = {0};
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') dig[nd++] = *p;
    while (nd > 1 && dig[nd - 1] == '0') nd--;
    int exp = (int)strtol(p + 1, NULL, 10);
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            o += sprintf(o, "0.");
            for (int k = -1; k > exp; k--) *o++ = '0';
            memcpy(o, dig, (size_t)nd);
            o += nd;
        } else {
            for (int k = 0; k <= exp; k++) *o++ = (char)(k < nd ? dig[k] : '0');
            *o++ = '.';
            if (nd > exp + 1) {
                memcpy(o, dig + exp + 1, (size_t)(nd - exp - 1));
                o += nd - exp - 1;
            } else {
                *o++ = '0';
            }
        }
        *o = '\0';
        return;
    }
    *o++ = dig[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, dig + 1, (size_t)(nd - 1));
        o += nd - 1;
    }
    sprintf(o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* Python's repr of a str: the quote it picks, escapes for what is not
 * printable. */
static enum ember_status repr_str(struct rt *rt, const char *s, size_t n, struct sbuf *b) {
    char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    TRY(sbuf_put(rt, b, &q, 1));
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[16];
        size_t adv = 1;
        const char *out = esc;
        size_t olen;
        if (c == (unsigned char)q || c == '\\') olen = (size_t)sprintf(esc, "\\%c", c);
        else if (c == '\n') olen = (size_t)sprintf(esc, "\\n");
        else if (c == '\r') olen = (size_t)sprintf(esc, "\\r");
        else if (c == '\t') olen = (size_t)sprintf(esc, "\\t");
        else if (c < 0x20 || c == 0x7f) olen = (size_t)sprintf(esc, "\\x%02x", c);
        else if (c < 0x80) out = s + i, olen = 1;
        else {
            uint32_t cp = unicode_utf8_decode(s + i, n - i, &adv);
            unsigned fl = unicode_flags(cp);
            if (fl & (UCP_CONTROL | UCP_UNDEFINED | UCP_SEPARATOR))
                olen = (size_t)(cp < 0x100     ? sprintf(esc, "\\x%02x", (unsigned)cp)
                                : cp < 0x10000 ? sprintf(esc, "\\u%04x", (unsigned)cp)
                                               : sprintf(esc, "\\U%08x", (unsigned)cp));
            else out = s + i, olen = adv;
        }
        TRY(sbuf_put(rt, b, out, olen));
        i += adv;
    }
    return sbuf_put(rt, b, &q, 1);
}

static enum ember_status repr_items(struct rt *rt, const struct val *keys, const struct val *vals,
                                    size_t n, struct sbuf *b, int depth) {
    for (size_t i = 0; i < n; i++) {
        if (i) TRY(sbuf_put(rt, b, ", ", 2));
        if (keys) {
            TRY(val_repr(rt, keys[i], b, depth + 1));
            TRY(sbuf_put(rt, b, ": ", 2));
        }
        TRY(val_repr(rt, vals[i], b, depth + 1));
    }
    return EMBER_OK;
}

enum ember_status val_repr(struct rt *rt, struct val v, struct sbuf *b, int depth) {
    if (depth > TMPL_MAX_NEST + 8) return sbuf_put(rt, b, "...", 3);
    switch (v.k) {
    case V_STR: return repr_str(rt, v.u.s->data, v.u.s->len, b);
    case V_LIST: {
        const struct vlist *l = v.u.l;
        if (l->gen) return sbuf_puts(rt, b, "<generator object>");
        TRY(sbuf_put(rt, b, l->tuple ? "(" : "[", 1));
        TRY(repr_items(rt, NULL, l->items, l->n, b, depth));
        if (l->tuple && l->n == 1) TRY(sbuf_put(rt, b, ",", 1));
        return sbuf_put(rt, b, l->tuple ? ")" : "]", 1);
    }
    case V_DICT:
        TRY(sbuf_put(rt, b, "{", 1));
        TRY(repr_items(rt, v.u.d->keys, v.u.d->vals, v.u.d->n, b, depth));
        return sbuf_put(rt, b, "}", 1);
    case V_NS:
        TRY(sbuf_puts(rt, b, "<Namespace "));
        if (v.u.ns->attrs) TRY(val_repr(rt, (struct val){.k = V_DICT, .u.d = v.u.ns->attrs}, b, depth + 1));
        return sbuf_put(rt, b, ">", 1);
    default: return val_str(rt, v, b);
    }
}

enum ember_status val_str(struct rt *rt, struct val v, struct sbuf *b) {
    char num[40];
    switch (v.k) {
    case V_UNDEF: return EMBER_OK;
    case V_NONE: return sbuf_puts(rt, b, "None");
    case V_BOOL: return sbuf_puts(rt, b, v.u.b ? "True" : "False");
    case V_INT:
        snprintf(num, sizeof num, "%lld", (long long)v.u.i);
        return sbuf_puts(rt, b, num);
    case V_FLOAT:
        py_float_repr(v.u.f, num);
        return sbuf_puts(rt, b, num);
    case V_STR: return sbuf_put(rt, b, v.u.s->data, v.u.s->len);
    case V_MACRO: return sbuf_puts(rt, b, "<Macro>");
    case V_METHOD: return sbuf_puts(rt, b, "<built-in method>");
    case V_LOOP: return sbuf_puts(rt, b, "<LoopContext>");
    default: return val_repr(rt, v, b, 0);
    }
}

enum ember_status html_escape(struct rt *rt, const struct vstr *s, struct sbuf *b) {
    size_t run = 0;
    for (size_t i = 0; i < s->len; i++) {
        char ch = s->data[i];
        const char *rep = ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : ch == '"' ? "&#34;"
                          : ch == '\'' ? "&#39;" : NULL;
        if (!rep) {
            run++;
            continue;
        }
        TRY(sbuf_put(rt, b, s->data + i - run, run));
        run = 0;
        TRY(sbuf_puts(rt, b, rep));
    }
    return sbuf_put(rt, b, s->data + s->len - run, run);
}

enum ember_status val_to_str(struct rt *rt, struct val v, struct val *out) {
    if (v.k == V_STR) {
        val_ref(v);
        *out = v;
        return EMBER_OK;
    }
    struct sbuf b = {0};
    enum ember_status st = val_str(rt, v, &b);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}
