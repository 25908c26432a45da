/*
 * run.c — `ember run`: one prompt in, generated text out.
 *
 * Standard output carries only the generated text (plus the prompt and a
 * final newline with --echo; the newline on a terminal too), written and
 * flushed token by token; everything else goes to stderr. A closed pipe ends the run quietly; any other write error is
 * reported. Sections: options, output, generation, entry point.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli_suggest.h"
#include "chat.h"
#include "kv_state.h"
#include "tools.h"
#include "loader.h"
#include "os.h"
#include "run_opts.h"
#include "sampler.h"
#include "speculative.h"
#include "tool_options.h"

#define MAX_PROMPT_BYTES (256u << 20)

/* ------------------------------------------------------------- options */

/* The largest logit minus the second largest (0 for a tie). O(n_vocab). */
static float top2_gap(const float *l, int n) {
    float a = -INFINITY, b = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (l[i] > a) {
            b = a;
            a = l[i];
        } else if (l[i] > b) {
            b = l[i];
        }
    }
    return a - b;
}

/* -v, a mixture of experts: the weights a generated token read (each
 * decode step one pass: the dense weights and the experts it chose)
 * since `before` (after the prompt), next to the file's size. */
static void report_reads(const struct model_ctx *mc, const struct model_reads *before) {
    struct model_reads r;
    model_weight_reads(mc, &r);
    uint64_t rows = r.rows - before->rows;
    if (!r.n_expert || !rows || !r.n_moe_layers || !r.one_expert_bytes) return;
    double MiB = 1048576.0, experts = (double)(r.expert_bytes - before->expert_bytes) / (double)rows;
    double dense = (double)r.dense_bytes * (double)(r.passes - before->passes) / (double)rows;
    fprintf(stderr,
            "ember: weights read per generated token: %.3f MiB (dense %.3f + experts %.3f: %.2f of %d "
            "per layer, top-%d) of the file's %.3f MiB, over %llu tokens\n",
            (dense + experts) / MiB, dense / MiB, experts / MiB,
            experts / (double)r.one_expert_bytes / r.n_moe_layers, r.n_expert, r.n_expert_used,
            (double)r.file_bytes / MiB, (unsigned long long)rows);
}

static void run_usage(FILE *o, const char *cmd) {
    if (!strcmp(cmd, "chat"))
        fputs("usage: ember chat -m MODEL [-sys TEXT] [-p FIRST_MESSAGE] [options]\n"
              "  (a conversation: /help inside lists the commands; the options are run's)\n", o);
    else
        fputs("usage: ember run -m MODEL [-p PROMPT | -f FILE] [options]\n"
              "  (with neither -p nor -f the prompt is read from standard input)\n", o);
    fputs("  (MODEL: a GGUF file or a Hugging Face directory)\n", o);
    fputs("  -n N                 tokens to generate (default: until end of text)\n"
          "  -c N                 context size (default: trained length, at most 4096)\n"
          "  -t N                 threads (default: CPUs)\n"
          "  -b N                 prompt batch size (default 512)\n"
          "  -s SEED              random seed (default: random; shown with -v)\n"
          "  --temp T             temperature, 0 = greedy (default 0.8)\n"
          "  --top-k K            (default 40, 0 = off)\n"
          "  --top-p P            (default 0.95, 1 = off)\n"
          "  --min-p P            (default 0.05, 0 = off)\n"
          "  --repeat-penalty R   (default 1.0 = off)\n"
          "  --repeat-last-n N    tokens the penalties look back (default 64)\n"
          "  --frequency-penalty F, --presence-penalty F   (default 0)\n"
          "  -e, --escape         process escapes (\\n \\t \\\\ \\\" \\xHH) in the prompt\n"
          "  --echo               print the prompt before the generated text, and end with a\n"
          "                       newline (make demo uses it; off: stdout is only new text)\n"
          "  --truncate           keep the prompt's last tokens when it does not fit -c\n"
          "  -v, --verbose        seed and timings on stderr\n"
          "  --no-escape          take the prompt's backslashes literally (-e, the default, turns\n"
          "                       \\n \\t \\\\ \\\" \\xHH into bytes)\n"
          "  -r, --reverse-prompt S  stop when the output ends with S (repeatable, up to 8)\n"
          "  --ignore-eos         do not stop at end-of-generation tokens\n"
          "  --prompt-cache FILE  reuse the KV cache of an earlier prompt sharing a prefix\n"
          "                       with this one, then save this prompt's there\n"
          "speculative decoding (same output; faster when drafts are often right):\n"
          "  -md, --draft-model FILE  draft with this smaller model of the same vocabulary\n"
          "  --lookup             draft by n-gram lookup in the prompt and output so far\n"
          "  --draft-max N        tokens drafted per step at most (default 16)\n"
          "  --draft-min N        verify only drafts of at least N tokens (default 0)\n"
          "  --draft-p-min P      stop drafting at a draft-model probability below P (0.75)\n"
          "chat (see also `ember chat --help`):\n"
          "  --chat               apply the model's chat template to the prompt, one turn\n"
          "  -cnv, -i, --interactive-first   chat in the terminal (as `ember chat`)\n"
          "  -sys, --system-prompt TEXT      the conversation's system message\n"
          "  --chat-template NAME|FILE       a built-in template or a Jinja file\n"
          "  --jinja              accepted (templates are always Jinja)\n"
          "  --no-history         do not read or write ~/.ember_history\n"
          "  --color              colour the user's text\n"
          TOOL_OPTIONS_HELP, o);
}

