/*
 * test_offload.c — model_offload and the stages of a context on
 * stories260K, with the CPU's test device cpu-dev behind a copy of its ops
 * that records what the framework hands it: prepare_weights gets exactly
 * the tensors of the offloaded layers (and the output layer's with all of
 * them), the KV cache of those layers lives in the device's kv_memory and
 * the host holds only the rest, the residual stream crosses each boundary
 * once per pass (copy_out, copy_in) and the logits leave a device stage by
 * copy_out, and the logits equal the CPU-only model's bit for bit (the
 * same kernels run). A budget too small for everything offloads fewer
 * layers, and says it was memory.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "check.h"
#include "engine.h"

#define MODEL "tests/data/models/stories260K.gguf"
#define N_CTX 64

/* ---------------------------------------------- the recording device */

static const struct ember_backend_ops *cpu_ops; /* the instance's own */
static struct ember_backend_ops rec_ops;        /* those, some slots replaced */
static struct {
    const struct tensor *prepared[64];
    int n_prepared;
    int copy_in, copy_out;
    int kv_allocs, kv_releases;
    size_t kv_bytes;
} rec;

static enum ember_status rec_prepare(struct ember_backend *be, const char *id, struct tensor *const *ts,
                                     int n, struct backend_weights **out, struct ember_err *err) {
    for (int i = 0; i < n && rec.n_prepared < 64; i++) rec.prepared[rec.n_prepared++] = ts[i];
    return cpu_ops->prepare_weights(be, id, ts, n, out, err);
}
static void rec_copy_in(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    rec.copy_in++;
    cpu_ops->copy_in(c, dst, src, n);
}
static void rec_copy_out(struct backend_ctx *c, void *dst, const void *src, size_t n) {
    rec.copy_out++;
    cpu_ops->copy_out(c, dst, src, n);
}
static void *kv_alloc(void *ctx, size_t bytes) {
    (void)ctx;
    rec.kv_allocs++;
    rec.kv_bytes += bytes;
    return aligned_alloc(64, (bytes + 63) / 64 * 64);
}
static void kv_release(void *ctx, void *p) {
    (void)ctx;
    rec.kv_releases++;
    free(p);
}
static void kv_copy(void *ctx, void *dst, const void *src, size_t n) {
    (void)ctx;
    memcpy(dst, src, n);
}
static const struct kv_mem rec_kv = {NULL, kv_alloc, kv_release, kv_copy, kv_copy, kv_copy};
static const struct kv_mem *rec_kv_memory(struct ember_backend *be) {
    (void)be;
    return &rec_kv;
}

/* cpu-dev with `budget` bytes, its ops swapped for the recording ones. */
static struct ember_backend *new_device(uint64_t budget) {
    struct ember_err err = {0};
    struct ember_options o;
    tool_options_init(&o);
    o.device = "cpu-dev";
    o.test_device_memory = budget;
    struct ember_backend *be = NULL;
    CHECK(ember_backend_new(&o, &be, &err) == EMBER_OK, "the test device cpu-dev with %llu bytes%s", (unsigned long long)budget, err.msg);
    if (!be) return NULL;
    cpu_ops = be->ops;
    rec_ops = *be->ops;
    rec_ops.prepare_weights = rec_prepare;
    rec_ops.copy_in = rec_copy_in;
    rec_ops.copy_out = rec_copy_out;
    rec_ops.kv_memory = rec_kv_memory;
    be->ops = &rec_ops;
    memset(&rec, 0, sizeof rec);
    return be;
}

/* ------------------------------------------------------------ checks */

/* Whether t is one of layer l's tensors or, l < 0, the output layer's. */
static bool belongs(const struct model *m, const struct tensor *t, int l) {
    if (l < 0) return t == &m->output || t == &m->output_norm;
    const struct layer_weights *w = &m->layers[l];
    return (const char *)t >= (const char *)w && (const char *)t < (const char *)(w + 1);
}

/* Whether prepare_weights got layers first.. (all their 9 tensors: no
 * biases in stories260K) and, with output, the output layer's 2. */
static bool prepared_exactly(const struct model *m, int first, bool output) {
    int n_layer = m->info.n_layer, want = (n_layer - first) * 9 + (output ? 2 : 0);
    if (rec.n_prepared != want) return false;
    for (int i = 0; i < rec.n_prepared; i++) {
        bool ok = output && belongs(m, rec.prepared[i], -1);
        for (int l = first; l < n_layer; l++) ok |= belongs(m, rec.prepared[i], l);
        if (!ok) return false;
    }
    return true;
}

/* Logits of the last of 8 tokens through a fresh context of m. */
static bool eval(const struct model *m, float *out) {
    static const int32_t toks[] = {1, 403, 407, 261, 378, 141, 300, 301};
    struct ember_err err = {0};
    struct model_ctx *c = NULL;
    bool ok = test_ctx(m, N_CTX, 2, &c, &err) == EMBER_OK && test_eval(c, toks, 8, 0, false, out, &err) == EMBER_OK;
    ok = ok && test_eval(c, toks, 1, 8, false, out, &err) == EMBER_OK; /* a second pass of 1 row */
    if (!ok) printf("# eval: %s\n", err.msg);
    model_ctx_free(c);
    return ok;
}

