/*
 * quantize.c — `ember quantize IN.gguf OUT.gguf TYPE [THREADS]`, with
 * llama-quantize's flags: a GGUF whose tensors are re-encoded to a mix
 * (Q4_K_M, Q8_0, …; quantize_plan.h picks each tensor's type), the metadata
 * copied with general.file_type and general.quantization_version set.
 *
 * The tensors are re-encoded by encode.h (shared with `ember convert`);
 * the output goes to OUT.tmp and is renamed when complete.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "cli_suggest.h"
#include "encode.h"
#include "gguf.h"
#include "gguf_write.h"
#include "quant.h"
#include "quantize_plan.h"
#include "threadpool.h"
#include "tools.h"
#include "weights.h"

static const char usage_text[] =
    "usage: ember quantize [options] IN.gguf OUT.gguf TYPE [THREADS]\n"
    "  TYPE: Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q2_K_S Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M\n"
    "        Q5_K_S Q5_K_M Q6_K F16 BF16 F32 (Q3_K, Q4_K, Q5_K: the _M mixes)\n"
    "  --allow-requantize          re-encode tensors that are already quantized\n"
    "  --pure                      TYPE for every tensor (no per-tensor mix)\n"
    "  --output-tensor-type T      type of output.weight\n"
    "  --token-embedding-type T    type of token_embd.weight\n"
    "  --tensor-type REGEX=T       type of the tensors whose name matches (repeatable)\n";

enum { MAX_OV = 32 };

struct qopts {
    const char *in, *out;
    const struct quant_mix *mix;
    int threads;
    bool requant;
    struct quant_plan plan;
    struct quant_override ov[MAX_OV];
};

/* A type name as --output-tensor-type etc. take it ("q6_k", "Q8_0"), one
 * ember can write; -1 (and a message) otherwise. */
static int parse_type(const char *flag, const char *s) {
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        const char *n = quant_type_name(t);
        if (!n || strcasecmp(n, s)) continue;
        if (t == EMBER_TYPE_F32 || (quant_traits_for(t) && quant_traits_for(t)->quantize)) return t;
        break;
    }
    cli_error("%s: '%s' is not a type ember can write", flag, s);
    return -1;
}

/* REGEX=TYPE, the expression compiled here once for every tensor. */
static int parse_override(struct qopts *o, const char *s) {
    const char *eq = strrchr(s, '=');
    if (!eq || eq == s) return cli_error("--tensor-type: '%s' is not REGEX=TYPE", s), -1;
    if (o->plan.n_ov == MAX_OV) return cli_error("--tensor-type: at most %d", MAX_OV), -1;
    int t = parse_type("--tensor-type", eq + 1);
    if (t < 0) return -1;
    char *pat = strndup(s, (size_t)(eq - s));
    struct quant_override *ov = &o->ov[o->plan.n_ov];
    bool ok = pat && !regcomp(&ov->re, pat, REG_EXTENDED | REG_NOSUB);
    if (!ok) cli_error("--tensor-type: '%s' is not a regular expression", pat ? pat : s);
    free(pat);
    if (!ok) return -1;
    ov->type = t;
    o->plan.n_ov++;
    return 0;
}

static int parse_args(int argc, char **argv, struct qopts *o) {
    const char *pos[4];
    int n_pos = 0;
    o->plan.output_type = o->plan.embd_type = -1;
    o->plan.ov = o->ov;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return fflush(stdout) ? EXIT_RUNTIME : -1;
        } else if (!strcmp(a, "--allow-requantize")) o->requant = true;
        else if (!strcmp(a, "--pure")) o->plan.pure = true;
        else if (!strcmp(a, "--output-tensor-type") || !strcmp(a, "--token-embedding-type") ||
                 !strcmp(a, "--tensor-type")) {
            if (!(v = args_value(argc, argv, &i))) return EXIT_USAGE;
            int t = a[2] == 'o' ? (o->plan.output_type = parse_type(a, v))
                    : a[3] == 'o' ? (o->plan.embd_type = parse_type(a, v)) : parse_override(o, v);
            if (t < 0) return EXIT_USAGE;
        } else if (a[0] == '-' && a[1]) return cli_unknown_flag("quantize", a, usage_text);
        else if (n_pos == 4) return cli_error("quantize: too many arguments (%s)", a), EXIT_USAGE;
        else pos[n_pos++] = a;
    }
    if (n_pos < 3) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    o->in = pos[0], o->out = pos[1];
    if (!(o->mix = quant_mix_find(pos[2]))) return cli_error("quantize: unknown type '%s' (ember quantize --help lists them)", pos[2]), EXIT_USAGE;
    long t = default_threads();
    if (n_pos == 4 && !args_int("THREADS", pos[3], 1, 1024, &t)) return EXIT_USAGE;
    o->threads = (int)t;
    o->plan.mix = o->mix;
    return 0;
}

