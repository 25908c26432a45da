/*
 * weights_hf_gptq.c — GPTQ's quantization_config and the checks of one
 * layer's parts (weights_hf_gptq.h). Sections: the config; the layer.
 */
#include "weights_hf_gptq.h"

#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------ the config */

static const struct json_value *qc_member(const struct json_value *o, const char *key) {
    const struct json_value *v = json_get(o, key);
    return v && v->type != JSON_NULL ? v : NULL;
}

enum ember_status gptq_read_config(const struct json_value *qc, const char *where,
                                   struct gptq_config *c, struct ember_err *err) {
    *c = (struct gptq_config){.zero_add = 1};
    if (qc->type != JSON_OBJECT)
        return EMBER_CORRUPT(err, "%s: 'quantization_config' is not an object", where);
    const struct json_value *v = qc_member(qc, "quant_method");
    if (v && (v->type != JSON_STRING || strcmp(v->str, "gptq")))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s: quantization_config 'quant_method' = '%.40s' is not supported "
                          "(gptq only)", where, v->type == JSON_STRING ? v->str : "?");
    v = qc_member(qc, "bits");
    if (!v) return EMBER_CORRUPT(err, "%s: quantization_config 'bits' is missing", where);
    if (v->type != JSON_NUMBER || !v->is_int || (v->integer != 4 && v->integer != 8))
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s: quantization_config 'bits' = %g is not supported (4 or 8)", where,
                          v->type == JSON_NUMBER ? v->num : -1.0);
    c->bits = (int)v->integer;
    v = qc_member(qc, "group_size");
    if (!v) return EMBER_CORRUPT(err, "%s: quantization_config 'group_size' is missing", where);
    if (v->type != JSON_NUMBER || !v->is_int || v->integer == 0 || v->integer < -1 ||
        v->integer > INT32_MAX)
        return ember_fail(err, EMBER_EUNSUPPORTED,
                          "%s: quantization_config 'group_size' = %g is not supported (-1 or "
                          "positive)", where, v->type == JSON_NUMBER ? v->num : 0.0);
    c->group_size = v->integer;
    static const char *const bools[] = {"desc_act", "sym", "static_groups", "true_sequential"};
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        v = qc_member(qc, bools[i]);
        if (v && v->type != JSON_TRUE && v->type != JSON_FALSE)
            return EMBER_CORRUPT(err, "%s: quantization_config '%s' is not true or false", where,
                                 bools[i]);
        if (i == 0) c->desc_act = v && v->type == JSON_TRUE;
    }
    v = qc_member(qc, "checkpoint_format");
    if (v) {
        if (v->type == JSON_STRING && !strcmp(v->str, "gptq")) c->zero_add = 1;
        else if (v->type == JSON_STRING && !strcmp(v->str, "gptq_v2")) c->zero_add = 0;
        else
            return ember_fail(err, EMBER_EUNSUPPORTED,
                              "%s: quantization_config 'checkpoint_format' = '%.40s' is not "
                              "supported (gptq or gptq_v2)",
                              where, v->type == JSON_STRING ? v->str : "?");
    }
    return EMBER_OK;
}

/* ------------------------------------------------------------- the layer */

static const char *const part_name[4] = {"qweight", "scales", "qzeros", "g_idx"};

/* Part k has dtype dt, n_dims dims of the given sizes and is aligned for
 * its element size. */
static enum ember_status check_part(const char *where, const char *layer, int k,
                                    const struct st_tensor *t, enum st_dtype dt, int n_dims,
                                    int64_t d0, int64_t d1, struct ember_err *err) {
    if (t->dtype != dt)
        return EMBER_CORRUPT(err, "%s: GPTQ tensor '%s.%s' has dtype %s, expected %s", where,
                             layer, part_name[k], st_dtype_name(t->dtype), st_dtype_name(dt));
    if (t->n_dims != n_dims || t->shape[0] != d0 || (n_dims == 2 && t->shape[1] != d1)) {
        if (n_dims == 1)
            return EMBER_CORRUPT(err, "%s: GPTQ tensor '%s.%s' has the wrong shape "
                                 "(expected [%lld])", where, layer, part_name[k], (long long)d0);
        return EMBER_CORRUPT(err, "%s: GPTQ tensor '%s.%s' has the wrong shape (expected "
                             "[%lld, %lld])", where, layer, part_name[k], (long long)d0,
                             (long long)d1);
    }
    if ((uintptr_t)t->data % st_dtype_size(dt))
        return EMBER_CORRUPT(err, "%s: GPTQ tensor '%s.%s' is not aligned to its dtype", where,
                             layer, part_name[k]);
    return EMBER_OK;
}

