/*
 * fuzz_model.c — libFuzzer harness for model loading (models/model.c,
 * models/llama.c): hyper-parameter validation and tensor binding on fuzzed
 * GGUF bytes, the tokenizer built from the same file, and — when all of it
 * is accepted, as `ember run` would — a 4-token context and one forward
 * pass over two tokens, so a file that loads can also run.
 *
 * Seeds: tiny llama/qwen2 models (make_seeds.py) and tests/data's models.
 */
#include "fuzz_common.h"

#include "engine.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"

static struct ember_backend *model_be;

int FUZZ_INIT(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    struct ember_err err = {0};
    if (test_backend(&model_be, &err)) {
        fprintf(stderr, "fuzz_model: %s\n", err.msg);
        abort();
    }
    return 0;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    if (!model_be) FUZZ_INIT(NULL, NULL);
    const char *path = fuzz_file(data, size);
    struct gguf_file *f = NULL;
    struct ember_err err = {0};
    if (gguf_open(path, &f, &err)) return 0;
    struct model *m = NULL;
    struct tokenizer *t = NULL;
    if (test_load(f, model_be, &m, &err) == EMBER_OK) {
        const struct model_info *in = model_get_info(m);
        FUZZ_CHECK(in->n_layer >= 1 && in->n_embd >= 1 && in->n_head >= 1 &&
                       in->n_head_kv >= 1 && in->n_head % in->n_head_kv == 0 &&
                       in->n_vocab >= 1 && in->head_dim >= 2,
                   "accepted bad hyper-parameters");
        if (tokenizer_load(f, &t, &err) == EMBER_OK && tokenizer_n_vocab(t) == in->n_vocab) {
            struct model_ctx *c = NULL;
            if (test_ctx(m, 4, 1, &c, &err) == EMBER_OK) {
                float *logits = malloc((size_t)in->n_vocab * 2 * sizeof *logits);
                int32_t toks[2] = {0, in->n_vocab - 1};
                FUZZ_CHECK(logits, "oom");
                FUZZ_CHECK(test_eval(c, toks, 2, 0, true, logits, &err) == EMBER_OK,
                           "eval failed: %s", err.msg);
                FUZZ_CHECK(test_eval(c, toks, 1, 4, false, logits, &err) != EMBER_OK,
                           "eval past the context accepted");
                free(logits);
                model_ctx_free(c);
            }
        }
    } else {
        FUZZ_CHECK(!m && err.msg[0], "refused without a message");
    }
    tokenizer_free(t);
    model_free(m);
    gguf_close(f);
    return 0;
}
