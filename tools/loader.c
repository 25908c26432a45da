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
