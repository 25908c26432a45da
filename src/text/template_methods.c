/*
 * template_methods.c — methods templates call on values (message.content
 * .strip(), tool.items(), loop.cycle(...)) and the global functions
 * (range, namespace, dict, raise_exception, strftime_now). One table maps
 * (receiver kind, name) to a function; a method value is an index into it.
 * The methods that would change a list or dict (append, pop, update, ...)
 * are found but refuse to run, as in jinja2's ImmutableSandboxedEnvironment,
 * which transformers renders with. Sections:
 *   - str methods
 *   - dict, list and loop methods
 *   - global functions
 *   - the table and dispatch
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "template_impl.h"
#include "unicode.h"

#define RANGE_MAX 100000 /* jinja2's sandbox refuses longer ranges */

typedef enum ember_status (*method_fn)(struct rt *rt, struct val self, const struct call *c,
                                       struct val *out);

const struct val *arg_get(const struct val *args, int n_args, const char *const *kw_names,
                          const struct val *kw_vals, int n_kw, int pos, const char *name) {
    for (int k = 0; name && k < n_kw; k++)
        if (!strcmp(kw_names[k], name)) return &kw_vals[k];
    return pos >= 0 && pos < n_args ? &args[pos] : NULL;
}

const struct val *arg(const struct call *c, int pos, const char *name) {
    return arg_get(c->args, c->n, c->kw_names, c->kw_vals, c->n_kw, pos, name);
}

enum ember_status str_arg(struct rt *rt, const struct call *c, int pos, const char *name,
                          const struct vstr **out) {
    const struct val *v = arg(c, pos, name);
    *out = NULL;
    if (!v || v->k == V_NONE) return EMBER_OK;
    if (v->k != V_STR) return rt_fail(rt, "expected a string argument, got %s", val_type_name(*v));
    *out = v->u.s;
    return EMBER_OK;
}

enum ember_status need_str(struct rt *rt, const struct call *c, int pos, const char *name,
                           const struct vstr **out) {
    TRY(str_arg(rt, c, pos, name, out));
    if (!*out) return rt_fail(rt, "missing string argument '%s'", name);
    return EMBER_OK;
}

enum ember_status int_arg(struct rt *rt, const struct call *c, int pos, const char *name,
                          int64_t def, int64_t *out) {
    const struct val *v = arg(c, pos, name);
    *out = def;
    if (!v || v->k == V_NONE) return EMBER_OK;
    if (v->k != V_INT && v->k != V_BOOL) return rt_fail(rt, "expected an integer argument '%s'", name);
    *out = v->k == V_INT ? v->u.i : v->u.b;
    return EMBER_OK;
}

/* ------------------------------------------------------------ str methods */

static enum ember_status m_strip(struct rt *rt, struct val self, const struct call *c, struct val *out, bool l,
                                 bool r) {
    const struct vstr *chars;
    TRY(str_arg(rt, c, 0, "chars", &chars));
    return pystr_strip(rt, self.u.s, chars, l, r, out);
}
static enum ember_status m_str_strip(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return m_strip(rt, s, c, o, true, true);
}
static enum ember_status m_str_lstrip(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return m_strip(rt, s, c, o, true, false);
}
static enum ember_status m_str_rstrip(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return m_strip(rt, s, c, o, false, true);
}

static enum ember_status m_str_split(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct vstr *sep;
    int64_t max;
    TRY(str_arg(rt, c, 0, "sep", &sep));
    TRY(int_arg(rt, c, 1, "maxsplit", -1, &max));
    return pystr_split(rt, s.u.s, sep, max, o);
}

static enum ember_status m_str_splitlines(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct val *k = arg(c, 0, "keepends");
    return pystr_splitlines(rt, s.u.s, k && val_truthy(*k), o);
}

