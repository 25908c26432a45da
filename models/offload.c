/*
 * offload.c — model_offload (model.h): which layers a device runs (-ngl),
 * planned against its memory before anything is uploaded, and the
 * device's prepare_weights over exactly those layers' tensors.
 *
 * Sections: sizes (a tensor's, a layer's weights and KV cache, the
 * scratch), the plan (the run of last layers that the device supports and
 * that fits), prepare (the device's tensors, handed over once).
 */
#include <stdlib.h>

#include "arch.h"

#define MARGIN_MAX (512ull << 20) /* the most held back of a device's free memory */

/* ------------------------------------------------------------ sizes */

/* Bytes of a tensor's data (all its parts); 0 for an absent one. */
static uint64_t tensor_bytes(const struct tensor *t) {
    if (!t->part[0]) return 0;
    uint64_t in = (uint64_t)t->n_in, out = (uint64_t)t->n_out;
    if (t->n_parts == 1) return (uint64_t)t->row_bytes * out;
    uint64_t bits = (uint64_t)t->gptq.bits, groups = (uint64_t)t->gptq.n_groups;
    return in * out * bits / 8 + groups * out * 2 + groups * out * bits / 8 + (t->part[3] ? in * 4 : 0);
}


static uint64_t layer_weight_bytes(struct model *m, int l, struct tensor **ts) {
    uint64_t n = 0;
    for (int i = 0, k = model_layer_tensors(m, l, ts); i < k; i++) n += tensor_bytes(ts[i]);
    return n;
}

/* One layer's KV cache for the context o plans for. */
static uint64_t layer_kv_bytes(const struct model *m, const struct model_offload *o) {
    const struct model_info *in = &m->info;
    struct kv_layout l = {.n_layer = 1, .n_head_kv = in->n_head_kv, .head_dim = in->head_dim,
                          .n_ctx = o->n_ctx, .n_seq = o->n_seq > 0 ? o->n_seq : 1,
                          .block_size = o->kv_block, .type_k = kv_type_ember(o->type_k),
                          .type_v = kv_type_ember(o->type_v)};
    uint64_t b = kv_cache_bytes(&l);
    return b == UINT64_MAX ? 0 : b;
}

/* The device context's scratch (as context.c allocates it), with the
 * classifier's logits when the output layer runs there. */
static uint64_t scratch_bytes(const struct model *m, const struct model_offload *o, bool output) {
    const struct model_info *in = &m->info;
    uint64_t B = (uint64_t)(o->n_batch > 0 ? o->n_batch : MODEL_DEFAULT_BATCH);
    if (B > (uint64_t)o->n_ctx) B = (uint64_t)o->n_ctx;
    uint64_t e = (uint64_t)in->n_embd, q = (uint64_t)in->n_head * (uint64_t)in->head_dim;
    uint64_t kv = (uint64_t)in->n_head_kv * (uint64_t)in->head_dim, ff = (uint64_t)in->n_ff;
    uint64_t xb = q > e ? q : e;
    uint64_t moe = 0; /* a mixture of experts' xg and router (context.c) */
    if (m->n_expert) {
        ff = (uint64_t)m->n_ff_exp > ff ? (uint64_t)m->n_ff_exp : ff;
        ff = (uint64_t)m->n_ff_shexp > ff ? (uint64_t)m->n_ff_shexp : ff;
        moe = e + (uint64_t)m->n_expert + 1;
    }
    uint64_t floats = B * (2 * e + xb + q + 2 * ff + 2 * kv + moe) + (uint64_t)in->n_head * (uint64_t)o->n_ctx;
    if (output) floats += B * (uint64_t)in->n_vocab;
    return 4 * floats;
}

/* ------------------------------------------------------------- plan */

/* Whether the device runs layer l: the ops the architecture needs
 * beyond llama's, and a multiply for each of its matrices (the first
 * whose type it lacks into *kept_type). */
static bool runs_layer(struct model *m, struct ember_backend *dev, int l, struct tensor **ts,
                       int *kept_type) {
    uint32_t ops = m->arch->extra_ops; /* experts: gather and scatter_add (llama's too) */
    if (m->layers[l].gate_exps) ops |= (1u << EMBER_OP_GATHER) | (1u << EMBER_OP_SCATTER_ADD);
    for (int op = 0; op < EMBER_OP_COUNT; op++)
        if ((ops >> op & 1u) && !dev->ops->supports(dev, (enum ember_op)op, EMBER_TYPE_F32))
            return false;
    for (int i = 0, k = model_layer_tensors(m, l, ts); i < k; i++) {
        if (ts[i]->n_out == 1 && ts[i]->type == EMBER_TYPE_F32) continue; /* a vector */
        if (!dev->ops->supports(dev, EMBER_OP_MATMUL, ts[i]->type)) {
            *kept_type = ts[i]->type;
            return false;
        }
    }
    return true;
}

