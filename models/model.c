/*
 * model.c — the architecture registry, hyper-parameters common to the
 * llama family, tensor binding with shape checks, and the per-sequence
 * context (scratch buffers, KV cache, thread pool).
 *
 * The forward pass itself lives in the architecture file (llama.c).
 */
#include "arch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cpu_features.h"
#include "os.h"
#include "pack_cache.h"
#include "quant.h"
#include "threadpool.h"

static const struct model_arch *const archs[] = {&llama_arch, &qwen2_arch};
#define N_ARCHS (sizeof archs / sizeof archs[0])

const char *model_supported_archs(void) { return "llama, qwen2"; }

/* ------------------------------------------------------------ binding */

enum ember_status model_bind_matrix(const struct gguf_file *f, const char *name,
                                    int64_t n_in, int64_t n_out, bool optional,
                                    struct tensor *t, struct ember_err *err) {
    const struct gguf_tensor *g = gguf_find_tensor(f, name);
    memset(t, 0, sizeof *t);
    if (!g) {
        if (optional) return EMBER_OK;
        return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor '%s'", name);
    }
    if (g->n_dims > 2 || g->ne[0] != n_in || g->ne[1] != n_out)
        return ember_fail(err, EMBER_ECORRUPT,
                          "tensor '%s' has shape [%lld, %lld], expected [%lld, %lld]",
                          name, (long long)g->ne[0], (long long)g->ne[1],
                          (long long)n_in, (long long)n_out);
    if (!quant_ops_for(g->type)->dot)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "tensor '%s' has type %s, which is not a weight type", name,
                          quant_type_name(g->type));
    t->type = g->type;
    t->n_in = n_in;
    t->n_out = n_out;
    t->row_bytes = quant_row_bytes(g->type, n_in);
    t->data = g->data;
    return EMBER_OK;
}

enum ember_status model_bind_vector(const struct gguf_file *f, const char *name,
                                    int64_t n, bool optional, const float **v,
                                    struct ember_err *err) {
    const struct gguf_tensor *g = gguf_find_tensor(f, name);
    *v = NULL;
    if (!g) {
        if (optional) return EMBER_OK;
        return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor '%s'", name);
    }
    if (g->n_dims != 1 || g->ne[0] != n)
        return ember_fail(err, EMBER_ECORRUPT, "tensor '%s' has %lld values, expected %lld",
                          name, (long long)g->n_elems, (long long)n);
    if (g->type != 0 /* F32 */)
        return ember_fail(err, EMBER_EUNSUPPORTED, "tensor '%s' has type %s, expected F32",
                          name, quant_type_name(g->type));
    *v = g->data; /* the data section is aligned to at least 4 bytes... */
    if ((uintptr_t)*v % sizeof(float))
        return ember_fail(err, EMBER_ECORRUPT, "tensor '%s' is not 4-byte aligned", name);
    return EMBER_OK;
}

/* ------------------------------------------------------ hyper-parameters */

/* Read "<arch>.<suffix>" as an integer in [lo, hi]. */
static enum ember_status hp_int(const struct gguf_file *f, const char *arch,
                                const char *suffix, bool optional, int64_t lo,
                                int64_t hi, int *v, struct ember_err *err) {
    char key[128];
    int64_t x;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!gguf_get_i64(f, key, &x)) {
        if (optional && gguf_find_key(f, key) < 0) return EMBER_OK;
        return ember_fail(err, EMBER_ECORRUPT, "metadata '%s' is missing or not an integer", key);
    }
    if (x < lo || x > hi)
        return ember_fail(err, EMBER_ECORRUPT, "metadata '%s' = %lld is out of range [%lld, %lld]",
                          key, (long long)x, (long long)lo, (long long)hi);
    *v = (int)x;
    return EMBER_OK;
}

static enum ember_status hp_float(const struct gguf_file *f, const char *arch,
                                  const char *suffix, float *v, struct ember_err *err) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (gguf_find_key(f, key) < 0) return EMBER_OK; /* keep the default */
    if (!gguf_get_f32(f, key, v) || !isfinite(*v) || *v <= 0)
        return ember_fail(err, EMBER_ECORRUPT, "metadata '%s' is not a positive number", key);
    return EMBER_OK;
}

#define TRY(x) do { enum ember_status st_ = (x); if (st_) return st_; } while (0)

