/*
 * bind.c — weights by name from a weight source into an architecture's
 * structs, each checked against the shape the hyper-parameters imply and
 * against what the backend can run, and row views of fused matrices.
 */
#include <string.h>

#include "arch.h"
#include "quant.h"

enum ember_status model_bind_matrix(const struct model *m, const struct weight_source *src,
                                    const char *name, int64_t n_in, int64_t n_out, bool optional,
                                    struct tensor *t, struct ember_err *err) {
    struct weight_desc d;
    memset(t, 0, sizeof *t);
    if (!src->ops->find(src->impl, name, &d)) {
        if (optional) return EMBER_OK;
        return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor '%s'", name);
    }
    if (d.n_dims > 2 || d.ne[0] != n_in || d.ne[1] != n_out)
        return ember_fail(err, EMBER_ECORRUPT,
                          "tensor '%s' has shape [%lld, %lld], expected [%lld, %lld]",
                          name, (long long)d.ne[0], (long long)d.ne[1],
                          (long long)n_in, (long long)n_out);
    if (!m->be->ops->supports(m->be, EMBER_OP_MATMUL, d.type))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "tensor '%s' has type %s, which is not a weight type", name,
                          quant_type_name(d.type));
    t->type = d.type;
    t->n_in = n_in;
    t->n_out = n_out;
    if (d.n_parts) { /* GPTQ: the source checked the parts' shapes */
        t->n_parts = d.n_parts;
        for (int i = 0; i < d.n_parts && i < TENSOR_MAX_PARTS; i++) t->part[i] = d.parts[i];
        t->gptq = d.gptq;
        return EMBER_OK;
    }
    t->row_bytes = quant_row_bytes(d.type, n_in);
    t->n_parts = 1;
    t->part[0] = d.data;
    return EMBER_OK;
}

enum ember_status model_bind_experts(const struct model *m, const struct weight_source *src,
                                     const char *name, int64_t n_in, int64_t n_out, int n_expert,
                                     struct tensor *out, struct ember_err *err) {
    struct weight_desc d;
    memset(out, 0, (size_t)n_expert * sizeof *out);
    if (!src->ops->find(src->impl, name, &d))
        return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor '%s'", name);
    if (d.n_dims != 3 || d.ne[0] != n_in || d.ne[1] != n_out || d.ne[2] != n_expert)
        return ember_fail(err, EMBER_ECORRUPT,
                          "tensor '%s' has shape [%lld, %lld, %lld], expected [%lld, %lld, %d]", name,
                          (long long)d.ne[0], (long long)d.ne[1], (long long)d.ne[2],
                          (long long)n_in, (long long)n_out, n_expert);
    if (d.n_parts || !m->be->ops->supports(m->be, EMBER_OP_MATMUL, d.type))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "tensor '%s' has type %s, which is not a weight type", name,
                          quant_type_name(d.type));
    /* rows of every block type are independent: expert e is the e-th run
     * of n_out rows (the source checked n_bytes against the mapping) */
    size_t row_bytes = quant_row_bytes(d.type, n_in);
    if (!row_bytes || d.n_bytes != (uint64_t)n_expert * (uint64_t)n_out * row_bytes)
        return ember_fail(err, EMBER_ECORRUPT, "tensor '%s' has %llu bytes, not %d experts' rows", name,
                          (unsigned long long)d.n_bytes, n_expert);
    for (int e = 0; e < n_expert; e++) {
        struct tensor *t = &out[e];
        t->type = d.type;
        t->n_in = n_in;
        t->n_out = n_out;
        t->row_bytes = row_bytes;
        t->n_parts = 1;
        t->part[0] = (const char *)d.data + (size_t)e * (size_t)n_out * row_bytes;
    }
    return EMBER_OK;
}

enum ember_status model_bind_vector(const struct weight_source *src, const char *name, int64_t n,
                                   bool optional, struct tensor *t, struct ember_err *err) {
    struct weight_desc d;
    memset(t, 0, sizeof *t);
    if (!src->ops->find(src->impl, name, &d)) {
        if (optional) return EMBER_OK;
        return ember_fail(err, EMBER_ECORRUPT, "model is missing tensor '%s'", name);
    }
    if (d.n_dims != 1 || d.ne[0] != n)
        return ember_fail(err, EMBER_ECORRUPT, "tensor '%s' has %lld values, expected %lld",
                          name, (long long)d.n_elems, (long long)n);
    if (d.type != EMBER_TYPE_F32)
        return ember_fail(err, EMBER_EUNSUPPORTED, "tensor '%s' has type %s, expected F32",
                          name, quant_type_name(d.type));
    /* the data section is aligned to at least 4 bytes... */
    if ((uintptr_t)d.data % sizeof(float))
        return ember_fail(err, EMBER_ECORRUPT, "tensor '%s' is not 4-byte aligned", name);
    t->type = EMBER_TYPE_F32;
    t->n_in = n;
    t->n_out = 1;
    t->row_bytes = (size_t)n * sizeof(float);
    t->n_parts = 1;
    t->part[0] = d.data;
    return EMBER_OK;
}

enum ember_status model_bind_rows(const struct tensor *whole, const char *name, int64_t first,
                                  int64_t n, struct tensor *t, struct ember_err *err) {
    memset(t, 0, sizeof *t);
    /* GGUF block types store each row whole, so a run of rows is itself a
     * matrix; GPTQ packs along the input and has no such rows. */
    if (whole->n_parts != 1 || !whole->row_bytes)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "tensor '%s' has type %s, whose rows cannot be split", name,
                          quant_type_name(whole->type));
    if (first < 0 || n < 1 || first + n > whole->n_out)
        return ember_fail(err, EMBER_ECORRUPT, "tensor '%s' has %lld rows, fewer than %lld",
                          name, (long long)whole->n_out, (long long)(first + n));
    *t = *whole;
    t->n_out = n;
    t->part[0] = (const char *)whole->part[0] + (size_t)first * whole->row_bytes;
    return EMBER_OK;
}

int model_layer_tensors_max(const struct model *m) { return 24 + 3 * m->n_expert; }

int model_layer_tensors(struct model *m, int l, struct tensor **out) {
    struct layer_weights *w = &m->layers[l];
    struct tensor *all[] = {&w->wq, &w->wk, &w->wv, &w->wo, &w->w_gate, &w->w_up, &w->w_down,
                            &w->attn_norm, &w->ffn_norm, &w->bq, &w->bk, &w->bv,
                            &w->attn_q_norm, &w->attn_k_norm, &w->attn_post_norm, &w->ffn_post_norm,
                            &w->ffn_gate_inp, &w->gate_shexp, &w->up_shexp, &w->down_shexp,
                            &w->ffn_gate_inp_shexp};
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]->part[0]) out[n++] = all[i];
    struct tensor *exps[3] = {w->gate_exps, w->up_exps, w->down_exps};
    for (int k = 0; k < 3; k++)
        for (int e = 0; exps[k] && e < m->n_expert; e++)
            if (exps[k][e].part[0]) out[n++] = exps[k] + e;
    return n;
}
