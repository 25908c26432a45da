/*
 * template_json.c — values to JSON and back. The tojson filter is the one
 * transformers installs: Python's json.dumps with ensure_ascii=False by
 * default, indent (one line with ", " and ": " without it; "," and ": "
 * plus newlines with it), separators, sort_keys; floats as Python's repr,
 * NaN/Infinity as json.dumps writes them, keys that are numbers, booleans
 * or none turned into strings. Undefined, namespaces and macros are not
 * serializable (an error, as in Python). Also: a JSON tree from json.h as a
 * template value, for messages and tools given as JSON.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "template_impl.h"
#include "unicode.h"

static enum ember_status json_string(struct rt *rt, const char *s, size_t n, bool ascii,
                                     struct sbuf *b) {
    TRY(sbuf_put(rt, b, "\"", 1));
    size_t run = 0; /* bytes copied as they are, flushed in one put */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[16];
        size_t elen = 0, adv = 1;
        if (c == '"' || c == '\\') elen = (size_t)sprintf(esc, "\\%c", c);
        else if (c == '\n') elen = (size_t)sprintf(esc, "\\n");
        else if (c == '\r') elen = (size_t)sprintf(esc, "\\r");
        else if (c == '\t') elen = (size_t)sprintf(esc, "\\t");
        else if (c == '\b') elen = (size_t)sprintf(esc, "\\b");
        else if (c == '\f') elen = (size_t)sprintf(esc, "\\f");
        else if (c < 0x20 || (ascii && c == 0x7f)) elen = (size_t)sprintf(esc, "\\u%04x", c);
        else if (ascii && c >= 0x80) {
            uint32_t cp = unicode_utf8_decode(s + i, n - i, &adv);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                elen = (size_t)sprintf(esc, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
            } else {
                elen = (size_t)sprintf(esc, "\\u%04x", (unsigned)cp);
            }
        }
        if (!elen) {
            run++;
            i++;
            continue;
        }
        TRY(sbuf_put(rt, b, s + i - run, run));
        run = 0;
        TRY(sbuf_put(rt, b, esc, elen));
        i += adv;
    }
    TRY(sbuf_put(rt, b, s + n - run, run));
    return sbuf_put(rt, b, "\"", 1);
}

static enum ember_status json_float(struct rt *rt, double f, struct sbuf *b) {
    char num[40];
    if (isnan(f) || isinf(f)) snprintf(num, sizeof num, "%s", isnan(f) ? "NaN" : f < 0 ? "-Infinity" : "Infinity");
    else py_float_repr(f, num);
    return sbuf_puts(rt, b, num);
}

static enum ember_status newline(struct rt *rt, const struct json_opts *o, int level,
                                 struct sbuf *b) {
    TRY(sbuf_put(rt, b, "\n", 1));
    for (int k = 0; k < level; k++) TRY(sbuf_puts(rt, b, o->indent));
    return EMBER_OK;
}

static enum ember_status json_value(struct rt *rt, struct val v, const struct json_opts *o,
                                    int level, struct sbuf *b);

/* A dict key as json.dumps turns it into a string. */
static enum ember_status json_key(struct rt *rt, struct val k, const struct json_opts *o,
                                  struct sbuf *b) {
    char num[40];
    switch (k.k) {
    case V_STR: return json_string(rt, k.u.s->data, k.u.s->len, o->ensure_ascii, b);
    case V_NONE: return sbuf_puts(rt, b, "\"null\"");
    case V_BOOL: return sbuf_puts(rt, b, k.u.b ? "\"true\"" : "\"false\"");
    case V_INT: snprintf(num, sizeof num, "\"%lld\"", (long long)k.u.i); return sbuf_puts(rt, b, num);
    case V_FLOAT:
        TRY(sbuf_put(rt, b, "\"", 1));
        TRY(json_float(rt, k.u.f, b));
        return sbuf_put(rt, b, "\"", 1);
    default:
        return rt_fail(rt, "keys must be str, int, float, bool or None, not %s", val_type_name(k));
    }
}