static enum ember_status read_rope(struct model *m, const struct gguf_file *f,
                                  const char *a, struct ember_err *err) {
    struct rope_params *r = &m->rope;
    r->n_rot = m->info.head_dim;
    r->freq_base = 10000.0f;
    r->freq_scale = 1.0f;
    r->attn_factor = 1.0f;
    r->beta_fast = 32.0f;
    r->beta_slow = 1.0f;
    r->n_ctx_orig = m->info.n_ctx_train;
    r->neox = m->arch->rope_neox;
    TRY(hp_int(f, a, "rope.dimension_count", true, 2, m->info.head_dim, &r->n_rot, err));
    if (r->n_rot % 2)
        return ember_fail(err, EMBER_ECORRUPT, "rope dimension count %d is odd", r->n_rot);
    TRY(hp_float(f, a, "rope.freq_base", &r->freq_base, err));
    char key[128];
    struct gguf_str type = {"none", 4};
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    gguf_get_str(f, key, &type);
    float factor = 1.0f;
    TRY(hp_float(f, a, "rope.scale_linear", &factor, err));
    TRY(hp_float(f, a, "rope.scaling.factor", &factor, err));
    TRY(hp_float(f, a, "rope.scaling.attn_factor", &r->attn_factor, err));
    TRY(hp_int(f, a, "rope.scaling.original_context_length", true, 1, 1 << 24,
               &r->n_ctx_orig, err));
    if (gguf_str_eq(type, "none")) {
        factor = 1.0f;
    } else if (gguf_str_eq(type, "yarn")) {
        r->ext_factor = 1.0f;
    } else if (!gguf_str_eq(type, "linear")) {
        return ember_fail(err, EMBER_EUNSUPPORTED, "rope scaling type '%.*s' is not supported",
                          (int)type.len, type.p);
    }
    r->freq_scale = 1.0f / factor;
    /* Llama 3.1 style per-frequency divisors. */
    const struct gguf_tensor *ff = gguf_find_tensor(f, "rope_freqs.weight");
    if (ff) {
        const float *v;
        TRY(model_bind_vector(f, "rope_freqs.weight", r->n_rot / 2, false, &v, err));
        r->freq_factors = v;
    }
    return EMBER_OK;
}

static enum ember_status read_hparams(struct model *m, const struct gguf_file *f,
                                      struct ember_err *err) {
    const char *a = m->arch->name;
    struct model_info *in = &m->info;
    in->arch = a;
    TRY(hp_int(f, a, "embedding_length", false, 1, 1 << 20, &in->n_embd, err));
    TRY(hp_int(f, a, "block_count", false, 1, 4096, &in->n_layer, err));
    TRY(hp_int(f, a, "feed_forward_length", false, 1, 1 << 22, &in->n_ff, err));
    TRY(hp_int(f, a, "attention.head_count", false, 1, 4096, &in->n_head, err));
    in->n_head_kv = in->n_head;
    TRY(hp_int(f, a, "attention.head_count_kv", true, 1, in->n_head, &in->n_head_kv, err));
    if (in->n_head % in->n_head_kv)
        return ember_fail(err, EMBER_ECORRUPT, "head_count %d is not a multiple of head_count_kv %d",
                          in->n_head, in->n_head_kv);
    in->head_dim = in->n_embd / in->n_head;
    TRY(hp_int(f, a, "attention.key_length", true, 2, 1 << 16, &in->head_dim, err));
    int vlen = in->head_dim;
    TRY(hp_int(f, a, "attention.value_length", true, 2, 1 << 16, &vlen, err));
    if (vlen != in->head_dim || in->head_dim < 2 || in->head_dim % 2)
        return ember_fail(err, EMBER_EUNSUPPORTED, "head size %d (value %d) is not supported",
                          in->head_dim, vlen);
    in->n_ctx_train = 2048;
    TRY(hp_int(f, a, "context_length", true, 1, 1 << 24, &in->n_ctx_train, err));
    m->rms_eps = 1e-5f;
    TRY(hp_float(f, a, "attention.layer_norm_rms_epsilon", &m->rms_eps, err));
    return read_rope(m, f, a, err);
}

/* ------------------------------------------------------------ load/free */

static void count_params(struct model *m, const struct gguf_file *f) {
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const struct gguf_tensor *t = gguf_tensor(f, i);
        m->info.n_params += t->n_elems;
        m->info.n_bytes += t->n_bytes;
    }
}

