/*
 * test_gguf.c — the GGUF reader on the real stories260K file (metadata and
 * tensor table as the gguf Python package reports them) and on hand-built
 * hostile files: every corruption must be refused with EMBER_ECORRUPT (or
 * EUNSUPPORTED) and a message, never a crash. Also truncates the real file at
 * every offset of its header.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gguf.h"

#define MODEL "tests/data/models/stories260K.gguf"

static char tmp_path[64];

static void write_file(const void *p, size_t n) {
    FILE *f = fopen(tmp_path, "wb");
    if (!f) abort();
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}

/* ---- a tiny GGUF writer for hand-made files ---- */
struct buf { uint8_t d[4096]; size_t n; };
static void put(struct buf *b, const void *p, size_t n) { memcpy(b->d + b->n, p, n); b->n += n; }
static void u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void u64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void str(struct buf *b, const char *s) { u64(b, strlen(s)); put(b, s, strlen(s)); }

/* A valid file: one u32 kv, one F32 tensor of 8 values. Fields can be
 * overridden to build a specific corruption. */
struct spec {
    uint32_t version, n_dims, type;
    uint64_t n_tensors, n_kv, dim0, dim1, offset, key_len;
    const char *name2; /* a second tensor's name, or NULL */
};

static struct spec good(void) {
    struct spec s = {3, 1, 0, 1, 1, 8, 1, 0, 0, NULL};
    return s;
}

static size_t build(struct buf *b, struct spec s) {
    b->n = 0;
    put(b, "GGUF", 4);
    u32(b, s.version);
    u64(b, s.n_tensors);
    u64(b, s.n_kv);
    if (s.key_len) u64(b, s.key_len), put(b, "general.x", 9);
    else str(b, "general.x");
    u32(b, 4); /* u32 */
    u32(b, 7);
    for (int t = 0; t < (s.name2 ? 2 : 1); t++) {
        str(b, t ? s.name2 : "w");
        u32(b, s.n_dims);
        u64(b, s.dim0);
        for (uint32_t d = 1; d < s.n_dims && d < 8; d++) u64(b, s.dim1);
        u32(b, s.type);
        u64(b, t ? s.offset + 32 : s.offset);
    }
    while (b->n % 32) b->d[b->n++] = 0;
    for (int i = 0; i < 128; i++) b->d[b->n++] = 0; /* 128 bytes of tensor data */
    return b->n;
}

static enum ember_status try_open(const void *p, size_t n, struct ember_err *err) {
    struct gguf_file *f = NULL;
    write_file(p, n);
    enum ember_status st = gguf_open(tmp_path, &f, err);
    gguf_close(f);
    return st;
}

static void expect_bad(const char *what, struct spec s) {
    struct buf b;
    struct ember_err err = {0};
    size_t n = build(&b, s);
    enum ember_status st = try_open(b.d, n, &err);
    CHECK(st != EMBER_OK && err.msg[0], "refuses %s: %s", what, err.msg);
}

