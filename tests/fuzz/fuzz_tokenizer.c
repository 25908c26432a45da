/*
 * fuzz_tokenizer.c — libFuzzer harness for tokenizer encode and decode
 * (src/text/tokenizer.c) over arbitrary bytes, with real vocabularies.
 *
 * Input: byte 0 picks the vocabulary (SentencePiece, byte-level BPE with
 * several pre-tokenizers, WordPiece, and the stories260K model's), byte 1
 * the flags (add_special, parse_special, render_special), the rest is the
 * text. The text is encoded (every id must be in range), decoded whole and
 * streamed token by token (the stream never reports more bytes than fit);
 * then the text's bytes, read as little-endian int16 ids (so out-of-range
 * and negative ids occur), are decoded and streamed too.
 */
#include "fuzz_common.h"

#include "gguf.h"
#include "tokenizer.h"

static const char *const tok_vocab_files[] = {
    "vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf",
    "vocab/ggml-vocab-bert-bge.gguf",  "vocab/ggml-vocab-deepseek-coder.gguf",
    "vocab/ggml-vocab-phi-3.gguf",     "vocab/ggml-vocab-mpt.gguf",
    "vocab/ggml-vocab-starcoder.gguf", "models/stories260K.gguf",
};
#define TOK_N_VOCABS (sizeof tok_vocab_files / sizeof tok_vocab_files[0])
static struct tokenizer *tok_vocabs[TOK_N_VOCABS];
static int tok_loaded;

static void tok_load_all(void) {
    if (tok_loaded) return;
    tok_loaded = 1;
    for (size_t i = 0; i < TOK_N_VOCABS; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", fuzz_data_dir(), tok_vocab_files[i]);
        struct gguf_file *f = NULL;
        struct ember_err err = {0};
        if (gguf_open(path, &f, &err) || tokenizer_load(f, &tok_vocabs[i], &err)) {
            fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, err.msg);
            abort();
        }
        gguf_close(f); /* the tokenizer keeps its own copy */
    }
}

int FUZZ_INIT(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    tok_load_all();
    return 0;
}

static void tok_stream_all(const struct tokenizer *t, const int32_t *ids, size_t n) {
    size_t cap = tokenizer_max_piece(t) + 4;
    char *buf = malloc(cap);
    FUZZ_CHECK(buf, "oom");
    struct tok_stream s;
    tok_stream_init(&s);
    for (size_t i = 0; i < n; i++) {
        size_t got = tokenizer_stream_push(t, &s, ids[i], buf, cap);
        FUZZ_CHECK(got <= cap, "stream push of id %d reported %zu bytes for a buffer of %zu",
                   ids[i], got, cap);
    }
    FUZZ_CHECK(tokenizer_stream_flush(&s, buf, cap) <= 3, "flush wrote more than 3 bytes");
    free(buf);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    tok_load_all();
    if (size < 2) return 0;
    const struct tokenizer *t = tok_vocabs[data[0] % TOK_N_VOCABS];
    bool add_special = data[1] & 1, parse_special = data[1] & 2, render = data[1] & 4;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    int32_t n_vocab = tokenizer_n_vocab(t);

    int32_t *ids = NULL;
    size_t n = 0;
    struct ember_err err = {0};
    if (tokenizer_encode(t, text, len, add_special, parse_special, &ids, &n, &err) == EMBER_OK) {
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(ids[i] >= 0 && ids[i] < n_vocab, "id %d out of range", ids[i]);
        char *out = NULL;
        size_t olen = 0;
        if (tokenizer_decode(t, ids, n, render, &out, &olen, &err) == EMBER_OK)
            FUZZ_CHECK(out[olen] == 0 && strlen(out) <= olen, "decode result not terminated");
        free(out);
        tok_stream_all(t, ids, n);
    } else {
        FUZZ_CHECK(err.msg[0], "encode failed without a message");
    }
    free(ids);

    /* arbitrary ids, in range or not */
    size_t m = len / 2;
    int32_t *raw = malloc((m ? m : 1) * sizeof *raw);
    FUZZ_CHECK(raw, "oom");
    for (size_t i = 0; i < m; i++) {
        int16_t v;
        memcpy(&v, text + 2 * i, 2);
        raw[i] = v;
        size_t pl;
        tokenizer_piece(t, v, &pl);
        tokenizer_is_eog(t, v);
        tokenizer_is_control(t, v);
    }
    char *out = NULL;
    size_t olen = 0;
    if (tokenizer_decode(t, raw, m, render, &out, &olen, &err) == EMBER_OK) free(out);
    tok_stream_all(t, raw, m);
    free(raw);
    return 0;
}
