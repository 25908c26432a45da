/*
 * gptq-logits.c — helper of scripts/gptq-real-check.sh: ember's logits at
 * every position of given token-id prompts, plus a greedy continuation,
 * written in a raw binary form that scripts/gptq_real_check.py reads.
 *
 *   build/gptq-logits MODEL IDS.txt OUT.bin [N_GREEDY (32)] [THREADS (1)]
 *
 * MODEL: a GGUF file or a Hugging Face directory (as `ember run -m`).
 * IDS.txt: one prompt per line, token ids separated by spaces (taken as
 * given: no BOS is added). The prompt is decoded in one batch with every
 * position's logits kept (KV cache f32, so the cache adds no rounding), then
 * N_GREEDY tokens are generated one at a time by argmax (lowest id on ties).
 * OUT.bin, per prompt, all little-endian int32 / float32:
 *   n, n_vocab, logits[n][n_vocab], n_greedy, ids[n_greedy]
 * Built by `make gptq-logits` (not part of `make test`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "loader.h"
#include "model.h"
#include "tool_options.h"

#define MAXT 4096

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

static int eval(struct model_ctx *c, const int32_t *ids, int n, int pos, bool all, float *out) {
    struct ember_err err = {0};
    struct batch b;
    if (!batch_init(&b, n)) return fprintf(stderr, "out of memory\n"), 1;
    batch_set_run(&b, ids, n, pos, 0, all);
    enum ember_status st = model_decode(c, &b, out, &err);
    batch_free(&b);
    if (st != EMBER_OK) return fprintf(stderr, "decode: %s\n", err.msg), 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL IDS.txt OUT.bin [N_GREEDY] [THREADS]\n", argv[0]);
        return 2;
    }
    int n_greedy = argc > 4 ? atoi(argv[4]) : 32;
    int threads = argc > 5 ? atoi(argv[5]) : 1;
    struct ember_options o;
    tool_options_init(&o);
    struct loaded l;
    int rc = loader_open(argv[1], &o, false, &l);
    if (rc) return rc;
    FILE *in = fopen(argv[2], "r"), *out = fopen(argv[3], "wb");
    if (!in || !out) return fprintf(stderr, "cannot open %s or %s\n", argv[2], argv[3]), 1;
    int nv = model_get_info(l.model)->n_vocab;
    static int32_t ids[MAXT];
    static char line[1 << 16];
    int status = 0;
    while (!status && fgets(line, sizeof line, in)) {
        int n = 0;
        for (char *p = line, *e; n < MAXT; p = e) {
            long v = strtol(p, &e, 10);
            if (e == p) break;
            ids[n++] = (int32_t)v;
        }
        if (n == 0) continue;
        struct model_ctx *c = NULL;
        struct ember_err err = {0};
        struct model_ctx_params cp = {.n_ctx = n + n_greedy + 1, .n_threads = threads, .n_seq = 1,
                                      .type_k = KV_F32, .type_v = KV_F32};
        if (model_ctx_new(l.model, &cp, &c, &err) != EMBER_OK) {
            fprintf(stderr, "context: %s\n", err.msg);
            status = 1;
            break;
        }
        float *lg = malloc((size_t)n * nv * sizeof *lg);
        status = !lg || eval(c, ids, n, 0, true, lg);
        if (!status) {
            int32_t hdr[2] = {n, nv};
            fwrite(hdr, sizeof hdr, 1, out);
            fwrite(lg, sizeof *lg, (size_t)n * nv, out);
            int32_t gen[MAXT];
            int32_t next = argmax(lg + (size_t)(n - 1) * nv, nv);
            for (int i = 0; i < n_greedy && !status; i++) {
                gen[i] = next;
                status = eval(c, &next, 1, n + i, false, lg);
                next = argmax(lg, nv);
            }
            fwrite(&n_greedy, sizeof n_greedy, 1, out);
            fwrite(gen, sizeof *gen, (size_t)n_greedy, out);
        }
        free(lg);
        model_ctx_free(c);
    }
    fclose(in);
    if (fclose(out)) status = 1;
    loader_close(&l);
    return status;
}
