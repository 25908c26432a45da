/*
 * context.c — a model context (model.h): per backend in use a stage (its
 * execution context and the model's scratch for a pass of n_batch rows, in
 * that context's activation memory), the host buffer the residual stream
 * crosses between stages through, and the KV cache (layers on a device in
 * the device's memory), sized and checked against the memory this process
 * may use before anything is allocated.
 */
#include <stdlib.h>

#include "arch.h"
#include "os.h"

/* n floats of the backend context's activation memory (backend.h). */
static float *alloc_floats(struct backend_ctx *be, uint64_t n, bool *ok) {
    float *p = be_alloc(be, (n ? n : 1) * sizeof(float));
    if (!p) *ok = false;
    return p;
}

/* The widths the scratch buffers need, from the model's shape; ff is the
 * widest FFN (experts' and the shared expert's too); router: a mixture of
 * experts' logits and shared gate, 0 when dense. */
struct widths {
    uint64_t embd, q_dim, kv_dim, ff, xb, widest, router;
};

static struct widths widths_of(const struct model *m) {
    const struct model_info *in = &m->info;
    struct widths w = {(uint64_t)in->n_embd, (uint64_t)in->n_head * in->head_dim,
                       (uint64_t)in->n_head_kv * in->head_dim, (uint64_t)in->n_ff, 0, 0, 0};
    if (m->n_expert) {
        uint64_t ex = (uint64_t)m->n_ff_exp, sh = (uint64_t)m->n_ff_shexp;
        w.ff = ex > w.ff ? ex : w.ff;
        w.ff = sh > w.ff ? sh : w.ff;
        w.router = (uint64_t)m->n_expert + 1;
    }
    w.xb = w.q_dim > w.embd ? w.q_dim : w.embd;
    w.widest = w.ff > w.xb ? w.ff : w.xb;
    return w;
}

/* The host's share of a context: the KV cache of its layers, and the
 * scratch of the stages (a device stage's scratch is the device's; the
 * plan in offload.c counted it). */
static uint64_t host_kv_bytes(const struct model *m, const struct kv_layout *l) {
    struct kv_layout h = *l;
    h.n_layer = m->dev_first;
    h.layer_mem = NULL;
    return h.n_layer ? kv_cache_bytes(&h) : 0;
}

/* EMBER_ENOMEM with both sizes when the host's cache plus scratch exceed
 * what this process may allocate. */
static enum ember_status check_memory(const struct model *m, const struct kv_layout *l,
                                      int n_batch, struct ember_err *err) {
    const struct model_info *in = &m->info;
    struct widths w = widths_of(m);
    uint64_t B = (uint64_t)n_batch;
    /* scratch floats: x, xb, xb2, q, hb, hb2, kb, vb, a mixture of
     * experts' xg and router (and its host copy), and the backend's
     * attention scores (all sizes < 2^40) */
    uint64_t moe = w.router ? w.embd + 2 * w.router : 0;
    uint64_t scratch = 4 * (B * (2 * w.embd + w.xb + w.q_dim + 2 * w.ff + 2 * w.kv_dim + moe) +
                            (uint64_t)in->n_head * (uint64_t)l->n_ctx);
    const char *why;
    uint64_t bytes = host_kv_bytes(m, l), avail = os_memory_available(&why);
    if (bytes == UINT64_MAX || bytes + scratch < bytes || bytes + scratch > avail)
        return ember_fail(err, EMBER_ENOMEM,
                          "a context of %d tokens needs %.1f MiB (KV cache %.1f MiB + scratch %.1f MiB), "
                          "more than the %.1f MiB available (%s)",
                          l->n_ctx, (double)(bytes + scratch) / 1048576.0, (double)bytes / 1048576.0,
                          (double)scratch / 1048576.0, (double)avail / 1048576.0, why);
    return EMBER_OK;
}

/* A stage's scratch in its context's memory; full false: only x (a host
 * stage that runs nothing but the embedding lookup). logits: room for the
 * classifier's output. False when one could not be allocated. */
