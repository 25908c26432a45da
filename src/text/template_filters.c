/*
 * template_filters.c — jinja2's built-in filters and tests that chat
 * templates use, with jinja2 3.1's arguments and behaviour (tojson is
 * transformers' own, see template_json.c). A filter or test that jinja2
 * has but this file lacks is a compile error naming it, never a silent
 * difference. Sections:
 *   - helpers: attribute paths, sorting keys
 *   - string filters
 *   - sequence filters
 *   - selecting and mapping
 *   - number filters
 *   - the filter table
 *   - tests
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "template_impl.h"

typedef enum ember_status (*filter_fn)(struct rt *rt, struct val in, const struct call *c, struct val *out);

/* ---------------------------------------------------------------- helpers */

static enum ember_status need_string(struct rt *rt, struct val in, const char *filter) {
    if (in.k == V_STR) return EMBER_OK;
    return rt_fail(rt, "filter %s expects a string, got %s", filter, val_type_name(in));
}

/* str(in) as a string value (jinja2's soft_str before string filters). */
static enum ember_status as_str(struct rt *rt, struct val in, struct val *out) {
    return val_to_str(rt, in, out);
}

/* item.a.b (digits index lists), as jinja2's make_attrgetter. */
static enum ember_status attr_path(struct rt *rt, struct val item, const struct vstr *path, struct val *out) {
    struct val cur = item;
    val_ref(cur);
    for (size_t i = 0; i <= path->len;) {
        const char *dot = memchr(path->data + i, '.', path->len - i);
        size_t end = dot ? (size_t)(dot - path->data) : path->len;
        bool digits = end > i;
        for (size_t k = i; k < end; k++) digits = digits && path->data[k] >= '0' && path->data[k] <= '9';
        struct val key, next = v_undef(NULL);
        enum ember_status st = digits ? (key = v_int(strtoll(path->data + i, NULL, 10)), EMBER_OK)
                                      : str_new(rt, path->data + i, end - i, &key);
        if (!st) st = get_item(rt, cur, key, &next);
        val_unref(key);
        val_unref(cur);
        if (st) return st;
        cur = next;
        i = end + 1;
    }
    *out = cur;
    return EMBER_OK;
}

/* The sort key of an item: the attribute if given, lowercased if a string
 * and not case_sensitive. */
static enum ember_status sort_key(struct rt *rt, struct val item, const struct vstr *attr, bool cs,
                                  struct val *out) {
    struct val v;
    if (attr) TRY(attr_path(rt, item, attr, &v));
    else val_ref(v = item);
    if (cs || v.k != V_STR) {
        *out = v;
        return EMBER_OK;
    }
    enum ember_status st = pystr_case(rt, v.u.s, CASE_LOWER, out);
    val_unref(v);
    return st;
}

/* Stable merge sort of idx[0..n) by keys, which may fail (unorderable). */
static enum ember_status merge_sort(struct rt *rt, const struct val *keys, size_t *idx, size_t *tmp, size_t n,
                                    bool reverse) {
    if (n < 2) return EMBER_OK;
    size_t h = n / 2;
    TRY(merge_sort(rt, keys, idx, tmp, h, reverse));
    TRY(merge_sort(rt, keys, idx + h, tmp, n - h, reverse));
    TRY(rt_steps(rt, (long)n));
    size_t a = 0, b = h, o = 0;
    while (a < h && b < n) {
        int c;
        TRY(val_cmp(rt, keys[idx[b]], keys[idx[a]], &c));
        if (reverse) c = -c;
        tmp[o++] = c < 0 ? idx[b++] : idx[a++];
    }
    while (a < h) tmp[o++] = idx[a++];
    while (b < n) tmp[o++] = idx[b++];
    memcpy(idx, tmp, n * sizeof *idx);
    return EMBER_OK;
}

/* A new list: items sorted by their keys. */
static enum ember_status sorted(struct rt *rt, const struct vlist *items, const struct val *keys, bool reverse,
                                struct val *out) {
    size_t n = items->n;
    size_t *idx = malloc((n + 1) * sizeof *idx), *tmp = malloc((n + 1) * sizeof *tmp);
    enum ember_status st = idx && tmp ? EMBER_OK : ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
    for (size_t k = 0; k < n && !st; k++) idx[k] = k;
    if (!st) st = merge_sort(rt, keys, idx, tmp, n, reverse);
    if (!st) st = list_new(rt, n, out);
    for (size_t k = 0; k < n && !st; k++) {
        val_ref(items->items[idx[k]]);
        st = list_push(rt, out->u.l, items->items[idx[k]]);
    }
    free(idx);
    free(tmp);
    return st;
}

static bool flag(const struct call *c, int pos, const char *name) {
    const struct val *v = arg(c, pos, name);
    return v && val_truthy(*v);
}

