/*
 * template_eval.c — the renderer: runs the statement tree, evaluates
 * expressions, with jinja2's scoping: every iteration of a for loop, every
 * macro call and every with block gets a fresh scope whose sets vanish at
 * its end (hence namespace()); if and set blocks use the enclosing one.
 * Lookups go through the scopes, then the render variables, then the
 * global functions; a name found nowhere is undefined (prints as nothing,
 * is false, iterates as empty; arithmetic on it is an error).
 *
 * Every expression node and statement costs a step (rt_steps) and counts
 * toward the nesting depth, so loops and recursion stop at the limits of
 * template.h with an error. Sections:
 *   - scopes
 *   - attribute and item access, slices, iteration
 *   - operators
 *   - calls and macros
 *   - expressions
 *   - statements
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "template_impl.h"

/* ----------------------------------------------------------------- scopes */

struct frame {
    struct frame *parent; /* where lookups continue */
    struct frame *below;  /* the frame made before this one (all are LIFO) */
    struct vdict *vars;
    uint64_t serial;
};

static void frame_push(struct rt *rt, struct frame *f, struct frame *parent) {
    f->parent = parent;
    f->below = rt->frame;
    f->vars = NULL;
    f->serial = ++rt->serial;
    rt->frame = f;
}

static void frame_pop(struct rt *rt, struct frame *f) {
    if (f->vars) val_unref((struct val){.k = V_DICT, .u.d = f->vars});
    rt->frame = f->below;
}

/* Set name in frame f (taking v's reference). */
static enum ember_status frame_set(struct rt *rt, struct frame *f, const char *name, struct val v) {
    if (!f->vars) {
        struct val d;
        enum ember_status st = dict_new(rt, &d);
        if (st) {
            val_unref(v);
            return st;
        }
        f->vars = d.u.d;
    }
    struct val k;
    enum ember_status st = str_new(rt, name, strlen(name), &k);
    if (st) {
        val_unref(v);
        return st;
    }
    return dict_set(rt, f->vars, k, v);
}

static bool frame_alive(const struct rt *rt, const struct frame *f, uint64_t serial) {
    for (const struct frame *g = rt->frame; g; g = g->below)
        if (g == f) return g->serial == serial;
    return false;
}

static enum ember_status lookup(struct rt *rt, const char *name, size_t len, struct val *out) {
    for (const struct frame *f = rt->frame; f; f = f->parent) {
        const struct val *v = f->vars ? dict_find_str(f->vars, name, len) : NULL;
        if (v) {
            val_ref(*v);
            *out = *v;
            return EMBER_OK;
        }
    }
    const struct val *g = dict_find_str(rt->globals, name, len);
    if (g) {
        val_ref(*g);
        *out = *g;
        return EMBER_OK;
    }
    int id;
    if (global_lookup(name, &id) && (id != method_id_strftime() || rt->now)) {
        TRY(obj_new(rt, V_METHOD, sizeof(struct vmethod), out));
        out->u.meth->id = id;
        out->u.meth->self = v_undef(NULL);
        return EMBER_OK;
    }
    *out = v_undef(name);
    return EMBER_OK;
}

/* ------------------------------ attribute and item access, slices, loops */

static enum ember_status bound_method(struct rt *rt, struct val obj, int id, struct val *out) {
    TRY(obj_new(rt, V_METHOD, sizeof(struct vmethod), out));
    val_ref(obj);
    out->u.meth->id = id;
    out->u.meth->self = obj;
    return EMBER_OK;
}

static enum ember_status loop_attr(struct rt *rt, struct val lv, const char *name, struct val *out) {
    const struct vloop *l = lv.u.loop;
    size_t i = l->index0, n = l->length;
    const char *const names[] = {"index", "index0", "revindex", "revindex0", "first", "last",
                                 "length", "depth", "depth0", "previtem", "nextitem"};
    size_t k = 0;
    while (k < sizeof names / sizeof names[0] && strcmp(names[k], name)) k++;
    switch (k) {
    case 0: *out = v_int((int64_t)i + 1); break;
    case 1: *out = v_int((int64_t)i); break;
    case 2: *out = v_int((int64_t)(n - i)); break;
    case 3: *out = v_int((int64_t)(n - i - 1)); break;
    case 4: *out = v_bool(i == 0); break;
    case 5: *out = v_bool(i + 1 == n); break;
    case 6: *out = v_int((int64_t)n); break;
    case 7: *out = v_int(l->depth0 + 1); break;
    case 8: *out = v_int(l->depth0); break;
    case 9:
    case 10: {
        bool prev = k == 9;
        if ((prev && i == 0) || (!prev && i + 1 >= n)) {
            *out = v_undef(name);
            break;
        }
        *out = l->items->items[prev ? i - 1 : i + 1];
        val_ref(*out);
        break;
    }
    default: {
        int id;
        if (method_lookup(lv, name, strlen(name), &id)) return bound_method(rt, lv, id, out);
        *out = v_undef(name);
    }
    }
    return EMBER_OK;
}

enum ember_status get_attr(struct rt *rt, struct val obj, const char *name, size_t len,
                           struct val *out) {
    int id;
    if (obj.k == V_LOOP) return loop_attr(rt, obj, name, out);
    if (method_lookup(obj, name, len, &id)) return bound_method(rt, obj, id, out);
    const struct val *v = NULL;
    if (obj.k == V_DICT) v = dict_find_str(obj.u.d, name, len);
    else if (obj.k == V_NS && obj.u.ns->attrs) v = dict_find_str(obj.u.ns->attrs, name, len);
    if (v) {
        val_ref(*v);
        *out = *v;
    } else {
        *out = v_undef(name);
    }
    return EMBER_OK;
}