static bool alloc_stage(struct stage *st, const struct widths *w, uint64_t B, bool full,
                        uint64_t logits) {
    bool ok = true;
    st->x = alloc_floats(st->be, B * w->embd, &ok);
    if (!full) return ok;
    st->xb = alloc_floats(st->be, B * w->xb, &ok);
    st->xb2 = alloc_floats(st->be, B * w->embd, &ok);
    st->q = alloc_floats(st->be, B * w->q_dim, &ok);
    st->hb = alloc_floats(st->be, B * w->ff, &ok);
    st->hb2 = alloc_floats(st->be, B * w->ff, &ok);
    st->kb = alloc_floats(st->be, B * w->kv_dim, &ok);
    st->vb = alloc_floats(st->be, B * w->kv_dim, &ok);
    if (logits) st->logits = alloc_floats(st->be, B * logits, &ok);
    if (w->router) {
        st->xg = alloc_floats(st->be, B * w->embd, &ok);
        st->router = alloc_floats(st->be, B * w->router, &ok);
    }
    return ok;
}

/* The stages of c: the host's, and the device's when the model offloads;
 * each with its backend context and scratch. */
static enum ember_status new_stages(struct model_ctx *c, const struct backend_ctx_params *bp,
                                    struct ember_err *err) {
    const struct model *m = c->m;
    struct widths w = widths_of(m);
    uint64_t B = (uint64_t)c->n_batch;
    bool dev = m->dev_first < m->info.n_layer || m->dev_output;
    bool host_runs = m->dev_first > 0 || !m->dev_output;
    TRY(m->be->ops->ctx_new(m->be, bp, &c->stage[0].be, err));
    c->n_stages = 1;
    if (!alloc_stage(&c->stage[0], &w, B, host_runs, 0)) return EMBER_ENOMEM;
    if (!dev) return EMBER_OK;
    TRY(m->dev->ops->ctx_new(m->dev, bp, &c->stage[1].be, err));
    c->n_stages = 2;
    uint64_t logits = m->dev_output ? (uint64_t)m->info.n_vocab : 0;
    if (!alloc_stage(&c->stage[1], &w, B, true, logits)) return EMBER_ENOMEM;
    c->x_host = malloc(B * w.embd * sizeof(float));
    return c->x_host ? EMBER_OK : EMBER_ENOMEM;
}

/* The KV cache: layers from dev_first on in the device's KV memory. */
static enum ember_status new_cache(struct model_ctx *c, const struct kv_layout *l,
                                   struct ember_err *err) {
    const struct model *m = c->m;
    const struct kv_mem **mem = calloc((size_t)l->n_layer, sizeof *mem);
    if (!mem) return EMBER_ENOMEM;
    const struct kv_mem *dm = m->dev ? m->dev->ops->kv_memory(m->dev) : NULL;
    for (int i = m->dev_first; i < l->n_layer; i++) mem[i] = dm;
    struct kv_layout dl = *l;
    dl.layer_mem = mem;
    enum ember_status st = kv_cache_new(&dl, &c->kv, err);
    free(mem); /* read by kv_cache_new only */
    return st;
}

