/*
 * loader.c — the shared model-opening step of the CLI commands (loader.h).
 */
#include "loader.h"

#include <string.h>

#include "args.h"
#include "os.h"

int loader_report(const struct ember_err *err) {
    cli_error("%s", err->msg);
    return EXIT_RUNTIME;
}

int loader_open(const char *path, const struct ember_options *o, bool with_tokenizer,
                struct loaded *l) {
    struct ember_err err = {0};
    double t0 = os_now_ms();
    memset(l, 0, sizeof *l);
    if (ember_backend_new(o, &l->be, &err)) return loader_report(&err);
    if (gguf_open(path, &l->gguf, &err)) {
        loader_close(l);
        return loader_report(&err);
    }
    struct weight_source src = weight_source_gguf(l->gguf);
    if (model_load(&src, l->be, &l->model, &err) ||
        (with_tokenizer && tokenizer_load(l->gguf, &l->tok, &err))) {
        loader_close(l);
        return loader_report(&err);
    }
    int n_vocab = model_get_info(l->model)->n_vocab;
    if (with_tokenizer && tokenizer_n_vocab(l->tok) != n_vocab) {
        int nt = tokenizer_n_vocab(l->tok);
        loader_close(l);
        cli_error("%s: vocabulary has %d tokens but the embedding has %d rows", path, nt, n_vocab);
        return EXIT_RUNTIME;
    }
    l->load_ms = os_now_ms() - t0;
    return 0;
}

void loader_close(struct loaded *l) {
    tokenizer_free(l->tok);
    model_free(l->model);
    gguf_close(l->gguf);
    ember_backend_free(l->be);
    memset(l, 0, sizeof *l);
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t loader_fingerprint(const struct loaded *l) {
    uint64_t h = 0xcbf29ce484222325ull, size = gguf_file_size(l->gguf);
    h = fnv(h, &size, sizeof size);
    for (int64_t i = 0; i < gguf_n_tensors(l->gguf); i++) {
        const struct gguf_tensor *t = gguf_tensor(l->gguf, i);
        h = fnv(h, t->name.p, t->name.len);
        h = fnv(h, &t->type, sizeof t->type);
        h = fnv(h, t->ne, sizeof t->ne);
        h = fnv(h, &t->offset, sizeof t->offset);
        size_t k = t->n_bytes < 64 ? (size_t)t->n_bytes : 64;
        h = fnv(h, t->data, k);
        h = fnv(h, (const unsigned char *)t->data + t->n_bytes - k, k);
    }
    return h;
}
