/*
 * fuzz_safetensors.c — libFuzzer harness for the safetensors reader
 * (src/format/safetensors.c). The input is a whole file, parsed in place
 * with st_parse. A refused file has a message naming it; an accepted one
 * has every tensor inside the data section, n_bytes = elements x dtype
 * size, found again by name, in name order, no two overlapping, and its
 * first and last byte readable. Seeds: make_seeds.py (tiny valid files);
 * dictionary safetensors.dict.
 */
#include "fuzz_common.h"

#include "safetensors.h"

static volatile uint64_t st_sink; /* keeps the reads from being optimised out */

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    struct st_file *f = NULL;
    struct ember_err err = {0};
    if (st_parse(data, size, "fuzz.safetensors", &f, &err) != EMBER_OK) {
        FUZZ_CHECK(!f && !strncmp(err.msg, "fuzz.safetensors", 16), "refusal without the path: %s",
                   err.msg);
        return 0;
    }
    uint64_t hlen;
    memcpy(&hlen, data, 8);
    const uint8_t *lo = data + 8 + hlen, *hi = data + size;
    const struct st_tensor *prev = NULL;
    for (int64_t i = 0; i < st_n_tensors(f); i++) {
        const struct st_tensor *t = st_tensor(f, i);
        const uint8_t *p = t->data;
        FUZZ_CHECK(p >= lo && p <= hi && t->n_bytes <= (uint64_t)(hi - p), "tensor %s outside the data",
                   t->name);
        FUZZ_CHECK(t->n_bytes == t->n_elems * st_dtype_size(t->dtype), "tensor %s size", t->name);
        FUZZ_CHECK(st_find(f, t->name) == t, "tensor %s not found by name", t->name);
        FUZZ_CHECK(!prev || strcmp(prev->name, t->name) < 0, "tensors out of name order");
        if (t->n_bytes) st_sink += p[0] + p[t->n_bytes - 1];
        for (int64_t j = 0; j < i; j++) { /* quadratic, but headers here are small */
            const struct st_tensor *u = st_tensor(f, j);
            bool apart = !t->n_bytes || !u->n_bytes || t->offset + t->n_bytes <= u->offset ||
                         u->offset + u->n_bytes <= t->offset;
            FUZZ_CHECK(apart, "tensors %s and %s overlap", t->name, u->name);
        }
        prev = t;
    }
    st_close(f);
    return 0;
}
