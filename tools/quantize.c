/*
 * quantize.c — `ember quantize IN.gguf OUT.gguf TYPE [THREADS]`, with
 * llama-quantize's flags: a GGUF whose tensors are re-encoded to a mix
 * (Q4_K_M, Q8_0, …; quantize_plan.h picks each tensor's type), the metadata
 * copied with general.file_type and general.quantization_version set.
 *
 * Each tensor's rows are decoded to floats by their type's reference
 * dequantizer and encoded by the target type's reference quantizer (quant/,
 * bit-identical to ggml's where tests/test_quant.c says so), rows split over
 * threads. The output goes to OUT.tmp and is renamed when complete.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "args.h"
#include "cli_suggest.h"
#include "gguf.h"
#include "gguf_write.h"
#include "os.h"
#include "quant.h"
#include "quantize_plan.h"
#include "progress.h"
#include "threadpool.h"
#include "tools.h"

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

/* The model facts the rules need, from the metadata and the tensor names. */
static void plan_model(struct quant_plan *p, const struct gguf_file *f) {
    struct gguf_str arch = {"", 0};
    gguf_get_str(f, "general.architecture", &arch);
    char key[128];
    int64_t v = 0, kv = 0;
#define ARCH_KEY(k) (snprintf(key, sizeof key, "%.*s." k, (int)(arch.len < 64 ? arch.len : 64), arch.p), key)
    p->n_layer = gguf_get_i64(f, ARCH_KEY("block_count"), &v) ? (int)v : 0;
    int64_t heads = gguf_get_i64(f, ARCH_KEY("attention.head_count"), &v) ? v : 1;
    p->n_gqa = gguf_get_i64(f, ARCH_KEY("attention.head_count_kv"), &kv) && kv > 0 ? (int)(heads / kv) : 1;
    p->n_expert = gguf_get_i64(f, ARCH_KEY("expert_count"), &v) ? (int)v : 0;
#undef ARCH_KEY
    p->falcon = gguf_str_eq(arch, "falcon");
    p->tied = !gguf_find_tensor(f, "output.weight");
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        char name[256];
        struct gguf_str n = gguf_tensor(f, i)->name;
        snprintf(name, sizeof name, "%.*s", (int)(n.len < 255 ? n.len : 255), n.p);
        p->n_attn_v += quant_plan_is_attn_v(name);
    }
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

struct conv_job {
    const struct gguf_tensor *t;
    int to;
    uint8_t *dst;
    float *scratch; /* per thread: rows_per_task rows of floats */
    int64_t rows_per_task, n_rows;
};

static void convert_rows(void *arg, int task) {
    const struct conv_job *j = arg;
    int64_t ne0 = j->t->ne[0], r0 = (int64_t)task * j->rows_per_task;
    int64_t n = j->n_rows - r0 < j->rows_per_task ? j->n_rows - r0 : j->rows_per_task;
    float *x = j->scratch + (size_t)threadpool_worker() * (size_t)(j->rows_per_task * ne0);
    const uint8_t *src = (const uint8_t *)j->t->data + quant_row_bytes(j->t->type, ne0) * (size_t)r0;
    if (j->t->type == EMBER_TYPE_F32) memcpy(x, src, (size_t)(n * ne0) * sizeof *x);
    else quant_traits_for(j->t->type)->dequant(src, x, n * ne0);
    uint8_t *dst = j->dst + quant_row_bytes(j->to, ne0) * (size_t)r0;
    if (j->to == EMBER_TYPE_F32) memcpy(dst, x, (size_t)(n * ne0) * sizeof *x);
    else quant_traits_for(j->to)->quantize(x, dst, n * ne0);
}

/* One tensor's data re-encoded to type `to` and written. */
static enum ember_status convert(struct gguf_writer *w, struct threadpool *pool, const struct gguf_tensor *t, int to,
                                 struct ember_err *err) {
    int64_t ne0 = t->ne[0], rows = (int64_t)(t->n_elems / (uint64_t)ne0);
    int th = threadpool_size(pool);
    struct conv_job j = {.t = t, .to = to, .n_rows = rows};
    j.rows_per_task = (rows + 4 * th - 1) / (4 * th);
    if (j.rows_per_task * ne0 > (1 << 22)) j.rows_per_task = (1 << 22) / ne0 + 1;
    size_t out_bytes = quant_row_bytes(to, ne0) * (size_t)rows;
    j.dst = malloc(out_bytes ? out_bytes : 1);
    j.scratch = malloc((size_t)th * (size_t)(j.rows_per_task * ne0) * sizeof(float));
    enum ember_status st = EMBER_OK;
    if (!j.dst || !j.scratch) st = ember_fail(err, EMBER_ENOMEM, "out of memory converting %.*s", (int)t->name.len, t->name.p);
    else {
        threadpool_run(pool, convert_rows, &j, (int)((rows + j.rows_per_task - 1) / j.rows_per_task));
        st = gguf_write_data(w, j.dst, out_bytes, err);
    }
    free(j.dst);
    free(j.scratch);
    return st;
}

/* The layer of a tensor name ("blk.N."), -1 for the others. */
static int layer_of(struct gguf_str n) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)(n.len < 31 ? n.len : 31), n.p);
    return quant_plan_layer(buf);
}

static const struct gguf_file *sort_file;
static const int *sort_layer; /* each tensor's layer_of, found once */