/* Member order: as inserted, or sorted by key with sort_keys. */
static enum ember_status key_order(struct rt *rt, const struct vdict *d, bool sort, size_t *idx) {
    for (size_t i = 0; i < d->n; i++) idx[i] = i;
    if (!sort) return EMBER_OK;
    TRY(rt_steps(rt, (long)(d->n * d->n / 4)));
    for (size_t i = 1; i < d->n; i++) { /* insertion sort: stable, dicts are small */
        for (size_t j = i; j > 0; j--) {
            int c;
            TRY(val_cmp(rt, d->keys[idx[j - 1]], d->keys[idx[j]], &c));
            if (c <= 0) break;
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    }
    return EMBER_OK;
}

static enum ember_status json_dict(struct rt *rt, const struct vdict *d, const struct json_opts *o,
                                   int level, struct sbuf *b) {
    if (!d->n) return sbuf_put(rt, b, "{}", 2);
    size_t *idx = malloc(d->n * sizeof *idx);
    if (!idx) return ember_fail(rt->err, EMBER_ENOMEM, "template: out of memory");
    enum ember_status st = key_order(rt, d, o->sort_keys, idx);
    if (!st) st = sbuf_put(rt, b, "{", 1);
    for (size_t i = 0; !st && i < d->n; i++) {
        if (i) st = sbuf_puts(rt, b, o->item_sep);
        if (!st && o->indent) st = newline(rt, o, level + 1, b);
        if (!st) st = json_key(rt, d->keys[idx[i]], o, b);
        if (!st) st = sbuf_puts(rt, b, o->key_sep);
        if (!st) st = json_value(rt, d->vals[idx[i]], o, level + 1, b);
    }
    free(idx);
    if (!st && o->indent) st = newline(rt, o, level, b);
    return st ? st : sbuf_put(rt, b, "}", 1);
}

static enum ember_status json_list(struct rt *rt, const struct vlist *l, const struct json_opts *o,
                                   int level, struct sbuf *b) {
    if (!l->n) return sbuf_put(rt, b, "[]", 2);
    TRY(sbuf_put(rt, b, "[", 1));
    for (size_t i = 0; i < l->n; i++) {
        if (i) TRY(sbuf_puts(rt, b, o->item_sep));
        if (o->indent) TRY(newline(rt, o, level + 1, b));
        TRY(json_value(rt, l->items[i], o, level + 1, b));
    }
    if (o->indent) TRY(newline(rt, o, level, b));
    return sbuf_put(rt, b, "]", 1);
}

static enum ember_status json_value(struct rt *rt, struct val v, const struct json_opts *o,
                                    int level, struct sbuf *b) {
    char num[40];
    switch (v.k) {
    case V_NONE: return sbuf_puts(rt, b, "null");
    case V_BOOL: return sbuf_puts(rt, b, v.u.b ? "true" : "false");
    case V_INT: snprintf(num, sizeof num, "%lld", (long long)v.u.i); return sbuf_puts(rt, b, num);
    case V_FLOAT: return json_float(rt, v.u.f, b);
    case V_STR: return json_string(rt, v.u.s->data, v.u.s->len, o->ensure_ascii, b);
    case V_LIST:
        if (v.u.l->gen) break;
        return json_list(rt, v.u.l, o, level, b);
    case V_DICT: return json_dict(rt, v.u.d, o, level, b);
    default: break;
    }
    return rt_fail(rt, "Object of type %s is not JSON serializable", val_type_name(v));
}

enum ember_status val_tojson(struct rt *rt, struct val v, const struct json_opts *o,
                             struct sbuf *b) {
    return json_value(rt, v, o, 0, b);
}

enum ember_status val_from_json(struct rt *rt, const struct json_value *j, struct val *out) {
    switch (j->type) {
    case JSON_NULL: *out = v_none(); return EMBER_OK;
    case JSON_FALSE: *out = v_bool(false); return EMBER_OK;
    case JSON_TRUE: *out = v_bool(true); return EMBER_OK;
    case JSON_NUMBER: *out = j->is_int ? v_int(j->integer) : v_float(j->num); return EMBER_OK;
    case JSON_STRING: return str_new(rt, j->str, j->len, out);
    case JSON_ARRAY:
        TRY(list_new(rt, j->len, out));
        for (size_t i = 0; i < j->len; i++) {
            struct val e;
            enum ember_status st = val_from_json(rt, &j->items[i], &e);
            if (!st) st = list_push(rt, out->u.l, e);
            if (st) {
                val_clear(out);
                return st;
            }
        }
        return EMBER_OK;
    default:
        TRY(dict_new(rt, out));
        for (size_t i = 0; i < j->len; i++) {
            struct val k, e;
            enum ember_status st = str_new(rt, j->members[i].key, j->members[i].key_len, &k);
            if (!st && (st = val_from_json(rt, &j->members[i].value, &e))) val_unref(k);
            if (!st) st = dict_set(rt, out->u.d, k, e);
            if (st) {
                val_clear(out);
                return st;
            }
        }
        return EMBER_OK;
    }
}