/* Report a flag run_usage does not list, with the nearest one it does. */
static int unknown_flag(const char *cmd, const char *a) {
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (m) {
        run_usage(m, cmd);
        fclose(m);
    }
    int rc = cli_unknown_flag(strcmp(cmd, "chat") ? "run" : "chat", a, text);
    free(text);
    return rc;
}

/* Parse one sampler flag; returns 1 if handled, 0 if not ours, -1 on error. */
static int parse_sampler_flag(int argc, char **argv, int *i, struct sampler_params *sp) {
    const char *a = argv[*i], *v;
    long n;
    float *f = NULL;
    double lo = 0, hi = 100;
    if (!strcmp(a, "--temp")) f = &sp->temp;
    else if (!strcmp(a, "--top-p")) { f = &sp->top_p; hi = 1; }
    else if (!strcmp(a, "--min-p")) { f = &sp->min_p; hi = 1; }
    else if (!strcmp(a, "--repeat-penalty")) f = &sp->repeat_penalty;
    else if (!strcmp(a, "--frequency-penalty")) { f = &sp->freq_penalty; lo = -100; }
    else if (!strcmp(a, "--presence-penalty")) { f = &sp->presence_penalty; lo = -100; }
    if (f) {
        if (!(v = args_value(argc, argv, i))) return -1;
        return args_float(a, v, lo, hi, f) ? 1 : -1;
    }
    if (!strcmp(a, "--top-k") || !strcmp(a, "--repeat-last-n")) {
        if (!(v = args_value(argc, argv, i)) || !args_int(a, v, 0, 1 << 20, &n)) return -1;
        *(a[2] == 't' ? &sp->top_k : &sp->repeat_last_n) = (int)n;
        return 1;
    }
    if (!strcmp(a, "-s") || !strcmp(a, "--seed")) {
        if (!(v = args_value(argc, argv, i)) || !args_u64(a, v, &sp->seed)) return -1;
        return 2;
    }
    return 0;
}

