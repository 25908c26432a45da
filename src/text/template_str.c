/*
 * template_str.c — the Python str operations templates call, on UTF-8:
 * case mapping (simple, one code point to one: "ß".upper() stays "ß" where
 * Python gives "SS"), strip with Python's whitespace or a set of
 * characters, split (on whitespace runs or a separator), splitlines,
 * replace, and str.format with positional and named fields (no format
 * specs beyond the empty one). Each returns a new string value.
 */
#include <stdlib.h>
#include <string.h>

#include "template_impl.h"
#include "unicode.h"

/* ------------------------------------------------------------- case */

static uint32_t cp_lower(uint32_t cp) {
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    return unicode_tolower(cp);
}

/* The inverse of the simple lowercase map (the first run that gives cp). */
static uint32_t cp_upper(uint32_t cp) {
    if (cp < 0x80) return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
    for (size_t i = 0; i < unicode_lower_runs_len; i++) {
        const struct unicode_lower_run *r = &unicode_lower_runs[i];
        int64_t t = (int64_t)cp - r->delta - (int64_t)r->first;
        if (t >= 0 && t % r->stride == 0 && t / r->stride < r->count) return (uint32_t)((int64_t)cp - r->delta);
    }
    return cp;
}

static bool cp_cased(uint32_t cp) {
    return cp_lower(cp) != cp || cp_upper(cp) != cp;
}

/* jinja2's title filter starts a word after whitespace or one of -({[< */
static bool jinja_word_break(uint32_t cp) {
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || cp == ' ' ||
           (cp >= 9 && cp <= 13) || (cp >= 0x1c && cp <= 0x1f) ||
           (cp >= 0x80 && (unicode_flags(cp) & UCP_SPACE));
}

