/*
 * cuda_weights.c — the CUDA backend's device copies of weights: buffers,
 * prepare_weights (every matrix uploaded at load) and the uploads made on
 * first use of a tensor prepare_weights is not given (norm vectors, biases,
 * rope's freq factors, the token embedding table).
 *
 * Matrices of a type the kernels read (cuk_type_ok) are copied as they
 * are; any other block type quant/ can decode (Q4_1, Q5_*, Q2_K..Q5_K,
 * BF16) is dequantized to F16 on the host first, which costs memory and
 * some precision (BF16's range beyond F16's saturates): weights_note says
 * how many. GPTQ matrices are left where they are (supports() is false).
 *
 * All uploads are listed in one table by host address, so a tensor whose
 * struct was copied (tied embeddings: output = tok_embd) is uploaded once;
 * release_weights empties it (the host addresses die with the model).
 * A linear search is enough: a model has a few hundred tensors and an op
 * already costs a kernel launch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_impl.h"

/* ---------------------------------------------------------------- buffers */

struct backend_buffer *cuda_buffer_alloc(struct ember_backend *be, size_t bytes) {
    struct cuda_backend *b = (struct cuda_backend *)be;
    struct backend_buffer *buf = calloc(1, sizeof *buf);
    if (!buf) return NULL;
    if (cudaSetDevice(b->device) != cudaSuccess ||
        cudaMalloc(&buf->dev, bytes ? bytes : 1) != cudaSuccess) {
        (void)cudaGetLastError(); /* out of memory is not sticky: clear it */
        free(buf);
        return NULL;
    }
    buf->bytes = bytes;
    buf->type = EMBER_TYPE_F32;
    return buf;
}

/* Waits for the device first: a queued kernel may still read b. */
void cuda_buffer_free(struct backend_buffer *b) {
    if (!b) return;
    (void)cudaDeviceSynchronize();
    (void)cudaFree(b->dev);
    free(b);
}

/* upload/download return nothing: a failed upload leaves the buffer as it
 * was, a failed download hands back NaNs (all bits set). */
void cuda_upload(struct backend_buffer *b, size_t off, const void *src, size_t n) {
    (void)cudaMemcpy((uint8_t *)b->dev + off, src, n, cudaMemcpyHostToDevice);
}

void cuda_download(const struct backend_buffer *b, size_t off, void *dst, size_t n) {
    if (cudaMemcpy(dst, (const uint8_t *)b->dev + off, n, cudaMemcpyDeviceToHost) != cudaSuccess)
        memset(dst, 0xff, n);
}

/* --------------------------------------------------------------- uploads */

static bool is_gptq(const struct tensor *t) {
    return t->type == EMBER_TYPE_GPTQ4 || t->type == EMBER_TYPE_GPTQ8 || t->n_parts > 1;
}

/* Rows converted at a time when dequantizing (bounded host memory). */
enum { DEQUANT_CHUNK_VALUES = 1 << 22 };

/* The rows of t decoded into F16 bytes of buf, a chunk of rows at a time. */
static bool upload_as_f16(struct backend_buffer *buf, const struct tensor *t,
                          const struct quant_traits *q) {
    int64_t rows_per = DEQUANT_CHUNK_VALUES / t->n_in > 0 ? DEQUANT_CHUNK_VALUES / t->n_in : 1;
    float *tmp = malloc((size_t)t->n_in * sizeof *tmp);
    uint16_t *half = malloc((size_t)(rows_per * t->n_in) * sizeof *half);
    bool ok = tmp && half;
    for (int64_t r0 = 0; ok && r0 < t->n_out; r0 += rows_per) {
        int64_t nr = t->n_out - r0 < rows_per ? t->n_out - r0 : rows_per;
        for (int64_t r = 0; r < nr; r++) {
            q->dequant((const uint8_t *)t->part[0] + (size_t)(r0 + r) * t->row_bytes, tmp, t->n_in);
            for (int64_t i = 0; i < t->n_in; i++)
                half[(size_t)(r * t->n_in + i)] = quant_f32_to_f16(tmp[i]);
        }
        size_t off = (size_t)r0 * (size_t)t->n_in * 2, n = (size_t)(nr * t->n_in) * 2;
        ok = cudaMemcpy((uint8_t *)buf->dev + off, half, n, cudaMemcpyHostToDevice) == cudaSuccess;
    }
    free(tmp);
    free(half);
    return ok;
}

/* A device copy of t's rows (*dequant: whether it became F16), or NULL:
 * GPTQ, a type quant/ cannot decode, out of memory or a failed copy. */
