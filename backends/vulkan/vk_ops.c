/*
 * vk_ops.c — the Vulkan backend's forward-pass ops other than attention:
 * each records one dispatch (or one per matrix) into the context's stream;
 * nothing waits here. Host-side arguments (row ids, rope angles, the rows
 * and weights of gather and scatter_add, vectors prepare_weights did not
 * upload) are copied into the stream's ring.
 */
#include <math.h>
#include <string.h>

#include "rope.h"
#include "vk_impl.h"

enum { MATMUL_NCOL = 8, MAX_GROUPS = 65535 };

/* The types with a native shader; others are converted to F16 when
 * prepared (vk_backend.c). */
static int pipe_index(int type) {
    switch (type) {
    case EMBER_TYPE_F32: return 0;
    case EMBER_TYPE_F16: return 1;
    case EMBER_TYPE_Q8_0: return 2;
    case EMBER_TYPE_Q4_0: return 3;
    case EMBER_TYPE_Q4_K: return 4;
    case EMBER_TYPE_Q6_K: return 5;
    default: return -1;
    }
}

bool vk_supports_matmul(int type) { return pipe_index(type) >= 0; }

void vk_grid(uint32_t n, uint32_t groups[3]) {
    groups[0] = n < MAX_GROUPS ? n : MAX_GROUPS;
    groups[1] = 1;
    groups[2] = groups[0] ? (n + groups[0] - 1) / groups[0] : 0;
}

static struct vk_loc loc_of(struct backend_ctx *c, const void *p) {
    return vk_locate(vk_ctx_backend(c), p);
}

struct vk_loc vk_tensor_loc(struct backend_ctx *c, const struct tensor *t, size_t bytes) {
    struct vk_ctx *x = vk_ctx_of(c);
    if (t->prepared) return loc_of(c, t->prepared);
    struct vk_loc at = {NULL, 0};
    void *p = vk_stream_ring(x->s, bytes, &at);
    if (p) memcpy(p, t->part[0], bytes);
    else vk_ctx_backend(c)->failed = true; /* too large to pass along: prepare_weights must */
    return at;
}

/* The bytes a tensor's rows take. */
static size_t tensor_bytes(const struct tensor *t) { return (size_t)t->n_out * t->row_bytes; }

static void matmul_one(struct backend_ctx *c, float *out, const struct tensor *w, const float *x,
                       int n) {
    struct vk_ctx *vc = vk_ctx_of(c);
    size_t row_bytes;
    int pi = pipe_index(vk_tensor_type(w, &row_bytes));
    if (pi < 0) {
        vk_ctx_backend(c)->failed = true;
        return;
    }
    vk_stream_reserve(vc->s, w->prepared ? 0 : tensor_bytes(w), 1);
    struct vk_dispatch d = {.pipe = (enum vk_pipe)(VK_PIPE_MATMUL_F32 + pi)};
    d.buf[0] = vk_tensor_loc(c, w, tensor_bytes(w));
    d.buf[1] = loc_of(c, x);
    d.buf[2] = loc_of(c, out);
    /* with subgroups, a workgroup's rows: one per subgroup (matmul.comp) */
    uint32_t per_wg = vk_ctx_backend(c)->rows_per_wg;
    vk_grid(((uint32_t)w->n_out + per_wg - 1) / per_wg, d.groups);
    d.groups[1] = (uint32_t)(n + MATMUL_NCOL - 1) / MATMUL_NCOL;
    uint32_t p[] = {(uint32_t)w->n_in, (uint32_t)w->n_out, (uint32_t)n, (uint32_t)row_bytes,
                    d.groups[0], per_wg};
    memcpy(d.p, p, sizeof p);
    vk_stream_dispatch(vc->s, &d);
}

void vk_matmul(struct backend_ctx *c, int n_mats, float *const out[],
               const struct tensor *const w[], const float *x, int n) {
    for (int k = 0; k < n_mats; k++) matmul_one(c, out[k], w[k], x, n);
}

