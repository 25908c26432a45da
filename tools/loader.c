/*
 * loader.c — the shared model-opening step of the CLI commands (loader.h):
 * a path that is a directory is a Hugging Face model, anything else a GGUF
 * file.
 */
#include "loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "os.h"
#include "quant.h"
#include "progress.h"

int loader_report(const struct ember_err *err) {
    cli_error("%s", err->msg);
    return EXIT_RUNTIME;
}

bool loader_meta_str(const struct loaded *l, const char *key, const char **s, size_t *len) {
    return l->src.ops && l->src.ops->get_str(l->src.impl, key, s, len);
}

/* An integer by GGUF key, or dflt. */
static int64_t meta_int(const struct loaded *l, const char *key, int64_t dflt) {
    int64_t v;
    return l->src.ops->get_int(l->src.impl, key, &v) ? v : dflt;
}

/* A metadata string as a C string in buf (empty when absent). */
static const char *meta_cstr(const struct loaded *l, const char *key, char *buf, size_t cap) {
    const char *s;
    size_t n;
    if (!loader_meta_str(l, key, &s, &n)) return NULL;
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
    return buf;
}

int loader_hf_vocab(const char *dir, const struct loaded *l, struct tokenizer_hf_vocab **out) {
    struct ember_err err = {0};
    char path[4096], bos[256], eos[256], arch[64], key[96];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (os_path_kind(path) == OS_PATH_NONE) {
        cli_error("%s has no tokenizer.json: give a vocabulary with --vocab FILE.gguf", dir);
        return EXIT_RUNTIME;
    }
    struct os_map m;
    if (os_map_file(path, &m, &err)) return loader_report(&err);
    struct tokenizer_hf_hints h = {
        .bos = meta_int(l, "tokenizer.ggml.bos_token_id", -1),
        .eos = meta_int(l, "tokenizer.ggml.eos_token_id", -1),
        .bos_text = meta_cstr(l, "hf.bos_token", bos, sizeof bos),
        .eos_text = meta_cstr(l, "hf.eos_token", eos, sizeof eos),
        .add_bos = (int)meta_int(l, "tokenizer.ggml.add_bos_token", -1),
        .add_eos = (int)meta_int(l, "tokenizer.ggml.add_eos_token", -1),
    };
    if (meta_cstr(l, "general.architecture", arch, sizeof arch)) {
        snprintf(key, sizeof key, "%s.vocab_size", arch);
        h.n_vocab = meta_int(l, key, 0);
    }
    enum ember_status st = tokenizer_hf_read((const char *)m.data, (size_t)m.size, &h, out, &err);
    os_unmap(&m);
    if (st) {
        cli_error("%s/%s", dir, err.msg);
        return EXIT_RUNTIME;
    }
    return 0;
}

/* The tokenizer of a Hugging Face directory: its vocabulary, built. */
static int hf_tokenizer(const char *dir, struct loaded *l) {
    struct tokenizer_hf_vocab *v = NULL;
    int rc = loader_hf_vocab(dir, l, &v);
    if (rc) return rc;
    struct ember_err err = {0};
    if (tokenizer_new(tokenizer_hf_spec(v), &l->tok, &err)) {
        cli_error("%s/tokenizer.json: %s", dir, err.msg);
        rc = EXIT_RUNTIME;
    }
    tokenizer_hf_vocab_free(v);
    return rc;
}

static int open_tokenizer(const char *path, const char *vocab, struct loaded *l) {
    struct ember_err err = {0};
    if (vocab) {
        struct gguf_file *v = NULL;
        enum ember_status st = gguf_open(vocab, &v, &err);
        if (!st) st = tokenizer_load(v, &l->tok, &err);
        gguf_close(v); /* the tokenizer keeps its own copy */
        return st ? loader_report(&err) : 0;
    }
    if (l->hf) return hf_tokenizer(path, l);
    return tokenizer_load(l->gguf, &l->tok, &err) ? loader_report(&err) : 0;
}

int loader_open_files(const char *path, const char *vocab, bool with_tokenizer,
                      struct loaded *l) {
    struct ember_err err = {0};
    memset(l, 0, sizeof *l);
    if (os_path_kind(path) == OS_PATH_DIR) {
        if (hf_open(path, &l->hf, &err)) return loader_report(&err);
        l->src = weight_source_hf(l->hf);
    } else {
        if (gguf_open(path, &l->gguf, &err)) return loader_report(&err);
        l->src = weight_source_gguf(l->gguf);
    }
    int rc = with_tokenizer ? open_tokenizer(path, vocab, l) : 0;
    if (rc) loader_close(l);
    return rc;
}