/* The first layer of the run of last layers the device runs, and the
 * output's support; records the last layer kept on the host in *plan. */
static int supported_from(struct model *m, struct ember_backend *dev, struct offload_plan *plan,
                          struct tensor **ts, bool *output_ok) {
    int first = 0;
    for (int l = 0; l < m->info.n_layer; l++) {
        int type = -1;
        if (!runs_layer(m, dev, l, ts, &type)) {
            plan->kept_layer = l;
            plan->kept_type = type;
            first = l + 1;
        }
    }
    *output_ok = dev->ops->supports(dev, EMBER_OP_MATMUL, m->output.type);
    return first;
}

/* Device bytes for layers first.. and (output) the output layer. */
static void cost(struct model *m, const struct model_offload *o, int first, bool output,
                 struct tensor **ts, struct offload_plan *p) {
    p->weight_bytes = p->kv_bytes = 0;
    for (int l = first; l < m->info.n_layer; l++) p->weight_bytes += layer_weight_bytes(m, l, ts);
    if (output) p->weight_bytes += tensor_bytes(&m->output) + tensor_bytes(&m->output_norm);
    p->kv_bytes = (uint64_t)(m->info.n_layer - first) * layer_kv_bytes(m, o);
    p->scratch_bytes = first < m->info.n_layer || output ? scratch_bytes(m, o, output) : 0;
}

/* The most of what o asks for that fits the device's free memory, fewest
 * layers dropped first (the output layer before any repeating one). */
static void plan_layers(struct model *m, const struct model_offload *o, struct tensor **ts,
                        struct offload_plan *p) {
    int n_layer = m->info.n_layer;
    bool output_ok;
    int first = supported_from(m, o->dev, p, ts, &output_ok);
    int want = o->n_layers < n_layer ? o->n_layers : n_layer;
    if (n_layer - want > first) first = n_layer - want;
    bool output = o->n_layers >= n_layer && output_ok;
    uint64_t total, margin;
    o->dev->ops->memory(o->dev, &p->free_bytes, &total);
    margin = p->free_bytes / 16 < MARGIN_MAX ? p->free_bytes / 16 : MARGIN_MAX;
    for (;;) {
        cost(m, o, first, output, ts, p);
        uint64_t need = p->weight_bytes + p->kv_bytes + p->scratch_bytes;
        if (!p->free_bytes || need <= p->free_bytes - margin || first == n_layer) break;
        p->short_of_memory = true;
        if (output) output = false;
        else first++;
    }
    p->n_layers = n_layer - first;
    p->output = output;
    m->dev_first = first;
    m->dev_output = output;
}

/* ---------------------------------------------------------- prepare */

/* The device's tensors: its layers', the rope factors they read, and the
 * output layer's; a list freed by the caller, NULL when out of memory. */
static struct tensor **device_tensors(struct model *m, int *n) {
    size_t max = (size_t)model_layer_tensors_max(m);
    struct tensor **ts = calloc((size_t)(m->info.n_layer - m->dev_first) * max + 5, sizeof *ts);
    if (!ts) return NULL;
    *n = 0;
    for (int l = m->dev_first; l < m->info.n_layer; l++) *n += model_layer_tensors(m, l, ts + *n);
    struct tensor *rope[3] = {&m->rope_freqs, &m->rope_long, &m->rope_short}; /* phi3: 2 */
    for (int i = 0; i < 3; i++)
        if (rope[i]->part[0] && m->dev_first < m->info.n_layer) ts[(*n)++] = rope[i];
    if (m->dev_output) {
        ts[(*n)++] = &m->output_norm;
        ts[(*n)++] = &m->output;
    }
    return ts;
}

enum ember_status model_offload(struct model *m, const struct model_offload *o,
                                struct offload_plan *plan, struct ember_err *err) {
    *plan = (struct offload_plan){.n_layer = m->info.n_layer, .kept_layer = -1};
    m->dev_first = m->info.n_layer;
    m->dev_output = false;
    if (!o->dev || o->n_layers <= 0) return EMBER_OK;
    struct tensor **lts = calloc((size_t)model_layer_tensors_max(m), sizeof *lts);
    if (!lts) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    plan_layers(m, o, lts, plan);
    free(lts);
    if (!plan->n_layers && !plan->output) return EMBER_OK;
    int n = 0;
    struct tensor **ts = device_tensors(m, &n);
    if (!ts) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    m->dev = o->dev;
    enum ember_status st = o->dev->ops->prepare_weights(o->dev, m->source_id, ts, n, &m->dev_prepared, err);
    free(ts);
    if (st) { /* the host runs everything, as without -ngl */
        m->dev = NULL;
        m->dev_first = m->info.n_layer;
        m->dev_output = false;
        plan->n_layers = 0;
        plan->output = false;
    }
    return st;
}
