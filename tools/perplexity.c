/*
 * perplexity.c — `ember perplexity -m FILE -f TEXT -c N`.
 *
 * Chunks the text the way llama.cpp's perplexity tool does, so the numbers
 * compare directly: the whole text is tokenized once with BOS, cut into
 * floor(n_tokens / N) chunks of N tokens, each chunk's first token replaced
 * by BOS, and only the second half of each chunk scored (positions N/2 to
 * N-2 predicting the next token), so every scored token has at least N/2
 * tokens of context. Prints the running perplexity per chunk, as llama.cpp
 * does, and the final estimate with its standard error.
 *
 * --score-all instead follows the rule of the shared Hugging Face fixtures'
 * ppl.json: the text (one final newline dropped) tokenized without BOS,
 * cut into windows of BOS + the next N-1 tokens, none overlapping, the
 * last one shorter, and every token scored exactly once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_suggest.h"
#include "tools.h"
#include "loader.h"
#include "os.h"
#include "run_opts.h"
#include "tool_options.h"

/* -log p(tok) from a row of logits: max-shifted, sum in double. */
static double nll_of(const float *logits, int n_vocab, int tok) {
    float max = logits[0];
    for (int j = 1; j < n_vocab; j++)
        if (logits[j] > max) max = logits[j];
    double sum = 0;
    for (int j = 0; j < n_vocab; j++) sum += expf(logits[j] - max);
    return -((double)(logits[tok] - max) - log(sum));
}

struct ppl_opts {
    const char *model, *file;
    long n_ctx, n_threads, n_chunks;
    bool score_all; /* ppl.json's windows: BOS + N-1 tokens, all scored */
    struct ember_options eo;
};

static const char ppl_usage[] =
    "usage: ember perplexity -m MODEL -f TEXT [-c N (512)] [-t N] [--chunks N]\n"
    "  --score-all             windows of BOS + N-1 tokens of the text (tokenized\n"
    "                          without BOS, one final newline dropped), each token\n"
    "                          scored once (instead of llama.cpp's second halves)\n"
    TOOL_OPTIONS_HELP;

static int parse_ppl(int argc, char **argv, struct ppl_opts *o) {
    o->n_ctx = 512;
    o->n_threads = default_threads();
    o->n_chunks = -1;
    tool_options_init(&o->eo);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(ppl_usage, stdout);
            exit(0);
        } else if ((r = tool_options_flag(argc, argv, &i, &o->eo))) {
            if (r != 1) return r;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(o->model = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (!(o->file = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 4, 1L << 20, &o->n_ctx))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, 256, &o->n_threads))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--score-all")) {
            o->score_all = true;
        } else if (!strcmp(a, "--chunks")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, 1L << 30, &o->n_chunks))
                return EXIT_USAGE;
        } else {
            return cli_unknown_flag("perplexity", a, ppl_usage);
        }
    }
    if (!o->model || !o->file) {
        cli_error("ember perplexity needs -m MODEL and -f TEXT");
        return EXIT_USAGE;
    }
    return 0;
}