int run_parse_args(int argc, char **argv, struct run_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = -1;
    o->n_threads = default_threads();
    o->sp = sampler_defaults();
    o->escape = true; /* as llama.cpp: --no-escape turns it off */
    o->draft_max = 16; /* llama.cpp's long-standing defaults */
    o->draft_p_min = 0.75f;
    tool_options_init(&o->eo);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r = parse_sampler_flag(argc, argv, &i, &o->sp);
        if (r < 0) return EXIT_USAGE;
        if (r == 2) o->seed_set = true;
        if (r) continue;
        if ((r = tool_options_flag(argc, argv, &i, &o->eo))) {
            if (r != 1) return r;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            run_usage(stdout, argv[0]);
            return RUN_HELP;
        } else if (!strcmp(a, "-e") || !strcmp(a, "--escape")) {
            o->escape = true;
        } else if (!strcmp(a, "--no-escape")) {
            o->escape = false;
        } else if (!strcmp(a, "-cnv") || !strcmp(a, "--conversation") || !strcmp(a, "-i") ||
                   !strcmp(a, "--interactive") || !strcmp(a, "--interactive-first")) {
            o->conversation = true;
        } else if (!strcmp(a, "--chat")) {
            o->chat_once = true;
        } else if (!strcmp(a, "--jinja")) {
            /* templates are always Jinja here */
        } else if (!strcmp(a, "--ignore-eos")) {
            o->ignore_eos = true;
        } else if (!strcmp(a, "--no-history")) {
            o->no_history = true;
        } else if (!strcmp(a, "--color")) {
            o->color = true;
        } else if (!strcmp(a, "-sys") || !strcmp(a, "--system-prompt")) {
            if (!(o->system_prompt = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "--prompt-cache")) {
            if (!(o->prompt_cache = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "--chat-template")) {
            if (!(o->chat_template = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--reverse-prompt")) {
            if (!(v = args_value(argc, argv, &i))) return EXIT_USAGE;
            if (o->n_reverse == 8) {
                cli_error("at most 8 -r stop strings");
                return EXIT_USAGE;
            }
            o->reverse[o->n_reverse++] = v;
        } else if (!strcmp(a, "-md") || !strcmp(a, "--draft-model") ||
                   !strcmp(a, "--model-draft") || !strcmp(a, "--spec-draft-model")) {
            if (!(o->draft_model = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "--lookup")) {
            o->lookup = true;
        } else if (!strcmp(a, "--draft-max") || !strcmp(a, "--draft") || !strcmp(a, "--draft-n") ||
                   !strcmp(a, "--spec-draft-n-max")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, SPEC_DRAFT_MAX, &o->draft_max))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--draft-min") || !strcmp(a, "--draft-n-min") ||
                   !strcmp(a, "--spec-draft-n-min")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 0, SPEC_DRAFT_MAX, &o->draft_min))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--draft-p-min") || !strcmp(a, "--spec-draft-p-min")) {
            if (!(v = args_value(argc, argv, &i)) || !args_float(a, v, 0, 1, &o->draft_p_min))
                return EXIT_USAGE;
        } else if (!strcmp(a, "--echo")) {
            o->echo = true;
        } else if (!strcmp(a, "--truncate")) {
            o->truncate = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = true;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(o->model = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            if (!(o->prompt = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (!(o->prompt_file = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 0, 1L << 30, &o->n_predict))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx-size")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, 1L << 24, &o->n_ctx))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, 256, &o->n_threads))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-b") || !strcmp(a, "--batch-size")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, 1 << 16, &o->n_batch))
                return EXIT_USAGE;
        } else {
            return unknown_flag(argv[0], a);
        }
    }
    if (!o->model) {
        cli_error("ember run needs a model: -m FILE");
        return EXIT_USAGE;
    }
    if (o->prompt && o->prompt_file) {
        cli_error("give the prompt with -p or -f, not both");
        return EXIT_USAGE;
    }
    if (o->lookup && o->draft_model) {
        cli_error("--lookup and --draft-model are two ways of drafting: give one");
        return EXIT_USAGE;
    }
    if (o->draft_min > o->draft_max) {
        cli_error("--draft-min %ld is above --draft-max %ld", o->draft_min, o->draft_max);
        return EXIT_USAGE;
    }
    if ((o->lookup || o->draft_model) && (o->conversation || o->chat_once)) {
        cli_error("speculative decoding (--lookup, --draft-model) is for ember run without --chat "
                  "or -cnv so far");
        return EXIT_USAGE;
    }
    const char *bad = sampler_params_check(&o->sp);
    if (bad) {
        cli_error("%s", bad);
        return EXIT_USAGE;
    }
    if (!o->seed_set) o->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    /* the context -ngl's plan reserves device memory for: a chat keeps a
     * second sequence (a /retry branch) */
    o->eo.n_ctx = (int)o->n_ctx;
    o->eo.n_seq = o->conversation || o->chat_once ? 2 : 1;
    return 0;
}

