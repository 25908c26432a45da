/*
 * fuzz_hf.c — libFuzzer harness for the JSON files of a Hugging Face
 * directory. Byte 0 picks the file, the rest is its text:
 *   even: tokenizer.json, through tokenizer_load_hf; when accepted, a
 *         fixed text and the input's own bytes are encoded (every id in
 *         range) and decoded;
 *   odd:  config.json, written into a temporary directory beside a tiny
 *         valid model.safetensors, through hf_open; when accepted, the
 *         translated metadata and tensors are read back and, when the
 *         shapes agree, the model is loaded.
 * Refusals must carry a message. Seeds: make_seeds.py; dictionary hf.dict.
 */
#include "fuzz_common.h"

#include "backend.h"
#include "model.h"
#include "tokenizer.h"
#include "tool_options.h"
#include "weights_hf.h"

static char hf_dir[64];
static struct ember_backend *hf_be;

/* A one-layer llama (hidden 8, ff 16, vocab 16, 2 heads, 1 KV head), F32. */
static void hf_write_model(void) {
    static const struct { const char *name; int rows, cols; } t[] = {
        {"model.embed_tokens.weight", 16, 8}, {"model.norm.weight", 1, 8},
        {"model.layers.0.input_layernorm.weight", 1, 8},
        {"model.layers.0.post_attention_layernorm.weight", 1, 8},
        {"model.layers.0.self_attn.q_proj.weight", 8, 8}, {"model.layers.0.self_attn.k_proj.weight", 4, 8},
        {"model.layers.0.self_attn.v_proj.weight", 4, 8}, {"model.layers.0.self_attn.o_proj.weight", 8, 8},
        {"model.layers.0.mlp.gate_proj.weight", 16, 8}, {"model.layers.0.mlp.up_proj.weight", 16, 8},
        {"model.layers.0.mlp.down_proj.weight", 8, 16},
    };
    char hdr[4096];
    size_t n = 0, off = 0;
    n += (size_t)snprintf(hdr + n, sizeof hdr - n, "{");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t bytes = (size_t)t[i].rows * (size_t)t[i].cols * 4;
        if (t[i].rows == 1)
            n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],"
                                  "\"data_offsets\":[%zu,%zu]}", i ? "," : "", t[i].name, t[i].cols, off,
                                  off + bytes);
        else
            n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%d,%d],"
                                  "\"data_offsets\":[%zu,%zu]}", i ? "," : "", t[i].name, t[i].rows,
                                  t[i].cols, off, off + bytes);
        off += bytes;
    }
    n += (size_t)snprintf(hdr + n, sizeof hdr - n, "}");
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", hf_dir);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f, "cannot write %s", path);
    uint64_t len = n;
    fwrite(&len, 8, 1, f);
    fwrite(hdr, 1, n, f);
    float x = 0.01f;
    for (size_t i = 0; i < off / 4; i++) fwrite(&x, 4, 1, f);
    fclose(f);
}

/* Remove the temporary directory at exit. */
static void hf_cleanup(void) {
    static const char *const names[] = {"config.json", "model.safetensors"};
    char path[128];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", hf_dir, names[i]);
        unlink(path);
    }
    rmdir(hf_dir);
}

int FUZZ_INIT(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (hf_dir[0]) return 0;
    snprintf(hf_dir, sizeof hf_dir, "/tmp/ember-fuzz-hf-XXXXXX");
    FUZZ_CHECK(mkdtemp(hf_dir), "mkdtemp");
    atexit(hf_cleanup);
    hf_write_model();
    struct ember_options o;
    struct ember_err err = {0};
    tool_options_init(&o);
    FUZZ_CHECK(ember_backend_new(&o, &hf_be, &err) == EMBER_OK, "backend: %s", err.msg);
    return 0;
}

static void hf_tokenizer(const char *text, size_t len) {
    struct tokenizer *t = NULL;
    struct ember_err err = {0};
    struct tokenizer_hf_hints h = {.bos = -1, .eos = -1, .add_bos = -1, .add_eos = -1, .n_vocab = 40};
    if (tokenizer_load_hf(text, len, &h, &t, &err) != EMBER_OK) {
        FUZZ_CHECK(!t && err.msg[0], "refusal without a message");
        return;
    }
    const char *probes[2] = {"Hello world <s> \xe2\x96\x81x \xff", text};
    size_t lens[2] = {strlen(probes[0]), len < 4096 ? len : 4096};
    for (int k = 0; k < 2; k++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (tokenizer_encode(t, probes[k], lens[k], true, true, &ids, &n, &err) == EMBER_OK) {
            for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(ids[i] >= 0 && ids[i] < tokenizer_n_vocab(t), "id %d out of range", ids[i]);
            char *s = NULL;
            size_t sl;
            if (tokenizer_decode(t, ids, n, true, &s, &sl, &err) == EMBER_OK) free(s);
        }
        free(ids);
    }
    tokenizer_free(t);
}

static void hf_config(const char *text, size_t len) {
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", hf_dir);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f, "cannot write %s", path);
    fwrite(text, 1, len, f);
    fclose(f);
    struct hf_model *h = NULL;
    struct ember_err err = {0};
    if (hf_open(hf_dir, &h, &err) != EMBER_OK) {
        FUZZ_CHECK(!h && err.msg[0], "refusal without a message");
        return;
    }
    struct weight_source src = weight_source_hf(h);
    char val[64];
    for (int i = 0; hf_meta_at(h, i, val, sizeof val); i++) continue;
    for (int64_t i = 0; i < src.ops->n_tensors(src.impl); i++) {
        struct weight_desc d;
        src.ops->tensor_at(src.impl, i, &d);
        FUZZ_CHECK(d.n_dims >= 1 && d.n_dims <= 2 && d.data, "tensor %lld", (long long)i);
    }
    struct model *m = NULL;
    if (model_load(&src, hf_be, &m, &err) == EMBER_OK) model_free(m);
    hf_close(h);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    if (!hf_dir[0]) FUZZ_INIT(NULL, NULL);
    if (size < 1) return 0;
    if (data[0] & 1) hf_config((const char *)data + 1, size - 1);
    else hf_tokenizer((const char *)data + 1, size - 1);
    return 0;
}
