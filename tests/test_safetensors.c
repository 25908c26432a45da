/*
 * test_safetensors.c — the safetensors reader (src/format/safetensors.c) on
 * files built in memory: a valid one read back exactly (names, dtypes,
 * shapes, data pointers, metadata), then one broken header per rule the
 * reader promises to enforce, each refused with its status and a message
 * that names the fault, and every truncation of the valid file refused.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "safetensors.h"

/* A file: u64 header length, the header, then data_len bytes of data
 * (byte i of the data is i & 0xff). hlen_override, when nonzero, replaces
 * the length field. */
static unsigned char *make(const char *header, size_t data_len, uint64_t hlen_override,
                           size_t *size) {
    uint64_t hlen = strlen(header);
    *size = 8 + hlen + data_len;
    unsigned char *b = malloc(*size);
    uint64_t field = hlen_override ? hlen_override : hlen;
    memcpy(b, &field, 8);
    memcpy(b + 8, header, hlen);
    for (size_t i = 0; i < data_len; i++) b[8 + hlen + i] = (unsigned char)i;
    return b;
}

/* Parse; return the status and (when the test wants it) the message. */
static enum ember_status parse(const char *header, size_t data_len, uint64_t hlen,
                               struct ember_err *err) {
    size_t n;
    unsigned char *b = make(header, data_len, hlen, &n);
    struct st_file *f = NULL;
    memset(err, 0, sizeof *err);
    enum ember_status st = st_parse(b, n, "t.safetensors", &f, err);
    if (!st != (f != NULL)) st = (enum ember_status)99; /* *out must match the status */
    st_close(f);
    free(b);
    return st;
}

#define REFUSED(want, substr, header, data_len, hlen, what)                               \
    do {                                                                                  \
        struct ember_err e_;                                                              \
        enum ember_status s_ = parse(header, data_len, hlen, &e_);                        \
        CHECK(s_ == (want) && strstr(e_.msg, substr) && strstr(e_.msg, "t.safetensors"), \
              "%s: refused (%s)", what, e_.msg);                                          \
    } while (0)

#define VALID                                                                                \
    "{\"__metadata__\":{\"format\":\"pt\"},"                                                 \
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"                      \
    "\"b.weight\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"               \
    "\"c\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[32,36]},"                        \
    "\"empty\":{\"dtype\":\"F16\",\"shape\":[0,5],\"data_offsets\":[36,36]}}"

static void valid_file(void) {
    size_t n;
    unsigned char *b = make(VALID, 36, 0, &n);
    struct st_file *f = NULL;
    struct ember_err err = {0};
    CHECK(st_parse(b, n, "t.safetensors", &f, &err) == EMBER_OK, "valid file parses %s", err.msg);
    if (!f) {
        free(b);
        return;
    }
    const unsigned char *data = b + 8 + strlen(VALID);
    CHECK(st_n_tensors(f) == 4, "4 tensors (metadata is not one): %lld", (long long)st_n_tensors(f));
    const struct st_tensor *a = st_find(f, "a"), *w = st_find(f, "b.weight"), *c = st_find(f, "c"),
                           *e = st_find(f, "empty");
    CHECK(a && a->dtype == ST_F32 && a->n_dims == 2 && a->shape[0] == 2 && a->shape[1] == 3 &&
              a->n_elems == 6 && a->n_bytes == 24 && a->data == data,
          "F32 [2,3] at data offset 0");
    CHECK(w && w->dtype == ST_BF16 && w->n_dims == 1 && w->n_elems == 4 && w->data == data + 24 &&
              ((const unsigned char *)w->data)[0] == 24,
          "BF16 [4] at data offset 24, pointing at the right bytes");
    CHECK(c && c->dtype == ST_I32 && c->n_dims == 0 && c->n_elems == 1 && c->data == data + 32,
          "a scalar (shape []) is one element");
    CHECK(e && e->n_elems == 0 && e->n_bytes == 0, "a zero-size tensor is allowed");
    CHECK(!st_find(f, "b") && !st_find(f, "__metadata__") && !st_find(f, "zz"),
          "lookups of absent names fail");
    CHECK(st_metadata(f, "format") && !strcmp(st_metadata(f, "format"), "pt") &&
              !st_metadata(f, "other"),
          "__metadata__ strings are readable");
    CHECK(strcmp(st_tensor(f, 0)->name, st_tensor(f, 1)->name) < 0 && !st_tensor(f, 4),
          "tensors come in name order, index past the end is NULL");
    CHECK(!strcmp(st_dtype_name(ST_BF16), "BF16") && st_dtype_size(ST_I64) == 8, "dtype names");
    st_close(f);

    /* every truncation is refused, never read past */
    int refused = 0;
    for (size_t k = 0; k < n; k++) {
        f = NULL;
        if (st_parse(b, k, "t.safetensors", &f, &err) != EMBER_OK && !f) refused++;
        st_close(f);
    }
    CHECK(refused == (int)n, "all %zu truncations refused (%d)", n, refused);
    free(b);
}