/* A Python index (negative from the end) into n elements; false when out of range. */
static bool norm_index(int64_t i, size_t n, size_t *out) {
    if (i < 0) i += (int64_t)n;
    if (i < 0 || (uint64_t)i >= n) return false;
    *out = (size_t)i;
    return true;
}

enum ember_status get_item(struct rt *rt, struct val obj, struct val key, struct val *out) {
    bool int_key = key.k == V_INT || key.k == V_BOOL;
    int64_t ki = key.k == V_INT ? key.u.i : key.k == V_BOOL ? key.u.b : 0;
    size_t i;
    if (obj.k == V_DICT) {
        const struct val *v = dict_find(obj.u.d, key);
        if (v) {
            val_ref(*v);
            *out = *v;
            return EMBER_OK;
        }
    } else if (obj.k == V_LIST && int_key && !obj.u.l->gen) {
        if (norm_index(ki, obj.u.l->n, &i)) {
            *out = obj.u.l->items[i];
            val_ref(*out);
            return EMBER_OK;
        }
    } else if (obj.k == V_STR && int_key) {
        const struct vstr *s = obj.u.s;
        if (norm_index(ki, utf8_count(s->data, s->len), &i)) {
            size_t a = utf8_offset(s->data, s->len, i);
            size_t b = utf8_offset(s->data, s->len, i + 1);
            return str_new(rt, s->data + a, b - a, out);
        }
    }
    if (key.k == V_STR && obj.k != V_DICT) return get_attr(rt, obj, key.u.s->data, key.u.s->len, out);
    if (key.k == V_STR) { /* d['items'] without such a key: the method */
        int id;
        if (method_lookup(obj, key.u.s->data, key.u.s->len, &id)) return bound_method(rt, obj, id, out);
    }
    *out = v_undef(NULL);
    return EMBER_OK;
}

/* Python's slice bounds for n elements: first index, step, count. */
static enum ember_status slice_bounds(struct rt *rt, const struct val *parts, size_t n,
                                      int64_t *start, int64_t *step, size_t *count) {
    int64_t v[3] = {0, 0, 1};
    bool given[3];
    for (int k = 0; k < 3; k++) {
        struct val p = parts[k];
        given[k] = p.k != V_NONE && p.k != V_UNDEF;
        if (!given[k]) continue;
        if (p.k != V_INT && p.k != V_BOOL) return rt_fail(rt, "slice indices must be integers or None");
        v[k] = p.k == V_INT ? p.u.i : p.u.b;
    }
    int64_t len = (int64_t)n, st = v[2];
    if (st == 0) return rt_fail(rt, "slice step cannot be zero");
    int64_t lo = st < 0 ? -1 : 0, hi = st < 0 ? len - 1 : len;
    int64_t b[2];
    for (int k = 0; k < 2; k++) {
        int64_t x = v[k];
        if (!given[k]) x = (k == 0) == (st > 0) ? lo : hi;
        else if (x < 0) x = x + len < 0 ? lo : x + len;
        else if (x >= len) x = hi;
        b[k] = x;
    }
    int64_t cnt = st > 0 ? (b[0] < b[1] ? (b[1] - b[0] - 1) / st + 1 : 0)
                         : (b[1] < b[0] ? (b[0] - b[1] - 1) / -st + 1 : 0);
    if (!given[0]) b[0] = st > 0 ? 0 : len - 1;
    *start = b[0];
    *step = st;
    *count = (size_t)cnt;
    return EMBER_OK;
}