/* The matrices of a model in a fixed order: output, then each layer's. */
static int model_matrices(struct model *m, struct tensor **out, int cap) {
    int n = 0;
    if (n < cap) out[n++] = &m->output;
    for (int l = 0; l < m->info.n_layer; l++) {
        struct layer_weights *w = &m->layers[l];
        struct tensor *lt[7] = {&w->wq, &w->wk, &w->wv, &w->wo, &w->w_gate, &w->w_up, &w->w_down};
        for (int i = 0; i < 7 && n < cap; i++) out[n++] = lt[i];
    }
    return n;
}

/* One packing task: PACK_TASK_ROWS rows of one matrix (a multiple of
 * PACK_ROWS, so each task starts a group of the packed layout). */
#define PACK_TASK_ROWS 256
struct pack_job {
    struct tensor **ts;  /* the matrices to pack */
    int64_t *first_task; /* task index where matrix i starts; one past the end last */
};

static void pack_task(void *arg, int task) {
    const struct pack_job *j = arg;
    int i = 0;
    while (j->first_task[i + 1] <= task) i++;
    struct tensor *t = j->ts[i];
    const struct quant_ops *q = quant_ops_for(t->type);
    int64_t r0 = (task - j->first_task[i]) * (int64_t)PACK_TASK_ROWS;
    int64_t rows = t->n_out - r0 < PACK_TASK_ROWS ? t->n_out - r0 : PACK_TASK_ROWS;
    const uint8_t *src = (const uint8_t *)t->data + (size_t)r0 * t->row_bytes;
    q->pack(t->n_in, src, t->row_bytes, rows,
            (uint8_t *)t->packed + (size_t)(r0 / PACK_ROWS) * q->pack_bytes(PACK_ROWS, t->n_in));
    /* the file's copy is not read again (but for a tied embedding's
     * lookups, which fault pages back in) */
    os_drop_pages(src, (size_t)rows * t->row_bytes);
}

/* Bytes of t's packed copy, rounded up so the next one starts on a line. */
static size_t packed_size(const struct tensor *t) {
    return (quant_ops_for(t->type)->pack_bytes(t->n_out, t->n_in) + 63) & ~(size_t)63;
}

/* Point the n matrices ts at their places in one buffer of packed copies. */
static void place_packed(struct tensor **ts, int n, const uint8_t *buf) {
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        ts[i]->packed = buf + at;
        at += packed_size(ts[i]);
    }
}

/* Repack the n matrices ts into buf by all CPUs (first: their task ranges). */
static void repack(struct tensor **ts, int n, int64_t *first, uint8_t *buf) {
    place_packed(ts, n, buf);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct threadpool *pool = threadpool_new(cpus < 1 ? 1 : cpus > 16 ? 16 : (int)cpus);
    struct pack_job job = {ts, first};
    if (pool) {
        threadpool_run(pool, pack_task, &job, (int)first[n]);
        threadpool_free(pool);
    } else {
        for (int64_t t = 0; t < first[n]; t++) pack_task(&job, (int)t);
    }
}

/* The matrices a kernel set has a faster layout for, copied into it once
 * (as llama.cpp's CPU "repack" does), by all CPUs, into one allocation, so
 * the model's memory for those types moves from the file's pages (dropped)
 * to it — or mapped from the cache file of an earlier load (cache_dir set;
 * pack_cache.h). Only speed depends on it: when the allocation fails, or
 * EMBER_REPACK=0, matmul reads the mapped file. */
static void pack_weights(struct model *m, const char *model_path, const char *cache_dir) {
    const char *env = getenv("EMBER_REPACK");
    m->pack_source = "none";
    if (env && !strcmp(env, "0")) return;
    int cap = 1 + 7 * m->info.n_layer, n = 0;
    struct tensor **ts = calloc((size_t)cap, sizeof *ts);
    int64_t *first = calloc((size_t)cap + 1, sizeof *first);
    size_t total = 0;
    if (!ts || !first) goto done;
    /* all matrices, kept in place when their type has a packed layout */
    int n_all = model_matrices(m, ts, cap);
    for (int i = 0; i < n_all; i++) {
        const struct quant_ops *q = quant_ops_for(ts[i]->type);
        if (!q->pack || !q->mul_mat_packed) continue;
        total += packed_size(ts[i]);
        first[n + 1] = first[n] + (ts[i]->n_out + PACK_TASK_ROWS - 1) / PACK_TASK_ROWS;
        ts[n++] = ts[i];
    }
    if (!total) goto done;
    const char *isa = cpu_isa_name(cpu_isa_chosen());
    const uint8_t *cached =
        cache_dir ? pack_cache_open(cache_dir, model_path, isa, total, &m->pack_map) : NULL;
    if (cached) {
        place_packed(ts, n, cached);
        m->pack_source = "cache";
        goto done;
    }
    uint8_t *buf = os_alloc_large(total);
    if (!buf) goto done;
    repack(ts, n, first, buf);
    m->packed = buf;
    m->packed_bytes = total;
    m->pack_source = !cache_dir ? "repacked"
                     : pack_cache_write(cache_dir, model_path, isa, buf, total, PACK_CACHE_DEFAULT_CAP)
                         ? "repacked, cache written"
                         : "repacked, cache not writable";
done:
    free(ts);
    free(first);
}