static int score(const struct ppl_opts *o, struct loaded *l, int32_t *ids, size_t n_ids) {
    const struct model_info *mi = model_get_info(l->model);
    int n_ctx = (int)o->n_ctx, first = n_ctx / 2;
    long n_chunks = (long)(n_ids / (size_t)n_ctx);
    if (o->score_all) { /* windows of BOS + n_ctx - 1 tokens, the last shorter */
        n_chunks = (long)((n_ids + (size_t)n_ctx - 2) / (size_t)(n_ctx - 1));
        first = 0;
    }
    if (o->n_chunks > 0 && o->n_chunks < n_chunks) n_chunks = o->n_chunks;
    if (n_chunks < 1) {
        cli_error("%s has %zu tokens; perplexity with -c %d needs at least %d", o->file, n_ids,
                  n_ctx, n_ctx);
        return EXIT_RUNTIME;
    }
    struct ember_err err = {0};
    struct model_ctx *mc;
    struct model_ctx_params cp = {.n_ctx = n_ctx, .n_threads = (int)o->n_threads, .n_seq = 1,
                                  .type_k = (enum kv_type)o->eo.cache_type_k,
                                  .type_v = (enum kv_type)o->eo.cache_type_v, .kv_block = o->eo.kv_block};
    if (model_ctx_new(l->model, &cp, &mc, &err)) return loader_report(&err);
    warn_ctx_train(n_ctx, mi->n_ctx_train);
    float *logits = malloc((size_t)n_ctx * (size_t)mi->n_vocab * sizeof *logits);
    int32_t *chunk = malloc((size_t)n_ctx * sizeof *chunk);
    struct batch b;
    if (!batch_init(&b, n_ctx) || !logits || !chunk) {
        batch_free(&b);
        free(logits);
        free(chunk);
        model_ctx_free(mc);
        cli_error("out of memory");
        return EXIT_RUNTIME;
    }
    double nll = 0, nll2 = 0;
    long count = 0;
    int rc = 0;
    bool bos = tokenizer_add_bos(l->tok);
    for (long c = 0; c < n_chunks && !rc; c++) {
        int n = n_ctx;
        if (o->score_all) {
            size_t at = (size_t)c * (size_t)(n_ctx - 1), k = n_ids - at;
            if (k > (size_t)n_ctx - 1) k = (size_t)n_ctx - 1;
            chunk[0] = tokenizer_bos(l->tok);
            memcpy(chunk + 1, ids + at, k * sizeof *chunk);
            n = (int)k + 1;
        } else {
            memcpy(chunk, ids + (size_t)c * (size_t)n_ctx, (size_t)n_ctx * sizeof *chunk);
            if (bos) chunk[0] = tokenizer_bos(l->tok);
        }
        batch_set_run(&b, chunk, n, 0, 0, true);
        if (model_decode(mc, &b, logits, &err)) {
            rc = loader_report(&err);
            break;
        }
        /* the targets: the chunk's next tokens (the original ids: chunk[0]
         * may have been replaced by BOS) */
        const int32_t *src = o->score_all ? chunk : ids + (size_t)c * (size_t)n_ctx;
        for (int j = first; j < n - 1; j++) {
            double v = nll_of(logits + (size_t)j * mi->n_vocab, mi->n_vocab, src[j + 1]);
            nll += v;
            nll2 += v * v;
            count++;
        }
        printf("[%ld]%.4f,", c + 1, exp(nll / (double)count));
        out_write("", 0);
        fprintf(stderr, "\rember: chunk %ld/%ld", c + 1, n_chunks);
    }
    /* a model file that changed under the run gives no estimate at all */
    if (!rc && os_mapped_files_check(&err)) rc = loader_report(&err);
    if (!rc) {
        double mean = nll / (double)count, var = nll2 / (double)count - mean * mean;
        double ppl = exp(mean);
        double se = var > 0 && count > 1 ? sqrt(var / (double)(count - 1)) * ppl : 0;
        fprintf(stderr, "\n");
        printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, se);
        out_write("", 0);
    }
    batch_free(&b);
    free(logits);
    free(chunk);
    model_ctx_free(mc);
    return rc;
}

int tool_perplexity(int argc, char **argv) {
    struct ppl_opts o = {0};
    int rc = parse_ppl(argc, argv, &o);
    if (rc) return rc;
    uint64_t len;
    char *text = read_text(o.file, 1ull << 30, &len);
    if (!text) return EXIT_RUNTIME;
    struct loaded l;
    o.eo.n_ctx = (int)o.n_ctx; /* for -ngl's plan */
    if ((rc = loader_open(o.model, &o.eo, true, &l))) {
        free(text);
        return rc;
    }
    struct ember_err err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    if (o.score_all && len && text[len - 1] == '\n') len--;
    if (tokenizer_encode(l.tok, text, len, !o.score_all, false, &ids, &n, &err))
        rc = loader_report(&err);
    else rc = score(&o, &l, ids, n);
    free(ids);
    free(text);
    loader_close(&l);
    return rc;
}
