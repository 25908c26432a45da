/*
 * fuzz_json.c — libFuzzer harness for the strict JSON reader
 * (src/format/json.c) over arbitrary bytes. A parse either fails with a
 * message naming a byte offset inside the input, or gives a tree whose
 * every string is valid UTF-8, NUL-terminated at its length, and whose
 * nesting stays within JSON_MAX_DEPTH.
 */
#include "fuzz_common.h"

#include "json.h"

static int json_utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

static void json_walk(const struct json_value *v, int depth) {
    FUZZ_CHECK(depth <= JSON_MAX_DEPTH + 1, "tree deeper than the limit");
    if (v->type == JSON_STRING)
        FUZZ_CHECK(v->str[v->len] == 0 && json_utf8_ok((const unsigned char *)v->str, v->len), "bad string");
    for (size_t i = 0; v->type == JSON_ARRAY && i < v->len; i++) json_walk(&v->items[i], depth + 1);
    for (size_t i = 0; v->type == JSON_OBJECT && i < v->len; i++) {
        const struct json_member *m = &v->members[i];
        FUZZ_CHECK(m->key[m->key_len] == 0 && json_utf8_ok((const unsigned char *)m->key, m->key_len), "bad key");
        FUZZ_CHECK(json_get(v, m->key) != NULL || memchr(m->key, 0, m->key_len), "key not found again");
        json_walk(&m->value, depth + 1);
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    struct json_doc *doc = NULL;
    struct ember_err err = {0};
    if (json_parse((const char *)data, size, &doc, &err) == EMBER_OK) {
        json_walk(json_root(doc), 1);
    } else {
        const char *at = strstr(err.msg, "at byte ");
        FUZZ_CHECK(at && strtoull(at + 8, NULL, 10) <= size, "error without an offset in the input: %s", err.msg);
        FUZZ_CHECK(!doc, "failed parse left a tree");
    }
    json_free(doc);
    return 0;
}