/* One -ngl value against the CPU-only logits ref. */
static void check_ngl(const struct gguf_file *f, struct ember_backend *host, int ngl, const float *ref) {
    struct ember_err err = {0};
    struct model *m = NULL;
    struct ember_backend *dev = new_device(1ull << 30);
    if (!dev || test_load(f, host, &m, &err)) {
        CHECK(false, "load %s", err.msg);
        ember_backend_free(dev);
        return;
    }
    int n_layer = m->info.n_layer, first = ngl < n_layer ? n_layer - ngl : 0;
    bool output = ngl >= n_layer;
    struct model_offload mo = {.dev = dev, .n_layers = ngl, .n_ctx = N_CTX, .n_seq = 1};
    struct offload_plan plan;
    CHECK(model_offload(m, &mo, &plan, &err) == EMBER_OK && plan.n_layers == n_layer - first &&
              plan.output == output && !plan.short_of_memory && plan.kept_layer < 0,
          "-ngl %d: %d layers%s on the device", ngl, plan.n_layers, plan.output ? " and the output" : "");
    CHECK(prepared_exactly(m, first, output), "-ngl %d: prepare_weights got exactly their %d tensors", ngl,
          rec.n_prepared);
    float *out = malloc((size_t)m->info.n_vocab * sizeof *out);
    bool ok = out && eval(m, out);
    CHECK(ok && !memcmp(out, ref, (size_t)m->info.n_vocab * sizeof *out),
          "-ngl %d: the CPU-only logits, bit for bit", ngl);
    /* two passes, each: x into the device once, and out of it once (x
     * back to the host, or the logits) */
    bool on = ngl > 0;
    CHECK(rec.copy_in == (on ? 2 : 0) && rec.copy_out == (on ? 2 : 0),
          "-ngl %d: per pass %d copy_in into the device and %d copy_out (x back, or the logits): %d, %d", ngl,
          on, on, rec.copy_in, rec.copy_out);
    CHECK(on ? rec.kv_allocs > 0 && rec.kv_allocs == rec.kv_releases : rec.kv_allocs == 0,
          "-ngl %d: the device's KV chunks (%d, %zu bytes) taken and given back", ngl, rec.kv_allocs,
          rec.kv_bytes);
    free(out);
    model_free(m);
    ember_backend_free(dev);
}

/* A budget with room for the scratch and 2.5 layers takes 2, and the
 * output layer stays home. */
static void check_budget(const struct gguf_file *f, struct ember_backend *host) {
    struct ember_err err = {0};
    struct model *m = NULL;
    struct ember_backend *dev = new_device(1ull << 30);
    if (!dev || test_load(f, host, &m, &err)) {
        ember_backend_free(dev);
        return;
    }
    struct model_offload mo = {.dev = dev, .n_layers = 1, .n_ctx = N_CTX, .n_seq = 1};
    struct offload_plan one, two; /* the costs of 1 and 2 layers */
    model_offload(m, &mo, &one, &err);
    model_free(m);
    mo.n_layers = 2;
    if (test_load(f, host, &m, &err)) {
        ember_backend_free(dev);
        return;
    }
    model_offload(m, &mo, &two, &err);
    model_free(m);
    ember_backend_free(dev);
    uint64_t layer = two.weight_bytes + two.kv_bytes - one.weight_bytes - one.kv_bytes;
    uint64_t need = two.weight_bytes + two.kv_bytes + two.scratch_bytes + layer / 2;
    dev = new_device(need + need / 15 + 1); /* the plan holds back 1/16 */
    if (!dev || test_load(f, host, &m, &err)) {
        ember_backend_free(dev);
        return;
    }
    mo.dev = dev;
    mo.n_layers = 99;
    struct offload_plan p;
    CHECK(model_offload(m, &mo, &p, &err) == EMBER_OK && p.n_layers == 2 && !p.output && p.short_of_memory &&
              m->dev_first == 3,
          "a budget for 2.5 layers and the scratch: %d/%d layers, output %s, short of memory", p.n_layers,
          p.n_layer, p.output ? "too" : "not");
    model_free(m);
    ember_backend_free(dev);
}

int main(void) {
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    struct ember_backend *host = NULL;
    struct model *m = NULL;
    if (gguf_open(MODEL, &f, &err) || test_backend(&host, &err) || test_load(f, host, &m, &err)) {
        CHECK(false, "open %s: %s", MODEL, err.msg);
        return CHECK_DONE();
    }
    float *ref = malloc((size_t)m->info.n_vocab * sizeof *ref);
    CHECK(ref && eval(m, ref), "CPU-only logits");
    model_free(m);
    for (int ngl = 0; ref && ngl <= 6; ngl += ngl < 2 ? 1 : 3) check_ngl(f, host, ngl, ref);
    check_budget(f, host);
    free(ref);
    ember_backend_free(host);
    gguf_close(f);
    return CHECK_DONE();
}
