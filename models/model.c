/*
 * model.c — the architecture registry and a model's life: find the
 * architecture a source names, read its hyper-parameters (hparams.c), bind
 * its tensors (the architecture's bind, through bind.c) and let the
 * backend prepare the matrices.
 *
 * The forward pass lives in the architecture files (llama.c, phi3.c); contexts in
 * context.c, decoding in decode.c.
 */
#include <stdlib.h>

#include "arch.h"

static const struct model_arch *const archs[] = {&llama_arch,    &qwen2_arch,    &qwen3_arch,
                                                 &phi3_arch,     &gemma3_arch,   &qwen2moe_arch,
                                                 &qwen3moe_arch};
#define N_ARCHS (sizeof archs / sizeof archs[0])

const char *model_supported_archs(void) {
    return "llama, qwen2, qwen3, phi3, gemma3, qwen2moe, qwen3moe";
}

/* Report step done of total to p, if any. */
static void step(const struct model_progress *p, int64_t done, int64_t total, const char *what) {
    if (p && p->fn) p->fn(p->ud, done, total, what);
}

/* Sum the tensors' sizes; steps 1..n of the load's n + 2. */
static void count_params(struct model *m, const struct weight_source *src,
                         const struct model_progress *p) {
    int64_t n = src->ops->n_tensors(src->impl);
    for (int64_t i = 0; i < n; i++) {
        struct weight_desc d;
        src->ops->tensor_at(src->impl, i, &d);
        m->info.n_params += d.n_elems;
        m->info.n_bytes += d.n_bytes;
        step(p, 1 + i, n + 2, "tensors");
    }
}

/* The tensors of a model in a fixed order: output, then each layer's. */
static int model_matrices(struct model *m, struct tensor **out) {
    int n = 0;
    out[n++] = &m->output;
    for (int l = 0; l < m->info.n_layer; l++) n += model_layer_tensors(m, l, out + n);
    return n;
}

/* Hand the matrices to the backend (a GPU uploads them). */
static enum ember_status prepare(struct model *m, const struct weight_source *src,
                                 struct ember_err *err) {
    struct tensor **ts = calloc(1 + (size_t)model_layer_tensors_max(m) * (size_t)m->info.n_layer, sizeof *ts);
    if (!ts) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    int n = model_matrices(m, ts);
    enum ember_status st = m->be->ops->prepare_weights(m->be, src->id, ts, n, &m->prepared, err);
    free(ts);
    return st;
}

static const struct model_arch *find_arch(const char *name, size_t len) {
    for (size_t i = 0; i < N_ARCHS; i++)
        if (weight_str_is(name, len, archs[i]->name)) return archs[i];
    return NULL;
}

enum ember_status model_load(const struct weight_source *src, struct ember_backend *be,
                             struct model **out, struct ember_err *err) {
    return model_load_progress(src, be, NULL, out, err);
}

enum ember_status model_load_progress(const struct weight_source *src, struct ember_backend *be,
                                      const struct model_progress *p, struct model **out,
                                      struct ember_err *err) {
    *out = NULL;
    const char *name;
    size_t len;
    if (!src->ops->get_str(src->impl, "general.architecture", &name, &len))
        return ember_fail(err, EMBER_ECORRUPT, "metadata 'general.architecture' is missing");
    const struct model_arch *arch = find_arch(name, len);
    if (!arch)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "unknown model architecture '%.*s' (supported: %s)",
                          (int)(len > 64 ? 64 : len), name, model_supported_archs());
    struct model *m = calloc(1, sizeof *m);
    if (!m) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    m->arch = arch;
    m->be = be;
    m->source_id = src->id;
    enum ember_status st = model_read_hparams(m, src, err);
    if (!st) {
        m->layers = calloc((size_t)m->info.n_layer, sizeof *m->layers);
        st = m->layers ? arch->bind(m, src, err) : ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    m->dev_first = m->info.n_layer; /* no device until model_offload */
    int64_t n_steps = src->ops->n_tensors(src->impl) + 2;
    if (!st) {
        step(p, 0, n_steps, "tensors");
        count_params(m, src, p);
        step(p, n_steps - 1, n_steps, "preparing weights");
        st = prepare(m, src, err);
    }
    if (!st) step(p, n_steps, n_steps, "loaded");
    if (st) {
        model_free(m);
        return st;
    }
    *out = m;
    return EMBER_OK;
}

void model_free(struct model *m) {
    if (!m) return;
    if (m->prepared) m->be->ops->release_weights(m->prepared);
    if (m->dev_prepared) m->dev->ops->release_weights(m->dev_prepared);
    for (int l = 0; m->layers && l < m->info.n_layer; l++) {
        free(m->layers[l].gate_exps);
        free(m->layers[l].up_exps);
        free(m->layers[l].down_exps);
    }
    free(m->layers);
    free(m);
}

const struct model_info *model_get_info(const struct model *m) { return &m->info; }

const char *model_weights_note(const struct model *m) {
    return m->be->ops->weights_note(m->prepared);
}