static void hostile(void) {
    struct buf b;
    struct ember_err err = {0};
    struct spec s = good();
    size_t n = build(&b, s);
    CHECK(try_open(b.d, n, &err) == EMBER_OK, "hand-built file opens %s", err.msg);

    s = good(); s.version = 4; expect_bad("version 4", s);
    s = good(); s.version = 1; expect_bad("version 1", s);
    s = good(); s.n_tensors = UINT64_MAX; expect_bad("n_tensors 2^64-1", s);
    s = good(); s.n_tensors = 1ull << 31; expect_bad("n_tensors 2^31", s);
    s = good(); s.n_kv = UINT64_MAX; expect_bad("n_kv 2^64-1", s);
    s = good(); s.n_kv = 2; expect_bad("n_kv larger than present", s);
    s = good(); s.key_len = UINT64_MAX; expect_bad("key length 2^64-1", s);
    s = good(); s.key_len = 1ull << 40; expect_bad("key length past the end", s);
    s = good(); s.n_dims = 0; expect_bad("n_dims 0", s);
    s = good(); s.n_dims = 5; expect_bad("n_dims 5", s);
    s = good(); s.dim0 = 0; expect_bad("dimension 0", s);
    s = good(); s.dim0 = (uint64_t)1 << 63; expect_bad("dimension 2^63", s);
    s = good(); s.n_dims = 4; s.dim0 = 1ull << 32; s.dim1 = 1ull << 32; expect_bad("element count overflow", s);
    s = good(); s.type = 99; expect_bad("unknown type id 99", s);
    s = good(); s.type = 0xFFFFFFFFu; expect_bad("type id 2^32-1", s);
    s = good(); s.type = 16; expect_bad("unsupported type IQ2_XXS", s);
    s = good(); s.type = 2; expect_bad("Q4_0 row of 8 values (not a block multiple)", s);
    s = good(); s.offset = 4; expect_bad("misaligned offset", s);
    s = good(); s.offset = 128; expect_bad("offset past the end", s);
    s = good(); s.offset = UINT64_MAX - 31; expect_bad("offset + size overflow", s);
    s = good(); s.name2 = "w"; s.n_tensors = 2; expect_bad("duplicate tensor name", s);
    s = good(); s.name2 = "v"; s.n_tensors = 2; s.dim0 = 16; s.offset = 0; expect_bad("overlapping tensors", s);

    const char *html = "<!DOCTYPE html><html><body>Not found</body></html>";
    CHECK(try_open(html, strlen(html), &err) && strstr(err.msg, "HTML"), "HTML page named: %s", err.msg);
    const char *lfs = "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n";
    CHECK(try_open(lfs, strlen(lfs), &err) && strstr(err.msg, "LFS"), "git-LFS pointer named: %s", err.msg);
    CHECK(try_open("lmgg\1\0\0\0", 8, &err) && strstr(err.msg, "GGML"), "old GGML file named: %s", err.msg);
    CHECK(try_open("", 0, &err) && strstr(err.msg, "empty"), "empty file: %s", err.msg);
    CHECK(gguf_open("tests/data", &(struct gguf_file *){0}, &err) == EMBER_EIO, "directory: %s", err.msg);
    CHECK(gguf_open("tests/data/nonexistent.gguf", &(struct gguf_file *){0}, &err) == EMBER_EIO,
          "missing file: %s", err.msg);
}

static void real_file(void) {
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    CHECK(gguf_open(MODEL, &f, &err) == EMBER_OK, "opens %s %s", MODEL, err.msg);
    if (!f) return;
    struct gguf_str s;
    uint32_t u;
    CHECK(gguf_version(f) == 3, "version 3");
    CHECK(gguf_get_str(f, "general.architecture", &s) && gguf_str_eq(s, "llama"), "architecture llama");
    CHECK(gguf_get_u32(f, "llama.embedding_length", &u) && u == 64, "embedding_length 64");
    CHECK(gguf_get_u32(f, "llama.block_count", &u) && u == 5, "block_count 5");
    int64_t tk = gguf_find_key(f, "tokenizer.ggml.tokens");
    CHECK(tk >= 0 && gguf_arr_len(f, tk) == 512, "512 tokens");
    s = gguf_arr_str(f, tk, 1);
    CHECK(gguf_str_eq(s, "<s>"), "token 1 is <s>");
    CHECK(gguf_n_tensors(f) == 48, "48 tensors");
    const struct gguf_tensor *t = gguf_find_tensor(f, "blk.4.ffn_down.weight");
    CHECK(t && t->ne[0] == 172 && t->ne[1] == 64 && t->type == 0, "ffn_down is F32 [172, 64]");
    CHECK(gguf_find_tensor(f, "nope") == NULL, "absent tensor is NULL");
    /* Truncate at every byte of the header and metadata: all must fail. */
    uint64_t hdr = gguf_data_offset(f), size = gguf_file_size(f);
    FILE *in = fopen(MODEL, "rb");
    uint8_t *all = malloc(size);
    if (!in || fread(all, 1, size, in) != size) abort();
    fclose(in);
    int bad = 0;
    for (uint64_t cut = 0; cut < hdr; cut++) {
        struct ember_err e2 = {0};
        if (try_open(all, cut, &e2) == EMBER_OK || !e2.msg[0]) bad++;
    }
    CHECK(bad == 0, "truncated at each of %llu header offsets: all refused (%d accepted)",
          (unsigned long long)hdr, bad);
    bad = 0;
    for (int k = 1; k <= 50; k++) {
        struct ember_err e2 = {0};
        if (try_open(all, hdr + (size - hdr) * (uint64_t)k / 51, &e2) == EMBER_OK) bad++;
    }
    CHECK(bad == 0, "truncated at 50 offsets in the data: all refused");
    free(all);
    gguf_close(f);
}

int main(void) {
    snprintf(tmp_path, sizeof tmp_path, "/tmp/ember-test-gguf-%d.gguf", (int)getpid());
    real_file();
    hostile();
    unlink(tmp_path);
    return CHECK_DONE();
}
