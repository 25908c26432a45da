/*
 * encode.c — encode_plan and encode_write (encode.h): each tensor's rows are
 * read as floats (the type's reference dequantizer, or the tensor's own
 * reader) and encoded by the target type's reference quantizer (quant/,
 * bit-identical to ggml's where tests/test_quant.c says so), rows split over
 * threads.
 */
#include "encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "os.h"
#include "progress.h"
#include "quant.h"

void encode_plan_model(struct quant_plan *p, const struct weight_source *src) {
    const char *a = "";
    size_t alen = 0;
    src->ops->get_str(src->impl, "general.architecture", &a, &alen);
    char key[128];
    int64_t v = 0, kv = 0;
#define ARCH_KEY(k) (snprintf(key, sizeof key, "%.*s." k, (int)(alen < 64 ? alen : 64), a), key)
    p->n_layer = src->ops->get_int(src->impl, ARCH_KEY("block_count"), &v) ? (int)v : 0;
    int64_t heads = src->ops->get_int(src->impl, ARCH_KEY("attention.head_count"), &v) ? v : 1;
    p->n_gqa = src->ops->get_int(src->impl, ARCH_KEY("attention.head_count_kv"), &kv) && kv > 0 ? (int)(heads / kv) : 1;
    p->n_expert = src->ops->get_int(src->impl, ARCH_KEY("expert_count"), &v) ? (int)v : 0;
#undef ARCH_KEY
    p->falcon = weight_str_is(a, alen, "falcon");
}

/* A tensor's name as a C string in buf. */
static const char *cname(const struct encode_tensor *t, char *buf, size_t cap) {
    snprintf(buf, cap, "%.*s", (int)(t->name_len < cap - 1 ? t->name_len : cap - 1), t->name);
    return buf;
}

/* llama-quantize's order: by layer (the others first), then by name. The
 * mixes' rules count attn_v and ffn_down tensors in this order, so it
 * decides which layers get more bits; the output is written in it too. */