enum ember_status gptq_describe_layer(const struct gptq_config *c, const char *where,
                                      const char *layer, const struct st_tensor *const part[4],
                                      struct weight_desc *d, struct ember_err *err) {
    for (int k = 0; k < 3; k++)
        if (!part[k])
            return EMBER_CORRUPT(err, "%s: GPTQ layer '%s' has no '%s' tensor", where, layer,
                                 part_name[k]);
    const struct st_tensor *qw = part[0];
    int pf = 32 / c->bits;
    if (qw->n_dims != 2 || qw->shape[0] < 1 || qw->shape[1] < 1)
        return EMBER_CORRUPT(err, "%s: GPTQ tensor '%s.qweight' is not a 2-D matrix", where,
                             layer);
    int64_t n_out = qw->shape[1];
    /* The true input count is g_idx's length (the packed one may be padded). */
    int64_t n_in = part[3] && part[3]->n_dims == 1 ? part[3]->shape[0] : qw->shape[0] * pf;
    if (n_in < 1 || n_in > INT32_MAX || n_out > INT32_MAX)
        return EMBER_CORRUPT(err, "%s: GPTQ layer '%s' has an impossible size", where, layer);
    int64_t gs = c->group_size > 0 ? c->group_size : n_in;
    int64_t groups = (n_in + gs - 1) / gs;
    enum ember_status st;
    if ((st = check_part(where, layer, 0, qw, ST_I32, 2, (n_in + pf - 1) / pf, n_out, err)) ||
        (st = check_part(where, layer, 1, part[1], ST_F16, 2, groups, n_out, err)) ||
        (st = check_part(where, layer, 2, part[2], ST_I32, 2, groups, (n_out + pf - 1) / pf,
                         err)) ||
        (part[3] && (st = check_part(where, layer, 3, part[3], ST_I32, 1, n_in, 0, err))))
        return st;
    const int32_t *g_idx = part[3] ? part[3]->data : NULL;
    bool trivial = true;
    for (int64_t i = 0; g_idx && i < n_in; i++) {
        if (g_idx[i] < 0 || g_idx[i] >= groups)
            return EMBER_CORRUPT(err, "%s: GPTQ tensor '%s.g_idx' has group %ld at input %lld, "
                                 "outside 0..%lld", where, layer, (long)g_idx[i], (long long)i,
                                 (long long)groups - 1);
        trivial = trivial && g_idx[i] == i / gs;
    }
    if (!g_idx && c->desc_act)
        return EMBER_CORRUPT(err, "%s: GPTQ layer '%s' has no 'g_idx' tensor but "
                             "quantization_config 'desc_act' is true", where, layer);
    *d = (struct weight_desc){
        .type = c->bits == 4 ? EMBER_TYPE_GPTQ4 : EMBER_TYPE_GPTQ8,
        .n_dims = 2,
        .ne = {n_in, n_out, 1, 1},
        .n_elems = (uint64_t)n_in * (uint64_t)n_out,
        .n_bytes = qw->n_bytes + part[1]->n_bytes + part[2]->n_bytes +
                   (part[3] ? part[3]->n_bytes : 0),
        .data = qw->data,
        .n_parts = 4,
        .parts = {qw->data, part[1]->data, part[2]->data, trivial ? NULL : g_idx},
        .gptq = {.bits = c->bits, .zero_add = c->zero_add, .group_size = gs, .n_groups = groups},
    };
    return EMBER_OK;
}
