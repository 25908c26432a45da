/*
 * fuzz_gguf.c — libFuzzer harness for the GGUF reader (src/format/gguf.c).
 *
 * The input is a whole file: it is opened with gguf_open and, when accepted,
 * every metadata value (scalars through each typed getter, every array
 * element, every string's bytes) and every tensor (shape, type, data range,
 * first and last data byte) is read back. Invariants checked: a refused file has a
 * message; an accepted tensor lies inside the file's data section, aligned,
 * and is found by name. Seeds: tests/data's GGUF files and tiny models from
 * make_seeds.py; dictionary gguf.dict.
 */
#include "fuzz_common.h"

#include "gguf.h"

static volatile uint64_t gguf_sink; /* keeps the reads from being optimised out */

static void gguf_touch(const void *p, uint64_t n) {
    const uint8_t *b = p;
    uint64_t h = 0;
    for (uint64_t i = 0; i < n; i++) h = h * 31 + b[i];
    gguf_sink += h;
}

static void gguf_walk_kv(const struct gguf_file *f, int64_t i) {
    struct gguf_str k = gguf_key(f, i);
    gguf_touch(k.p, k.len);
    int64_t iv;
    double dv;
    gguf_kv_i64(f, i, &iv);
    gguf_kv_f64(f, i, &dv);
    struct gguf_str s = gguf_kv_str(f, i);
    gguf_touch(s.p, s.len);
    uint64_t n = gguf_arr_len(f, i);
    if (gguf_kv_type(f, i) == GGUF_ARR) {
        for (uint64_t j = 0; j < n; j++) {
            if (gguf_arr_type(f, i) == GGUF_STR) {
                struct gguf_str e = gguf_arr_str(f, i, j);
                gguf_touch(e.p, e.len);
            } else {
                double d = gguf_arr_f64(f, i, j);
                uint64_t bits;
                memcpy(&bits, &d, sizeof bits);
                gguf_sink += (uint64_t)gguf_arr_i64(f, i, j) + bits;
            }
        }
        gguf_arr_str(f, i, n); /* one past the end: must be empty, not a read */
        gguf_arr_i64(f, i, n);
    }
    /* typed getters by name; a NUL inside the key just misses */
    char name[256];
    size_t len = k.len < sizeof name - 1 ? k.len : sizeof name - 1;
    memcpy(name, k.p, len);
    name[len] = 0;
    uint32_t u;
    float fl;
    bool b;
    gguf_get_i64(f, name, &iv);
    gguf_get_u32(f, name, &u);
    gguf_get_f32(f, name, &fl);
    gguf_get_bool(f, name, &b);
    if (gguf_get_str(f, name, &s)) gguf_touch(s.p, s.len);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    struct gguf_file *f = NULL;
    struct ember_err err = {0};
    if (gguf_open(path, &f, &err) != EMBER_OK) {
        FUZZ_CHECK(f == NULL && err.msg[0], "refused without a message");
        return 0;
    }
    uint64_t fsize = gguf_file_size(f), doff = gguf_data_offset(f), align = gguf_alignment(f);
    FUZZ_CHECK(fsize == size, "file size %llu != %zu", (unsigned long long)fsize, size);
    FUZZ_CHECK(align && (align & (align - 1)) == 0, "alignment %llu", (unsigned long long)align);
    for (int64_t i = 0; i < gguf_n_kv(f); i++) gguf_walk_kv(f, i);
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const struct gguf_tensor *t = gguf_tensor(f, i);
        FUZZ_CHECK(t && t->n_dims >= 1 && t->n_dims <= 4, "n_dims");
        FUZZ_CHECK(t->offset % align == 0, "misaligned tensor");
        FUZZ_CHECK(doff <= fsize && t->offset <= fsize - doff &&
                       t->n_bytes <= fsize - doff - t->offset,
                   "tensor %lld outside the file", (long long)i);
        /* first and last byte: the range check above is the real test */
        gguf_touch(t->data, 1);
        gguf_touch((const uint8_t *)t->data + t->n_bytes - 1, 1);
        char name[80];
        FUZZ_CHECK(t->name.len < sizeof name, "tensor name length");
        memcpy(name, t->name.p, t->name.len);
        name[t->name.len] = 0;
        if (!memchr(t->name.p, 0, t->name.len))
            FUZZ_CHECK(gguf_find_tensor(f, name) == t, "tensor not found by its name");
    }
    FUZZ_CHECK(gguf_tensor(f, -1) == NULL && gguf_tensor(f, gguf_n_tensors(f)) == NULL,
               "tensor index out of range");
    gguf_find_tensor(f, "token_embd.weight");
    gguf_close(f);
    return 0;
}