enum ember_status model_load(const struct gguf_file *f, struct model **out,
                             struct ember_err *err) {
    return model_load_cached(f, NULL, out, err);
}

enum ember_status model_load_cached(const struct gguf_file *f, const char *cache_dir,
                                    struct model **out, struct ember_err *err) {
    *out = NULL;
    struct gguf_str name;
    if (!gguf_get_str(f, "general.architecture", &name))
        return ember_fail(err, EMBER_ECORRUPT, "metadata 'general.architecture' is missing");
    const struct model_arch *arch = NULL;
    for (size_t i = 0; i < N_ARCHS; i++)
        if (gguf_str_eq(name, archs[i]->name)) arch = archs[i];
    if (!arch)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "unknown model architecture '%.*s' (supported: %s)",
                          (int)(name.len > 64 ? 64 : name.len), name.p, model_supported_archs());
    struct model *m = calloc(1, sizeof *m);
    if (!m) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    m->arch = arch;
    enum ember_status st = read_hparams(m, f, err);
    if (!st) {
        m->layers = calloc((size_t)m->info.n_layer, sizeof *m->layers);
        st = m->layers ? arch->bind(m, f, err) : ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    if (st) {
        model_free(m);
        return st;
    }
    count_params(m, f);
    pack_weights(m, gguf_path(f), cache_dir);
    *out = m;
    return EMBER_OK;
}

void model_free(struct model *m) {
    if (!m) return;
    os_free_large(m->packed, m->packed_bytes);
    os_unmap(&m->pack_map);
    free(m->layers);
    free(m);
}

const struct model_info *model_get_info(const struct model *m) { return &m->info; }
const char *model_pack_source(const struct model *m) { return m->pack_source; }

/* ------------------------------------------------------------- context */

/* What this process may allocate: physical memory, lowered by an address-
 * space or data-segment limit (ulimit -v / -d) when one is set. *why says
 * which bound applied. */
static uint64_t memory_available(const char **why) {
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    uint64_t avail = UINT64_MAX;
    *why = "physical memory";
    if (pages > 0 && psize > 0) avail = (uint64_t)pages * (uint64_t)psize;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < avail) {
        avail = (uint64_t)rl.rlim_cur;
        *why = "the address-space limit, ulimit -v";
    }
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (uint64_t)rl.rlim_cur < avail) {
        avail = (uint64_t)rl.rlim_cur;
        *why = "the data-size limit, ulimit -d";
    }
    return avail;
}

static void *alloc_floats(uint64_t n, bool *ok) {
    void *p = calloc(n ? n : 1, sizeof(float));
    if (!p) *ok = false;
    return p;
}

enum ember_status model_ctx_new(const struct model *m, int n_ctx, int n_threads,
                                struct model_ctx **out, struct ember_err *err) {
    return model_ctx_new_batch(m, n_ctx, n_threads, 0, out, err);
}

