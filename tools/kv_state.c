/*
 * kv_state.c — KV cache state files (kv_state.h).
 *
 * Layout: struct state_header, then n_toks int32 ids, the payload, then
 * the KV blocks of sequence 0 (kv_seq_export), all in this machine's byte
 * order (the header's magic and sizes catch a file from elsewhere).
 */
#include "kv_state.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"

static const char MAGIC[8] = "EMBERKV\0";
enum { VERSION = 1, MAX_PAYLOAD = 256 << 20 };

struct state_header {
    char magic[8];
    uint32_t version, kind;
    uint64_t fingerprint, block_bytes, payload_len;
    int32_t n_layer, n_head_kv, head_dim, block_size, type_k, type_v, n_toks, pad;
};

static bool io_write(void *f, void *p, size_t n) { return fwrite(p, 1, n, f) == n; }
static bool io_read(void *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

static struct state_header header_of(enum kv_state_kind kind, const struct loaded *l, struct model_ctx *c,
                                     int n_toks, size_t payload_len) {
    const struct kv_layout *kl = kv_cache_layout(model_kv(c));
    struct state_header h = {.version = VERSION, .kind = kind, .fingerprint = loader_fingerprint(l),
                             .block_bytes = kv_cache_block_bytes(model_kv(c)), .payload_len = payload_len,
                             .n_layer = kl->n_layer, .n_head_kv = kl->n_head_kv, .head_dim = kl->head_dim,
                             .block_size = kl->block_size, .type_k = (int32_t)kl->type_k,
                             .type_v = (int32_t)kl->type_v, .n_toks = n_toks};
    memcpy(h.magic, MAGIC, sizeof h.magic);
    return h;
}

/* A FIFO or device would block fopen (until a peer opens the other end)
 * or stream forever: only regular files (or, to save, a new one). */
static enum ember_status check_path(const char *path, struct ember_err *err) {
    switch (os_path_kind(path)) {
    case OS_PATH_DIR: return ember_fail(err, EMBER_EIO, "%s: is a directory", path);
    case OS_PATH_OTHER: return ember_fail(err, EMBER_EIO, "%s: not a regular file", path);
    default: return EMBER_OK;
    }
}

enum ember_status kv_state_save(const char *path, enum kv_state_kind kind, const struct loaded *l,
                                struct model_ctx *c, const int32_t *toks, int n_toks, const void *payload,
                                size_t payload_len, struct ember_err *err) {
    if (check_path(path, err)) return err->status;
    FILE *f = fopen(path, "wb");
    if (!f) return ember_fail(err, EMBER_EIO, "%s: cannot create: %s", path, strerror(errno));
    struct state_header h = header_of(kind, l, c, n_toks, payload_len);
    bool ok = io_write(f, &h, sizeof h) && io_write(f, (void *)toks, (size_t)n_toks * sizeof *toks) &&
              (!payload_len || io_write(f, (void *)payload, payload_len));
    enum ember_status st = ok ? kv_seq_export(model_kv(c), 0, n_toks, io_write, f, err)
                              : ember_fail(err, EMBER_EIO, "%s: write failed", path);
    if (fclose(f) && !st) st = ember_fail(err, EMBER_EIO, "%s: write failed: %s", path, strerror(errno));
    return st;
}

static const char *type_name(int32_t t) {
    const char *n = quant_type_name(t);
    return n ? n : "?";
}

/* h against what this context would write. */
static enum ember_status check(const struct state_header *h, const struct state_header *want, int n_ctx,
                               const char *path, const struct loaded *l, struct ember_err *err) {
    if (memcmp(h->magic, MAGIC, sizeof h->magic) || h->kind != want->kind)
        return ember_fail(err, EMBER_ECORRUPT, "%s: not an ember %s file", path,
                          want->kind == KV_STATE_CHAT ? "chat" : "prompt cache");
    if (h->version != VERSION)
        return ember_fail(err, EMBER_EUNSUPPORTED, "%s: format version %u, this ember reads %d", path,
                          h->version, VERSION);
    if (h->fingerprint != want->fingerprint)
        return ember_fail(err, EMBER_EINVAL, "%s was saved with another model (not %s)", path,
                          l->src.id);
    if (h->n_layer != want->n_layer || h->n_head_kv != want->n_head_kv || h->head_dim != want->head_dim ||
        h->block_size != want->block_size || h->type_k != want->type_k || h->type_v != want->type_v ||
        h->block_bytes != want->block_bytes)
        return ember_fail(err, EMBER_EINVAL,
                          "%s was saved with another KV cache layout (%s/%s in blocks of %d; this one: %s/%s "
                          "in blocks of %d)",
                          path, type_name(h->type_k), type_name(h->type_v), h->block_size,
                          type_name(want->type_k), type_name(want->type_v), want->block_size);
    if (h->n_toks < 0 || h->n_toks > n_ctx || h->payload_len > MAX_PAYLOAD)
        return ember_fail(err, EMBER_EINVAL, "%s holds %d tokens, more than the context of %d (raise -c)", path,
                          h->n_toks, n_ctx);
    return EMBER_OK;
}

enum ember_status kv_state_load(const char *path, enum kv_state_kind kind, const struct loaded *l,
                                struct model_ctx *c, int32_t *toks, int *n_toks, void **payload,
                                size_t *payload_len, bool (*payload_ok)(const void *p, size_t n),
                                struct ember_err *err) {
    *payload = NULL;
    *payload_len = 0;
    if (check_path(path, err)) return err->status;
    FILE *f = fopen(path, "rb");
    if (!f) return ember_fail(err, EMBER_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct state_header h, want = header_of(kind, l, c, 0, 0);
    int n_ctx = model_ctx_size(c), n_vocab = model_get_info(l->model)->n_vocab;
    enum ember_status st = io_read(f, &h, sizeof h) ? check(&h, &want, n_ctx, path, l, err)
                                                   : ember_fail(err, EMBER_ECORRUPT, "%s: too short", path);
    int32_t *ids = NULL;
    void *pl = NULL;
    if (!st) {
        ids = malloc(((size_t)h.n_toks + 1) * sizeof *ids);
        pl = h.payload_len ? malloc(h.payload_len) : NULL;
        bool ok = ids && (!h.payload_len || pl) && io_read(f, ids, (size_t)h.n_toks * sizeof *ids) &&
                  (!h.payload_len || io_read(f, pl, h.payload_len));
        for (int i = 0; ok && i < h.n_toks; i++) ok = ids[i] >= 0 && ids[i] < n_vocab;
        if (ok && payload_ok) ok = payload_ok(pl, h.payload_len);
        if (!ok) st = ember_fail(err, EMBER_ECORRUPT, "%s: truncated or damaged", path);
    }
    if (!st) st = kv_seq_import(model_kv(c), 0, h.n_toks, io_read, f, err);
    fclose(f);
    if (st) {
        free(ids);
        free(pl);
        return st;
    }
    memcpy(toks, ids, (size_t)h.n_toks * sizeof *ids);
    free(ids);
    *n_toks = h.n_toks;
    *payload = pl;
    *payload_len = h.payload_len;
    return EMBER_OK;
}
