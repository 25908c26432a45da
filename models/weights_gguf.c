/*
 * weights_gguf.c — the weight source of a GGUF file (weights.h): every
 * slot is a thin call into gguf.h, whose reader already validated keys,
 * types and tensor extents.
 */
#include "gguf.h"
#include "weights.h"

static bool g_has_key(const void *f, const char *key) { return gguf_find_key(f, key) >= 0; }

static bool g_get_int(const void *f, const char *key, int64_t *v) { return gguf_get_i64(f, key, v); }

static bool g_get_float(const void *f, const char *key, float *v) { return gguf_get_f32(f, key, v); }

static bool g_get_str(const void *f, const char *key, const char **s, size_t *len) {
    struct gguf_str g;
    if (!gguf_get_str(f, key, &g)) return false;
    *s = g.p;
    *len = (size_t)g.len;
    return true;
}

static void describe(const struct gguf_tensor *t, struct weight_desc *d) {
    *d = (struct weight_desc){
        .type = t->type, .n_dims = t->n_dims, .n_elems = t->n_elems, .n_bytes = t->n_bytes,
        .data = t->data,
    };
    for (int i = 0; i < 4; i++) d->ne[i] = t->ne[i];
}

static bool g_find(const void *f, const char *name, struct weight_desc *d) {
    const struct gguf_tensor *t = gguf_find_tensor(f, name);
    if (t) describe(t, d);
    return t != NULL;
}

static int64_t g_n_tensors(const void *f) { return gguf_n_tensors(f); }

static void g_tensor_at(const void *f, int64_t i, struct weight_desc *d) {
    describe(gguf_tensor(f, i), d);
}

static const struct weight_source_ops gguf_source_ops = {
    .format = "gguf",
    .has_key = g_has_key,
    .get_int = g_get_int,
    .get_float = g_get_float,
    .get_str = g_get_str,
    .find = g_find,
    .n_tensors = g_n_tensors,
    .tensor_at = g_tensor_at,
};

struct weight_source weight_source_gguf(const struct gguf_file *f) {
    return (struct weight_source){&gguf_source_ops, f, gguf_path(f)};
}