long run_ctx_size(const struct run_opts *o, long n_ctx_train) {
    return o->n_ctx ? o->n_ctx : (n_ctx_train < 4096 ? n_ctx_train : 4096);
}

void warn_ctx_train(long n_ctx, long n_ctx_train) {
    if (n_ctx_train <= 0 || n_ctx <= n_ctx_train) return;
    fprintf(stderr, "ember: warning: a context of %ld tokens is longer than the %ld the model was "
            "trained on; past %ld tokens the output degrades (it would need rope scaling by %.2fx, "
            "which ember applies only when the model file sets rope.scaling)\n",
            n_ctx, n_ctx_train, n_ctx_train, (double)n_ctx / (double)n_ctx_train);
}

/* ---------------------------------------------------------------- output */

/* Write to stdout and flush. A closed pipe means the reader is done: exit 0
 * quietly (SIGPIPE is ignored in main). Other failures are real errors. */
static char out_last = '\n'; /* the last byte out_write wrote ('\n' before any) */

void out_write(const char *s, size_t n) {
    if (n) out_last = s[n - 1];
    if (n && fwrite(s, 1, n, stdout) != n) goto fail;
    if (fflush(stdout) != 0) goto fail;
    return;
fail:
    if (errno == EPIPE) exit(0);
    cli_error("cannot write to standard output: %s", strerror(errno));
    exit(EXIT_RUNTIME);
}

/* -e: turn \n \t \r \\ \" \' \xHH into their bytes, in place. */
static size_t unescape(char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            s[o++] = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'n': s[o++] = '\n'; break;
        case 't': s[o++] = '\t'; break;
        case 'r': s[o++] = '\r'; break;
        case '\\': case '"': case '\'': s[o++] = c; break;
        case 'x': {
            unsigned v = 0, k = 0;
            while (k < 2 && i + 1 < n && strchr("0123456789abcdefABCDEF", s[i + 1]) && s[i + 1]) {
                char h = s[++i];
                v = v * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 32) - 'a' + 10);
                k++;
            }
            if (k) s[o++] = (char)v;
            else { s[o++] = '\\'; s[o++] = 'x'; }
            break;
        }
        default: s[o++] = '\\'; s[o++] = c; break;
        }
    }
    return o;
}

/* ------------------------------------------------------------ generation */

struct timing {
    double prompt_ms, gen_ms;
    int n_prompt, n_gen;
};

/* Stream one token's text to stdout; buf holds tokenizer_max_piece() + 4. */
static void emit(const struct tokenizer *tok, struct tok_stream *ts, int32_t id, char *buf,
                 size_t cap) {
    out_write(buf, tokenizer_stream_push(tok, ts, id, buf, cap));
}

static void echo_prompt(const struct tokenizer *tok, const int32_t *ids, size_t n, char *buf,
                        size_t cap) {
    struct tok_stream ts = {0};
    for (size_t i = 0; i < n; i++) emit(tok, &ts, ids[i], buf, cap);
    out_write(buf, tokenizer_stream_flush(&ts, buf, cap));
}

/* --truncate: when the prompt leaves no room for -n tokens (a quarter of the
 * context without -n), keep its last tokens, and the BOS in front of them.
 * Says so on stderr; ember never truncates silently. Returns the new count. */
static size_t truncate_prompt(const struct run_opts *o, const struct tokenizer *tok,
                              long n_ctx, int32_t *ids, size_t n_ids) {
    long room = o->n_predict >= 0 ? o->n_predict : n_ctx / 4;
    long keep = n_ctx - room;
    if (!o->truncate || keep < 2 || (long)n_ids <= keep) return n_ids;
    size_t head = tokenizer_add_bos(tok) && ids[0] == tokenizer_bos(tok) ? 1 : 0;
    memmove(ids + head, ids + n_ids - ((size_t)keep - head),
            ((size_t)keep - head) * sizeof *ids);
    fprintf(stderr, "ember: the prompt is %zu tokens; --truncate keeps its last %ld "
            "(context %ld)\n", n_ids, keep, n_ctx);
    return (size_t)keep;
}