/* Keys of every item (sort, unique, min, max). */
static enum ember_status keys_of(struct rt *rt, const struct vlist *l, const struct vstr *attr, bool cs,
                                 struct val **keys) {
    *keys = calloc(l->n + 1, sizeof **keys);
    if (!*keys) return ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
    for (size_t k = 0; k < l->n; k++) TRY(sort_key(rt, l->items[k], attr, cs, &(*keys)[k]));
    return EMBER_OK;
}

static void keys_free(struct val *keys, size_t n) {
    for (size_t k = 0; keys && k < n; k++) val_unref(keys[k]);
    free(keys);
}

/* --------------------------------------------------------- string filters */

static enum ember_status f_trim(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *chars;
    struct val s;
    TRY(str_arg(rt, c, 0, "chars", &chars));
    TRY(as_str(rt, in, &s));
    enum ember_status st = pystr_strip(rt, s.u.s, chars, true, true, out);
    val_unref(s);
    return st;
}

static enum ember_status do_case(struct rt *rt, struct val in, enum str_case mode, struct val *out) {
    struct val s;
    TRY(as_str(rt, in, &s));
    enum ember_status st = pystr_case(rt, s.u.s, mode, out);
    val_unref(s);
    return st;
}
static enum ember_status f_upper(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return do_case(rt, in, CASE_UPPER, out);
}
static enum ember_status f_lower(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return do_case(rt, in, CASE_LOWER, out);
}
static enum ember_status f_capitalize(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return do_case(rt, in, CASE_CAPITALIZE, out);
}
static enum ember_status f_title(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return do_case(rt, in, CASE_JINJA_TITLE, out);
}

static enum ember_status f_replace(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *old, *new;
    int64_t count;
    struct val s;
    TRY(need_str(rt, c, 0, "old", &old));
    TRY(need_str(rt, c, 1, "new", &new));
    TRY(int_arg(rt, c, 2, "count", -1, &count));
    TRY(as_str(rt, in, &s));
    enum ember_status st = pystr_replace(rt, s.u.s, old, new, count, out);
    val_unref(s);
    return st;
}

static enum ember_status f_string(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return as_str(rt, in, out);
}

/* |safe and |escape give Markup (see struct vstr); Markup stays as it is. */
static enum ember_status to_markup(struct rt *rt, struct val in, bool escape, struct val *out) {
    if (in.k == V_STR && in.u.s->markup) {
        val_ref(*out = in);
        return EMBER_OK;
    }
    struct val s;
    struct sbuf b = {0};
    TRY(as_str(rt, in, &s));
    enum ember_status st = escape ? html_escape(rt, s.u.s, &b) : sbuf_put(rt, &b, s.u.s->data, s.u.s->len);
    val_unref(s);
    if (!st) st = sbuf_to_val(rt, &b, out);
    else free(b.p);
    if (!st) out->u.s->markup = true;
    return st;
}
static enum ember_status f_safe(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return to_markup(rt, in, false, out);
}
static enum ember_status f_escape(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return to_markup(rt, in, true, out);
}

/* indent(width=4, first=False, blank=False), as jinja2 3.1 does it: a
 * newline is appended first (its "quirk"), then lines after the first get
 * the prefix, blank ones only with blank=True. */
static enum ember_status indent_lines(struct rt *rt, const struct vlist *lines, const struct vstr *pre,
                                      bool first, bool blank, struct sbuf *b) {
    if (first) TRY(sbuf_put(rt, b, pre->data, pre->len));
    for (size_t k = 0; k < lines->n; k++) {
        const struct vstr *line = lines->items[k].u.s;
        if (k) TRY(sbuf_put(rt, b, "\n", 1));
        if (k && (blank || line->len)) TRY(sbuf_put(rt, b, pre->data, pre->len));
        TRY(sbuf_put(rt, b, line->data, line->len));
    }
    return EMBER_OK;
}