/* startswith/endswith: a string or a tuple of them. */
static enum ember_status affix(struct rt *rt, struct val s, const struct call *c, struct val *o, bool end) {
    const struct val *p = arg(c, 0, NULL);
    if (!p) return rt_fail(rt, "%s takes a prefix", end ? "endswith" : "startswith");
    size_t n = p->k == V_LIST ? p->u.l->n : 1;
    bool hit = false;
    for (size_t k = 0; k < n && !hit; k++) {
        const struct val *x = p->k == V_LIST ? &p->u.l->items[k] : p;
        if (x->k != V_STR) return rt_fail(rt, "%s first arg must be str or a tuple of str", end ? "endswith" : "startswith");
        size_t m = x->u.s->len;
        hit = m <= s.u.s->len && !memcmp(s.u.s->data + (end ? s.u.s->len - m : 0), x->u.s->data, m);
    }
    *o = v_bool(hit);
    return EMBER_OK;
}
static enum ember_status m_str_startswith(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return affix(rt, s, c, o, false);
}
static enum ember_status m_str_endswith(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return affix(rt, s, c, o, true);
}

static enum ember_status m_str_replace(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct vstr *old, *new;
    int64_t count;
    TRY(need_str(rt, c, 0, "old", &old));
    TRY(need_str(rt, c, 1, "new", &new));
    TRY(int_arg(rt, c, 2, "count", -1, &count));
    return pystr_replace(rt, s.u.s, old, new, count, o);
}

static enum ember_status m_str_upper(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return pystr_case(rt, s.u.s, CASE_UPPER, o);
}
static enum ember_status m_str_lower(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return pystr_case(rt, s.u.s, CASE_LOWER, o);
}
static enum ember_status m_str_title(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return pystr_case(rt, s.u.s, CASE_TITLE, o);
}
static enum ember_status m_str_capitalize(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return pystr_case(rt, s.u.s, CASE_CAPITALIZE, o);
}

static enum ember_status m_str_format(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return pystr_format(rt, s.u.s, c->args, c->n, c->kw_names, c->kw_vals, c->n_kw, o);
}

static enum ember_status m_str_join(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct val *it = arg(c, 0, NULL);
    if (!it) return rt_fail(rt, "join takes an iterable");
    struct val items;
    TRY(val_iter(rt, *it, &items));
    struct sbuf b = {0};
    enum ember_status st = EMBER_OK;
    for (size_t k = 0; !st && k < items.u.l->n; k++) {
        struct val x = items.u.l->items[k];
        if (x.k != V_STR) st = rt_fail(rt, "sequence item %zu: expected str instance, %s found", k, val_type_name(x));
        if (!st && k) st = sbuf_put(rt, &b, s.u.s->data, s.u.s->len);
        if (!st) st = sbuf_put(rt, &b, x.u.s->data, x.u.s->len);
    }
    val_unref(items);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, o);
}

/* find/rfind/index/count of a substring, in code points. */
static enum ember_status substr(struct rt *rt, struct val s, const struct call *c, struct val *o, char what) {
    const struct vstr *sub;
    TRY(need_str(rt, c, 0, "sub", &sub));
    const struct vstr *h = s.u.s;
    int64_t found = -1, count = 0;
    for (size_t i = 0; i + sub->len <= h->len;) {
        if (memcmp(h->data + i, sub->data, sub->len)) {
            i++;
            continue;
        }
        if (found < 0 || what == 'r') found = (int64_t)utf8_count(h->data, i);
        count++;
        if (what == 'f' || what == 'i') break;
        i += sub->len ? sub->len : 1;
    }
    if (what == 'c') *o = v_int(count);
    else if (what == 'i' && found < 0) return rt_fail(rt, "substring not found");
    else *o = v_int(found);
    return rt_steps(rt, (long)(h->len / 16));
}
static enum ember_status m_str_find(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return substr(rt, s, c, o, 'f');
}
static enum ember_status m_str_rfind(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return substr(rt, s, c, o, 'r');
}
static enum ember_status m_str_index(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return substr(rt, s, c, o, 'i');
}
static enum ember_status m_str_count(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return substr(rt, s, c, o, 'c');
}

/* isdigit/isalpha/isspace/isalnum: every code point in the class, and at
 * least one. */