/* llama-quantize's order: by layer (the others first), then by name. The
 * mixes' rules count attn_v and ffn_down tensors in this order, so it
 * decides which layers get more bits; the output is written in it too. */
static int by_layer_then_name(const void *a, const void *b) {
    struct gguf_str x = gguf_tensor(sort_file, *(const int64_t *)a)->name;
    struct gguf_str y = gguf_tensor(sort_file, *(const int64_t *)b)->name;
    int lx = sort_layer[*(const int64_t *)a], ly = sort_layer[*(const int64_t *)b];
    if (lx != ly) return lx < ly ? -1 : 1;
    int c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
    return c ? c : (x.len > y.len) - (x.len < y.len);
}

static bool is_float(int t) { return t == EMBER_TYPE_F32 || t == EMBER_TYPE_F16 || t == EMBER_TYPE_BF16; }

/* The plan for every tensor, checked (requantizing, types ember cannot
 * write), and the table given to the writer. */
static int plan_all(struct qopts *o, const struct gguf_file *f, struct gguf_writer *w, const int64_t *order,
                    int *types, struct ember_err *err) {
    for (int64_t k = 0; k < gguf_n_tensors(f); k++) {
        int64_t i = order[k];
        const struct gguf_tensor *t = gguf_tensor(f, i);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(t->name.len < 255 ? t->name.len : 255), t->name.p);
        struct quant_choice ch = quant_plan_tensor(&o->plan, name, t->n_dims, t->ne[0], t->type);
        if (ch.fallback) fprintf(stderr, "ember quantize: %s\n", ch.note);
        if (ch.type != t->type && !is_float(t->type) && !o->requant)
            return cli_error("%s: %s is already %s: --allow-requantize to encode it again (quality suffers)", o->in,
                             name, quant_type_name(t->type)),
                   EXIT_USAGE;
        if (ch.type != t->type && ch.type != EMBER_TYPE_F32 && !quant_traits_for(ch.type)->quantize)
            return cli_error("quantize: ember cannot write %s (%s)", quant_type_name(ch.type), name), EXIT_USAGE;
        types[i] = ch.type;
        uint64_t bytes = quant_row_bytes(ch.type, t->ne[0]) * (t->n_elems / (uint64_t)t->ne[0]);
        if (gguf_writer_tensor(w, t->name.p, t->name.len, ch.type, t->n_dims, t->ne, bytes, err))
            return cli_error("%s", err->msg), EXIT_RUNTIME;
    }
    return 0;
}

/* Tensor i of n is written: the progress line names it and its new type. */
static void progress(struct progress *p, int64_t i, int64_t n, const struct gguf_tensor *t, int to) {
    char what[48];
    snprintf(what, sizeof what, "%-32.*s %s", (int)(t->name.len < 32 ? t->name.len : 32), t->name.p,
             quant_type_name(to));
    progress_update(p, i + 1, n, what);
}

static int run(struct qopts *o, const struct gguf_file *f, struct gguf_writer *w, struct threadpool *pool,
               struct ember_err *err) {
    int64_t n = gguf_n_tensors(f);
    int *types = calloc((size_t)(n ? n : 1), sizeof *types);
    int64_t *order = calloc((size_t)(n ? n : 1), sizeof *order);
    int *layers = calloc((size_t)(n ? n : 1), sizeof *layers);
    if (!types || !order || !layers)
        return free(types), free(order), free(layers), cli_error("out of memory"), EXIT_RUNTIME;
    for (int64_t i = 0; i < n; i++) order[i] = i, layers[i] = layer_of(gguf_tensor(f, i)->name);
    sort_file = f;
    sort_layer = layers;
    qsort(order, (size_t)n, sizeof *order, by_layer_then_name);
    free(layers);
    plan_model(&o->plan, f);
    int rc = plan_all(o, f, w, order, types, err);
    if (!rc && (copy_meta(w, f, o->mix->ftype, err) || gguf_write_begin(w, o->out, err))) rc = EXIT_RUNTIME;
    uint64_t in_bytes = 0, out_bytes = 0;
    double t0 = os_now_ms();
    struct progress bar;
    progress_begin(&bar, 0);
    for (int64_t k = 0; !rc && k < n; k++) {
        int64_t i = order[k];
        const struct gguf_tensor *t = gguf_tensor(f, i);
        enum ember_status st = types[i] == t->type ? gguf_write_data(w, t->data, t->n_bytes, err)
                                                   : convert(w, pool, t, types[i], err);
        if (st) rc = EXIT_RUNTIME;
        in_bytes += t->n_bytes;
        out_bytes += quant_row_bytes(types[i], t->ne[0]) * (t->n_elems / (uint64_t)t->ne[0]);
        progress(&bar, k, n, t, types[i]);
    }
    progress_end(&bar);
    if (!rc && gguf_write_end(w, err)) rc = EXIT_RUNTIME;
    if (rc == EXIT_RUNTIME && err->msg[0]) cli_error("%s", err->msg);
    if (!rc)
        fprintf(stderr, "ember quantize: %s (%s): %.1f MiB -> %.1f MiB, %lld tensors, %.1f s\n", o->out, o->mix->name,
                (double)in_bytes / 1048576.0, (double)out_bytes / 1048576.0, (long long)n, (os_now_ms() - t0) / 1000.0);
    free(types);
    free(order);
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