/* The output's last bytes, to see whether it ends with a -r stop string. */
struct stop_tail {
    char t[512];
    size_t n;
};

/* Add n bytes of output; true when it now ends with a stop string. */
static bool stop_tail_push(struct stop_tail *st, const struct run_opts *o, const char *s, size_t n) {
    if (!o->n_reverse || !n) return false;
    if (n >= sizeof st->t) s += n - (sizeof st->t - 1), n = sizeof st->t - 1;
    if (st->n + n > sizeof st->t - 1) {
        size_t drop = st->n + n - (sizeof st->t - 1);
        memmove(st->t, st->t + drop, st->n - drop);
        st->n -= drop;
    }
    memcpy(st->t + st->n, s, n);
    st->n += n;
    for (int i = 0; i < o->n_reverse; i++) {
        size_t k = strlen(o->reverse[i]);
        if (k && k <= st->n && !memcmp(st->t + st->n - k, o->reverse[i], k)) return true;
    }
    return false;
}

/* --prompt-cache: the cached prompt's KV cache, when the file exists, and
 * in *keep how many of this prompt's tokens it already holds (at least one
 * is always computed again, for its logits). A file of another model or
 * cache layout, or a damaged one, is an error. Returns an exit status. */
static int prompt_cache_load(const struct run_opts *o, struct loaded *l, struct model_ctx *mc,
                             const int32_t *ids, size_t n_ids, int *keep) {
    struct ember_err err = {0};
    *keep = 0;
    if (access(o->prompt_cache, F_OK) != 0) return 0; /* first use: nothing yet */
    int32_t *cached = malloc((size_t)model_ctx_size(mc) * sizeof *cached);
    if (!cached) {
        cli_error("out of memory");
        return EXIT_RUNTIME;
    }
    int n = 0;
    void *pl;
    size_t pl_len;
    if (kv_state_load(o->prompt_cache, KV_STATE_PROMPT, l, mc, cached, &n, &pl, &pl_len, NULL, &err)) {
        free(cached);
        return loader_report(&err);
    }
    free(pl);
    while (*keep < n && (size_t)*keep < n_ids && cached[*keep] == ids[*keep]) ++*keep;
    if ((size_t)*keep == n_ids) --*keep;
    free(cached);
    if (o->verbose) fprintf(stderr, "ember: prompt cache: %d of %zu prompt tokens reused\n", *keep, n_ids);
    return 0;
}

/* --prompt-cache: the prompt's cache state, once the prompt is decoded
 * (nothing without the flag). Returns an exit status. */
static int prompt_cache_save(const struct run_opts *o, struct loaded *l, struct model_ctx *mc,
                             const int32_t *ids, size_t n_ids) {
    struct ember_err err = {0};
    if (o->prompt_cache &&
        kv_state_save(o->prompt_cache, KV_STATE_PROMPT, l, mc, ids, (int)n_ids, NULL, 0, &err))
        return loader_report(&err);
    return 0;
}

/* --draft-model (dl) or --lookup: the prompt through spec_start, then
 * the tokens of each spec_step, taken as the plain loop takes them (end
 * of text, -n, stop strings, a full context). Returns an exit status. */
