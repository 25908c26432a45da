/*
 * fuzz_args.c — libFuzzer harness for `ember run`'s argument parsing
 * (run_parse_args in tools/run.c, the strict value parsers in tools/args.c) and
 * the sampler those options configure (src/text/sampler.c).
 *
 * Input: NUL-separated arguments (at most 64) after an implicit "run". When
 * they parse and the sampler parameters pass sampler_params_check, a
 * sampler over a small vocabulary draws a few tokens from logits made of
 * the input's bytes (NaN, infinities and huge values included): every draw
 * must be a valid id. Parsing must never exit, and a rejected command line
 * must say why on stderr (checked in the replay test's normal build only
 * by not crashing; libFuzzer closes stderr).
 */
#include "fuzz_common.h"

#include <math.h>

#include "args.h"
#include "run_opts.h"
#include "sampler.h"

#define ARGS_MAX 64

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    /* argv strings must be NUL-terminated copies: the parser keeps pointers */
    char *buf = malloc(size + 1);
    FUZZ_CHECK(buf, "oom");
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[ARGS_MAX + 2];
    int argc = 0;
    argv[argc++] = "run";
    for (size_t i = 0; i <= size && argc <= ARGS_MAX;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;

    struct run_opts o;
    int rc = run_parse_args(argc, argv, &o);
    FUZZ_CHECK(rc == 0 || rc == RUN_HELP || rc == EXIT_USAGE, "parse returned %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(o.model, "accepted without -m");
        FUZZ_CHECK(!(o.prompt && o.prompt_file), "accepted both -p and -f");
        FUZZ_CHECK(o.n_predict >= -1 && o.n_ctx >= 0 && o.n_threads >= 1 && o.n_batch >= 0,
                   "out-of-range value accepted");
        if (!sampler_params_check(&o.sp)) {
            int n_vocab = 1 + (int)(size % 300);
            struct sampler *s = sampler_new(&o.sp, n_vocab);
            float *logits = malloc((size_t)n_vocab * sizeof *logits);
            FUZZ_CHECK(s && logits, "oom");
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < n_vocab; i++) {
                    uint32_t bits = 0;
                    for (int k = 0; k < 4; k++)
                        bits = bits << 8 | (size ? data[((size_t)i * 4 + (size_t)k + (size_t)round) % size] : 0);
                    float v;
                    memcpy(&v, &bits, 4);
                    logits[i] = v;
                }
                int32_t tok = sampler_sample(s, logits);
                FUZZ_CHECK(tok >= 0 && tok < n_vocab, "sampled id %d of %d", tok, n_vocab);
                sampler_accept(s, tok);
            }
            free(logits);
            sampler_free(s);
        }
    }
    free(buf);
    return 0;
}
