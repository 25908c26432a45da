/*
 * run_opts.h — the options of `ember run` and their parser, separate from
 * cmd_run so the argument fuzzer (tests/fuzz/fuzz_args.c) can parse a
 * command line without loading a model or exiting.
 */
#ifndef EMBER_RUN_OPTS_H
#define EMBER_RUN_OPTS_H

#include <stdbool.h>

#include "options.h"
#include "sampler.h"

struct run_opts {
    const char *model, *prompt, *prompt_file;
    long n_predict;     /* -1: until end of text or a full context */
    long n_ctx;         /* 0: the model's trained length, capped at 4096 */
    long n_threads;
    long n_batch;       /* prompt tokens per pass over the weights */
    bool seed_set, escape, echo, verbose;
    bool truncate;      /* keep the prompt's tail when it does not fit */
    /* chat: `ember chat`, or run with -cnv / -i / --interactive-first
     * (conversation) or --chat (one templated turn) */
    bool conversation, chat_once;
    const char *system_prompt;  /* -sys */
    const char *chat_template;  /* --chat-template NAME|FILE */
    const char *reverse[8];     /* -r stop strings */
    int n_reverse;
    bool ignore_eos, no_history, color;
    const char *prompt_cache;   /* --prompt-cache FILE */
    /* speculative decoding (models/speculative.h): a draft model or
     * n-gram lookup, never both */
    const char *draft_model;    /* --draft-model / -md FILE */
    bool lookup;                /* --lookup */
    long draft_max, draft_min;  /* --draft-max (16), --draft-min (0) */
    float draft_p_min;          /* --draft-p-min (0.75) */
    struct sampler_params sp;
    struct ember_options eo; /* engine options: EMBER_* and the shared flags */
};

#define RUN_HELP (-1) /* run_parse_args: --help was printed; exit 0 */

/* Parse argv (argv[0] is "run" or "chat") into *o, sampler ranges
 * checked. Returns 0, RUN_HELP, or EXIT_USAGE after printing one error
 * line. Pointers in *o point into argv. Never exits; does no I/O other than
 * that line or the help text. */
int run_parse_args(int argc, char **argv, struct run_opts *o);

/* The context a run or chat uses: -c, else the model's trained length
 * capped at 4096. */
long run_ctx_size(const struct run_opts *o, long n_ctx_train);
/* A warning on stderr when n_ctx exceeds the model's trained context
 * (n_ctx_train > 0): past it the output degrades into gibberish unless rope
 * scaling stretches the positions, as llama.cpp also only warns. Call once
 * the context exists, so a refused context prints only its error. */
void warn_ctx_train(long n_ctx, long n_ctx_train);

#endif
