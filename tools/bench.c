/*
 * bench.c — `ember bench`: prompt-processing and generation speed, measured
 * the way llama.cpp's llama-bench measures them so the two compare directly.
 *
 *   ember bench -m FILE [-m FILE ...] [-p 512[,N...]] [-n 128[,N...]]
 *               [-t 1,2] [-r 5] [-o md|csv|json] [--no-warmup]
 *
 * For every model x thread count x test it runs one warm-up and then r timed
 * repetitions, and reports the mean tokens per second and its sample standard
 * deviation over the repetitions (llama-bench's avg_ts and stddev_ts):
 *   ppN  one model_decode() batch of N tokens from position 0 (batched prefill);
 *        the first token is BOS when the file names one, the rest are random.
 *   tgN  N one-token batches, from an empty context (llama-bench's
 *        test_gen starts at position 0 too), each asking for the logits.
 * As in llama-bench, the pp warm-up is a whole prompt and the tg warm-up is a
 * single token: enough to fault the mapping in and start the thread pool.
 * The model is read through the loader (a GGUF file or a Hugging Face
 * directory) and model only: no tokenizer is loaded, so a file with a
 * tokenizer ember cannot read still benchmarks.
 *
 * Stdout carries the results only, one row as soon as each test is done;
 * the progress line goes to stderr. Sections: options, measurement, output,
 * entry point.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli_suggest.h"
#include "tools.h"
#include "loader.h"
#include "model.h"
#include "os.h"
#include "tool_options.h"

#define BENCH_MAX_LIST 32       /* entries of one -m/-p/-n/-t list */
#define BENCH_MAX_TOKENS 65536  /* largest -p or -n */
#define BENCH_MAX_REPS 1000

/* ------------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------- */

enum bench_format { FMT_MD, FMT_CSV, FMT_JSON };

struct int_list {
    long v[BENCH_MAX_LIST];
    int n;
    bool given; /* the first use of a flag replaces the default; later ones append */
};

struct bench_opts {
    const char *models[BENCH_MAX_LIST];
    int n_models;
    struct int_list pp;      /* prompt lengths; default 512; 0 skips */
    struct int_list tg;      /* generation lengths; default 128; 0 skips */
    struct int_list threads; /* default: default_threads() */
    struct int_list depth;   /* tokens in the context before each test; default 0 */
    struct int_list ngl;     /* -ngl values; default 0 (an ngl column only when given) */
    long reps;               /* timed repetitions; default 5 */
    enum bench_format fmt;   /* default markdown */
    bool warmup;             /* default on */
    struct ember_options eo;
};

static void bench_usage(FILE *o) {
    fputs("usage: ember bench -m FILE [-m FILE ...] [options]\n"
          "  -m, --model FILE        model to measure (repeatable)\n"
          "  -p, --n-prompt N[,N..]  prompt lengths for ppN, 0 to skip (512)\n"
          "  -n, --n-gen N[,N..]     generation lengths for tgN, 0 to skip (128)\n"
          "  -t, --threads N[,N..]   thread counts (number of CPUs)\n"
          "  -d, --n-depth N[,N..]   tokens already in the context when a test starts (0)\n"
          "  -ngl N[,N..]            layers on the GPU (--n-gpu-layers, --gpu-layers; 0)\n"
          "  -r, --repetitions N     timed runs per test (5)\n"
          "  -o, --output FMT        md, csv or json (md)\n"
          "      --no-warmup         skip the warm-up run\n"
          TOOL_OPTIONS_HELP_NO_NGL, o);
}

/* Parse "a,b,c" into l (appending after the first use). False and a printed
 * error on junk, an empty item, a value out of [lo, hi] or too many items. */