/* Metadata: every pair copied, the file type and quantization version set
 * (where they were, or appended), split keys dropped. */
static enum ember_status copy_meta(struct gguf_writer *w, const struct gguf_file *f, int ftype, struct ember_err *err) {
    bool have_ft = false, have_qv = false;
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        struct gguf_str k = gguf_key(f, i);
        enum ember_status st;
        if (gguf_str_eq(k, "general.file_type")) st = gguf_writer_u32(w, "general.file_type", (uint32_t)ftype, err), have_ft = true;
        else if (gguf_str_eq(k, "general.quantization_version")) st = gguf_writer_u32(w, "general.quantization_version", 2, err), have_qv = true;
        else if (k.len > 6 && !memcmp(k.p, "split.", 6)) continue;
        else st = gguf_writer_raw(w, gguf_kv_raw(f, i), err);
        if (st) return st;
    }
    if (!have_qv && gguf_writer_u32(w, "general.quantization_version", 2, err)) return err->status;
    if (!have_ft && gguf_writer_u32(w, "general.file_type", (uint32_t)ftype, err)) return err->status;
    return EMBER_OK;
}

/* The file's tensors as the encoder's list: their bytes as they are. */
static struct encode_tensor *tensors_of(const struct gguf_file *f) {
    int64_t n = gguf_n_tensors(f);
    struct encode_tensor *ts = calloc((size_t)(n ? n : 1), sizeof *ts);
    for (int64_t i = 0; ts && i < n; i++) {
        const struct gguf_tensor *t = gguf_tensor(f, i);
        ts[i] = (struct encode_tensor){.name = t->name.p, .name_len = (size_t)t->name.len, .n_dims = t->n_dims,
                                       .n_elems = t->n_elems, .type = t->type, .data = t->data,
                                       .n_bytes = t->n_bytes};
        memcpy(ts[i].ne, t->ne, sizeof ts[i].ne);
    }
    return ts;
}

static int run(struct qopts *o, const struct gguf_file *f, struct gguf_writer *w, struct threadpool *pool,
               struct ember_err *err) {
    struct encode_job j = {.tool = "quantize", .in = o->in, .out = o->out, .plan = &o->plan,
                           .requant = o->requant, .t = tensors_of(f), .n = gguf_n_tensors(f)};
    if (!j.t) return cli_error("out of memory"), EXIT_RUNTIME;
    struct weight_source src = weight_source_gguf(f);
    encode_plan_model(&o->plan, &src);
    int rc = encode_plan(&j, w, err);
    if (!rc && copy_meta(w, f, o->mix->ftype, err)) rc = (cli_error("%s", err->msg), EXIT_RUNTIME);
    if (!rc) rc = encode_write(&j, w, pool, err);
    free(j.t);
    return rc;
}

int tool_quantize(int argc, char **argv) {
    struct qopts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        for (int i = 0; i < o.plan.n_ov; i++) regfree(&o.ov[i].re);
        return rc < 0 ? 0 : rc;
    }
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    struct gguf_writer *w = NULL;
    struct threadpool *pool = NULL;
    if (gguf_open(o.in, &f, &err) || gguf_writer_new(&w, &err)) rc = (cli_error("%s", err.msg), EXIT_RUNTIME);
    else if (!(pool = threadpool_new(o.threads))) rc = (cli_error("cannot start %d threads", o.threads), EXIT_RUNTIME);
    else rc = run(&o, f, w, pool, &err);
    threadpool_free(pool);
    gguf_writer_free(w);
    gguf_close(f);
    for (int i = 0; i < o.plan.n_ov; i++) regfree(&o.ov[i].re);
    return rc;
}