enum ember_status pystr_case(struct rt *rt, const struct vstr *s, enum str_case mode, struct val *out) {
    struct sbuf b = {0};
    bool prev_cased = false, first = true;
    enum ember_status st = EMBER_OK;
    for (size_t i = 0; !st && i < s->len;) {
        size_t adv;
        uint32_t cp = unicode_utf8_decode(s->data + i, s->len - i, &adv), r;
        switch (mode) {
        case CASE_LOWER: r = cp_lower(cp); break;
        case CASE_UPPER: r = cp_upper(cp); break;
        case CASE_CAPITALIZE: r = first ? cp_upper(cp) : cp_lower(cp); break;
        case CASE_TITLE: r = prev_cased ? cp_lower(cp) : cp_upper(cp); prev_cased = cp_cased(cp); break;
        case CASE_JINJA_TITLE: r = prev_cased ? cp_lower(cp) : cp_upper(cp); prev_cased = !jinja_word_break(cp); break;
        default: r = cp; break;
        }
        first = false;
        char enc[4];
        if (r == cp) st = sbuf_put(rt, &b, s->data + i, adv); /* keeps invalid bytes as they were */
        else st = sbuf_put(rt, &b, enc, unicode_utf8_encode(r, enc));
        i += adv;
    }
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

/* ------------------------------------------------------------ strip */

/* Is the code point at p[0..n) in chars (NULL: Python whitespace)? */
static bool in_set(const char *p, size_t n, const struct vstr *chars, size_t *adv) {
    if (!chars) return py_space_at(p, n, adv);
    unicode_utf8_decode(p, n, adv);
    for (size_t j = 0; j < chars->len;) {
        size_t k = utf8_offset(chars->data + j, chars->len - j, 1);
        if (k == *adv && !memcmp(chars->data + j, p, k)) return true;
        j += k;
    }
    return false;
}

enum ember_status pystr_strip(struct rt *rt, const struct vstr *s, const struct vstr *chars, bool left,
                              bool right, struct val *out) {
    size_t a = 0, b = s->len, adv;
    TRY(rt_steps(rt, (long)(s->len / 16)));
    while (left && a < b && in_set(s->data + a, b - a, chars, &adv)) a += adv;
    while (right && b > a) {
        size_t q = b - 1;
        while (q > a && ((unsigned char)s->data[q] & 0xc0) == 0x80) q--;
        if (!in_set(s->data + q, b - q, chars, &adv) || q + adv != b) break;
        b = q;
    }
    return str_new(rt, s->data + a, b - a, out);
}

/* ------------------------------------------------------- split, lines */

static enum ember_status push_str(struct rt *rt, struct vlist *l, const char *p, size_t n) {
    struct val v;
    TRY(str_new(rt, p, n, &v));
    return list_push(rt, l, v);
}

/* Split on runs of whitespace, ignoring them at the ends. */
static enum ember_status split_ws(struct rt *rt, const struct vstr *s, int64_t maxsplit, struct vlist *l) {
    size_t i = 0, adv;
    for (;;) {
        while (i < s->len && py_space_at(s->data + i, s->len - i, &adv)) i += adv;
        if (i >= s->len) return EMBER_OK;
        size_t j = i;
        if (maxsplit >= 0 && (int64_t)l->n >= maxsplit) {
            size_t end = s->len; /* the rest, right-stripped */
            while (end > j) {
                size_t q = end - 1;
                while (q > j && ((unsigned char)s->data[q] & 0xc0) == 0x80) q--;
                if (!py_space_at(s->data + q, end - q, &adv)) break;
                end = q;
            }
            return push_str(rt, l, s->data + j, end - j);
        }
        while (j < s->len && !py_space_at(s->data + j, s->len - j, &adv)) j += adv;
        TRY(push_str(rt, l, s->data + i, j - i));
        i = j;
    }
}

enum ember_status pystr_split(struct rt *rt, const struct vstr *s, const struct vstr *sep, int64_t maxsplit,
                              struct val *out) {
    TRY(list_new(rt, 0, out));
    enum ember_status st;
    if (!sep) {
        st = split_ws(rt, s, maxsplit, out->u.l);
    } else if (!sep->len) {
        st = rt_fail(rt, "empty separator");
    } else {
        size_t i = 0;
        st = EMBER_OK;
        while (!st) {
            const char *hit = maxsplit >= 0 && (int64_t)out->u.l->n >= maxsplit
                                  ? NULL
                                  : memmem(s->data + i, s->len - i, sep->data, sep->len);
            size_t end = hit ? (size_t)(hit - s->data) : s->len;
            st = push_str(rt, out->u.l, s->data + i, end - i);
            if (!hit) break;
            i = end + sep->len;
        }
    }
    if (st) val_clear(out);
    return st;
}

/* Python's line boundaries: \n \r \r\n \v \f \x1c-\x1e \x85 U+2028 U+2029.
 * Length of the boundary at p, 0 if none. */
static size_t line_break(const char *p, size_t n) {
    unsigned char c = (unsigned char)p[0];
    if (c == '\r') return n > 1 && p[1] == '\n' ? 2 : 1;
    if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) return 1;
    if (c == 0xc2 && n > 1 && (unsigned char)p[1] == 0x85) return 2;
    if (c == 0xe2 && n > 2 && (unsigned char)p[1] == 0x80 && ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
        return 3;
    return 0;
}

enum ember_status pystr_splitlines(struct rt *rt, const struct vstr *s, bool keepends, struct val *out) {
    TRY(list_new(rt, 0, out));
    enum ember_status st = EMBER_OK;
    size_t start = 0;
    for (size_t i = 0; !st && i < s->len;) {
        size_t k = line_break(s->data + i, s->len - i);
        if (!k) {
            i++;
            continue;
        }
        st = push_str(rt, out->u.l, s->data + start, i - start + (keepends ? k : 0));
        i += k;
        start = i;
    }
    if (!st && start < s->len) st = push_str(rt, out->u.l, s->data + start, s->len - start);
    if (st) val_clear(out);
    return st;
}

/* ------------------------------------------------------------ replace */

enum ember_status pystr_replace(struct rt *rt, const struct vstr *s, const struct vstr *old,
                                const struct vstr *new, int64_t count, struct val *out) {
    struct sbuf b = {0};
    enum ember_status st = EMBER_OK;
    size_t i = 0;
    for (int64_t done = 0; !st && (count < 0 || done < count); done++) {
        if (!old->len) { /* between code points, and at both ends */
            if (i > s->len) break;
            st = sbuf_put(rt, &b, new->data, new->len);
            size_t k = i < s->len ? utf8_offset(s->data + i, s->len - i, 1) : 1;
            if (!st && i < s->len) st = sbuf_put(rt, &b, s->data + i, k);
            i += k;
            continue;
        }
        const char *hit = memmem(s->data + i, s->len - i, old->data, old->len);
        if (!hit) break;
        size_t at = (size_t)(hit - s->data);
        st = sbuf_put(rt, &b, s->data + i, at - i);
        if (!st) st = sbuf_put(rt, &b, new->data, new->len);
        i = at + old->len;
    }
    if (!st && i < s->len) st = sbuf_put(rt, &b, s->data + i, s->len - i);
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}

/* ------------------------------------------------------------- format */

/* The value of one {field}: "" (next positional), digits or a name. */
static enum ember_status format_field(struct rt *rt, const char *f, size_t n, int *auto_i,
                                      const struct val *args, int n_args, const char *const *kw_names,
                                      const struct val *kw_vals, int n_kw, struct sbuf *b) {
    const char *conv = memchr(f, '!', n), *spec = memchr(f, ':', n);
    size_t name_len = conv ? (size_t)(conv - f) : spec ? (size_t)(spec - f) : n;
    if (spec && spec + 1 < f + n) return rt_fail(rt, "format specs are not supported in str.format");
    const struct val *v = NULL;
    if (!name_len) {
        int k = (*auto_i)++;
        if (k < n_args) v = &args[k];
    } else if (f[0] >= '0' && f[0] <= '9') {
        long k = strtol(f, NULL, 10);
        if (k < n_args) v = &args[k];
    } else {
        for (int k = 0; k < n_kw; k++)
            if (strlen(kw_names[k]) == name_len && !memcmp(kw_names[k], f, name_len)) v = &kw_vals[k];
    }
    if (!v) return rt_fail(rt, "str.format: no argument for field '%.*s'", (int)name_len, f);
    if (conv && conv + 1 < f + n && conv[1] == 'r') return val_repr(rt, *v, b, 0);
    return val_str(rt, *v, b);
}

enum ember_status pystr_format(struct rt *rt, const struct vstr *fmt, const struct val *args, int n_args,
                               const char *const *kw_names, const struct val *kw_vals, int n_kw,
                               struct val *out) {
    struct sbuf b = {0};
    enum ember_status st = EMBER_OK;
    int auto_i = 0;
    const char *s = fmt->data;
    for (size_t i = 0; !st && i < fmt->len; i++) {
        char c = s[i];
        if ((c == '{' || c == '}') && i + 1 < fmt->len && s[i + 1] == c) {
            st = sbuf_put(rt, &b, &c, 1);
            i++;
        } else if (c == '{') {
            const char *end = memchr(s + i, '}', fmt->len - i);
            if (!end) st = rt_fail(rt, "single '{' encountered in format string");
            else {
                st = format_field(rt, s + i + 1, (size_t)(end - s - i - 1), &auto_i, args, n_args, kw_names,
                                  kw_vals, n_kw, &b);
                i = (size_t)(end - s);
            }
        } else if (c == '}') {
            st = rt_fail(rt, "single '}' encountered in format string");
        } else {
            st = sbuf_put(rt, &b, &c, 1);
        }
    }
    if (st) {
        free(b.p);
        return st;
    }
    return sbuf_to_val(rt, &b, out);
}