static int generate_spec(const struct run_opts *o, struct loaded *l, struct loaded *dl,
                         struct model_ctx *mc, const struct model_ctx_params *cp,
                         const int32_t *ids, size_t n_ids, int keep, char *buf, size_t cap,
                         struct timing *tm) {
    const struct model_info *mi = model_get_info(l->model);
    int n_ctx = model_ctx_size(mc);
    struct ember_err err = {0};
    struct model_ctx *dc = NULL;
    struct spec *sp = NULL;
    int32_t *ban = NULL, *toks = NULL;
    int n_ban = 0, rc = 0;
    if (dl && model_ctx_new(dl->model, cp, &dc, &err)) return loader_report(&err);
    if (o->ignore_eos && (ban = malloc((size_t)mi->n_vocab * sizeof *ban)))
        for (int32_t t = 0; t < mi->n_vocab; t++)
            if (tokenizer_is_eog(l->tok, t)) ban[n_ban++] = t;
    struct spec_params p = {.draft_max = (int)o->draft_max, .draft_min = (int)o->draft_min,
                            .p_min = o->draft_p_min, .ban = ban, .n_ban = n_ban};
    toks = malloc(((size_t)o->draft_max + 1) * sizeof *toks);
    if ((o->ignore_eos && !ban) || !toks) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (spec_new(mc, dc, &p, &o->sp, &sp, &err)) {
        rc = loader_report(&err);
        goto done;
    }
    double t0 = os_now_ms();
    if (spec_start(sp, ids, (int)n_ids, keep, &toks[0], &err)) {
        rc = loader_report(&err);
        goto done;
    }
    if ((rc = prompt_cache_save(o, l, mc, ids, n_ids))) goto done;
    tm->n_prompt = (int)n_ids;
    tm->prompt_ms = os_now_ms() - t0;
    t0 = os_now_ms();
    struct tok_stream ts = {0};
    struct stop_tail st = {0};
    int have = 1, n_toks = (int)n_ids; /* tokens in hand; prompt and output committed */
    long g = 0;
    while (o->n_predict < 0 || g < o->n_predict) {
        bool stop = false;
        for (int i = 0; i < have && !stop; i++) {
            if (tokenizer_is_eog(l->tok, toks[i])) {
                stop = true;
                break;
            }
            size_t n = tokenizer_stream_push(l->tok, &ts, toks[i], buf, cap);
            out_write(buf, n);
            n_toks++;
            tm->n_gen++;
            stop = stop_tail_push(&st, o, buf, n) || (o->n_predict >= 0 && ++g == o->n_predict);
            if (o->n_predict < 0) g++;
        }
        if (stop) break;
        if (n_toks - 1 >= n_ctx) {
            fprintf(stderr, "ember: context of %d tokens is full; stopping\n", n_ctx);
            break;
        }
        long left = o->n_predict < 0 ? 1L << 30 : o->n_predict - g;
        if (spec_step(sp, (int)(left < (1L << 30) ? left : 1L << 30), toks, &have, &err)) {
            rc = loader_report(&err);
            goto done;
        }
    }
    out_write(buf, tokenizer_stream_flush(&ts, buf, cap));
    tm->gen_ms = os_now_ms() - t0;
    if (o->verbose) {
        const struct spec_stats *ss = spec_get_stats(sp);
        fprintf(stderr,
                "ember: speculative (%s): drafted %ld, accepted %ld (%.1f%%), %ld target steps, "
                "%.2f tokens per step, draft %.0f ms, verify %.0f ms, effective %.2f t/s "
                "(cost model: verify %.0f ms + %.0f ms a row, draft %.0f ms a token)\n",
                dl ? "draft model" : "lookup", ss->drafted, ss->accepted,
                ss->drafted ? 100.0 * (double)ss->accepted / (double)ss->drafted : 0.0, ss->steps,
                ss->steps ? (double)(tm->n_gen - 1) / (double)ss->steps : 0.0, ss->draft_ms,
                ss->verify_ms, tm->n_gen * 1000.0 / (tm->gen_ms + 1e-9), ss->t1_ms, ss->row_ms,
                ss->token_ms);
    }
    if ((o->echo || isatty(STDOUT_FILENO)) && out_last != '\n') out_write("\n", 1);
done:
    spec_free(sp);
    free(toks);
    free(ban);
    model_ctx_free(dc);
    return rc;
}

/* Evaluate the prompt, then sample until end of text, n_predict tokens, a
 * stop string or a full context. Returns an exit status. */