static bool parse_list(const char *flag, const char *s, long lo, long hi, struct int_list *l) {
    if (!l->given) l->n = 0;
    l->given = true;
    char item[64];
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof item) {
            cli_error("%s expects a comma-separated list of integers, got '%s'", flag, s);
            return false;
        }
        memcpy(item, p, len);
        item[len] = 0;
        if (l->n == BENCH_MAX_LIST) {
            cli_error("%s: at most %d values", flag, BENCH_MAX_LIST);
            return false;
        }
        if (!args_int(flag, item, lo, hi, &l->v[l->n])) return false;
        l->n++;
        if (!comma) return true;
        p = comma + 1;
    }
}

/* 0 when o is filled; EXIT_USAGE after printing one error line. */
static int parse_bench(int argc, char **argv, struct bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->pp = (struct int_list){.v = {512}, .n = 1};
    o->tg = (struct int_list){.v = {128}, .n = 1};
    o->threads = (struct int_list){.v = {default_threads()}, .n = 1};
    o->depth = (struct int_list){.v = {0}, .n = 1};
    o->ngl = (struct int_list){.v = {0}, .n = 1};
    o->reps = 5;
    o->fmt = FMT_MD;
    o->warmup = true;
    tool_options_init(&o->eo);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            bench_usage(stdout);
            exit(0);
        } else if (tool_options_is_ngl(a)) { /* a list here, unlike the other tools */
            if (!(v = args_value(argc, argv, &i)) || !parse_list(a, v, 0, 1L << 20, &o->ngl))
                return EXIT_USAGE;
        } else if ((r = tool_options_flag(argc, argv, &i, &o->eo))) {
            if (r != 1) return r;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(v = args_value(argc, argv, &i))) return EXIT_USAGE;
            if (o->n_models == BENCH_MAX_LIST) {
                cli_error("at most %d models", BENCH_MAX_LIST);
                return EXIT_USAGE;
            }
            o->models[o->n_models++] = v;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--n-prompt")) {
            if (!(v = args_value(argc, argv, &i)) ||
                !parse_list(a, v, 0, BENCH_MAX_TOKENS, &o->pp))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-n") || !strcmp(a, "--n-gen")) {
            if (!(v = args_value(argc, argv, &i)) ||
                !parse_list(a, v, 0, BENCH_MAX_TOKENS, &o->tg))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = args_value(argc, argv, &i)) || !parse_list(a, v, 1, 256, &o->threads))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--n-depth")) {
            if (!(v = args_value(argc, argv, &i)) ||
                !parse_list(a, v, 0, BENCH_MAX_TOKENS, &o->depth))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--repetitions")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, BENCH_MAX_REPS, &o->reps))
                return EXIT_USAGE;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(v = args_value(argc, argv, &i))) return EXIT_USAGE;
            if (!strcmp(v, "md")) o->fmt = FMT_MD;
            else if (!strcmp(v, "csv")) o->fmt = FMT_CSV;
            else if (!strcmp(v, "json")) o->fmt = FMT_JSON;
            else {
                cli_error("%s expects md, csv or json, got '%s'", a, v);
                return EXIT_USAGE;
            }
        } else if (!strcmp(a, "--no-warmup")) {
            o->warmup = false;
        } else {
            char *text = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&text, &len);
            if (m) {
                bench_usage(m);
                fclose(m);
            }
            int rc = cli_unknown_flag("bench", a, text);
            free(text);
            return rc;
        }
    }
    if (o->n_models == 0) {
        cli_error("ember bench needs at least one -m MODEL");
        return EXIT_USAGE;
    }
    bool any = false;
    for (int i = 0; i < o->pp.n; i++) any |= o->pp.v[i] > 0;
    for (int i = 0; i < o->tg.n; i++) any |= o->tg.v[i] > 0;
    if (!any) {
        cli_error("nothing to measure: every -p and -n length is 0");
        return EXIT_USAGE;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Measurement
 * ---------------------------------------------------------------------- */

/* One test's identity and result. */
struct bench_result {
    const char *path, *file;  /* as given; its last path component */
    char name[128];           /* general.name, or "" */
    const struct model_info *info;
    const char *isa;
    int threads, n_prompt, n_gen, n_depth;
    int ngl;                  /* -ngl of this row; shown only when -ngl was given */
    bool show_ngl;
    char test[32];            /* "pp512", "tg128", "tg128 @ d4096" */
    double *samples_ts;       /* reps tokens-per-second values */
    int n_samples;
    double mean, sd;
};

/* xorshift64: the token stream only has to be cheap and the same every run. */
static int32_t next_token(uint64_t *s, int n_vocab) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (int32_t)(*s % (uint64_t)n_vocab);
}