void vk_get_rows(struct backend_ctx *c, float *out, const struct tensor *w, const int32_t *rows,
                 int n) {
    struct vk_ctx *vc = vk_ctx_of(c);
    size_t row_bytes;
    int pi = pipe_index(vk_tensor_type(w, &row_bytes));
    if (pi < 0 || n < 1) {
        if (pi < 0) vk_ctx_backend(c)->failed = true;
        return;
    }
    size_t rb = (size_t)n * sizeof *rows;
    vk_stream_reserve(vc->s, rb + (w->prepared ? 0 : tensor_bytes(w)), 1);
    struct vk_dispatch d = {.pipe = (enum vk_pipe)(VK_PIPE_ROWS_F32 + pi)};
    d.buf[0] = vk_tensor_loc(c, w, tensor_bytes(w));
    void *r = vk_stream_ring(vc->s, rb, &d.buf[1]);
    if (!r) return;
    memcpy(r, rows, rb);
    d.buf[2] = loc_of(c, out);
    d.groups[0] = (uint32_t)n, d.groups[1] = d.groups[2] = 1;
    d.p[0] = (uint32_t)w->n_in;
    d.p[1] = (uint32_t)row_bytes;
    vk_stream_dispatch(vc->s, &d);
}

uint32_t vk_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

void vk_rmsnorm(struct backend_ctx *c, float *out, const float *x, const struct tensor *w, int n,
                int width, float eps) {
    struct vk_ctx *vc = vk_ctx_of(c);
    size_t wb = (size_t)width * sizeof(float);
    vk_stream_reserve(vc->s, w->prepared ? 0 : wb, 1);
    struct vk_dispatch d = {.pipe = VK_PIPE_RMSNORM};
    d.buf[0] = loc_of(c, x);
    d.buf[1] = vk_tensor_loc(c, w, wb);
    d.buf[2] = loc_of(c, out);
    d.groups[0] = (uint32_t)n, d.groups[1] = d.groups[2] = 1;
    d.p[0] = (uint32_t)width;
    d.p[1] = vk_f32_bits(eps);
    vk_stream_dispatch(vc->s, &d);
}