static int generate(const struct run_opts *o, struct loaded *l, struct loaded *dl, int32_t *ids,
                    size_t n_ids, struct timing *tm) {
    const struct model_info *mi = model_get_info(l->model);
    long n_ctx = run_ctx_size(o, mi->n_ctx_train);
    n_ids = truncate_prompt(o, l->tok, n_ctx, ids, n_ids);
    if ((long)n_ids > n_ctx) {
        cli_error("the prompt is %zu tokens, longer than the context of %ld tokens "
                  "(raise -c or use --truncate)",
                  n_ids, n_ctx);
        return EXIT_RUNTIME;
    }
    if (o->n_predict > 0 && (long)n_ids + o->n_predict > n_ctx) {
        cli_error("the prompt (%zu tokens) plus -n %ld exceeds the context of %ld tokens (raise -c)",
                  n_ids, o->n_predict, n_ctx);
        return EXIT_RUNTIME;
    }
    struct ember_err err = {0};
    struct model_ctx *mc = NULL;
    struct model_ctx_params cp = {.n_ctx = (int)n_ctx, .n_threads = (int)o->n_threads, .n_batch = (int)o->n_batch,
                                  .n_seq = 1, .type_k = (enum kv_type)o->eo.cache_type_k,
                                  .type_v = (enum kv_type)o->eo.cache_type_v, .kv_block = o->eo.kv_block};
    if (model_ctx_new(l->model, &cp, &mc, &err)) return loader_report(&err);
    warn_ctx_train(n_ctx, mi->n_ctx_train);
    struct sampler *smp = sampler_new(&o->sp, mi->n_vocab);
    float *logits = malloc((size_t)mi->n_vocab * sizeof *logits);
    size_t cap = tokenizer_max_piece(l->tok) + 8;
    char *buf = malloc(cap);
    struct batch b;
    bool have_batch = batch_init(&b, (int)n_ids);
    int rc = 0;
    float *gaps = NULL; /* -v: top-2 logit gaps of the generated steps */
    long n_gaps = 0;
    if (!smp || !logits || !buf || !have_batch) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (o->echo) echo_prompt(l->tok, ids, n_ids, buf, cap);
    for (size_t i = 0; i < n_ids; i++) sampler_accept(smp, ids[i]);

    int keep = 0;
    if (o->prompt_cache && (rc = prompt_cache_load(o, l, mc, ids, n_ids, &keep))) goto done;
    if (o->lookup || dl) {
        rc = generate_spec(o, l, dl, mc, &cp, ids, n_ids, keep, buf, cap, tm);
        goto done;
    }
    double t0 = os_now_ms();
    batch_set_run(&b, ids + keep, (int)n_ids - keep, keep, 0, false);
    if (n_ids && model_decode(mc, &b, logits, &err)) {
        rc = loader_report(&err);
        goto done;
    }
    if ((rc = prompt_cache_save(o, l, mc, ids, n_ids))) goto done;
    tm->n_prompt = (int)n_ids;
    tm->prompt_ms = os_now_ms() - t0;
    struct model_reads reads0;
    model_weight_reads(mc, &reads0);
    t0 = os_now_ms();
    /* -v: the top-2 logit gap before each generated token, printed at the
     * end, so a greedy text that parts from another run's can be told a
     * near-tie (a small gap at the step where they part) or not */
    n_gaps = o->verbose && o->n_predict > 0 ? o->n_predict : 0;
    gaps = n_gaps ? calloc((size_t)n_gaps, sizeof *gaps) : NULL;
    struct tok_stream ts = {0};
    int pos = (int)n_ids;
    struct stop_tail st = {0};
    for (long g = 0; n_ids && (o->n_predict < 0 || g < o->n_predict); g++) {
        if (o->ignore_eos)
            for (int32_t t = 0; t < mi->n_vocab; t++)
                if (tokenizer_is_eog(l->tok, t)) logits[t] = -INFINITY;
        if (gaps && g < n_gaps) gaps[g] = top2_gap(logits, mi->n_vocab);
        int32_t tok = sampler_sample(smp, logits);
        if (tokenizer_is_eog(l->tok, tok)) break;
        size_t n = tokenizer_stream_push(l->tok, &ts, tok, buf, cap);
        out_write(buf, n);
        if (stop_tail_push(&st, o, buf, n)) break;
        sampler_accept(smp, tok);
        tm->n_gen++;
        if (o->n_predict >= 0 && g + 1 == o->n_predict) break;
        if (pos >= n_ctx) {
            fprintf(stderr, "ember: context of %ld tokens is full; stopping\n", n_ctx);
            break;
        }
        batch_set_run(&b, &tok, 1, pos++, 0, false);
        if (model_decode(mc, &b, logits, &err)) {
            rc = loader_report(&err);
            goto done;
        }
    }
    out_write(buf, tokenizer_stream_flush(&ts, buf, cap));
    tm->gen_ms = os_now_ms() - t0;
    if (o->verbose) report_reads(mc, &reads0);
    if (gaps) {
        fprintf(stderr, "ember: top-2 logit gaps:");
        for (long g = 0; g < tm->n_gen + 1 && g < n_gaps; g++) fprintf(stderr, " %.4f", gaps[g]);
        fprintf(stderr, "\n");
    }
    /* Text for a person (a terminal, or --echo's prompt-and-story) ends its
     * line; otherwise stdout is exactly the generated text, for pipes. */
    if ((o->echo || isatty(STDOUT_FILENO)) && out_last != '\n') out_write("\n", 1);
done:
    free(gaps);
    batch_free(&b);
    free(buf);
    free(logits);
    sampler_free(smp);
    model_ctx_free(mc);
    return rc;
}

