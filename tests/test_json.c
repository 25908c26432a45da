/*
 * test_json.c — the strict JSON reader (src/format/json.c) against RFC
 * 8259: every kind of value, all escapes including surrogate pairs, number
 * forms (what stays an exact integer), duplicates, the nesting limit, and a
 * table of malformed inputs that must fail at the byte offset named in the
 * message. Python's json module agrees with each valid case (its decoding
 * is the reference for the expected bytes); the invalid ones are invalid
 * by the RFC's grammar.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"

static struct json_doc *parse(const char *s, size_t n, struct ember_err *err) {
    struct json_doc *d = NULL;
    json_parse(s, n, &d, err);
    return d;
}

static void test_values(void) {
    const char *s = " {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}, \"c\": []}\r\n";
    struct ember_err err = {0};
    struct json_doc *d = parse(s, strlen(s), &err);
    const struct json_value *r = d ? json_root(d) : NULL;
    CHECK(r && r->type == JSON_OBJECT && r->len == 3, "object with three members: %s", err.msg);
    if (!r) return;
    const struct json_value *a = json_get(r, "a");
    CHECK(a && a->type == JSON_ARRAY && a->len == 6, "array of six");
    if (!a || a->len != 6) {
        json_free(d);
        return;
    }
    CHECK(a->items[0].type == JSON_NUMBER && a->items[0].is_int && a->items[0].integer == 1, "1 is an int");
    CHECK(a->items[1].type == JSON_NUMBER && !a->items[1].is_int && a->items[1].num == -2500.0, "-2.5e3");
    CHECK(a->items[2].type == JSON_TRUE && a->items[3].type == JSON_FALSE && a->items[4].type == JSON_NULL,
          "true false null");
    CHECK(a->items[5].type == JSON_STRING && a->items[5].len == 1 && !strcmp(a->items[5].str, "x"), "\"x\"");
    const struct json_value *b = json_get(r, "b"), *c = json_get(r, "c");
    CHECK(b && b->type == JSON_OBJECT && b->len == 0 && c && c->type == JSON_ARRAY && c->len == 0,
          "empty object and array");
    CHECK(!json_get(r, "zz") && !json_get(a, "a"), "json_get: absent key, not an object");
    CHECK(!strcmp(r->members[0].key, "a") && !strcmp(r->members[2].key, "c"), "members keep document order");
    json_free(d);
}

static void test_strings(void) {
    static const struct {
        const char *json, *want;
        size_t len;
    } cases[] = {
        {"\"\\u00e9\\ud83e\\udd99\\n\\\"\\\\\\/\\b\\f\\r\\t\"", "\xc3\xa9\xf0\x9f\xa6\x99\n\"\\/\b\f\r\t", 14},
        {"\"\\u0000a\"", "\0a", 2},
        {"\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\xa6\x99\"", "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\xa6\x99", 14},
        {"\"\\uD834\\uDD1E\"", "\xf0\x9d\x84\x9e", 4},
        {"\"\\u20ac\\u0041\"", "\xe2\x82\xac" "A", 4},
        {"\"\"", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ember_err err = {0};
        struct json_doc *d = parse(cases[i].json, strlen(cases[i].json), &err);
        const struct json_value *v = d ? json_root(d) : NULL;
        CHECK(v && v->type == JSON_STRING && v->len == cases[i].len && !memcmp(v->str, cases[i].want, v->len) &&
                  v->str[v->len] == 0,
              "string %s %s", cases[i].json, err.msg);
        json_free(d);
    }
}

static void test_numbers(void) {
    static const struct {
        const char *json;
        bool is_int;
        int64_t i;
        double f;
    } cases[] = {
        {"0", true, 0, 0.0},
        {"-0", true, 0, -0.0},
        {"123456789012345678", true, 123456789012345678, 123456789012345678.0},
        {"-9223372036854775808", true, INT64_MIN, -9223372036854775808.0},
        {"9223372036854775808", false, 0, 9223372036854775808.0},
        {"1e2", false, 0, 100.0},
        {"1.5", false, 0, 1.5},
        {"-0.25E-2", false, 0, -0.0025},
        {"2.0", false, 0, 2.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ember_err err = {0};
        struct json_doc *d = parse(cases[i].json, strlen(cases[i].json), &err);
        const struct json_value *v = d ? json_root(d) : NULL;
        bool ok = v && v->type == JSON_NUMBER && v->is_int == cases[i].is_int && v->num == cases[i].f &&
                  (!v->is_int || v->integer == cases[i].i);
        CHECK(ok, "number %s %s", cases[i].json, err.msg);
        json_free(d);
    }
}

static void test_duplicates_and_depth(void) {
    struct ember_err err = {0};
    struct json_doc *d = parse("{\"a\":1,\"a\":2}", 13, &err);
    const struct json_value *r = d ? json_root(d) : NULL;
    CHECK(r && r->len == 2 && json_get(r, "a")->integer == 2, "duplicate keys kept, json_get takes the last");
    json_free(d);

    char buf[2 * JSON_MAX_DEPTH + 8];
    for (int depth = JSON_MAX_DEPTH; depth <= JSON_MAX_DEPTH + 1; depth++) {
        int n = 0;
        for (int k = 0; k < depth; k++) buf[n++] = '[';
        for (int k = 0; k < depth; k++) buf[n++] = ']';
        err.msg[0] = 0;
        d = parse(buf, (size_t)n, &err);
        if (depth == JSON_MAX_DEPTH) CHECK(d != NULL, "%d levels of nesting parse", depth);
        else CHECK(!d && strstr(err.msg, "nested deeper than 64 at byte 64"), "%d levels: %s", depth, err.msg);
        json_free(d);
    }
    /* a long flat array is fine */
    size_t n = 300000;
    char *big = malloc(2 * n + 2);
    big[0] = '[';
    for (size_t k = 0; k < n; k++) {
        big[1 + 2 * k] = '7';
        big[2 + 2 * k] = k + 1 < n ? ',' : ']';
    }
    d = parse(big, 2 * n + 1, &err);
    CHECK(d && json_root(d)->len == n && json_root(d)->items[n - 1].integer == 7, "an array of %zu numbers", n);
    json_free(d);
    free(big);
    CHECK(json_parse("1", JSON_MAX_BYTES + 1, &d, &err) == EMBER_EINVAL && !d, "input over the size limit: %s",
          err.msg);
}