/* x += y[i % width] over `total` values (add and add_bias share it). */
static void add_rows(struct backend_ctx *c, float *x, struct vk_loc y, size_t total, int width) {
    struct vk_dispatch d = {.pipe = VK_PIPE_ADD};
    d.buf[0] = loc_of(c, x);
    d.buf[1] = y;
    vk_grid((uint32_t)((total + 255) / 256), d.groups);
    d.p[0] = (uint32_t)total;
    d.p[1] = (uint32_t)width;
    d.p[2] = d.groups[0];
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

void vk_add(struct backend_ctx *c, float *x, const float *y, int n, int width) {
    size_t total = (size_t)n * (size_t)width;
    add_rows(c, x, loc_of(c, y), total, (int)total);
}

void vk_add_bias(struct backend_ctx *c, float *x, const struct tensor *b, int n, int width) {
    size_t wb = (size_t)width * sizeof(float);
    vk_stream_reserve(vk_ctx_of(c)->s, b->prepared ? 0 : wb, 1);
    add_rows(c, x, vk_tensor_loc(c, b, wb), (size_t)n * (size_t)width, width);
}

/* g[i] = act(g[i]) * u[i] over n floats, act the pipeline's (SiLU, GELU). */
static void act_mul(struct backend_ctx *c, enum vk_pipe pipe, float *g, const float *u, int n) {
    if (n < 1) return;
    struct vk_dispatch d = {.pipe = pipe};
    d.buf[0] = loc_of(c, g);
    d.buf[1] = loc_of(c, u);
    vk_grid((uint32_t)((n + 255) / 256), d.groups);
    d.p[0] = (uint32_t)n;
    d.p[1] = d.groups[0];
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

void vk_silu_mul(struct backend_ctx *c, float *g, const float *u, int n) {
    act_mul(c, VK_PIPE_SILU_MUL, g, u, n);
}

void vk_gelu_mul(struct backend_ctx *c, float *g, const float *u, int n) {
    act_mul(c, VK_PIPE_GELU_MUL, g, u, n);
}

void vk_scale(struct backend_ctx *c, float *x, float s, int n) {
    if (n < 1) return;
    struct vk_dispatch d = {.pipe = VK_PIPE_SCALE};
    d.buf[0] = loc_of(c, x);
    vk_grid((uint32_t)((n + 255) / 256), d.groups);
    d.p[0] = (uint32_t)n;
    d.p[1] = d.groups[0];
    d.p[2] = vk_f32_bits(s);
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

/* bytes of host memory copied into the ring (the caller reserved the
 * room); .b NULL, and the instance failed, when they cannot fit. */
static struct vk_loc ring_copy(struct backend_ctx *c, const void *src, size_t bytes) {
    struct vk_loc at = {NULL, 0};
    void *p = vk_stream_ring(vk_ctx_of(c)->s, bytes, &at);
    if (p) memcpy(p, src, bytes);
    else vk_ctx_backend(c)->failed = true;
    return at;
}

/* gather and scatter_add: one invocation per value of the n rows. */
static void rows_grid(struct vk_dispatch *d, int n, int width) {
    uint32_t total = (uint32_t)n * (uint32_t)width;
    vk_grid((total + 255) / 256, d->groups);
    d->p[0] = total;
    d->p[1] = (uint32_t)width;
    d->p[2] = d->groups[0];
}

void vk_gather(struct backend_ctx *c, float *out, const float *x, const int32_t *rows, int n,
               int width) {
    if (n < 1 || width < 1) return;
    size_t rb = (size_t)n * sizeof *rows;
    vk_stream_reserve(vk_ctx_of(c)->s, rb, 1);
    struct vk_dispatch d = {.pipe = VK_PIPE_GATHER};
    d.buf[0] = loc_of(c, out);
    d.buf[1] = loc_of(c, x);
    d.buf[2] = ring_copy(c, rows, rb);
    if (!d.buf[2].b) return;
    rows_grid(&d, n, width);
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

void vk_scatter_add(struct backend_ctx *c, float *x, const float *y, const int32_t *rows,
                    const float *w, int n, int width) {
    if (n < 1 || width < 1) return;
    size_t rb = (size_t)n * sizeof *rows, wb = (size_t)n * sizeof *w;
    /* two ring pieces, each rounded up to 16 bytes */
    vk_stream_reserve(vk_ctx_of(c)->s, rb + 16 + wb + 16, 1);
    struct vk_dispatch d = {.pipe = VK_PIPE_SCATTER_ADD};
    d.buf[0] = loc_of(c, x);
    d.buf[1] = loc_of(c, y);
    d.buf[2] = ring_copy(c, rows, rb);
    d.buf[3] = d.buf[2].b ? ring_copy(c, w, wb) : d.buf[2];
    if (!d.buf[3].b) return;
    rows_grid(&d, n, width);
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

void vk_softmax(struct backend_ctx *c, float *x, int n) {
    struct vk_dispatch d = {.pipe = VK_PIPE_SOFTMAX, .groups = {1, 1, 1}};
    d.buf[0] = loc_of(c, x);
    d.p[0] = (uint32_t)n;
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

/* ------------------------------------------------------------------ rope */

/* The angles come from the host (rope.comp says why); freq_factors are
 * read from part[0], which every weight source keeps mapped. */
void vk_rope(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
             const int32_t *pos, const struct rope_params *rp) {
    struct vk_ctx *vc = vk_ctx_of(c);
    int half = rp->n_rot / 2;
    size_t tb = (size_t)n * (size_t)rp->n_rot * sizeof(float);
    if (n < 1 || half < 1) return;
    vk_stream_reserve(vc->s, tb, 1);
    struct vk_dispatch d = {.pipe = VK_PIPE_ROPE};
    float *t = vk_stream_ring(vc->s, tb, &d.buf[1]);
    if (!t) {
        vk_ctx_backend(c)->failed = true;
        return;
    }
    for (int i = 0; i < n; i++) rope_angles(rp, pos[i], t + (size_t)i * rp->n_rot);
    d.buf[0] = loc_of(c, x);
    uint32_t total = (uint32_t)n * (uint32_t)half * (uint32_t)n_heads;
    vk_grid((total + 255) / 256, d.groups);
    uint32_t p[] = {(uint32_t)n_heads, (uint32_t)head_dim, (uint32_t)rp->n_rot, rp->neox,
                    total, d.groups[0]};
    memcpy(d.p, p, sizeof p);
    vk_stream_dispatch(vc->s, &d);
}