/* Run one pp (batched) or tg (one token per call) pass of n tokens from
 * position depth (the depth tokens before it decoded first, untimed, as
 * llama-bench does) and store its wall time in *ms. toks and b must hold
 * max(n, depth) ids and logits n_vocab floats. Fails only when
 * model_decode does. */
static enum ember_status bench_pass(struct model_ctx *c, bool batched, int n, int depth, int32_t bos,
                                    int n_vocab, int32_t *toks, struct batch *b, float *logits,
                                    double *ms, struct ember_err *err) {
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int32_t first = bos >= 0 ? bos : next_token(&rng, n_vocab);
    if (depth) {
        toks[0] = first;
        for (int i = 1; i < depth; i++) toks[i] = next_token(&rng, n_vocab);
        batch_set_run(b, toks, depth, 0, 0, false);
        if (model_decode(c, b, logits, err)) return err->status;
        first = next_token(&rng, n_vocab);
    }
    double t0 = os_now_ms();
    if (batched) {
        toks[0] = first;
        for (int i = 1; i < n; i++) toks[i] = next_token(&rng, n_vocab);
        /* The token stream is built inside the timed region, as llama-bench
         * does; it costs nanoseconds per token. */
        batch_set_run(b, toks, n, depth, 0, false);
        if (model_decode(c, b, logits, err)) return err->status;
    } else {
        int32_t t = first;
        for (int i = 0; i < n; i++) {
            batch_set_run(b, &t, 1, depth + i, 0, false);
            if (model_decode(c, b, logits, err)) return err->status;
            t = next_token(&rng, n_vocab);
        }
    }
    *ms = os_now_ms() - t0;
    return EMBER_OK;
}

static void progress(const struct bench_result *r, const char *what, int i, int n) {
    if (isatty(2))
        fprintf(stderr, "\r\033[Kember bench: %s t=%d %s: %s %d/%d", r->file, r->threads, r->test,
                what, i, n);
    else if (i == 0)
        fprintf(stderr, "ember bench: %s t=%d %s\n", r->file, r->threads, r->test);
}

/* Fill r->samples_ts (reps values), r->mean and r->sd. */
static enum ember_status bench_test(struct model_ctx *c, const struct bench_opts *o,
                                    struct bench_result *r, int32_t bos, int32_t *toks,
                                    struct batch *b, float *logits, struct ember_err *err) {
    bool pp = r->n_prompt > 0;
    int n = pp ? r->n_prompt : r->n_gen, n_vocab = r->info->n_vocab;
    double ms = 0;
    progress(r, "warm-up", 0, (int)o->reps);
    if (o->warmup && bench_pass(c, pp, pp ? n : 1, 0, bos, n_vocab, toks, b, logits, &ms, err))
        return err->status;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < o->reps; i++) {
        progress(r, "run", i + 1, (int)o->reps);
        if (bench_pass(c, pp, n, r->n_depth, bos, n_vocab, toks, b, logits, &ms, err)) return err->status;
        double ts = (double)n / (ms > 1e-6 ? ms / 1000.0 : 1e-9);
        r->samples_ts[i] = ts;
        sum += ts;
        sum2 += ts * ts;
    }
    r->n_samples = (int)o->reps;
    double k = (double)o->reps;
    r->mean = sum / k;
    /* Sample standard deviation, 0 for a single run (llama-bench's stdev). */
    double var = o->reps > 1 ? (sum2 - k * r->mean * r->mean) / (k - 1) : 0;
    r->sd = var > 0 ? sqrt(var) : 0;
    if (isatty(2)) fputs("\r\033[K", stderr);
    return EMBER_OK;
}

