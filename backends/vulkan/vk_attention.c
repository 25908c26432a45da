/*
 * vk_attention.c — attention over the paged KV cache in the KV arena and
 * the writes into it (store_kv), for F32, F16 and Q8_0 caches (Q8_0 as
 * the CPU does it: rows quantized by quant/q8_0.c's rule on the way in,
 * the query quantized for integer dots against the keys).
 *
 * Both ops pass the shaders a table in the ring (kv.glsl): per row its
 * position and where its sequence's block list starts, then each
 * sequence's block list as word offsets into the arena.
 */
#include <string.h>

#include "vk_impl.h"

/* The table for n rows: rows first ([pos, list start] each), then one
 * block list per distinct sequence, covering its rows' highest position.
 * Returns its location, or .b NULL (a block outside the arena, or no ring). */
static struct vk_loc kv_table(struct backend_ctx *c, const struct kv_view *kv, const int32_t *pos,
                              const int32_t *seq, int n) {
    struct vk_backend *b = vk_ctx_backend(c);
    struct vk_stream *s = vk_ctx_of(c)->s;
    size_t words = 2 * (size_t)n;
    for (int i = 0; i < n; i++) words += (size_t)pos[i] / (size_t)kv[seq[i]].block_size + 1;
    struct vk_loc at = {NULL, 0};
    vk_stream_reserve(s, words * 4, 1);
    uint32_t *t = vk_stream_ring(s, words * 4, &at);
    if (!t || !b->kv.buf) return (struct vk_loc){NULL, 0};
    uint32_t next = 2 * (uint32_t)n;
    for (int i = 0; i < n; i++) {
        int first = i;
        for (int j = 0; j < i; j++)
            if (seq[j] == seq[i]) {
                first = j;
                break;
            }
        t[2 * i] = (uint32_t)pos[i];
        if (first < i) {
            t[2 * i + 1] = t[2 * first + 1];
            continue;
        }
        const struct kv_view *v = &kv[seq[i]];
        int top = pos[i];
        for (int j = i + 1; j < n; j++)
            if (seq[j] == seq[i] && pos[j] > top) top = pos[j];
        t[2 * i + 1] = next;
        for (int k = 0; k <= top / v->block_size; k++) {
            struct vk_loc l = vk_locate(b, v->blocks[k]);
            if (l.b != b->kv.buf) return (struct vk_loc){NULL, 0};
            t[next++] = (uint32_t)(l.off / 4);
        }
    }
    return at;
}

/* kv.glsl's type codes. */
static uint32_t kv_code(enum ember_type t) {
    return t == EMBER_TYPE_F32 ? 0 : t == EMBER_TYPE_F16 ? 1 : 2;
}

/* The view's geometry into p[0..11] (kv.glsl's order). */
static void kv_params(struct vk_dispatch *d, const struct kv_view *v, int n_head_kv, int head_dim,
                      int n_head) {
    uint32_t p[] = {(uint32_t)n_head_kv,  (uint32_t)head_dim, (uint32_t)v->block_size,
                    (uint32_t)v->k_off,   (uint32_t)v->v_off, (uint32_t)v->k_head,
                    (uint32_t)v->v_head,  (uint32_t)v->k_row, (uint32_t)v->v_row,
                    kv_code(v->type_k),   kv_code(v->type_v), (uint32_t)n_head};
    memcpy(d->p, p, sizeof p);
}

static bool kv_type_ok(enum ember_type t, int head_dim) {
    return t == EMBER_TYPE_F32 || t == EMBER_TYPE_F16 || (t == EMBER_TYPE_Q8_0 && head_dim % 32 == 0);
}

static bool kv_types_ok(const struct kv_view *v, int head_dim) {
    return kv_type_ok(v->type_k, head_dim) && kv_type_ok(v->type_v, head_dim);
}

void vk_store_kv(struct backend_ctx *c, const struct kv_view *kv, const float *k, const float *v,
                 const int32_t *pos, const int32_t *seq, int n, int n_head_kv, int head_dim) {
    struct vk_backend *b = vk_ctx_backend(c);
    if (n < 1) return;
    struct vk_dispatch d = {.pipe = VK_PIPE_STORE_KV};
    d.buf[3] = kv_types_ok(&kv[seq[0]], head_dim) ? kv_table(c, kv, pos, seq, n) : (struct vk_loc){NULL, 0};
    if (!d.buf[3].b) {
        b->failed = true;
        return;
    }
    d.buf[0] = vk_locate(b, k);
    d.buf[1] = vk_locate(b, v);
    d.buf[2] = (struct vk_loc){b->kv.buf, 0};
    kv_params(&d, &kv[seq[0]], n_head_kv, head_dim, 0);
    uint32_t total = (uint32_t)n * (uint32_t)n_head_kv * (uint32_t)head_dim;
    vk_grid((total + 255) / 256, d.groups);
    d.p[12] = total;
    d.p[13] = d.groups[0];
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}

void vk_attention(struct backend_ctx *c, const struct attn_args *a) {
    struct vk_backend *b = vk_ctx_backend(c);
    if (a->n < 1) return;
    struct vk_dispatch d = {.pipe = VK_PIPE_ATTENTION};
    const struct kv_view *v0 = &a->kv[a->seq[0]];
    bool ok = kv_types_ok(v0, a->head_dim) && a->head_dim <= 512;
    d.buf[3] = ok ? kv_table(c, a->kv, a->pos, a->seq, a->n) : (struct vk_loc){NULL, 0};
    if (!d.buf[3].b) {
        b->failed = true;
        return;
    }
    d.buf[0] = vk_locate(b, a->q);
    d.buf[1] = vk_locate(b, a->out);
    d.buf[2] = (struct vk_loc){b->kv.buf, 0};
    kv_params(&d, v0, a->n_head_kv, a->head_dim, a->n_head);
    d.p[12] = (uint32_t)(a->n_head / a->n_head_kv);
    d.p[13] = vk_f32_bits(a->scale > 0 ? a->scale : 0.0f);
    d.p[14] = (uint32_t)(a->window > 0 ? a->window : 0);
    d.groups[0] = (uint32_t)a->n_head;
    d.groups[1] = (uint32_t)a->n;
    d.groups[2] = 1;
    vk_stream_dispatch(vk_ctx_of(c)->s, &d);
}