static void test_invalid(void) {
    static const struct {
        const char *json, *words;
    } cases[] = {
        {"", "unexpected end of input at byte 0"},
        {"   ", "unexpected end of input at byte 3"},
        {"[1,]", "unexpected character at byte 3"},
        {"[1 2]", "expected ',' or ']' at byte 3"},
        {"{\"a\" 1}", "expected ':' at byte 5"},
        {"{'a':1}", "expected a string key at byte 1"},
        {"{\"a\":1,}", "expected a string key at byte 7"},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7"},
        {"[01]", "expected ',' or ']' at byte 2"},
        {"[1.]", "bad number at byte 1"},
        {"[.5]", "unexpected character at byte 1"},
        {"-", "bad number at byte 0"},
        {"1e", "bad number at byte 0"},
        {"+1", "unexpected character at byte 0"},
        {"1e400", "number out of range at byte 0"},
        {"NaN", "unexpected character at byte 0"},
        {"nul", "unexpected character at byte 0"},
        {"[1] 2", "trailing characters after the value at byte 4"},
        {"\"abc", "unterminated string at byte 0"},
        {"\"\\ud800\"", "lone high surrogate at byte 1"},
        {"\"\\ud800\\u0041\"", "lone high surrogate at byte 1"},
        {"\"\\udc00\"", "lone low surrogate at byte 1"},
        {"\"\\x41\"", "bad escape at byte 1"},
        {"\"\\u12G4\"", "bad \\u escape at byte 1"},
        {"\"a\nb\"", "control character in string at byte 2"},
        {"\"\xc3\x28\"", "invalid UTF-8 in string at byte 1"},
        {"\"\xc0\xaf\"", "invalid UTF-8 in string at byte 1"},
        {"\"\xed\xa0\x80\"", "invalid UTF-8 in string at byte 1"},
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string at byte 1"},
        {"\"\xe2\x82\"", "invalid UTF-8 in string at byte 1"},
        {"/* c */ 1", "unexpected character at byte 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ember_err err = {0};
        struct json_doc *d = parse(cases[i].json, strlen(cases[i].json), &err);
        CHECK(!d && err.status == EMBER_ECORRUPT && strstr(err.msg, cases[i].words), "invalid: %s -> %s",
              cases[i].words, err.msg);
        json_free(d);
    }
    /* a NUL byte inside the given length is not the end of the text */
    struct ember_err err = {0};
    struct json_doc *d = parse("[1]\0", 4, &err);
    CHECK(!d && strstr(err.msg, "trailing characters after the value at byte 3"), "embedded NUL: %s", err.msg);
}

int main(void) {
    test_values();
    test_strings();
    test_numbers();
    test_duplicates_and_depth();
    test_invalid();
    return CHECK_DONE();
}
