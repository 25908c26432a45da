/*
 * json.h — a strict RFC 8259 JSON reader: text in, an owned read-only tree
 * out. Used for chat messages (ember template), and meant for safetensors
 * headers and config.json.
 *
 * Strict: one value with optional surrounding whitespace, no trailing
 * commas, comments, NaN or leading zeros; strings must be valid UTF-8 with
 * control characters escaped; \uXXXX escapes (surrogate pairs combined) are
 * decoded to UTF-8, a lone surrogate is an error. Bounded: nesting deeper
 * than JSON_MAX_DEPTH and input longer than JSON_MAX_BYTES are refused, and
 * the tree never takes more than a small multiple of the input's size.
 * Errors are EMBER_ECORRUPT with the byte offset of the fault.
 *
 * The tree is public and plain (struct json_value below), all of it owned by
 * the struct json_doc it came from: freeing the doc frees every node and
 * string. Object members keep their document order and duplicates;
 * json_get returns the last member with a key, as Python's json does.
 */
#ifndef EMBER_JSON_H
#define EMBER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"

#define JSON_MAX_DEPTH 64               /* arrays and objects nested */
#define JSON_MAX_BYTES ((size_t)1 << 30) /* input length */

enum json_type {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

struct json_member;

struct json_value {
    enum json_type type;
    /* JSON_NUMBER: is_int when the literal has no fraction or exponent and
     * fits int64 (then integer holds it exactly); num always holds it as a
     * double. */
    bool is_int;
    int64_t integer;
    double num;
    /* JSON_STRING: bytes (NUL-terminated, may hold \u0000), len bytes.
     * JSON_ARRAY: items[0..len). JSON_OBJECT: members[0..len). */
    size_t len;
    const char *str;
    const struct json_value *items;
    const struct json_member *members;
};

struct json_member {
    const char *key; /* NUL-terminated, key_len bytes */
    size_t key_len;
    struct json_value value;
};

struct json_doc;

/* Parse text[0..len). On success *out owns the tree; on failure *out is NULL
 * and err says what and at which byte. Work and memory are O(len). */
enum ember_status json_parse(const char *text, size_t len,
                             struct json_doc **out, struct ember_err *err);
void json_free(struct json_doc *doc);
const struct json_value *json_root(const struct json_doc *doc);

/* The value of the last member named key of an object; NULL when obj is
 * not an object or has no such member. */
const struct json_value *json_get(const struct json_value *obj,
                                  const char *key);

#endif