enum ember_status model_ctx_new(const struct model *m, const struct model_ctx_params *p,
                                struct model_ctx **out, struct ember_err *err) {
    *out = NULL;
    const struct model_info *in = &m->info;
    int n_ctx = p->n_ctx, n_seq = p->n_seq > 0 ? p->n_seq : 1;
    int n_batch = p->n_batch > 0 ? p->n_batch : MODEL_DEFAULT_BATCH;
    if (n_batch > n_ctx) n_batch = n_ctx;
    if (n_ctx < 1)
        return ember_fail(err, EMBER_EINVAL, "a context of %d tokens is too small", n_ctx);
    struct kv_layout l = {.n_layer = in->n_layer, .n_head_kv = in->n_head_kv,
                          .head_dim = in->head_dim, .n_ctx = n_ctx, .n_seq = n_seq,
                          .block_size = p->kv_block, .type_k = kv_type_ember(p->type_k),
                          .type_v = kv_type_ember(p->type_v)};
    const char *why = kv_layout_problem(&l);
    if (why)
        return ember_fail(err, EMBER_EINVAL, "%s (KV cache %s/%s, head size %d, block %d)", why,
                          kv_type_name(p->type_k), kv_type_name(p->type_v), in->head_dim,
                          p->kv_block > 0 ? p->kv_block : KV_DEFAULT_BLOCK);
    TRY(check_memory(m, &l, n_batch, err));
    struct model_ctx *c = calloc(1, sizeof *c);
    if (!c) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->n_seq = n_seq;
    struct widths w = widths_of(m);
    struct backend_ctx_params bp = {
        .n_threads = p->n_threads, .max_rows = n_batch, .max_width = (int64_t)w.widest,
        .n_head = in->n_head, .max_pos = n_ctx, .head_dim = in->head_dim,
        .kv_block = p->kv_block > 0 ? p->kv_block : KV_DEFAULT_BLOCK,
    };
    enum ember_status st = new_stages(c, &bp, err);
    c->views = calloc((size_t)n_seq, sizeof *c->views);
    c->seq_first = calloc((size_t)n_seq, sizeof *c->seq_first);
    c->seq_rows = calloc((size_t)n_seq, sizeof *c->seq_rows);
    if (!st && (!c->views || !c->seq_first || !c->seq_rows)) st = EMBER_ENOMEM;
    if (!st) st = moe_state_new(m, n_batch, &c->moe);
    if (!st) st = new_cache(c, &l, err);
    if (st) {
        model_ctx_free(c);
        if (st == EMBER_ENOMEM)
            return ember_fail(err, EMBER_ENOMEM, "out of memory allocating a %d-token context", n_ctx);
        return st;
    }
    *out = c;
    return EMBER_OK;
}

void model_ctx_free(struct model_ctx *c) {
    if (!c) return;
    for (int i = 0; i < 2; i++) /* and the scratch each holds */
        if (c->stage[i].be) c->stage[i].be->ops->ctx_free(c->stage[i].be);
    kv_cache_free(c->kv);
    free(c->x_host);
    free(c->views);
    free(c->seq_first);
    free(c->seq_rows);
    moe_state_free(c->moe);
    free(c);
}

struct stage *model_stage(struct model_ctx *c, struct stage *cur, int l, int n) {
    const struct model *m = c->m;
    bool dev = l < m->info.n_layer ? l >= m->dev_first : m->dev_output;
    struct stage *next = &c->stage[dev ? 1 : 0];
    if (next == cur) return cur;
    size_t bytes = (size_t)n * (size_t)m->info.n_embd * sizeof(float);
    be_copy_out(cur->be, c->x_host, cur->x, bytes);
    be_copy_in(next->be, next->x, c->x_host, bytes);
    return next;
}

int model_output(struct model_ctx *c, struct stage *st, const struct pass *p) {
    const struct model *m = c->m;
    int e = m->info.n_embd, n_out = 0;
    st = model_stage(c, st, m->info.n_layer, p->n);
    for (int i = 0; i < p->n; i++)
        if (p->logits[i])
            be_rmsnorm(st->be, st->xb + (size_t)n_out++ * e, st->x + (size_t)i * e, &m->output_norm, 1, e,
                       m->rms_eps);
    if (!n_out) return 0;
    be_matmul(st->be, st->logits ? st->logits : p->out, &m->output, st->xb, n_out);
    if (st->logits)
        be_copy_out(st->be, p->out, st->logits, (size_t)n_out * (size_t)m->info.n_vocab * sizeof(float));
    return n_out;
}

int model_ctx_size(const struct model_ctx *c) { return c->n_ctx; }

int model_seq_len(const struct model_ctx *c, int seq) {
    return seq >= 0 && seq < c->n_seq ? kv_seq_len(c->kv, seq) : 0;
}

void model_kv_usage(const struct model_ctx *c, int *blocks, size_t *bytes) {
    *blocks = kv_cache_blocks_used(c->kv);
    *bytes = kv_cache_bytes_allocated(c->kv);
}

struct kv_cache *model_kv(struct model_ctx *c) { return c->kv; }