/* ------------------------------------------------------------------------
 * Output: markdown (llama-bench's table), csv, json
 * ---------------------------------------------------------------------- */

static void fmt_size(char *buf, size_t n, uint64_t bytes) {
    double b = (double)bytes;
    if (b >= 1024.0 * 1024 * 1024) snprintf(buf, n, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    else snprintf(buf, n, "%.2f MiB", b / (1024.0 * 1024));
}

static void fmt_params(char *buf, size_t n, uint64_t p) {
    double v = (double)p;
    if (v >= 1e9) snprintf(buf, n, "%.2f B", v / 1e9);
    else if (v >= 1e6) snprintf(buf, n, "%.2f M", v / 1e6);
    else snprintf(buf, n, "%.2f K", v / 1e3);
}

static void md_header(int w, bool ngl) {
    printf("| %-*s | %10s | %10s | %-6s | %7s |%s %13s | %20s |\n", w, "model", "size", "params",
           "isa", "threads", ngl ? "   ngl |" : "", "test", "t/s");
    printf("| ");
    for (int i = 0; i < w; i++) putchar('-');
    printf(" | ---------: | ---------: | ------ | ------: |%s ------------: | -------------------: |\n",
           ngl ? " ----: |" : "");
}

static void md_row(const struct bench_result *r, int w) {
    char size[32], params[32], ts[64];
    fmt_size(size, sizeof size, r->info->n_bytes);
    fmt_params(params, sizeof params, r->info->n_params);
    snprintf(ts, sizeof ts, "%.2f ± %.2f", r->mean, r->sd);
    /* "±" is two bytes but one column: pad by one more. */
    char ngl[16] = "";
    if (r->show_ngl) snprintf(ngl, sizeof ngl, " %5d |", r->ngl);
    printf("| %-*s | %10s | %10s | %-6s | %7d |%s %13s | %21s |\n", w, r->file, size, params, r->isa,
           r->threads, ngl, r->test, ts);
}

/* A CSV field: quoted, with quotes doubled. */
static void csv_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void csv_header(bool ngl) {
    printf("model_filename,model_name,arch,model_size,model_n_params,isa,n_threads,%sn_prompt,n_gen,"
           "n_depth,test,avg_ts,stddev_ts,samples_ts\n", ngl ? "n_gpu_layers," : "");
}

static void csv_row(const struct bench_result *r) {
    csv_str(r->path);
    putchar(',');
    csv_str(r->name);
    putchar(',');
    csv_str(r->info->arch);
    printf(",%llu,%llu,%s,%d,", (unsigned long long)r->info->n_bytes,
           (unsigned long long)r->info->n_params, r->isa, r->threads);
    if (r->show_ngl) printf("%d,", r->ngl);
    printf("%d,%d,%d,%s,%.6f,%.6f,\"", r->n_prompt, r->n_gen, r->n_depth, r->test, r->mean, r->sd);
    for (int i = 0; i < r->n_samples; i++) printf("%s%.6f", i ? ";" : "", r->samples_ts[i]);
    puts("\"");
}

/* A JSON string literal with the escapes RFC 8259 requires. */
static void json_str(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static void json_row(const struct bench_result *r, bool first) {
    printf("%s  {\"model_filename\": ", first ? "" : ",\n");
    json_str(r->path);
    printf(", \"model_name\": ");
    json_str(r->name);
    printf(", \"arch\": ");
    json_str(r->info->arch);
    if (r->show_ngl) printf(", \"n_gpu_layers\": %d", r->ngl);
    printf(", \"model_size\": %llu, \"model_n_params\": %llu, \"isa\": \"%s\", \"n_threads\": %d, "
           "\"n_prompt\": %d, \"n_gen\": %d, \"n_depth\": %d, \"test\": \"%s\", \"avg_ts\": %.6f, "
           "\"stddev_ts\": %.6f, \"samples_ts\": [",
           (unsigned long long)r->info->n_bytes, (unsigned long long)r->info->n_params, r->isa,
           r->threads, r->n_prompt, r->n_gen, r->n_depth, r->test, r->mean, r->sd);
    for (int i = 0; i < r->n_samples; i++) printf("%s%.6f", i ? ", " : "", r->samples_ts[i]);
    printf("]}");
}

static void emit_row(const struct bench_opts *o, const struct bench_result *r, int w, int idx) {
    if (o->fmt == FMT_MD) md_row(r, w);
    else if (o->fmt == FMT_CSV) csv_row(r);
    else json_row(r, idx == 0);
    out_write("", 0);
}

/* ------------------------------------------------------------------------
 * Entry point
 * ---------------------------------------------------------------------- */

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* What the tests of one model share: the token buffers and the context
 * size every test fits in. */
struct bench_bufs {
    int n_ctx;
    int32_t bos;
    int32_t *toks;
    float *logits;
    struct batch b;
};

/* Every thread count's tests of model m (loaded, offloaded as r->ngl
 * says); *idx counts rows emitted so far. 0, or EXIT_RUNTIME after
 * printing the error. */
static int bench_runs(const struct bench_opts *o, const struct model *m, struct bench_result *r,
                      struct bench_bufs *bb, int w, int *idx) {
    struct ember_err err = {0};
    int rc = 0;
    for (int ti = 0; ti < o->threads.n && !rc; ti++) {
        r->threads = (int)o->threads.v[ti];
        struct model_ctx *c = NULL;
        struct model_ctx_params cp = {.n_ctx = bb->n_ctx, .n_threads = r->threads, .n_seq = 1,
                                      .type_k = (enum kv_type)o->eo.cache_type_k,
                                      .type_v = (enum kv_type)o->eo.cache_type_v,
                                      .kv_block = o->eo.kv_block};
        if (model_ctx_new(m, &cp, &c, &err)) return loader_report(&err);
        /* All pp tests, then all tg tests, as llama-bench orders them,
         * each at every depth. */
        for (int k = 0; k < (o->pp.n + o->tg.n) * o->depth.n && !rc; k++) {
            int t = k / o->depth.n;
            bool pp = t < o->pp.n;
            int len = (int)(pp ? o->pp.v[t] : o->tg.v[t - o->pp.n]);
            if (len == 0) continue;
            r->n_prompt = pp ? len : 0;
            r->n_gen = pp ? 0 : len;
            r->n_depth = (int)o->depth.v[k % o->depth.n];
            if (r->n_depth) snprintf(r->test, sizeof r->test, "%s%d @ d%d", pp ? "pp" : "tg", len, r->n_depth);
            else snprintf(r->test, sizeof r->test, "%s%d", pp ? "pp" : "tg", len);
            if (bench_test(c, o, r, bb->bos, bb->toks, &bb->b, bb->logits, &err)) {
                if (isatty(2)) fputs("\n", stderr);
                rc = loader_report(&err);
            } else {
                emit_row(o, r, w, (*idx)++);
            }
        }
        model_ctx_free(c);
    }
    return rc;
}

/* The model of l again for the i-th -ngl value (the first was loaded
 * already), offloaded as it says. 0 or a printed error's exit status. */
static int bench_place(const struct bench_opts *o, struct ember_backend *be, struct loaded *l, int i,
                       int n_ctx) {
    struct ember_err err = {0};
    if (i > 0) { /* the layers' places are fixed at load */
        model_free(l->model);
        l->model = NULL;
        if (model_load(&l->src, be, &l->model, &err)) return loader_report(&err);
    }
    struct ember_options eo = o->eo;
    eo.n_gpu_layers = (int)o->ngl.v[i];
    eo.n_ctx = n_ctx;
    return loader_offload(l, &eo);
}

/* Measure every test of one model at every -ngl value; *idx counts rows
 * emitted so far. *header says whether the table's header is out (printed
 * here once a model has loaded, so stdout stays empty when none does). 0,
 * or EXIT_RUNTIME after printing the error. */
static int bench_model(const struct bench_opts *o, struct ember_backend *be, const char *path,
                       const char *isa, int w, int *idx, bool *header) {
    struct ember_err err = {0};
    struct loaded l;
    int rc = loader_open_files(path, NULL, false, &l);
    if (rc) return rc;
    if (model_load(&l.src, be, &l.model, &err)) {
        loader_close(&l);
        return loader_report(&err);
    }
    struct bench_result r = {.path = path, .file = base_name(path), .isa = isa, .show_ngl = o->ngl.given};
    r.info = model_get_info(l.model);
    const char *gs;
    size_t gl;
    if (loader_meta_str(&l, "general.name", &gs, &gl))
        snprintf(r.name, sizeof r.name, "%.*s", (int)(gl < 127 ? gl : 127), gs);
    int64_t bos64;
    struct bench_bufs bb = {.bos = -1};
    if (l.src.ops->get_int(l.src.impl, "tokenizer.ggml.bos_token_id", &bos64) && bos64 >= 0 &&
        bos64 < r.info->n_vocab)
        bb.bos = (int32_t)bos64;
    int n_ctx = 1;
    for (int i = 0; i < o->pp.n; i++) n_ctx = o->pp.v[i] > n_ctx ? (int)o->pp.v[i] : n_ctx;
    for (int i = 0; i < o->tg.n; i++) n_ctx = o->tg.v[i] > n_ctx ? (int)o->tg.v[i] : n_ctx;
    int max_depth = 0;
    for (int i = 0; i < o->depth.n; i++) max_depth = o->depth.v[i] > max_depth ? (int)o->depth.v[i] : max_depth;
    int n_toks = n_ctx > max_depth ? n_ctx : max_depth;
    if (n_toks < 1) n_toks = 1; /* n_ctx starts at 1; said for clang-tidy's analyzer */
    bb.n_ctx = n_ctx + max_depth;
    bb.toks = malloc((size_t)n_toks * sizeof *bb.toks);
    bb.logits = malloc((size_t)r.info->n_vocab * sizeof *bb.logits);
    r.samples_ts = malloc((size_t)o->reps * sizeof *r.samples_ts);
    if (!batch_init(&bb.b, n_toks) || !bb.toks || !bb.logits || !r.samples_ts) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
    }
    if (!rc && !*header) {
        if (o->fmt == FMT_MD) md_header(w, o->ngl.given);
        else if (o->fmt == FMT_CSV) csv_header(o->ngl.given);
        else printf("[\n");
        out_write("", 0);
        *header = true;
    }
    for (int i = 0; i < o->ngl.n && !rc; i++) {
        r.ngl = (int)o->ngl.v[i];
        if (!(rc = bench_place(o, be, &l, i, bb.n_ctx))) {
            r.info = model_get_info(l.model);
            rc = bench_runs(o, l.model, &r, &bb, w, idx);
        }
    }
    batch_free(&bb.b);
    free(r.samples_ts);
    free(bb.logits);
    free(bb.toks);
    loader_close(&l); /* and the model */
    return rc;
}

int tool_bench(int argc, char **argv) {
    struct bench_opts o;
    int rc = parse_bench(argc, argv, &o);
    if (rc) return rc;
    struct ember_err err = {0};
    struct ember_backend *be;
    if (ember_backend_new(&o.eo, &be, &err)) return loader_report(&err);
    const char *isa = be->ops->device(be);
    int w = 5;
    for (int i = 0; i < o.n_models; i++) {
        int l = (int)strlen(base_name(o.models[i]));
        if (l > w) w = l;
    }
    int idx = 0;
    bool header = false;
    for (int i = 0; i < o.n_models && !rc; i++)
        rc = bench_model(&o, be, o.models[i], isa, w, &idx, &header);
    /* Close the JSON array even after a failure, so what was measured parses;
     * a first model that failed to load leaves stdout empty. */
    if (o.fmt == FMT_JSON && header) {
        printf("%s]\n", idx ? "\n" : "");
        out_write("", 0);
    }
    ember_backend_free(be);
    return rc;
}