int main(void) {
    valid_file();
    struct ember_err e;
    CHECK(parse("{}", 0, 0, &e) == EMBER_OK, "a header with no tensors is valid");

    REFUSED(EMBER_ECORRUPT, "past the end", VALID, 30, 0, "truncated data");
    REFUSED(EMBER_ECORRUPT, "overlap",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]}}",
            24, 0, "overlapping offsets");
    REFUSED(EMBER_ECORRUPT, "overlap",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8, 0, "two tensors on the same bytes");
    REFUSED(EMBER_EUNSUPPORTED, "F8_E4M3",
            "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4, 0,
            "unknown dtype");
    REFUSED(EMBER_ECORRUPT, "by its shape",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, 0,
            "shape x dtype size != byte length");
    REFUSED(EMBER_ECORRUPT, "over the limit", "{}", 0, (uint64_t)1 << 63, "header length 2^63");
    REFUSED(EMBER_ECORRUPT, "over the limit", "{}", 0, (uint64_t)200 << 20,
            "header length 200 MB");
    REFUSED(EMBER_ECORRUPT, "runs past the end", "{}", 0, 4096, "header length past the file");
    REFUSED(EMBER_ECORRUPT, "header:", "{\"a\": nope}", 0, 0, "header not JSON");
    REFUSED(EMBER_ECORRUPT, "header:", "{\"a\":{\"dtype\":\"F32\",}}", 0, 0,
            "trailing comma in the header");
    REFUSED(EMBER_ECORRUPT, "not a JSON object", "[1, 2, 3]", 0, 0, "header not an object");
    REFUSED(EMBER_ECORRUPT, "not a JSON object", "", 0, 0, "zero-length header");
    REFUSED(EMBER_ECORRUPT, "header:", "{\"a\":1}   \x01", 0, 0, "control byte in the padding");
    struct st_file *f = NULL;
    CHECK(st_parse("\x02\0\0\0", 4, "t.safetensors", &f, &e) == EMBER_ECORRUPT && !f &&
              strstr(e.msg, "too short"),
          "4-byte file: refused (%s)", e.msg);
    REFUSED(EMBER_ECORRUPT, "appears twice",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            8, 0, "duplicate tensor name");
    REFUSED(EMBER_ECORRUPT, "unknown field",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, 0,
            "unknown member in an entry");
    REFUSED(EMBER_ECORRUPT, "non-negative",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, 0,
            "negative dim");
    REFUSED(EMBER_ECORRUPT, "non-negative",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, 0,
            "fractional dim");
    REFUSED(EMBER_ECORRUPT, "overflows",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}",
            4, 0, "shape whose size overflows");
    REFUSED(EMBER_EUNSUPPORTED, "5 dims",
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, 0,
            "five dims");
    REFUSED(EMBER_ECORRUPT, "begin <= end",
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,2]}}", 4, 0,
            "begin after end");
    REFUSED(EMBER_ECORRUPT, "begin <= end",
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 4, 0,
            "one offset only");
    REFUSED(EMBER_ECORRUPT, "no dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, 0,
            "missing dtype");
    REFUSED(EMBER_ECORRUPT, "not a JSON object", "{\"a\":[1]}", 0, 0, "entry not an object");
    REFUSED(EMBER_ECORRUPT, "is not a string", "{\"__metadata__\":{\"format\":1}}", 0, 0,
            "metadata value not a string");
    REFUSED(EMBER_ECORRUPT, "empty or holds a NUL",
            "{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, 0,
            "tensor name with a NUL byte");
    return CHECK_DONE();
}