static enum ember_status f_indent(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct val *w = arg(c, 0, "width");
    struct val pre, s = v_undef(NULL), lines = v_none();
    if (w && w->k == V_STR) val_ref(pre = *w);
    else {
        int64_t n;
        TRY(int_arg(rt, c, 0, "width", 4, &n));
        TRY(str_new(rt, NULL, n > 0 ? (size_t)n : 0, &pre));
        memset(pre.u.s->data, ' ', pre.u.s->len);
    }
    struct sbuf b = {0};
    enum ember_status st = val_str(rt, in, &b);
    if (!st) st = sbuf_put(rt, &b, "\n", 1);
    if (!st) st = sbuf_to_val(rt, &b, &s);
    else free(b.p);
    if (!st) {
        st = pystr_splitlines(rt, s.u.s, false, &lines);
        val_unref(s);
    }
    memset(&b, 0, sizeof b);
    if (!st) st = indent_lines(rt, lines.u.l, pre.u.s, flag(c, 1, "first"), flag(c, 2, "blank"), &b);
    val_unref(lines);
    val_unref(pre);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

/* "%s" % args: printf-style formatting with %s, %r, %d, %i and %%. */
static enum ember_status f_format(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    TRY(need_string(rt, in, "format"));
    struct sbuf b = {0};
    enum ember_status st = EMBER_OK;
    int next = 0;
    const struct vstr *f = in.u.s;
    for (size_t i = 0; !st && i < f->len; i++) {
        if (f->data[i] != '%') {
            st = sbuf_put(rt, &b, f->data + i, 1);
            continue;
        }
        char k = '\0';
        if (++i < f->len) k = f->data[i];
        if (k == '%') st = sbuf_put(rt, &b, "%", 1);
        else if (!strchr("srdi", k) || !k) st = rt_fail(rt, "format: unsupported conversion '%%%c'", k ? k : ' ');
        else if (next >= c->n) st = rt_fail(rt, "not enough arguments for format string");
        else if (k == 'r') st = val_repr(rt, c->args[next++], &b, 0);
        else st = val_str(rt, c->args[next++], &b);
    }
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

static enum ember_status f_tojson(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct val *ind = arg(c, 0, "indent"), *seps = arg(c, -1, "separators");
    struct json_opts o = {.item_sep = ", ", .key_sep = ": ", .sort_keys = flag(c, -1, "sort_keys"),
                          .ensure_ascii = flag(c, -1, "ensure_ascii")};
    char spaces[64];
    if (ind && ind->k != V_NONE) {
        o.item_sep = ",";
        if (ind->k == V_STR) o.indent = ind->u.s->data;
        else if (ind->k == V_INT || ind->k == V_BOOL) {
            int64_t n = ind->k == V_INT ? ind->u.i : ind->u.b;
            if (n > 60) n = 60;
            memset(spaces, ' ', n > 0 ? (size_t)n : 0);
            spaces[n > 0 ? n : 0] = '\0';
            o.indent = spaces;
        } else return rt_fail(rt, "tojson: indent must be an integer or a string");
    }
    if (seps && seps->k == V_LIST && seps->u.l->n == 2 && seps->u.l->items[0].k == V_STR &&
        seps->u.l->items[1].k == V_STR) {
        o.item_sep = seps->u.l->items[0].u.s->data;
        o.key_sep = seps->u.l->items[1].u.s->data;
    } else if (seps && seps->k != V_NONE) {
        return rt_fail(rt, "tojson: separators must be a pair of strings");
    }
    struct sbuf b = {0};
    enum ember_status st = val_tojson(rt, in, &o, &b);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

/* ------------------------------------------------------- sequence filters */

static enum ember_status f_length(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    switch (in.k) {
    case V_STR: *out = v_int((int64_t)utf8_count(in.u.s->data, in.u.s->len)); return EMBER_OK;
    case V_LIST:
        if (in.u.l->gen) break;
        *out = v_int((int64_t)in.u.l->n);
        return EMBER_OK;
    case V_DICT: *out = v_int((int64_t)in.u.d->n); return EMBER_OK;
    case V_UNDEF: *out = v_int(0); return EMBER_OK;
    default: break;
    }
    return rt_fail(rt, "object of type '%s' has no len()", val_type_name(in));
}

static enum ember_status f_list(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    struct val items;
    TRY(val_iter(rt, in, &items));
    if (items.u.l->tuple || items.u.o == in.u.o) { /* a fresh list, not a tuple */
        enum ember_status st = list_new(rt, items.u.l->n, out);
        for (size_t k = 0; !st && k < items.u.l->n; k++) {
            val_ref(items.u.l->items[k]);
            st = list_push(rt, out->u.l, items.u.l->items[k]);
        }
        val_unref(items);
        return st;
    }
    *out = items;
    return EMBER_OK;
}

static enum ember_status first_last(struct rt *rt, struct val in, struct val *out, bool last) {
    if (in.k == V_LIST && in.u.l->gen) { /* next(): takes one item; reversed() is refused */
        struct vlist *g = in.u.l;
        if (last) return rt_fail(rt, "'generator' object is not reversible");
        *out = g->n ? g->items[0] : v_undef(NULL);
        if (g->n) memmove(g->items, g->items + 1, --g->n * sizeof *g->items);
        return EMBER_OK;
    }
    struct val items;
    TRY(val_iter(rt, in, &items));
    size_t n = items.u.l->n;
    *out = n ? items.u.l->items[last ? n - 1 : 0] : v_undef(NULL);
    val_ref(*out);
    val_unref(items);
    return EMBER_OK;
}
static enum ember_status f_first(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return first_last(rt, in, out, false);
}
static enum ember_status f_last(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    return first_last(rt, in, out, true);
}

static enum ember_status f_reverse(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    struct val items;
    TRY(val_iter(rt, in, &items));
    enum ember_status st = EMBER_OK;
    if (in.k == V_STR) {
        struct sbuf b = {0};
        for (size_t k = items.u.l->n; !st && k-- > 0;)
            st = sbuf_put(rt, &b, items.u.l->items[k].u.s->data, items.u.l->items[k].u.s->len);
        if (!st) st = sbuf_to_val(rt, &b, out);
        else free(b.p);
    } else { /* reversed(): an iterator, but a generator's reversal is a list */
        st = list_new(rt, items.u.l->n, out);
        for (size_t k = items.u.l->n; !st && k-- > 0;) {
            val_ref(items.u.l->items[k]);
            st = list_push(rt, out->u.l, items.u.l->items[k]);
        }
        if (!st) out->u.l->gen = !(in.k == V_LIST && in.u.l->gen);
    }
    val_unref(items);
    return st;
}

static enum ember_status f_join(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *sep, *attr;
    TRY(str_arg(rt, c, 0, "d", &sep));
    TRY(str_arg(rt, c, 1, "attribute", &attr));
    struct val items;
    TRY(val_iter(rt, in, &items));
    struct sbuf b = {0};
    enum ember_status st = EMBER_OK;
    for (size_t k = 0; !st && k < items.u.l->n; k++) {
        struct val x = items.u.l->items[k];
        if (k && sep) st = sbuf_put(rt, &b, sep->data, sep->len);
        if (!st && attr) {
            struct val a;
            if (!(st = attr_path(rt, x, attr, &a))) {
                st = val_str(rt, a, &b);
                val_unref(a);
            }
        } else if (!st) {
            st = val_str(rt, x, &b);
        }
    }
    val_unref(items);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

static enum ember_status f_items(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    if (in.k == V_UNDEF) return list_new(rt, 0, out);
    if (in.k != V_DICT) return rt_fail(rt, "can only get item pairs from a mapping, not %s", val_type_name(in));
    int id;
    method_lookup(in, "items", 5, &id);
    TRY(method_call(rt, id, in, NULL, 0, NULL, NULL, 0, out));
    out->u.l->gen = true;
    return EMBER_OK;
}

/* dictsort(case_sensitive=False, by='key', reverse=False): sorted pairs. */
static enum ember_status f_dictsort(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    if (in.k != V_DICT) return rt_fail(rt, "dictsort expects a mapping, got %s", val_type_name(in));
    const struct vstr *by;
    TRY(str_arg(rt, c, 1, "by", &by));
    bool by_value = by && !strcmp(by->data, "value");
    if (by && !by_value && strcmp(by->data, "key")) return rt_fail(rt, "You can only sort by either \"key\" or \"value\"");
    struct val pairs, *keys = NULL;
    int id;
    method_lookup(in, "items", 5, &id);
    TRY(method_call(rt, id, in, NULL, 0, NULL, NULL, 0, &pairs));
    const struct vlist *pl = pairs.u.l;
    enum ember_status st = EMBER_OK;
    keys = calloc(pl->n + 1, sizeof *keys);
    if (!keys) st = ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
    for (size_t k = 0; !st && k < pl->n; k++)
        st = sort_key(rt, pl->items[k].u.l->items[by_value], NULL, flag(c, 0, "case_sensitive"), &keys[k]);
    if (!st) st = sorted(rt, pl, keys, flag(c, 2, "reverse"), out);
    keys_free(keys, pl->n);
    val_unref(pairs);
    return st;
}

static enum ember_status f_sort(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *attr;
    TRY(str_arg(rt, c, 2, "attribute", &attr));
    struct val items, *keys = NULL;
    TRY(val_iter(rt, in, &items));
    enum ember_status st = keys_of(rt, items.u.l, attr, flag(c, 1, "case_sensitive"), &keys);
    if (!st) st = sorted(rt, items.u.l, keys, flag(c, 0, "reverse"), out);
    keys_free(keys, items.u.l->n);
    val_unref(items);
    return st;
}

static enum ember_status f_unique(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *attr;
    TRY(str_arg(rt, c, 1, "attribute", &attr));
    struct val items, *keys = NULL;
    TRY(val_iter(rt, in, &items));
    const struct vlist *l = items.u.l;
    enum ember_status st = keys_of(rt, l, attr, flag(c, 0, "case_sensitive"), &keys);
    if (!st) st = list_new(rt, 0, out);
    for (size_t k = 0; !st && k < l->n; k++) {
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++) seen = val_eq(keys[j], keys[k]);
        if (!(st = rt_steps(rt, (long)k)) && !seen) {
            val_ref(l->items[k]);
            st = list_push(rt, out->u.l, l->items[k]);
        }
    }
    keys_free(keys, l->n);
    val_unref(items);
    if (!st) out->u.l->gen = true;
    return st;
}

static enum ember_status min_max(struct rt *rt, struct val in, const struct call *c, struct val *out, int sign) {
    const struct vstr *attr;
    TRY(str_arg(rt, c, 1, "attribute", &attr));
    struct val items, *keys = NULL;
    TRY(val_iter(rt, in, &items));
    const struct vlist *l = items.u.l;
    enum ember_status st = keys_of(rt, l, attr, flag(c, 0, "case_sensitive"), &keys);
    size_t best = 0;
    for (size_t k = 1; !st && k < l->n; k++) {
        int cmp;
        if (!(st = val_cmp(rt, keys[k], keys[best], &cmp)) && cmp * sign > 0) best = k;
    }
    *out = l->n ? l->items[best] : v_undef(NULL);
    val_ref(*out);
    keys_free(keys, l->n);
    val_unref(items);
    return st;
}
static enum ember_status f_min(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    return min_max(rt, in, c, out, -1);
}
static enum ember_status f_max(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    return min_max(rt, in, c, out, 1);
}

/* ------------------------------------------------- selecting and mapping */

static enum ember_status empty_gen(struct rt *rt, struct val *out) {
    TRY(list_new(rt, 0, out));
    out->u.l->gen = true;
    return EMBER_OK;
}

/* Does item pass test name(args)? No name: truthiness. */
static enum ember_status passes(struct rt *rt, struct val item, const struct call *c, int first_arg, bool *out) {
    const struct val *name = arg(c, first_arg, NULL);
    if (!name) {
        *out = val_truthy(item);
        return EMBER_OK;
    }
    if (name->k != V_STR || !test_known(name->u.s->data)) return rt_fail(rt, "no test named '%s'", name->k == V_STR ? name->u.s->data : "?");
    int rest = c->n - first_arg - 1;
    return apply_test(rt, name->u.s->data, item, c->args + first_arg + 1, rest > 0 ? rest : 0, out);
}

/* select/reject (by_attr: selectattr/rejectattr, the attribute first). */
static enum ember_status select_items(struct rt *rt, struct val in, const struct call *c, bool keep, bool by_attr,
                                      struct val *out) {
    const struct vstr *attr = NULL;
    if (by_attr) TRY(need_str(rt, c, 0, "attribute", &attr));
    struct val items;
    if (!val_truthy(in)) return empty_gen(rt, out); /* jinja2: `if seq:` */
    TRY(val_iter(rt, in, &items));
    enum ember_status st = list_new(rt, 0, out);
    for (size_t k = 0; !st && k < items.u.l->n; k++) {
        struct val x = items.u.l->items[k], probe;
        bool ok = false;
        if (attr) st = attr_path(rt, x, attr, &probe);
        else val_ref(probe = x);
        if (!st) {
            st = passes(rt, probe, c, by_attr ? 1 : 0, &ok);
            val_unref(probe);
        }
        if (!st && ok == keep) {
            val_ref(x);
            st = list_push(rt, out->u.l, x);
        }
    }
    val_unref(items);
    if (!st) out->u.l->gen = true;
    return st;
}
static enum ember_status f_select(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    return select_items(rt, in, c, true, false, out);
}
static enum ember_status f_reject(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    return select_items(rt, in, c, false, false, out);
}
static enum ember_status f_selectattr(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    return select_items(rt, in, c, true, true, out);
}
static enum ember_status f_rejectattr(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    return select_items(rt, in, c, false, true, out);
}

/* map(attribute='x', default=d) or map('filter', args...). */
static enum ember_status f_map(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct val *attr = arg(c, -1, "attribute"), *def = arg(c, -1, "default");
    const struct val *fname = attr ? NULL : arg(c, 0, NULL);
    if (!attr && (!fname || fname->k != V_STR || !filter_known(fname->u.s->data)))
        return rt_fail(rt, "map needs attribute= or the name of a filter");
    if (attr && attr->k != V_STR) return rt_fail(rt, "map: attribute must be a string");
    struct val items;
    if (!val_truthy(in)) return empty_gen(rt, out); /* jinja2: `if value:` */
    TRY(val_iter(rt, in, &items));
    enum ember_status st = list_new(rt, 0, out);
    for (size_t k = 0; !st && k < items.u.l->n; k++) {
        struct val r = v_undef(NULL);
        if (attr) {
            st = attr_path(rt, items.u.l->items[k], attr->u.s, &r);
            if (!st && r.k == V_UNDEF && def) val_ref(r = *def);
        } else {
            st = apply_filter(rt, fname->u.s->data, items.u.l->items[k], c->args + 1, c->n - 1, c->kw_names,
                              c->kw_vals, c->n_kw, &r);
        }
        if (!st) st = list_push(rt, out->u.l, r);
    }
    val_unref(items);
    if (!st) out->u.l->gen = true;
    return st;
}

static enum ember_status f_attr(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *name;
    TRY(need_str(rt, c, 0, "name", &name));
    return get_attr(rt, in, name->data, name->len, out);
}

static enum ember_status f_default(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct val *d = arg(c, 0, "default_value");
    bool use = in.k == V_UNDEF || (flag(c, 1, "boolean") && !val_truthy(in));
    if (!use) val_ref(*out = in);
    else if (d) val_ref(*out = *d);
    else return str_new(rt, "", 0, out);
    return EMBER_OK;
}

/* --------------------------------------------------------- number filters */

static enum ember_status f_int(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    int64_t def, base;
    TRY(int_arg(rt, c, 0, "default", 0, &def));
    TRY(int_arg(rt, c, 1, "base", 10, &base));
    *out = v_int(def);
    if (in.k == V_INT || in.k == V_BOOL) *out = v_int(in.k == V_INT ? in.u.i : in.u.b);
    else if (in.k == V_FLOAT && isfinite(in.u.f) && fabs(in.u.f) < 9.2e18) *out = v_int((int64_t)in.u.f);
    else if (in.k == V_STR) {
        char *end;
        const char *s = in.u.s->data;
        long long v = strtoll(s, &end, (int)base);
        while (*end == ' ' || *end == '\t' || *end == '\n') end++;
        if (end != s && !*end) *out = v_int(v);
        else {
            double f = strtod(s, &end);
            while (*end == ' ' || *end == '\t' || *end == '\n') end++;
            if (end != s && !*end && isfinite(f) && fabs(f) < 9.2e18) *out = v_int((int64_t)f);
        }
    }
    (void)rt;
    return EMBER_OK;
}

static enum ember_status f_float(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct val *d = arg(c, 0, "default");
    *out = d && d->k == V_FLOAT ? *d : d && d->k == V_INT ? v_float((double)d->u.i) : v_float(0.0);
    if (in.k == V_FLOAT) *out = in;
    else if (in.k == V_INT || in.k == V_BOOL) *out = v_float(in.k == V_INT ? (double)in.u.i : in.u.b);
    else if (in.k == V_STR) {
        char *end;
        double f = strtod(in.u.s->data, &end);
        while (*end == ' ' || *end == '\t' || *end == '\n') end++;
        if (end != in.u.s->data && !*end) *out = v_float(f);
    }
    (void)rt;
    return EMBER_OK;
}

static enum ember_status f_abs(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    if (in.k == V_FLOAT) *out = v_float(fabs(in.u.f));
    else if (in.k == V_INT && in.u.i != INT64_MIN) *out = v_int(in.u.i < 0 ? -in.u.i : in.u.i);
    else if (in.k == V_BOOL) *out = v_int(in.u.b);
    else return rt_fail(rt, "bad operand type for abs(): '%s'", val_type_name(in));
    return EMBER_OK;
}

/* round(precision=0, method='common'|'ceil'|'floor'): always a float, as
 * jinja2's; 'common' rounds half to even as Python's round(). */
static enum ember_status f_round(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    int64_t prec;
    const struct vstr *method;
    TRY(int_arg(rt, c, 0, "precision", 0, &prec));
    TRY(str_arg(rt, c, 1, "method", &method));
    if (in.k != V_FLOAT && in.k != V_INT && in.k != V_BOOL) return rt_fail(rt, "round expects a number");
    double x = in.k == V_FLOAT ? in.u.f : in.k == V_INT ? (double)in.u.i : in.u.b, m = pow(10.0, (double)prec);
    if (!method || !strcmp(method->data, "common")) { /* Python's round(): ints stay ints */
        *out = in.k == V_FLOAT ? v_float(nearbyint(x * m) / m) : v_int(in.k == V_INT ? in.u.i : in.u.b);
        return EMBER_OK;
    }
    if (!strcmp(method->data, "ceil")) x = ceil(x * m) / m;
    else if (!strcmp(method->data, "floor")) x = floor(x * m) / m;
    else return rt_fail(rt, "method must be common, ceil or floor");
    *out = v_float(x);
    return EMBER_OK;
}

static enum ember_status f_sum(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    const struct vstr *attr;
    TRY(str_arg(rt, c, 0, "attribute", &attr));
    const struct val *start = arg(c, 1, "start");
    struct val items, acc = start ? *start : v_int(0);
    val_ref(acc);
    TRY(val_iter(rt, in, &items));
    enum ember_status st = EMBER_OK;
    for (size_t k = 0; !st && k < items.u.l->n; k++) {
        struct val x = v_undef(NULL), r;
        if (attr) st = attr_path(rt, items.u.l->items[k], attr, &x);
        else val_ref(x = items.u.l->items[k]);
        bool num = (x.k == V_INT || x.k == V_FLOAT || x.k == V_BOOL) && (acc.k == V_INT || acc.k == V_FLOAT);
        if (!st && !num) st = rt_fail(rt, "sum: unsupported operand type(s) for +: '%s' and '%s'", val_type_name(acc), val_type_name(x));
        if (!st) {
            double f = (acc.k == V_FLOAT ? acc.u.f : (double)acc.u.i) +
                       (x.k == V_FLOAT ? x.u.f : x.k == V_INT ? (double)x.u.i : x.u.b);
            int64_t i;
            if (acc.k == V_INT && x.k != V_FLOAT && !__builtin_add_overflow(acc.u.i, x.k == V_INT ? x.u.i : x.u.b, &i))
                r = v_int(i);
            else r = v_float(f);
            acc = r;
        }
        val_unref(x);
    }
    val_unref(items);
    *out = acc;
    return st;
}

static enum ember_status f_wordcount(struct rt *rt, struct val in, const struct call *c, struct val *out) {
    (void)c;
    struct val s, words;
    TRY(as_str(rt, in, &s));
    enum ember_status st = pystr_split(rt, s.u.s, NULL, -1, &words);
    val_unref(s);
    if (st) return st;
    *out = v_int((int64_t)words.u.l->n);
    val_unref(words);
    return EMBER_OK;
}

/* ------------------------------------------------------------ filter table */

static const struct {
    const char *name;
    filter_fn fn;
} filters[] = {
    {"abs", f_abs},           {"attr", f_attr},         {"capitalize", f_capitalize},
    {"count", f_length},      {"d", f_default},         {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape},          {"escape", f_escape},
    {"first", f_first},       {"float", f_float},       {"format", f_format},
    {"indent", f_indent},     {"int", f_int},           {"items", f_items},
    {"join", f_join},         {"last", f_last},         {"length", f_length},
    {"list", f_list},         {"lower", f_lower},       {"map", f_map},
    {"max", f_max},           {"min", f_min},           {"reject", f_reject},
    {"rejectattr", f_rejectattr}, {"replace", f_replace}, {"reverse", f_reverse},
    {"round", f_round},       {"safe", f_safe},         {"select", f_select},
    {"selectattr", f_selectattr}, {"sort", f_sort},     {"string", f_string},
    {"sum", f_sum},           {"title", f_title},       {"tojson", f_tojson},
    {"trim", f_trim},         {"unique", f_unique},     {"upper", f_upper},
    {"wordcount", f_wordcount},
};

static filter_fn filter_find(const char *name) {
    for (size_t k = 0; k < sizeof filters / sizeof filters[0]; k++)
        if (!strcmp(filters[k].name, name)) return filters[k].fn;
    return NULL;
}

bool filter_known(const char *name) { return filter_find(name) != NULL; }

enum ember_status apply_filter(struct rt *rt, const char *name, struct val in, const struct val *args,
                               int n_args, const char *const *kw_names, const struct val *kw_vals, int n_kw,
                               struct val *out) {
    filter_fn fn = filter_find(name);
    if (!fn) return rt_fail(rt, "no filter named '%s'", name);
    struct call c = {args, n_args, kw_names, kw_vals, n_kw};
    *out = v_undef(NULL);
    enum ember_status st = fn(rt, in, &c, out);
    if (st) val_clear(out);
    return st;
}

/* ------------------------------------------------------------------- tests */

enum test_id {
    T_BOOLEAN, T_CALLABLE, T_DEFINED, T_DIVISIBLEBY, T_EQ, T_ESCAPED, T_EVEN, T_FALSE, T_FILTER,
    T_FLOAT, T_GE, T_GT, T_IN, T_INTEGER, T_ITERABLE, T_LE, T_LOWER, T_LT, T_MAPPING, T_NE,
    T_NONE, T_NUMBER, T_ODD, T_SAMEAS, T_SEQUENCE, T_STRING, T_TEST, T_TRUE, T_UNDEFINED, T_UPPER,
};

static const struct {
    const char *name;
    enum test_id id;
} tests[] = {
    {"boolean", T_BOOLEAN}, {"callable", T_CALLABLE}, {"defined", T_DEFINED},
    {"divisibleby", T_DIVISIBLEBY}, {"eq", T_EQ}, {"equalto", T_EQ}, {"==", T_EQ},
    {"escaped", T_ESCAPED}, {"even", T_EVEN}, {"false", T_FALSE}, {"filter", T_FILTER},
    {"float", T_FLOAT}, {"ge", T_GE}, {">=", T_GE}, {"gt", T_GT}, {">", T_GT},
    {"greaterthan", T_GT}, {"in", T_IN}, {"integer", T_INTEGER}, {"iterable", T_ITERABLE},
    {"le", T_LE}, {"<=", T_LE}, {"lower", T_LOWER}, {"lt", T_LT}, {"<", T_LT},
    {"lessthan", T_LT}, {"mapping", T_MAPPING}, {"ne", T_NE}, {"!=", T_NE}, {"none", T_NONE},
    {"number", T_NUMBER}, {"odd", T_ODD}, {"sameas", T_SAMEAS}, {"sequence", T_SEQUENCE},
    {"string", T_STRING}, {"test", T_TEST}, {"true", T_TRUE}, {"undefined", T_UNDEFINED},
    {"upper", T_UPPER},
};

static int test_find(const char *name) {
    for (size_t k = 0; k < sizeof tests / sizeof tests[0]; k++)
        if (!strcmp(tests[k].name, name)) return (int)tests[k].id;
    return -1;
}

bool test_known(const char *name) { return test_find(name) >= 0; }

static enum ember_status test_compare(struct rt *rt, enum test_id id, struct val in, const struct val *other,
                                      bool *out) {
    if (!other) return rt_fail(rt, "this test needs an argument");
    int c;
    if (id == T_EQ || id == T_NE) {
        *out = val_eq(in, *other) == (id == T_EQ);
        return EMBER_OK;
    }
    TRY(val_cmp(rt, in, *other, &c));
    *out = id == T_GE ? c >= 0 : id == T_GT ? c > 0 : id == T_LE ? c <= 0 : c < 0;
    return EMBER_OK;
}

/* An integer for even/odd/divisibleby (floats count as Python's %). */
static enum ember_status test_mod(struct rt *rt, struct val in, int64_t by, bool *out) {
    if (by == 0) return rt_fail(rt, "integer division or modulo by zero");
    if (in.k == V_INT || in.k == V_BOOL) *out = (in.k == V_INT ? in.u.i : in.u.b) % by == 0;
    else if (in.k == V_FLOAT) *out = fmod(in.u.f, (double)by) == 0;
    else return rt_fail(rt, "unsupported operand type(s) for %%: '%s' and 'int'", val_type_name(in));
    return EMBER_OK;
}

static bool case_is(struct rt *rt, struct val in, enum str_case mode) {
    struct val r;
    if (in.k != V_STR || pystr_case(rt, in.u.s, mode, &r)) return false;
    bool same = val_eq(in, r);
    val_unref(r);
    struct val other;
    if (same && !pystr_case(rt, in.u.s, mode == CASE_LOWER ? CASE_UPPER : CASE_LOWER, &other)) {
        same = !val_eq(in, other); /* at least one cased character */
        val_unref(other);
    }
    return same;
}

enum ember_status apply_test(struct rt *rt, const char *name, struct val in, const struct val *args,
                             int n_args, bool *out) {
    int id = test_find(name);
    const struct val *a0 = n_args ? &args[0] : NULL;
    *out = false;
    switch (id) {
    case T_BOOLEAN: *out = in.k == V_BOOL; break;
    case T_CALLABLE: *out = in.k == V_MACRO || in.k == V_METHOD; break;
    case T_DEFINED: *out = in.k != V_UNDEF; break;
    case T_UNDEFINED: *out = in.k == V_UNDEF; break;
    case T_DIVISIBLEBY:
        if (!a0 || (a0->k != V_INT && a0->k != V_BOOL)) return rt_fail(rt, "divisibleby needs an integer");
        return test_mod(rt, in, a0->k == V_INT ? a0->u.i : a0->u.b, out);
    case T_EVEN: return test_mod(rt, in, 2, out);
    case T_ODD: TRY(test_mod(rt, in, 2, out)); *out = !*out; break;
    case T_EQ: case T_NE: case T_GE: case T_GT: case T_LE: case T_LT:
        return test_compare(rt, (enum test_id)id, in, a0, out);
    case T_ESCAPED: break;
    case T_FALSE: *out = in.k == V_BOOL && !in.u.b; break;
    case T_TRUE: *out = in.k == V_BOOL && in.u.b; break;
    case T_FILTER: *out = in.k == V_STR && filter_known(in.u.s->data); break;
    case T_TEST: *out = in.k == V_STR && test_known(in.u.s->data); break;
    case T_FLOAT: *out = in.k == V_FLOAT; break;
    case T_INTEGER: *out = in.k == V_INT; break;
    case T_NUMBER: *out = in.k == V_INT || in.k == V_FLOAT || in.k == V_BOOL; break;
    case T_IN: {
        if (!a0) return rt_fail(rt, "the in test needs a container");
        struct val hay = *a0;
        if (hay.k == V_STR && in.k == V_STR) *out = in.u.s->len == 0 || memmem(hay.u.s->data, hay.u.s->len, in.u.s->data, in.u.s->len);
        else if (hay.k == V_LIST) for (size_t k = 0; k < hay.u.l->n && !*out; k++) *out = val_eq(hay.u.l->items[k], in);
        else if (hay.k == V_DICT) *out = dict_find(hay.u.d, in) != NULL;
        else if (hay.k != V_UNDEF) return rt_fail(rt, "argument of type '%s' is not iterable", val_type_name(hay));
        break;
    }
    case T_ITERABLE: *out = in.k == V_STR || in.k == V_LIST || in.k == V_DICT || in.k == V_UNDEF; break;
    case T_SEQUENCE: *out = in.k == V_STR || (in.k == V_LIST && !in.u.l->gen) || in.k == V_DICT; break;
    case T_MAPPING: *out = in.k == V_DICT; break;
    case T_NONE: *out = in.k == V_NONE; break;
    case T_STRING: *out = in.k == V_STR; break;
    case T_LOWER: *out = case_is(rt, in, CASE_LOWER); break;
    case T_UPPER: *out = case_is(rt, in, CASE_UPPER); break;
    case T_SAMEAS:
        if (!a0) return rt_fail(rt, "sameas needs an argument");
        *out = v_heap(in) ? a0->k == in.k && a0->u.o == in.u.o : val_eq(in, *a0) && a0->k == in.k;
        break;
    default: return rt_fail(rt, "no test named '%s'", name);
    }
    return EMBER_OK;
}