static enum ember_status str_is(struct val s, struct val *o, unsigned flags, bool space) {
    const struct vstr *h = s.u.s;
    bool all = h->len > 0;
    for (size_t i = 0, adv; all && i < h->len; i += adv) {
        if (space) all = py_space_at(h->data + i, h->len - i, &adv);
        else all = (unicode_flags(unicode_utf8_decode(h->data + i, h->len - i, &adv)) & flags) != 0;
    }
    *o = v_bool(all);
    return EMBER_OK;
}
static enum ember_status m_str_isdigit(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)rt, (void)c;
    return str_is(s, o, UCP_NUMBER, false);
}
static enum ember_status m_str_isalpha(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)rt, (void)c;
    return str_is(s, o, UCP_LETTER, false);
}
static enum ember_status m_str_isalnum(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)rt, (void)c;
    return str_is(s, o, UCP_LETTER | UCP_NUMBER, false);
}
static enum ember_status m_str_isspace(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)rt, (void)c;
    return str_is(s, o, 0, true);
}

static enum ember_status m_affix_remove(struct rt *rt, struct val s, const struct call *c, struct val *o,
                                        bool end) {
    const struct vstr *x;
    TRY(need_str(rt, c, 0, end ? "suffix" : "prefix", &x));
    const struct vstr *h = s.u.s;
    bool hit = x->len <= h->len && !memcmp(h->data + (end ? h->len - x->len : 0), x->data, x->len);
    size_t cut = hit ? x->len : 0;
    return str_new(rt, h->data + (end ? 0 : cut), h->len - cut, o);
}
static enum ember_status m_str_removeprefix(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return m_affix_remove(rt, s, c, o, false);
}
static enum ember_status m_str_removesuffix(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    return m_affix_remove(rt, s, c, o, true);
}

/* ------------------------------------------------ dict, list, loop methods */

/* items(): (key, value) tuples; keys(), values(): lists. */
static enum ember_status dict_view(struct rt *rt, const struct vdict *d, char what, struct val *o) {
    TRY(list_new(rt, d->n, o));
    for (size_t k = 0; k < d->n; k++) {
        struct val e;
        if (what == 'i') {
            TRY(list_new(rt, 2, &e));
            e.u.l->tuple = true;
            val_ref(d->keys[k]);
            val_ref(d->vals[k]);
            if (list_push(rt, e.u.l, d->keys[k]) || list_push(rt, e.u.l, d->vals[k])) {
                val_unref(e);
                return EMBER_ENOMEM;
            }
        } else {
            e = what == 'k' ? d->keys[k] : d->vals[k];
            val_ref(e);
        }
        TRY(list_push(rt, o->u.l, e));
    }
    return EMBER_OK;
}
static enum ember_status m_dict_items(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return dict_view(rt, s.u.d, 'i', o);
}
static enum ember_status m_dict_keys(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return dict_view(rt, s.u.d, 'k', o);
}
static enum ember_status m_dict_values(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    return dict_view(rt, s.u.d, 'v', o);
}

static enum ember_status m_dict_get(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct val *k = arg(c, 0, "key"), *def = arg(c, 1, "default");
    if (!k) return rt_fail(rt, "get expected at least 1 argument");
    const struct val *v = dict_find(s.u.d, *k);
    *o = v ? *v : def ? *def : v_none();
    val_ref(*o);
    return EMBER_OK;
}

static enum ember_status m_dict_copy(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)c;
    TRY(dict_new(rt, o));
    for (size_t k = 0; k < s.u.d->n; k++) {
        val_ref(s.u.d->keys[k]);
        val_ref(s.u.d->vals[k]);
        TRY(dict_set(rt, o->u.d, s.u.d->keys[k], s.u.d->vals[k]));
    }
    return EMBER_OK;
}

static enum ember_status m_list_index(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct val *x = arg(c, 0, NULL);
    for (size_t k = 0; x && k < s.u.l->n; k++)
        if (val_eq(s.u.l->items[k], *x)) {
            *o = v_int((int64_t)k);
            return EMBER_OK;
        }
    return rt_fail(rt, "value is not in list");
}