/* ----------------------------------------------------------- entry point */

int cmd_run(int argc, char **argv) {
    struct run_opts o;
    int rc = run_parse_args(argc, argv, &o);
    if (rc == RUN_HELP) return 0;
    if (rc) return rc;
    /* a conversation reads its own messages; -p is its first */
    if (o.conversation && !o.chat_once && (isatty(STDIN_FILENO) || !o.prompt) && !o.prompt_file)
        return run_chat(&o, o.prompt);
    char *text;
    uint64_t len;
    if (o.prompt) {
        len = strlen(o.prompt);
        text = malloc(len + 1);
        if (text) memcpy(text, o.prompt, len + 1);
    } else {
        text = read_text(o.prompt_file, MAX_PROMPT_BYTES, &len);
        if (!text) return EXIT_RUNTIME;
    }
    if (!text) {
        cli_error("out of memory");
        return EXIT_RUNTIME;
    }
    if (o.escape) len = unescape(text, len);
    if (len == 0) {
        cli_error("the prompt is empty (give text with -p, -f or standard input)");
        free(text);
        return EXIT_RUNTIME;
    }

    if (o.chat_once || o.conversation) {
        rc = run_chat(&o, text);
        free(text);
        return rc;
    }
    struct loaded l;
    if ((rc = loader_open(o.model, &o.eo, true, &l))) {
        free(text);
        return rc;
    }
    struct ember_err err = {0};
    struct loaded dl = {0}; /* --draft-model */
    if (o.draft_model) {
        if ((rc = loader_open(o.draft_model, &o.eo, true, &dl))) {
            loader_close(&l);
            free(text);
            return rc;
        }
        if (spec_check_vocab(l.model, l.tok, dl.model, dl.tok, &err)) {
            cli_error("%s: %s", o.draft_model, err.msg);
            loader_close(&dl);
            loader_close(&l);
            free(text);
            return EXIT_RUNTIME;
        }
    }
    if (o.verbose)
        fprintf(stderr, "ember: seed %llu, %ld threads, weights: %s\n",
                (unsigned long long)o.sp.seed, o.n_threads, model_weights_note(l.model));
    int32_t *ids = NULL;
    size_t n_ids = 0;
    if (tokenizer_encode(l.tok, text, len, true, true, &ids, &n_ids, &err)) {
        rc = loader_report(&err);
    } else if (n_ids == 0) {
        cli_error("the prompt is empty");
        rc = EXIT_RUNTIME;
    } else {
        struct timing tm = {0};
        rc = generate(&o, &l, dl.model ? &dl : NULL, ids, n_ids, &tm);
        if (!rc && o.verbose)
            fprintf(stderr,
                    "ember: load %.1f ms, prompt %d tokens %.2f t/s, generation %d tokens %.2f t/s\n",
                    l.load_ms, tm.n_prompt, tm.n_prompt * 1000.0 / (tm.prompt_ms + 1e-9),
                    tm.n_gen, tm.n_gen * 1000.0 / (tm.gen_ms + 1e-9));
    }
    free(ids);
    free(text);
    if (dl.model) loader_close(&dl);
    loader_close(&l);
    return rc;
}