enum ember_status model_ctx_new_batch(const struct model *m, int n_ctx, int n_threads,
                                      int n_batch, struct model_ctx **out,
                                      struct ember_err *err) {
    *out = NULL;
    if (n_batch <= 0) n_batch = MODEL_DEFAULT_BATCH;
    if (n_batch > n_ctx) n_batch = n_ctx;
    const struct model_info *in = &m->info;
    uint64_t kv_dim = (uint64_t)in->n_head_kv * in->head_dim;
    uint64_t q_dim = (uint64_t)in->n_head * in->head_dim;
    uint64_t cache = (uint64_t)in->n_layer * (uint64_t)n_ctx * kv_dim; /* floats per cache */
    uint64_t B = (uint64_t)n_batch;
    uint64_t wide = (uint64_t)in->n_ff > q_dim ? (uint64_t)in->n_ff : q_dim;
    if ((uint64_t)in->n_embd > wide) wide = (uint64_t)in->n_embd;
    uint64_t xb_w = q_dim > (uint64_t)in->n_embd ? q_dim : (uint64_t)in->n_embd;
    /* scratch floats: x, xb, xb2, q, att, hb, hb2, kb, vb below (all sizes < 2^40) */
    uint64_t scratch = 4 * (B * (2 * (uint64_t)in->n_embd + xb_w + q_dim + 2 * (uint64_t)in->n_ff +
                                 2 * kv_dim) +
                            (uint64_t)in->n_head * (uint64_t)n_ctx);
    const char *why;
    uint64_t bytes = 2 * cache * sizeof(float), avail = memory_available(&why);
    if (n_ctx < 1 || bytes / 2 / sizeof(float) / kv_dim / (uint64_t)in->n_layer != (uint64_t)n_ctx ||
        bytes + scratch < bytes || bytes + scratch > avail)
        return ember_fail(err, EMBER_ENOMEM,
                          "a context of %d tokens needs %.1f MiB (KV cache %.1f MiB + scratch %.1f MiB), "
                          "more than the %.1f MiB available (%s)",
                          n_ctx, (double)(bytes + scratch) / 1048576.0, (double)bytes / 1048576.0,
                          (double)scratch / 1048576.0, (double)avail / 1048576.0, why);
    struct model_ctx *c = calloc(1, sizeof *c);
    if (!c) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    bool ok = true;
    c->x = alloc_floats(B * (uint64_t)in->n_embd, &ok);
    c->xb = alloc_floats(B * xb_w, &ok);
    c->xb2 = alloc_floats(B * (uint64_t)in->n_embd, &ok);
    c->q = alloc_floats(B * q_dim, &ok);
    c->att = alloc_floats((uint64_t)in->n_head * (uint64_t)n_ctx, &ok);
    c->hb = alloc_floats(B * (uint64_t)in->n_ff, &ok);
    c->hb2 = alloc_floats(B * (uint64_t)in->n_ff, &ok);
    c->kb = alloc_floats(B * kv_dim, &ok);
    c->vb = alloc_floats(B * kv_dim, &ok);
    c->k_cache = alloc_floats(cache, &ok);
    c->v_cache = alloc_floats(cache, &ok);
    c->pool = threadpool_new(n_threads);
    if (!c->pool) ok = false;
    if (ok) ok = ops_ctx_init(&c->ops, c->pool, (int64_t)wide, c->n_batch);
    if (!ok) {
        model_ctx_free(c);
        return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a %d-token context", n_ctx);
    }
    *out = c;
    return EMBER_OK;
}

void model_ctx_free(struct model_ctx *c) {
    if (!c) return;
    ops_ctx_free(&c->ops);
    threadpool_free(c->pool);
    free(c->x); free(c->xb); free(c->xb2); free(c->q); free(c->att);
    free(c->hb); free(c->hb2); free(c->kb); free(c->vb);
    free(c->k_cache); free(c->v_cache);
    free(c);
}

int model_ctx_size(const struct model_ctx *c) { return c->n_ctx; }

enum ember_status model_eval(struct model_ctx *c, const int32_t *tokens, int n,
                             int pos, bool all, float *logits,
                             struct ember_err *err) {
    const struct model_info *in = &c->m->info;
    if (pos < 0 || n < 0 || pos > c->n_ctx - n)
        return ember_fail(err, EMBER_EINVAL,
                          "%d tokens at position %d do not fit the context of %d tokens",
                          n, pos, c->n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= in->n_vocab)
            return ember_fail(err, EMBER_EINVAL, "token id %d is outside the vocabulary (%d)",
                              tokens[i], in->n_vocab);
    /* Batches of n_batch tokens; only the last batch's last row matters
     * unless every position's logits are wanted. */
    for (int i = 0; i < n; i += c->n_batch) {
        int nb = n - i < c->n_batch ? n - i : c->n_batch;
        bool last = i + nb == n;
        float *dst = all ? logits + (size_t)i * in->n_vocab : (last ? logits : NULL);
        c->m->arch->forward(c, tokens + i, nb, pos + i, all, dst);
    }
    return EMBER_OK;
}