static enum ember_status m_list_count(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    const struct val *x = arg(c, 0, NULL);
    int64_t n = 0;
    for (size_t k = 0; x && k < s.u.l->n; k++) n += val_eq(s.u.l->items[k], *x);
    *o = v_int(n);
    (void)rt;
    return EMBER_OK;
}

static enum ember_status m_loop_cycle(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    if (!c->n) return rt_fail(rt, "no items for cycling given");
    *o = c->args[s.u.loop->index0 % (size_t)c->n];
    val_ref(*o);
    return EMBER_OK;
}

/* ------------------------------------------------------- global functions */

static enum ember_status g_range(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)s;
    int64_t a = 0, b, step = 1;
    if (c->n == 1) TRY(int_arg(rt, c, 0, NULL, 0, &b));
    else if (c->n == 2 || c->n == 3) {
        TRY(int_arg(rt, c, 0, NULL, 0, &a));
        TRY(int_arg(rt, c, 1, NULL, 0, &b));
        TRY(int_arg(rt, c, 2, NULL, 1, &step));
    } else return rt_fail(rt, "range expected 1 to 3 arguments, got %d", c->n);
    if (step == 0) return rt_fail(rt, "range() arg 3 must not be zero");
    double n = step > 0 ? ((double)b - (double)a) / (double)step : ((double)a - (double)b) / (double)-step;
    if (n > RANGE_MAX) return rt_fail(rt, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", RANGE_MAX);
    TRY(list_new(rt, 0, o));
    for (int64_t x = a; step > 0 ? x < b : x > b; x += step) TRY(list_push(rt, o->u.l, v_int(x)));
    return EMBER_OK;
}

/* namespace(...) and dict(...): keyword arguments, or one dict first. */
static enum ember_status fill_dict(struct rt *rt, struct vdict *d, const struct call *c) {
    if (c->n > 1) return rt_fail(rt, "expected at most 1 positional argument, got %d", c->n);
    if (c->n == 1) {
        if (c->args[0].k != V_DICT) return rt_fail(rt, "expected a dict, got %s", val_type_name(c->args[0]));
        const struct vdict *src = c->args[0].u.d;
        for (size_t k = 0; k < src->n; k++) {
            val_ref(src->keys[k]);
            val_ref(src->vals[k]);
            TRY(dict_set(rt, d, src->keys[k], src->vals[k]));
        }
    }
    for (int k = 0; k < c->n_kw; k++) {
        struct val key;
        TRY(str_new(rt, c->kw_names[k], strlen(c->kw_names[k]), &key));
        val_ref(c->kw_vals[k]);
        TRY(dict_set(rt, d, key, c->kw_vals[k]));
    }
    return EMBER_OK;
}

static enum ember_status g_namespace(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)s;
    TRY(ns_new(rt, o));
    return fill_dict(rt, o->u.ns->attrs, c);
}

static enum ember_status g_dict(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)s;
    TRY(dict_new(rt, o));
    return fill_dict(rt, o->u.d, c);
}

static enum ember_status g_raise(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)s, (void)o;
    struct sbuf b = {0};
    const struct val *m = arg(c, 0, "message");
    enum ember_status st = m ? val_str(rt, *m, &b) : EMBER_OK;
    if (!st) st = rt_fail(rt, "%s", b.p ? b.p : "raise_exception() called");
    free(b.p);
    return st;
}

static enum ember_status g_strftime(struct rt *rt, struct val s, const struct call *c, struct val *o) {
    (void)s;
    const struct vstr *fmt;
    TRY(need_str(rt, c, 0, "format", &fmt));
    char buf[512];
    size_t n = fmt->len ? strftime(buf, sizeof buf, fmt->data, rt->now) : 0;
    if (!n && fmt->len) return rt_fail(rt, "strftime_now: format too long or empty result");
    return str_new(rt, buf, n, o);
}

/* ------------------------------------------------------ table and dispatch */

#define GLOBAL 0xff