static struct backend_buffer *upload_tensor(struct cuda_backend *b, const struct tensor *t,
                                            bool *dequant) {
    *dequant = false;
    const struct quant_traits *q = quant_traits_for(t->type);
    if (is_gptq(t) || !t->part[0] || !q || t->n_in < 1 || t->n_out < 1) return NULL;
    bool native = cuk_type_ok(t->type) != 0;
    if (!native && (!q->dequant || t->n_in % q->block_elems)) return NULL;
    size_t row = native ? quant_row_bytes(t->type, t->n_in) : (size_t)t->n_in * 2;
    struct backend_buffer *buf = cuda_buffer_alloc(&b->base, row * (size_t)t->n_out);
    if (!buf) return NULL;
    buf->type = native ? t->type : EMBER_TYPE_F16;
    buf->row_bytes = row;
    bool ok = native ? cudaMemcpy(buf->dev, t->part[0], buf->bytes, cudaMemcpyHostToDevice) == cudaSuccess
                     : upload_as_f16(buf, t, q);
    if (!ok) {
        (void)cudaGetLastError();
        cuda_buffer_free(buf);
        return NULL;
    }
    *dequant = !native;
    return buf;
}

/* The upload of host bytes `host` read as `type`, or NULL; b->lock held. */
static struct backend_buffer *find_upload(const struct cuda_backend *b, const void *host, int type) {
    for (int i = 0; i < b->n_up; i++)
        if (b->up[i].host == host && b->up[i].type == type) return b->up[i].buf;
    return NULL;
}

/* false when the table cannot grow; b->lock held. */
static bool remember_upload(struct cuda_backend *b, const void *host, int type,
                            struct backend_buffer *buf, bool owned) {
    if (b->n_up == b->cap_up) {
        int cap = b->cap_up ? 2 * b->cap_up : 64;
        struct cuda_upload *up = realloc(b->up, (size_t)cap * sizeof *up);
        if (!up) return false;
        b->up = up;
        b->cap_up = cap;
    }
    b->up[b->n_up++] = (struct cuda_upload){host, type, buf, owned};
    return true;
}

const struct backend_buffer *cuda_weight(struct cuda_backend *b, const struct tensor *t) {
    if (t->buf && t->prepared == t->buf->dev) return t->buf;
    pthread_mutex_lock(&b->lock);
    struct backend_buffer *buf = find_upload(b, t->part[0], t->type);
    if (!buf) {
        bool dequant;
        buf = upload_tensor(b, t, &dequant);
        if (buf && !remember_upload(b, t->part[0], t->type, buf, true)) {
            cuda_buffer_free(buf);
            buf = NULL;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return buf;
}

/* Drops the whole table (b->lock held, or no other user): the entries of
 * first-use uploads own their buffers, prepare's belong to its
 * backend_weights. */
void cuda_uploads_free(struct cuda_backend *b) {
    for (int i = 0; i < b->n_up; i++)
        if (b->up[i].owned) cuda_buffer_free(b->up[i].buf);
    free(b->up);
    b->up = NULL;
    b->n_up = b->cap_up = 0;
}

/* -------------------------------------------------------- prepare_weights */

/* Uploads every matrix it can; those it cannot (no room, GPTQ) stay in
 * host memory and are counted in the note: the load never fails for it
 * (backend.h), though an op on such a matrix then fails its context. */
enum ember_status cuda_prepare_weights(struct ember_backend *be, const char *source_id,
                                       struct tensor *const *ts, int n,
                                       struct backend_weights **out, struct ember_err *err) {
    (void)source_id;
    struct cuda_backend *b = (struct cuda_backend *)be;
    *out = NULL;
    struct backend_weights *w = calloc(1, sizeof *w);
    if (w) w->bufs = calloc((size_t)(n > 0 ? n : 1), sizeof *w->bufs);
    if (!w || !w->bufs) {
        free(w);
        return ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    w->be = b;
    int n_dequant = 0, n_host = 0;
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < n; i++) {
        struct tensor *t = ts[i];
        struct backend_buffer *buf = find_upload(b, t->part[0], t->type);
        bool dequant = false;
        if (!buf) {
            buf = upload_tensor(b, t, &dequant);
            if (buf && !remember_upload(b, t->part[0], t->type, buf, false)) {
                cuda_buffer_free(buf);
                buf = NULL;
            }
            if (buf) w->bufs[w->n++] = buf;
        }
        n_dequant += dequant;
        n_host += !buf;
        t->buf = buf;
        t->prepared = buf ? buf->dev : NULL;
    }
    pthread_mutex_unlock(&b->lock);
    snprintf(w->note, sizeof w->note, "cuda%d: %d matrices uploaded (%d dequantized to F16), %d in host memory",
             b->device, n - n_host, n_dequant, n_host);
    *out = w;
    return EMBER_OK;
}

/* Frees w's matrices and every upload made on first use: those were the
 * vectors of the model being released (a later model may be mapped at the
 * same host addresses, so none may outlive it). Another model on the same
 * instance re-uploads its own on next use. */
void cuda_release_weights(struct backend_weights *w) {
    if (!w) return;
    struct cuda_backend *b = w->be;
    pthread_mutex_lock(&b->lock);
    for (int k = 0; k < w->n; k++) cuda_buffer_free(w->bufs[k]);
    cuda_uploads_free(b);
    pthread_mutex_unlock(&b->lock);
    free(w->bufs);
    free(w);
}

const char *cuda_weights_note(const struct backend_weights *w) {
    return w ? w->note : "none uploaded";
}