static int by_layer_then_name(const void *a, const void *b) {
    const struct encode_tensor *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    int c = memcmp(x->name, y->name, x->name_len < y->name_len ? x->name_len : y->name_len);
    return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

static bool is_float(int t) { return t == EMBER_TYPE_F32 || t == EMBER_TYPE_F16 || t == EMBER_TYPE_BF16; }

static uint64_t out_bytes(const struct encode_tensor *t) {
    return quant_row_bytes(t->to, t->ne[0]) * (t->n_elems / (uint64_t)t->ne[0]);
}

/* One tensor's type, checked (requantizing, types ember cannot write). */
static int plan_one(struct encode_job *j, struct encode_tensor *t) {
    char name[256];
    cname(t, name, sizeof name);
    struct quant_choice ch = quant_plan_tensor(j->plan, name, t->n_dims, t->ne[0], t->type);
    if (ch.fallback) fprintf(stderr, "ember %s: %s\n", j->tool, ch.note);
    if (ch.type != t->type && !is_float(t->type) && !j->requant)
        return cli_error("%s: %s is already %s: --allow-requantize to encode it again (quality suffers)", j->in,
                         name, quant_type_name(t->type)),
               EXIT_USAGE;
    bool encode = ch.type != t->type || t->read;
    if (encode && ch.type != EMBER_TYPE_F32 && !(quant_traits_for(ch.type) && quant_traits_for(ch.type)->quantize))
        return cli_error("%s: ember cannot write %s (%s)", j->tool, quant_type_name(ch.type), name), EXIT_USAGE;
    t->to = ch.type;
    return 0;
}

int encode_plan(struct encode_job *j, struct gguf_writer *w, struct ember_err *err) {
    struct quant_plan *p = j->plan;
    char name[256];
    p->tied = true;
    p->n_attn_v = 0;
    for (int64_t i = 0; i < j->n; i++) {
        cname(&j->t[i], name, sizeof name);
        j->t[i].layer = quant_plan_layer(name);
        p->n_attn_v += quant_plan_is_attn_v(name);
        if (!strcmp(name, "output.weight")) p->tied = false;
    }
    qsort(j->t, (size_t)j->n, sizeof *j->t, by_layer_then_name);
    for (int64_t i = 0; i < j->n; i++) {
        struct encode_tensor *t = &j->t[i];
        int rc = plan_one(j, t);
        if (rc) return rc;
        if (gguf_writer_tensor(w, t->name, t->name_len, t->to, t->n_dims, t->ne, out_bytes(t), err))
            return cli_error("%s", err->msg), EXIT_RUNTIME;
    }
    return 0;
}

struct rows_job {
    const struct encode_tensor *t;
    uint8_t *dst;
    float *scratch; /* per thread: rows_per_task rows of floats */
    int64_t rows_per_task, n_rows;
};

static void read_raw(const struct encode_tensor *t, int64_t r0, int64_t n, float *x) {
    const uint8_t *src = (const uint8_t *)t->data + quant_row_bytes(t->type, t->ne[0]) * (size_t)r0;
    if (t->type == EMBER_TYPE_F32) memcpy(x, src, (size_t)(n * t->ne[0]) * sizeof *x);
    else quant_traits_for(t->type)->dequant(src, x, n * t->ne[0]);
}

static void encode_rows(void *arg, int task) {
    const struct rows_job *j = arg;
    const struct encode_tensor *t = j->t;
    int64_t ne0 = t->ne[0], r0 = (int64_t)task * j->rows_per_task;
    int64_t n = j->n_rows - r0 < j->rows_per_task ? j->n_rows - r0 : j->rows_per_task;
    float *x = j->scratch + (size_t)threadpool_worker() * (size_t)(j->rows_per_task * ne0);
    (t->read ? t->read : read_raw)(t, r0, n, x);
    uint8_t *dst = j->dst + quant_row_bytes(t->to, ne0) * (size_t)r0;
    if (t->to == EMBER_TYPE_F32) memcpy(dst, x, (size_t)(n * ne0) * sizeof *x);
    else quant_traits_for(t->to)->quantize(x, dst, n * ne0);
}

/* One tensor's rows encoded to its type and written. */
static enum ember_status encode_one(struct gguf_writer *w, struct threadpool *pool, const struct encode_tensor *t,
                                    struct ember_err *err) {
    int64_t ne0 = t->ne[0], rows = (int64_t)(t->n_elems / (uint64_t)ne0);
    int th = threadpool_size(pool);
    struct rows_job j = {.t = t, .n_rows = rows};
    j.rows_per_task = (rows + 4 * th - 1) / (4 * th);
    if (j.rows_per_task * ne0 > (1 << 22)) j.rows_per_task = (1 << 22) / ne0 + 1;
    size_t bytes = (size_t)out_bytes(t);
    j.dst = malloc(bytes ? bytes : 1);
    j.scratch = malloc((size_t)th * (size_t)(j.rows_per_task * ne0) * sizeof(float));
    enum ember_status st = EMBER_OK;
    if (!j.dst || !j.scratch) st = ember_fail(err, EMBER_ENOMEM, "out of memory encoding %.*s", (int)t->name_len, t->name);
    else {
        threadpool_run(pool, encode_rows, &j, (int)((rows + j.rows_per_task - 1) / j.rows_per_task));
        st = gguf_write_data(w, j.dst, bytes, err);
    }
    free(j.dst);
    free(j.scratch);
    return st;
}

/* Tensor i of n is written: the progress line names it and its new type. */
static void progress(struct progress *p, int64_t i, int64_t n, const struct encode_tensor *t) {
    char what[48];
    snprintf(what, sizeof what, "%-32.*s %s", (int)(t->name_len < 32 ? t->name_len : 32), t->name,
             quant_type_name(t->to));
    progress_update(p, i + 1, n, what);
}

int encode_write(const struct encode_job *j, struct gguf_writer *w, struct threadpool *pool,
                 struct ember_err *err) {
    if (gguf_write_begin(w, j->out, err)) return cli_error("%s", err->msg), EXIT_RUNTIME;
    uint64_t in_bytes = 0, total = 0;
    double t0 = os_now_ms();
    struct progress bar;
    progress_begin(&bar, 0);
    for (int64_t i = 0; i < j->n; i++) {
        const struct encode_tensor *t = &j->t[i];
        enum ember_status st = t->to == t->type && !t->read ? gguf_write_data(w, t->data, t->n_bytes, err)
                                                             : encode_one(w, pool, t, err);
        if (st) return progress_end(&bar), cli_error("%s", err->msg), EXIT_RUNTIME;
        in_bytes += t->n_bytes;
        total += out_bytes(t);
        progress(&bar, i, j->n, t);
    }
    progress_end(&bar);
    if (gguf_write_end(w, err)) return cli_error("%s", err->msg), EXIT_RUNTIME;
    fprintf(stderr, "ember %s: %s (%s): %.1f MiB -> %.1f MiB, %lld tensors, %.1f s\n", j->tool, j->out,
            j->plan->mix->name, (double)in_bytes / 1048576.0, (double)total / 1048576.0, (long long)j->n,
            (os_now_ms() - t0) / 1000.0);
    return 0;
}