static const struct method {
    uint8_t kind; /* receiver kind, or GLOBAL */
    const char *name;
    method_fn fn; /* NULL: exists but refused by the sandbox */
} methods[] = {
    {V_STR, "strip", m_str_strip},         {V_STR, "lstrip", m_str_lstrip},
    {V_STR, "rstrip", m_str_rstrip},       {V_STR, "split", m_str_split},
    {V_STR, "splitlines", m_str_splitlines}, {V_STR, "startswith", m_str_startswith},
    {V_STR, "endswith", m_str_endswith},   {V_STR, "replace", m_str_replace},
    {V_STR, "upper", m_str_upper},         {V_STR, "lower", m_str_lower},
    {V_STR, "title", m_str_title},         {V_STR, "capitalize", m_str_capitalize},
    {V_STR, "format", m_str_format},       {V_STR, "join", m_str_join},
    {V_STR, "find", m_str_find},           {V_STR, "rfind", m_str_rfind},
    {V_STR, "index", m_str_index},         {V_STR, "count", m_str_count},
    {V_STR, "isdigit", m_str_isdigit},     {V_STR, "isalpha", m_str_isalpha},
    {V_STR, "isalnum", m_str_isalnum},     {V_STR, "isspace", m_str_isspace},
    {V_STR, "removeprefix", m_str_removeprefix}, {V_STR, "removesuffix", m_str_removesuffix},
    {V_DICT, "items", m_dict_items},       {V_DICT, "keys", m_dict_keys},
    {V_DICT, "values", m_dict_values},     {V_DICT, "get", m_dict_get},
    {V_DICT, "copy", m_dict_copy},         {V_DICT, "pop", NULL},
    {V_DICT, "popitem", NULL},             {V_DICT, "update", NULL},
    {V_DICT, "setdefault", NULL},          {V_DICT, "clear", NULL},
    {V_LIST, "index", m_list_index},       {V_LIST, "count", m_list_count},
    {V_LIST, "append", NULL},              {V_LIST, "extend", NULL},
    {V_LIST, "insert", NULL},              {V_LIST, "pop", NULL},
    {V_LIST, "remove", NULL},              {V_LIST, "reverse", NULL},
    {V_LIST, "sort", NULL},                {V_LIST, "clear", NULL},
    {V_LOOP, "cycle", m_loop_cycle},
    {GLOBAL, "range", g_range},            {GLOBAL, "namespace", g_namespace},
    {GLOBAL, "dict", g_dict},              {GLOBAL, "raise_exception", g_raise},
    {GLOBAL, "strftime_now", g_strftime},
};
#define N_METHODS (int)(sizeof methods / sizeof methods[0])

static int find(uint8_t kind, const char *name, size_t len) {
    for (int k = 0; k < N_METHODS; k++)
        if (methods[k].kind == kind && strlen(methods[k].name) == len && !memcmp(methods[k].name, name, len))
            return k;
    return -1;
}

bool method_lookup(struct val obj, const char *name, size_t len, int *id) {
    if (obj.k != V_STR && obj.k != V_DICT && obj.k != V_LIST && obj.k != V_LOOP) return false;
    *id = find(obj.k, name, len);
    return *id >= 0;
}

bool global_lookup(const char *name, int *id) {
    *id = find(GLOBAL, name, strlen(name));
    return *id >= 0;
}

int method_id_strftime(void) { return find(GLOBAL, "strftime_now", 12); }

enum ember_status method_call(struct rt *rt, int id, struct val self, const struct val *args, int n_args,
                              const char *const *kw_names, const struct val *kw_vals, int n_kw,
                              struct val *out) {
    const struct method *m = &methods[id];
    if (!m->fn)
        return rt_fail(rt, "access to attribute '%s' of '%s' object is unsafe.", m->name, val_type_name(self));
    struct call c = {args, n_args, kw_names, kw_vals, n_kw};
    *out = v_undef(NULL);
    enum ember_status st = m->fn(rt, self, &c, out);
    if (st) val_clear(out);
    return st;
}
