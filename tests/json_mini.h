/*
 * json_mini.h — just enough JSON reading for the reference files the tests
 * compare against (written by Python's json module): find a key after a
 * position, read the string or the numbers (nested arrays flattened) that
 * follow it. Not a general parser; the files are ours and trusted.
 */
#ifndef EMBER_JSON_MINI_H
#define EMBER_JSON_MINI_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *json_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* Append code point v as UTF-8. */
static inline char *json_put_utf8(char *o, unsigned v) {
    if (v < 0x80) *o++ = (char)v;
    else if (v < 0x800) *o++ = (char)(0xc0 | v >> 6), *o++ = (char)(0x80 | (v & 63));
    else *o++ = (char)(0xe0 | v >> 12), *o++ = (char)(0x80 | ((v >> 6) & 63)), *o++ = (char)(0x80 | (v & 63));
    return o;
}

/* The string value after "key" following *p (malloc'd), advancing *p past
 * it; NULL if the key does not occur. Surrogate pairs are not combined. */
static inline char *json_string_after(const char **p, const char *key) {
    const char *s = strstr(*p, key);
    if (!s) return NULL;
    s = strchr(s + strlen(key), '"') + 1;
    char *out = malloc(strlen(s) + 1), *o = out;
    while (*s && *s != '"') {
        if (*s != '\\') { *o++ = *s++; continue; }
        switch (*++s) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'u':
            o = json_put_utf8(o, (unsigned)strtoul((char[5]){s[1], s[2], s[3], s[4], 0}, NULL, 16));
            s += 4;
            break;
        default: *o++ = *s; break;
        }
        s++;
    }
    *o = 0;
    *p = s + 1;
    return out;
}

/* The numbers of the array after "key" following *p, into out (at most max
 * kept); returns the count, -1 if absent; advances *p past the array. */
static inline int json_numbers_after(const char **p, const char *key, double *out, int max) {
    const char *s = strstr(*p, key);
    if (!s) return -1;
    s = strchr(s, '[');
    int depth = 0, n = 0;
    while (*s) {
        if (*s == '[') depth++, s++;
        else if (*s == ']') { s++; if (--depth == 0) break; }
        else if (*s == ',' || *s == ' ' || *s == '\n') s++;
        else {
            char *e;
            double v = strtod(s, &e);
            if (e == s) return -1;
            if (n < max) out[n] = v;
            n++;
            s = e;
        }
    }
    *p = s;
    return n;
}

#endif