/* -------------------------------------------------------- offload */

/* The device o asks for: o->device by name, else the first that is not
 * the host, other backends' before the CPU's own test device. false when
 * there is none; *d then is unset. */
static bool find_device(const struct ember_options *o, struct ember_device *d) {
    struct ember_device all[32];
    int n = ember_devices(o, all, 32), pick = -1;
    for (int i = 0; i < n; i++) {
        if (o->device ? !strcmp(all[i].dev.name, o->device) : !strcmp(all[i].dev.name, "cpu")) {
            if (o->device) pick = i;
            continue;
        }
        if (!o->device && (pick < 0 || !strcmp(all[pick].backend, "cpu"))) pick = i;
    }
    if (pick >= 0) *d = all[pick];
    return pick >= 0;
}

/* An instance of the device -ngl runs on in *dev (NULL: run on the CPU,
 * a warning said so); 0 or the exit status of a printed error. */
static int open_device(const struct ember_options *o, struct ember_device *d,
                       struct ember_backend **dev) {
    struct ember_err err = {0};
    *dev = NULL;
    if (!find_device(o, d) || !strcmp(d->dev.name, "cpu")) {
        if (o->device && strcmp(o->device, "cpu")) {
            cli_error("--device %s: no such device (ember info --devices lists them)", o->device);
            return EXIT_RUNTIME;
        }
        fprintf(stderr, "ember: warning: -ngl %d: no GPU device, running on the CPU\n", o->n_gpu_layers);
        return 0;
    }
    struct ember_options dopt = *o;
    dopt.backend = d->backend;
    dopt.device = d->dev.name;
    if (!ember_backend_new(&dopt, dev, &err)) return 0;
    if (o->device) {
        cli_error("--device %s: %s", o->device, err.msg);
        return EXIT_RUNTIME;
    }
    fprintf(stderr, "ember: warning: -ngl %d: %s, running on the CPU\n", o->n_gpu_layers, err.msg);
    return 0;
}

/* "310 MiB", or KiB for what is smaller than a MiB (the tiny test models). */
static const char *size_str(uint64_t b, char *buf, size_t cap) {
    if (b >= (1u << 20)) snprintf(buf, cap, "%.0f MiB", (double)b / 1048576.0);
    else snprintf(buf, cap, "%.1f KiB", (double)b / 1024.0);
    return buf;
}

/* The one line llama.cpp prints, and why fewer layers went than asked. */
static void report_plan(const struct ember_device *d, const struct offload_plan *p,
                        const struct ember_options *o) {
    char w[32], k[32], f[32];
    if (p->kept_layer >= 0 && p->kept_type >= 0)
        fprintf(stderr, "ember: layer %d stays on the CPU (and the layers before it): %s cannot multiply %s\n",
                p->kept_layer, d->dev.name, quant_type_name(p->kept_type));
    else if (p->kept_layer >= 0)
        fprintf(stderr, "ember: the layers stay on the CPU: %s lacks an operation this architecture needs\n",
                d->dev.name);
    fprintf(stderr, "ember: offloaded %d/%d layers%s to %s (%s): %s weights, %s KV cache\n", p->n_layers,
            p->n_layer, p->output ? " and the output layer" : "", d->dev.name, d->dev.description,
            size_str(p->weight_bytes, w, sizeof w), size_str(p->kv_bytes, k, sizeof k));
    if (p->short_of_memory)
        fprintf(stderr, "ember: -ngl %d: %s has %s free, not enough for more (with %s scratch)\n",
                o->n_gpu_layers, d->dev.name, size_str(p->free_bytes, f, sizeof f),
                size_str(p->scratch_bytes, w, sizeof w));
}

int loader_offload(struct loaded *l, const struct ember_options *o) {
    struct ember_err err = {0};
    struct ember_device d;
    ember_backend_free(l->dev); /* the model let go of it: bench reloads per value */
    l->dev = NULL;
    if (o->n_gpu_layers <= 0) return 0;
    int rc = open_device(o, &d, &l->dev);
    if (rc || !l->dev) return rc;
    const struct model_info *mi = model_get_info(l->model);
    int n_ctx = o->n_ctx > 0 ? o->n_ctx : mi->n_ctx_train < 4096 ? mi->n_ctx_train : 4096;
    struct model_offload mo = {.dev = l->dev, .n_layers = o->n_gpu_layers, .n_ctx = n_ctx,
                               .n_seq = o->n_seq, .type_k = (enum kv_type)o->cache_type_k,
                               .type_v = (enum kv_type)o->cache_type_v, .kv_block = o->kv_block};
    struct offload_plan plan;
    if (model_offload(l->model, &mo, &plan, &err)) {
        fprintf(stderr, "ember: warning: -ngl %d: %s, running on the CPU\n", o->n_gpu_layers, err.msg);
        return 0;
    }
    report_plan(&d, &plan, o);
    return 0;
}