static enum ember_status slice_str(struct rt *rt, const struct vstr *s, int64_t start, int64_t step,
                                   size_t count, struct val *out) {
    struct sbuf b = {0};
    enum ember_status st = EMBER_OK;
    size_t n = utf8_count(s->data, s->len);
    if (n == s->len) { /* ASCII: bytes are code points */
        for (size_t k = 0; !st && k < count; k++) st = sbuf_put(rt, &b, s->data + start + (int64_t)k * step, 1);
    } else {
        size_t *off = calloc(n + 1, sizeof *off);
        if (!off) return ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
        for (size_t i = 0, o = 0; i <= n; i++) {
            off[i] = o;
            if (o < s->len) o = utf8_offset(s->data + o, s->len - o, 1) + o;
        }
        for (size_t k = 0; !st && k < count; k++) {
            size_t i = (size_t)(start + (int64_t)k * step);
            st = sbuf_put(rt, &b, s->data + off[i], off[i + 1] - off[i]);
        }
        free(off);
    }
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

static enum ember_status do_slice(struct rt *rt, struct val obj, const struct val *parts,
                                  struct val *out) {
    if (obj.k == V_UNDEF || (obj.k == V_LIST && obj.u.l->gen)) { /* jinja2: undefined */
        *out = v_undef(NULL);
        return EMBER_OK;
    }
    size_t n = obj.k == V_STR ? utf8_count(obj.u.s->data, obj.u.s->len) : obj.k == V_LIST ? obj.u.l->n : 0;
    if (obj.k != V_STR && obj.k != V_LIST) return rt_fail(rt, "'%s' object is not subscriptable", val_type_name(obj));
    int64_t start = 0, step = 1;
    size_t count = 0;
    TRY(slice_bounds(rt, parts, n, &start, &step, &count));
    if (obj.k == V_STR) return slice_str(rt, obj.u.s, start, step, count, out);
    TRY(list_new(rt, count, out));
    out->u.l->tuple = obj.u.l->tuple;
    for (size_t k = 0; k < count; k++) {
        struct val e = obj.u.l->items[start + (int64_t)k * step];
        val_ref(e);
        TRY(list_push(rt, out->u.l, e));
    }
    return EMBER_OK;
}

/* Iterating a generator takes its items: it is empty afterwards. */
static enum ember_status drain(struct rt *rt, struct vlist *g, struct val *out) {
    TRY(list_new(rt, 0, out));
    struct vlist *l = out->u.l;
    l->items = g->items;
    l->n = g->n;
    l->cap = g->cap;
    l->nest = g->nest;
    g->items = NULL;
    g->n = g->cap = 0;
    return EMBER_OK;
}

static enum ember_status iter_items(struct rt *rt, struct val v, struct val *out) {
    if (v.k == V_LIST && v.u.l->gen) return drain(rt, v.u.l, out);
    if (v.k == V_LIST) {
        val_ref(v);
        *out = v;
        return EMBER_OK;
    }
    if (v.k == V_UNDEF) return list_new(rt, 0, out);
    if (v.k == V_DICT) {
        TRY(list_new(rt, v.u.d->n, out));
        for (size_t i = 0; i < v.u.d->n; i++) {
            val_ref(v.u.d->keys[i]);
            TRY(list_push(rt, out->u.l, v.u.d->keys[i]));
        }
        return EMBER_OK;
    }
    if (v.k == V_STR) {
        const struct vstr *s = v.u.s;
        TRY(list_new(rt, 0, out));
        for (size_t o = 0; o < s->len;) {
            size_t k = utf8_offset(s->data + o, s->len - o, 1);
            struct val c;
            TRY(str_new(rt, s->data + o, k, &c));
            TRY(list_push(rt, out->u.l, c));
            o += k;
        }
        return EMBER_OK;
    }
    return rt_fail(rt, "'%s' object is not iterable", val_type_name(v));
}

enum ember_status val_iter(struct rt *rt, struct val v, struct val *out) {
    *out = v_undef(NULL);
    enum ember_status st = iter_items(rt, v, out);
    if (st) val_clear(out);
    return st;
}

/* -------------------------------------------------------------- operators */

static enum ember_status undefined_error(struct rt *rt, struct val v) {
    if (v.u.name) return rt_fail(rt, "'%s' is undefined", v.u.name);
    return rt_fail(rt, "an undefined value used in an operation");
}

static enum ember_status type_error(struct rt *rt, int op, struct val a, struct val b) {
    static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**"};
    if (a.k == V_UNDEF) return undefined_error(rt, a);
    if (b.k == V_UNDEF) return undefined_error(rt, b);
    return rt_fail(rt, "unsupported operand type(s) for %s: '%s' and '%s'",
                   op <= OP_POW ? names[op] : "?", val_type_name(a), val_type_name(b));
}

static bool is_int(struct val v) { return v.k == V_INT || v.k == V_BOOL; }
static bool is_num(struct val v) { return is_int(v) || v.k == V_FLOAT; }
static int64_t as_int(struct val v) { return v.k == V_INT ? v.u.i : v.u.b; }
static double as_f(struct val v) { return v.k == V_FLOAT ? v.u.f : (double)as_int(v); }

static enum ember_status overflow(struct rt *rt) {
    return rt_fail(rt, "integer overflow (ember's integers are 64-bit)");
}

/* str * n, list * n */
static enum ember_status repeat(struct rt *rt, struct val s, int64_t n, struct val *out) {
    if (n < 0) n = 0;
    if (s.k == V_STR) {
        size_t len = s.u.s->len;
        if (len && (uint64_t)n > TEMPLATE_MAX_OUT / len) return rt_fail(rt, "string longer than %zu bytes", TEMPLATE_MAX_OUT);
        TRY(str_new(rt, NULL, len * (size_t)n, out));
        for (int64_t k = 0; k < n; k++) memcpy(out->u.s->data + (size_t)k * len, s.u.s->data, len);
        return EMBER_OK;
    }
    size_t len = s.u.l->n;
    if (len && (uint64_t)n > (uint64_t)(TEMPLATE_MAX_STEPS / (long)len)) return rt_steps(rt, TEMPLATE_MAX_STEPS);
    TRY(list_new(rt, len * (size_t)n, out));
    out->u.l->tuple = s.u.l->tuple;
    for (int64_t k = 0; k < n; k++)
        for (size_t i = 0; i < len; i++) {
            val_ref(s.u.l->items[i]);
            TRY(list_push(rt, out->u.l, s.u.l->items[i]));
        }
    return EMBER_OK;
}

/* Markup + str (either order) escapes the str and stays Markup. */
static enum ember_status concat_markup(struct rt *rt, struct val a, struct val b, struct val *out) {
    struct sbuf s = {0};
    enum ember_status st = a.u.s->markup ? sbuf_put(rt, &s, a.u.s->data, a.u.s->len) : html_escape(rt, a.u.s, &s);
    if (!st) st = b.u.s->markup ? sbuf_put(rt, &s, b.u.s->data, b.u.s->len) : html_escape(rt, b.u.s, &s);
    if (!st) st = sbuf_to_val(rt, &s, out);
    else free(s.p);
    if (!st) out->u.s->markup = true;
    return st;
}

static enum ember_status concat(struct rt *rt, struct val a, struct val b, struct val *out) {
    if (a.k == V_STR && a.u.s->markup != b.u.s->markup) return concat_markup(rt, a, b, out);
    if (a.k == V_STR) {
        TRY(str_new(rt, NULL, a.u.s->len + b.u.s->len, out));
        memcpy(out->u.s->data, a.u.s->data, a.u.s->len);
        memcpy(out->u.s->data + a.u.s->len, b.u.s->data, b.u.s->len);
        out->u.s->markup = a.u.s->markup;
        return EMBER_OK;
    }
    TRY(list_new(rt, a.u.l->n + b.u.l->n, out));
    out->u.l->tuple = a.u.l->tuple;
    for (int k = 0; k < 2; k++) {
        const struct vlist *l = k ? b.u.l : a.u.l;
        for (size_t i = 0; i < l->n; i++) {
            val_ref(l->items[i]);
            TRY(list_push(rt, out->u.l, l->items[i]));
        }
    }
    return EMBER_OK;
}

static enum ember_status int_arith(struct rt *rt, int op, int64_t x, int64_t y, struct val *out) {
    int64_t r = 0;
    switch (op) {
    case OP_ADD: if (__builtin_add_overflow(x, y, &r)) return overflow(rt); break;
    case OP_SUB: if (__builtin_sub_overflow(x, y, &r)) return overflow(rt); break;
    case OP_MUL: if (__builtin_mul_overflow(x, y, &r)) return overflow(rt); break;
    case OP_FLOORDIV:
    case OP_MOD:
        if (y == 0) return rt_fail(rt, "integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) return overflow(rt);
        r = op == OP_FLOORDIV ? x / y : x % y;
        if (op == OP_FLOORDIV && (x % y != 0) && ((x < 0) != (y < 0))) r--;
        if (op == OP_MOD && r != 0 && ((r < 0) != (y < 0))) r += y;
        break;
    case OP_POW:
        if (y < 0) {
            *out = v_float(pow((double)x, (double)y));
            return EMBER_OK;
        }
        r = 1;
        for (int64_t k = 0; k < y; k++) {
            if (__builtin_mul_overflow(r, x, &r)) return overflow(rt);
            if (r == 0 || r == 1) break;
        }
        break;
    default: return rt_fail(rt, "bad operator");
    }
    *out = v_int(r);
    return EMBER_OK;
}

static enum ember_status float_arith(struct rt *rt, int op, double x, double y, struct val *out) {
    double r;
    switch (op) {
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV:
    case OP_FLOORDIV:
    case OP_MOD:
        if (y == 0) return rt_fail(rt, "float division by zero");
        r = op == OP_DIV ? x / y : op == OP_FLOORDIV ? floor(x / y) : fmod(x, y);
        if (op == OP_MOD && r != 0 && ((r < 0) != (y < 0))) r += y;
        break;
    default: r = pow(x, y); break;
    }
    *out = v_float(r);
    return EMBER_OK;
}

static enum ember_status arith(struct rt *rt, int op, struct val a, struct val b, struct val *out) {
    if (op == OP_TILDE) {
        struct sbuf s = {0};
        enum ember_status st = val_str(rt, a, &s);
        if (!st) st = val_str(rt, b, &s);
        if (st) {
            free(s.p);
            return st;
        }
        return sbuf_to_val(rt, &s, out);
    }
    if (is_num(a) && is_num(b)) {
        if (op == OP_DIV && is_int(a) && is_int(b)) {
            if (as_int(b) == 0) return rt_fail(rt, "division by zero");
            *out = v_float((double)as_int(a) / (double)as_int(b));
            return EMBER_OK;
        }
        if (is_int(a) && is_int(b)) return int_arith(rt, op, as_int(a), as_int(b), out);
        return float_arith(rt, op, as_f(a), as_f(b), out);
    }
    bool seq_a = a.k == V_STR || (a.k == V_LIST && !a.u.l->gen), seq_b = b.k == V_STR || (b.k == V_LIST && !b.u.l->gen);
    if (op == OP_ADD && a.k == b.k && seq_a && seq_b && (a.k == V_STR || a.u.l->tuple == b.u.l->tuple))
        return concat(rt, a, b, out);
    if (op == OP_MUL && seq_a && is_int(b)) return repeat(rt, a, as_int(b), out);
    if (op == OP_MUL && seq_b && is_int(a)) return repeat(rt, b, as_int(a), out);
    return type_error(rt, op, a, b);
}

static enum ember_status contains(struct rt *rt, struct val hay, struct val x, bool *out) {
    *out = false;
    switch (hay.k) {
    case V_STR:
        if (x.k != V_STR) return rt_fail(rt, "'in <string>' requires string as left operand, not %s", val_type_name(x));
        if (!x.u.s->len) *out = true;
        else if (x.u.s->len <= hay.u.s->len)
            *out = memmem(hay.u.s->data, hay.u.s->len, x.u.s->data, x.u.s->len) != NULL;
        return rt_steps(rt, (long)(hay.u.s->len / 64));
    case V_LIST: {
        size_t i = 0;
        for (; i < hay.u.l->n && !*out; i++) *out = val_eq(hay.u.l->items[i], x);
        if (hay.u.l->gen) { /* a generator is consumed up to the match */
            struct vlist *g = hay.u.l;
            for (size_t k = 0; k < i; k++) val_unref(g->items[k]);
            memmove(g->items, g->items + i, (g->n - i) * sizeof *g->items);
            g->n -= i;
        }
        return rt_steps(rt, (long)hay.u.l->n);
    }
    case V_DICT: *out = dict_find(hay.u.d, x) != NULL; return rt_steps(rt, (long)hay.u.d->n);
    case V_UNDEF: return EMBER_OK;
    default: return rt_fail(rt, "argument of type '%s' is not iterable", val_type_name(hay));
    }
}

static enum ember_status compare(struct rt *rt, int op, struct val a, struct val b, bool *out) {
    if (op == OP_EQ || op == OP_NE) {
        *out = val_eq(a, b) == (op == OP_EQ);
        return EMBER_OK;
    }
    if (op == OP_IN || op == OP_NOTIN) {
        TRY(contains(rt, b, a, out));
        if (op == OP_NOTIN) *out = !*out;
        return EMBER_OK;
    }
    if (a.k == V_UNDEF) return undefined_error(rt, a);
    if (b.k == V_UNDEF) return undefined_error(rt, b);
    int c;
    TRY(val_cmp(rt, a, b, &c));
    *out = op == OP_LT ? c < 0 : op == OP_LTEQ ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
    return EMBER_OK;
}

/* ------------------------------------------------------ calls and macros */

static enum ember_status exec_in_frame(struct rt *rt, const struct stmt *body, struct frame *parent,
                                       struct sbuf *out);

static enum ember_status bind_params(struct rt *rt, const struct stmt *def, struct frame *f,
                                     const struct val *args, int n_args, const char *const *kw_names,
                                     const struct val *kw_vals, int n_kw) {
    for (int k = 0; k < def->n_params; k++) {
        const struct val *a = arg_get(args, n_args, kw_names, kw_vals, n_kw, k, def->params[k]);
        struct val v = v_undef(def->params[k]);
        if (a) {
            v = *a;
            val_ref(v);
        } else if (def->defaults[k]) {
            TRY(eval_expr(rt, def->defaults[k], &v));
        }
        TRY(frame_set(rt, f, def->params[k], v));
    }
    struct val varargs;
    TRY(list_new(rt, 0, &varargs));
    varargs.u.l->tuple = true;
    for (int k = def->n_params; k < n_args; k++) {
        val_ref(args[k]);
        if (list_push(rt, varargs.u.l, args[k])) {
            val_unref(varargs);
            return EMBER_ENOMEM;
        }
    }
    return frame_set(rt, f, "varargs", varargs);
}

static enum ember_status call_macro(struct rt *rt, const struct vmacro *m, const struct val *args,
                                    int n_args, const char *const *kw_names, const struct val *kw_vals,
                                    int n_kw, struct val caller, struct val *out) {
    if (rt->depth > TEMPLATE_MAX_DEPTH) return rt_fail(rt, "macro calls nested deeper than %d levels", TEMPLATE_MAX_DEPTH);
    struct frame f;
    struct frame *scope = frame_alive(rt, m->scope, m->scope_serial) ? m->scope : rt->top;
    frame_push(rt, &f, scope);
    struct sbuf b = {0};
    int line = rt->line;
    rt->depth += 8; /* a call stands for several levels of C frames */
    enum ember_status st = bind_params(rt, m->def, &f, args, n_args, kw_names, kw_vals, n_kw);
    if (!st && caller.k == V_MACRO) {
        val_ref(caller);
        st = frame_set(rt, &f, "caller", caller);
    }
    if (!st) st = exec_body(rt, m->def->body, &b);
    rt->depth -= 8;
    rt->line = line;
    frame_pop(rt, &f);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

enum ember_status call_value(struct rt *rt, struct val fn, const struct val *args, int n_args,
                             const char *const *kw_names, const struct val *kw_vals, int n_kw,
                             struct val *out) {
    if (fn.k == V_MACRO)
        return call_macro(rt, fn.u.m, args, n_args, kw_names, kw_vals, n_kw, v_undef(NULL), out);
    if (fn.k == V_METHOD)
        return method_call(rt, fn.u.meth->id, fn.u.meth->self, args, n_args, kw_names, kw_vals, n_kw, out);
    if (fn.k == V_UNDEF) return undefined_error(rt, fn);
    return rt_fail(rt, "'%s' object is not callable", val_type_name(fn));
}

/* Evaluate n expressions into vals (all released on failure). */
static enum ember_status eval_list(struct rt *rt, struct expr *const *es, int n, struct val *vals) {
    for (int k = 0; k < n; k++) {
        enum ember_status st = eval_expr(rt, es[k], &vals[k]);
        if (st) {
            while (k-- > 0) val_unref(vals[k]);
            return st;
        }
    }
    return EMBER_OK;
}

static void unref_all(struct val *v, int n) {
    for (int k = 0; k < n; k++) val_unref(v[k]);
}

/* Arguments of a call, filter or test node: evaluated into one array of
 * n_args + n_kw values (freed by the caller with unref_all and free). */
static enum ember_status eval_args(struct rt *rt, const struct expr *e, struct val **vals) {
    int n = e->n_args + e->n_kw;
    *vals = calloc((size_t)(n ? n : 1), sizeof **vals); /* zero: undefined */
    if (!*vals) return ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
    enum ember_status st = eval_list(rt, e->args, e->n_args, *vals);
    if (!st && (st = eval_list(rt, e->kw_vals, e->n_kw, *vals + e->n_args))) unref_all(*vals, e->n_args);
    if (st) {
        free(*vals);
        *vals = NULL;
    }
    return st;
}

static enum ember_status eval_call(struct rt *rt, const struct expr *e, struct val caller, struct val *out) {
    struct val fn, *args;
    TRY(eval_expr(rt, e->a, &fn));
    enum ember_status st = eval_args(rt, e, &args);
    if (!st) {
        int line = rt->line;
        rt->line = e->line;
        if (fn.k == V_MACRO)
            st = call_macro(rt, fn.u.m, args, e->n_args, e->kw_names, args + e->n_args, e->n_kw, caller, out);
        else
            st = call_value(rt, fn, args, e->n_args, e->kw_names, args + e->n_args, e->n_kw, out);
        rt->line = line;
        unref_all(args, e->n_args + e->n_kw);
        free(args);
    }
    val_unref(fn);
    return st;
}

/* ------------------------------------------------------------ expressions */

static enum ember_status eval_seq(struct rt *rt, const struct expr *e, struct val *out) {
    if (e->kind == EX_DICT) {
        TRY(dict_new(rt, out));
        for (int k = 0; k + 1 < e->n_args; k += 2) {
            struct val kv[2];
            enum ember_status st = eval_list(rt, e->args + k, 2, kv);
            if (!st) st = dict_set(rt, out->u.d, kv[0], kv[1]);
            if (st) {
                val_clear(out);
                return st;
            }
        }
        return EMBER_OK;
    }
    TRY(list_new(rt, (size_t)e->n_args, out));
    out->u.l->tuple = e->kind == EX_TUPLE;
    for (int k = 0; k < e->n_args; k++) {
        struct val v;
        enum ember_status st = eval_expr(rt, e->args[k], &v);
        if (!st) st = list_push(rt, out->u.l, v);
        if (st) {
            val_clear(out);
            return st;
        }
    }
    return EMBER_OK;
}

/* Filter e->name over in (borrowed). */
static enum ember_status eval_filter(struct rt *rt, const struct expr *e, struct val in, struct val *out) {
    struct val *args;
    TRY(eval_args(rt, e, &args));
    rt->line = e->line;
    enum ember_status st = apply_filter(rt, e->name, in, args, e->n_args, e->kw_names,
                                        args + e->n_args, e->n_kw, out);
    unref_all(args, e->n_args + e->n_kw);
    free(args);
    return st;
}

/* A filter chain whose innermost input is `in` (filter blocks, set blocks). */
static enum ember_status eval_filter_chain(struct rt *rt, const struct expr *e, struct val in,
                                           struct val *out) {
    if (!e) {
        val_ref(in);
        *out = in;
        return EMBER_OK;
    }
    struct val mid;
    TRY(eval_filter_chain(rt, e->a, in, &mid));
    enum ember_status st = eval_filter(rt, e, mid, out);
    val_unref(mid);
    return st;
}

static enum ember_status eval_binary(struct rt *rt, const struct expr *e, struct val *out) {
    struct val a, b;
    TRY(eval_expr(rt, e->a, &a));
    if (e->op == OP_AND || e->op == OP_OR) { /* Python: the deciding operand */
        if (val_truthy(a) == (e->op == OP_OR)) {
            *out = a;
            return EMBER_OK;
        }
        val_unref(a);
        return eval_expr(rt, e->b, out);
    }
    enum ember_status st = eval_expr(rt, e->b, &b);
    if (!st) {
        rt->line = e->line;
        st = arith(rt, e->op, a, b, out);
        val_unref(b);
    }
    val_unref(a);
    return st;
}

static enum ember_status eval_unary(struct rt *rt, const struct expr *e, struct val *out) {
    struct val a;
    TRY(eval_expr(rt, e->a, &a));
    enum ember_status st = EMBER_OK;
    if (e->op == OP_NOT) *out = v_bool(!val_truthy(a));
    else if (a.k == V_FLOAT) *out = v_float(e->op == OP_NEG ? -a.u.f : a.u.f);
    else if (is_int(a)) {
        if (e->op == OP_NEG && as_int(a) == INT64_MIN) st = overflow(rt);
        else *out = v_int(e->op == OP_NEG ? -as_int(a) : as_int(a));
    } else if (a.k == V_UNDEF) st = undefined_error(rt, a);
    else st = rt_fail(rt, "bad operand type for unary %s: '%s'", e->op == OP_NEG ? "-" : "+", val_type_name(a));
    val_unref(a);
    return st;
}

static enum ember_status eval_compare(struct rt *rt, const struct expr *e, struct val *out) {
    struct val a, b;
    bool r = true;
    TRY(eval_expr(rt, e->args[0], &a));
    for (int k = 1; k < e->n_args && r; k++) {
        enum ember_status st = eval_expr(rt, e->args[k], &b);
        if (!st) {
            rt->line = e->line;
            if ((st = compare(rt, e->ops[k - 1], a, b, &r))) val_unref(b);
        }
        val_unref(a);
        if (st) return st;
        a = b;
    }
    val_unref(a);
    *out = v_bool(r);
    return EMBER_OK;
}

static enum ember_status eval_access(struct rt *rt, const struct expr *e, struct val *out) {
    struct val obj, key = v_undef(NULL);
    TRY(eval_expr(rt, e->a, &obj));
    enum ember_status st = EMBER_OK;
    if (e->kind == EX_GETATTR) {
        st = get_attr(rt, obj, e->name, e->name_len, out);
    } else if (e->kind == EX_GETITEM) {
        if (!(st = eval_expr(rt, e->b, &key))) st = get_item(rt, obj, key, out);
    } else {
        struct val parts[3] = {v_none(), v_none(), v_none()};
        for (int k = 0; !st && k < 3; k++)
            if (e->args[k]) st = eval_expr(rt, e->args[k], &parts[k]);
        rt->line = e->line;
        if (!st) st = do_slice(rt, obj, parts, out);
        unref_all(parts, 3);
    }
    val_unref(key);
    val_unref(obj);
    return st;
}

static enum ember_status eval_test(struct rt *rt, const struct expr *e, struct val *out) {
    struct val in, *args;
    TRY(eval_expr(rt, e->a, &in));
    enum ember_status st = eval_args(rt, e, &args);
    bool r = false;
    if (!st) {
        rt->line = e->line;
        st = apply_test(rt, e->name, in, args, e->n_args, &r);
        unref_all(args, e->n_args + e->n_kw);
        free(args);
    }
    val_unref(in);
    *out = v_bool(r != e->neg);
    return st;
}

static enum ember_status eval_node(struct rt *rt, const struct expr *e, struct val *out) {
    switch (e->kind) {
    case EX_CONST: *out = e->cval; val_ref(*out); return EMBER_OK;
    case EX_NAME: return lookup(rt, e->name, e->name_len, out);
    case EX_LIST:
    case EX_TUPLE:
    case EX_DICT: return eval_seq(rt, e, out);
    case EX_GETATTR:
    case EX_GETITEM:
    case EX_SLICE: return eval_access(rt, e, out);
    case EX_CALL: return eval_call(rt, e, v_undef(NULL), out);
    case EX_FILTER: {
        struct val in;
        TRY(eval_expr(rt, e->a, &in));
        enum ember_status st = eval_filter(rt, e, in, out);
        val_unref(in);
        return st;
    }
    case EX_TEST: return eval_test(rt, e, out);
    case EX_UNARY: return eval_unary(rt, e, out);
    case EX_BINARY: return eval_binary(rt, e, out);
    case EX_COMPARE: return eval_compare(rt, e, out);
    default: { /* EX_COND */
        struct val c;
        TRY(eval_expr(rt, e->a, &c));
        bool t = val_truthy(c);
        val_unref(c);
        if (t) return eval_expr(rt, e->b, out);
        if (e->c) return eval_expr(rt, e->c, out);
        *out = v_undef(NULL);
        return EMBER_OK;
    }
    }
}

enum ember_status eval_expr(struct rt *rt, const struct expr *e, struct val *out) {
    *out = v_undef(NULL);
    if (rt->depth > TEMPLATE_MAX_DEPTH) return rt_fail(rt, "expressions nested too deeply");
    TRY(rt_steps(rt, 1));
    rt->line = e->line;
    rt->depth++;
    enum ember_status st = eval_node(rt, e, out);
    rt->depth--;
    if (st) val_clear(out);
    return st;
}

/* ------------------------------------------------------------- statements */

/* Bind a for/set target list to v (borrowed): one name, or unpacking. */
static enum ember_status assign(struct rt *rt, const struct stmt *s, struct frame *f, struct val v) {
    if (!s->unpack) {
        val_ref(v);
        return frame_set(rt, f, s->targets[0], v);
    }
    struct val items;
    TRY(val_iter(rt, v, &items));
    enum ember_status st = EMBER_OK;
    if ((int)items.u.l->n != s->n_targets)
        st = rt_fail(rt, "%s values to unpack (expected %d, got %zu)",
                     (int)items.u.l->n > s->n_targets ? "too many" : "not enough", s->n_targets,
                     items.u.l->n);
    for (int k = 0; !st && k < s->n_targets; k++) {
        val_ref(items.u.l->items[k]);
        st = frame_set(rt, f, s->targets[k], items.u.l->items[k]);
    }
    val_unref(items);
    return st;
}

/* The items of a for loop, after its `if` filter (evaluated with the
 * targets bound, without `loop`). */
static enum ember_status loop_items(struct rt *rt, const struct stmt *s, struct val *items) {
    struct val v, all;
    TRY(eval_expr(rt, s->e, &v));
    enum ember_status st = val_iter(rt, v, &all);
    val_unref(v);
    if (st || !s->cond) {
        *items = all;
        return st;
    }
    st = list_new(rt, 0, items);
    for (size_t i = 0; !st && i < all.u.l->n; i++) {
        struct frame f;
        struct val c = v_undef(NULL);
        frame_push(rt, &f, rt->frame);
        st = assign(rt, s, &f, all.u.l->items[i]);
        if (!st) st = eval_expr(rt, s->cond, &c);
        frame_pop(rt, &f);
        if (!st && val_truthy(c)) {
            val_ref(all.u.l->items[i]);
            st = list_push(rt, items->u.l, all.u.l->items[i]);
        }
        val_unref(c);
    }
    val_unref(all);
    if (st) val_clear(items);
    return st;
}

static enum ember_status exec_for(struct rt *rt, const struct stmt *s, struct sbuf *out) {
    struct val items, lv;
    TRY(loop_items(rt, s, &items));
    size_t n = items.u.l->n;
    if (!n) {
        val_unref(items);
        return s->else_body ? exec_in_frame(rt, s->else_body, rt->frame, out) : EMBER_OK;
    }
    enum ember_status st = obj_new(rt, V_LOOP, sizeof(struct vloop), &lv);
    if (st) {
        val_unref(items);
        return st;
    }
    lv.u.loop->items = items.u.l; /* the loop object owns the list now */
    lv.u.loop->length = n;
    lv.u.loop->depth0 = 0; /* loop.depth counts recursive loops, which ember lacks */
    for (size_t i = 0; !st && i < n; i++) {
        struct frame f;
        lv.u.loop->index0 = i;
        frame_push(rt, &f, rt->frame);
        val_ref(lv);
        st = frame_set(rt, &f, "loop", lv);
        if (!st) st = assign(rt, s, &f, items.u.l->items[i]);
        if (!st) st = exec_body(rt, s->body, out);
        frame_pop(rt, &f);
        if (rt->loop_ctl == LOOP_BREAK) {
            rt->loop_ctl = LOOP_NONE;
            break;
        }
        rt->loop_ctl = LOOP_NONE;
    }
    val_unref(lv);
    return st;
}

static enum ember_status exec_set(struct rt *rt, const struct stmt *s) {
    struct val v;
    TRY(eval_expr(rt, s->e, &v));
    rt->line = s->line;
    if (!s->attr_obj) {
        enum ember_status st = assign(rt, s, rt->frame, v);
        val_unref(v);
        return st;
    }
    struct val ns;
    enum ember_status st = eval_expr(rt, s->attr_obj, &ns);
    if (!st && (ns.k != V_NS || !ns.u.ns->attrs)) st = rt_fail(rt, "cannot assign attribute on non-namespace object");
    struct val k;
    if (!st && !(st = str_new(rt, s->attr, strlen(s->attr), &k))) {
        val_ref(v);
        st = dict_set(rt, ns.u.ns->attrs, k, v);
    }
    val_unref(ns);
    val_unref(v);
    return st;
}

/* Render body into a string and pass it through filter chain e. */
static enum ember_status render_filtered(struct rt *rt, const struct stmt *s, struct val *out) {
    struct sbuf b = {0};
    struct val text;
    enum ember_status st = exec_body(rt, s->body, &b);
    if (st) {
        free(b.p);
        return st;
    }
    TRY(sbuf_to_val(rt, &b, &text));
    st = eval_filter_chain(rt, s->e, text, out);
    val_unref(text);
    return st;
}

static enum ember_status exec_macro_def(struct rt *rt, const struct stmt *s, struct val *out) {
    TRY(obj_new(rt, V_MACRO, sizeof(struct vmacro), out));
    out->u.m->def = s;
    out->u.m->scope = rt->frame;
    out->u.m->scope_serial = rt->frame->serial;
    return EMBER_OK;
}

static enum ember_status exec_with(struct rt *rt, const struct stmt *s, struct sbuf *out) {
    struct frame f;
    frame_push(rt, &f, rt->frame);
    enum ember_status st = EMBER_OK;
    for (int k = 0; !st && k < s->n_targets; k++) {
        struct val v;
        if (!(st = eval_expr(rt, s->values[k], &v))) st = frame_set(rt, &f, s->targets[k], v);
    }
    if (!st) st = exec_body(rt, s->body, out);
    frame_pop(rt, &f);
    return st;
}

static enum ember_status exec_stmt(struct rt *rt, const struct stmt *s, struct sbuf *out) {
    struct val v;
    rt->line = s->line;
    switch (s->kind) {
    case ST_TEXT: return sbuf_put(rt, out, s->text, s->text_len);
    case ST_OUTPUT: {
        TRY(eval_expr(rt, s->e, &v));
        enum ember_status st = val_str(rt, v, out);
        val_unref(v);
        return st;
    }
    case ST_IF: {
        TRY(eval_expr(rt, s->e, &v));
        bool t = val_truthy(v);
        val_unref(v);
        return exec_body(rt, t ? s->body : s->else_body, out);
    }
    case ST_FOR: return exec_for(rt, s, out);
    case ST_SET: return exec_set(rt, s);
    case ST_SETBLOCK:
        TRY(render_filtered(rt, s, &v));
        return frame_set(rt, rt->frame, s->targets[0], v);
    case ST_MACRO:
        TRY(exec_macro_def(rt, s, &v));
        return frame_set(rt, rt->frame, s->name, v);
    case ST_CALLBLOCK: {
        TRY(exec_macro_def(rt, s, &v));
        struct val r = v_undef(NULL);
        enum ember_status st = eval_call(rt, s->e, v, &r);
        val_unref(v);
        if (st) return st;
        st = val_str(rt, r, out);
        val_unref(r);
        return st;
    }
    case ST_BREAK: rt->loop_ctl = LOOP_BREAK; return EMBER_OK;
    case ST_CONTINUE: rt->loop_ctl = LOOP_CONTINUE; return EMBER_OK;
    case ST_WITH: return exec_with(rt, s, out);
    case ST_FILTER: {
        TRY(render_filtered(rt, s, &v));
        enum ember_status st = val_str(rt, v, out);
        val_unref(v);
        return st;
    }
    default: return exec_body(rt, s->body, out); /* ST_BLOCK */
    }
}

enum ember_status exec_body(struct rt *rt, const struct stmt *s, struct sbuf *out) {
    if (rt->depth > TEMPLATE_MAX_DEPTH) return rt_fail(rt, "statements nested too deeply");
    rt->depth++;
    enum ember_status st = EMBER_OK;
    for (; s && !st && rt->loop_ctl == LOOP_NONE; s = s->next) {
        if (!(st = rt_steps(rt, 1))) st = exec_stmt(rt, s, out);
    }
    rt->depth--;
    return st;
}

static enum ember_status exec_in_frame(struct rt *rt, const struct stmt *body, struct frame *parent,
                                       struct sbuf *out) {
    struct frame f;
    frame_push(rt, &f, parent);
    enum ember_status st = exec_body(rt, body, out);
    frame_pop(rt, &f);
    return st;
}

enum ember_status exec_template(struct rt *rt, const struct stmt *body, struct sbuf *out) {
    struct frame f;
    frame_push(rt, &f, NULL);
    rt->top = &f;
    enum ember_status st = exec_body(rt, body, out);
    frame_pop(rt, &f);
    rt->top = NULL;
    return st;
}