/* ----------------------------------------------------------- open */

/* model_load's steps, drawn as the progress line (ud: struct progress). */
static void load_step(void *ud, int64_t done, int64_t total, const char *what) {
    char label[48];
    snprintf(label, sizeof label, "loading: %s", what);
    progress_update(ud, done, total, label);
}

int loader_open(const char *path, const struct ember_options *o, bool with_tokenizer,
                struct loaded *l) {
    struct ember_err err = {0};
    double t0 = os_now_ms();
    struct ember_backend *be = NULL;
    struct ember_options host = *o;
    host.device = NULL; /* the host's instance; -ngl's device is another */
    if (ember_backend_new(&host, &be, &err)) return loader_report(&err);
    int rc = loader_open_files(path, NULL, false, l);
    l->be = be;
    if (rc) {
        loader_close(l);
        return rc;
    }
    /* the model before the tokenizer, so a broken model says so first;
     * a load over a second shows its steps on a terminal */
    struct progress bar;
    const char *delay = getenv("EMBER_PROGRESS_DELAY_MS"); /* tests: 0 draws every load */
    progress_begin(&bar, delay ? strtod(delay, NULL) : 1000);
    struct model_progress mp = {.fn = load_step, .ud = &bar};
    enum ember_status st = model_load_progress(&l->src, l->be, &mp, &l->model, &err);
    progress_end(&bar);
    if (st) {
        loader_close(l);
        return loader_report(&err);
    }
    if ((rc = loader_offload(l, o))) {
        loader_close(l);
        return rc;
    }
    if (with_tokenizer && (rc = open_tokenizer(path, o->vocab, l))) {
        loader_close(l);
        return rc;
    }
    int n_vocab = model_get_info(l->model)->n_vocab;
    if (with_tokenizer && tokenizer_n_vocab(l->tok) != n_vocab) {
        int nt = tokenizer_n_vocab(l->tok);
        loader_close(l);
        cli_error("%s: vocabulary has %d tokens but the embedding has %d rows", path, nt, n_vocab);
        return EXIT_RUNTIME;
    }
    l->load_ms = os_now_ms() - t0;
    return 0;
}

void loader_close(struct loaded *l) {
    tokenizer_free(l->tok);
    model_free(l->model);
    gguf_close(l->gguf);
    hf_close(l->hf);
    ember_backend_free(l->dev);
    ember_backend_free(l->be);
    memset(l, 0, sizeof *l);
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* A directory's: its files' size, then per tensor (in name order) type,
 * shape and a few bytes. */
static uint64_t fingerprint_source(const struct weight_source *src, uint64_t size) {
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, &size, sizeof size);
    for (int64_t i = 0; i < src->ops->n_tensors(src->impl); i++) {
        struct weight_desc d;
        src->ops->tensor_at(src->impl, i, &d);
        h = fnv(h, &d.type, sizeof d.type);
        h = fnv(h, d.ne, sizeof d.ne);
        size_t k = d.n_bytes < 64 ? (size_t)d.n_bytes : 64;
        h = fnv(h, d.data, k);
        h = fnv(h, (const unsigned char *)d.data + d.n_bytes - k, k);
    }
    return h;
}

uint64_t loader_fingerprint(const struct loaded *l) {
    if (l->hf) return fingerprint_source(&l->src, hf_file_bytes(l->hf));
    uint64_t h = 0xcbf29ce484222325ull, size = gguf_file_size(l->gguf);
    h = fnv(h, &size, sizeof size);
    for (int64_t i = 0; i < gguf_n_tensors(l->gguf); i++) {
        const struct gguf_tensor *t = gguf_tensor(l->gguf, i);
        h = fnv(h, t->name.p, t->name.len);
        h = fnv(h, &t->type, sizeof t->type);
        h = fnv(h, t->ne, sizeof t->ne);
        h = fnv(h, &t->offset, sizeof t->offset);
        size_t k = t->n_bytes < 64 ? (size_t)t->n_bytes : 64;
        h = fnv(h, t->data, k);
        h = fnv(h, (const unsigned char *)t->data + t->n_bytes - k, k);
    }
    return h;
}
