#version 450
// attention.comp — causal attention of one query row and head over its
// sequence's blocks: one workgroup per (head, row). Three passes over the
// positions the row may see (the scores' max, their exponentials' sum,
// then the values weighted by the probabilities), recomputing scores
// rather than keeping them, so no scratch grows with the context. This
// follows the CPU's exact softmax (attention.c): an F16 key cache takes
// the query rounded to f16, an F16 value cache the probabilities
// normalized and rounded to f16, a Q8_0 key cache the query quantized to
// Q8_0 (integer dots per block times both scales, as the CPU's
// q8_0 dot).
// With a sliding window the row sees only positions p with pos - p <
// window (backend.h's attn_first_pos): the passes start there.
// Bindings: 0 q, 1 out, 2 arena, 3 table. p (after kv.glsl's): [12] GQA
// group size (n_head / n_head_kv), [13] the score scale (float bits; 0:
// 1/sqrt(head_dim)), [14] the window (0: none).
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"
#include "kv.glsl"

#define WG 64
#define MAX_HD 512
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer QB { float q[]; };
layout(std430, binding = 1) writeonly buffer OB { float o[]; };

shared float qs[MAX_HD];
shared int qi[MAX_HD];          // Q8_0 keys: the query's codes
shared float qd[MAX_HD / 32];   // and its blocks' scales (f16-rounded)
shared float red[WG];
shared float wts[WG];

float score(uint list, uint p, uint h) {
    float s = 0.0;
    uint type = pc.p[9];
    if (type == KV_Q8_0) {
        for (uint b = 0u; b < pc.p[1] / 32u; b++) {
            uint at = k_byte(list, p, h, b * 32u);
            int isum = 0;
            for (uint j = 0u; j < 32u; j++) isum += qi[b * 32u + j] * kv_code(at + 2u + j);
            s += float(isum) * (unpackHalf2x16(kv_half(at)).x * qd[b]);
        }
        return s;
    }
    for (uint d = 0u; d < pc.p[1]; d++) s += qs[d] * kv_load(k_byte(list, p, h, d), type, d);
    return s;
}

// The scaled query as Q8_0 (quant/q8_0.c's rounding), one block per
// invocation.
void quantize_query(uint hd) {
    uint b = gl_LocalInvocationID.x;
    if (b >= hd / 32u) return;
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) amax = max(amax, abs(qs[b * 32u + j]));
    float d = amax / 127.0, id = d != 0.0 ? 1.0 / d : 0.0;
    qd[b] = unpackHalf2x16(packHalf2x16(vec2(d, 0.0))).x;
    for (uint j = 0u; j < 32u; j++) {
        float x = qs[b * 32u + j] * id;
        qi[b * 32u + j] = int(sign(x) * floor(abs(x) + 0.5));
    }
}

// max (op 0) or sum (op 1) of red[] across the workgroup.
float reduce(float v, uint op) {
    uint tid = gl_LocalInvocationID.x;
    red[tid] = v;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (tid < s) red[tid] = op == 0u ? max(red[tid], red[tid + s]) : red[tid] + red[tid + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    uint hq = gl_WorkGroupID.x, i = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
    uint hd = pc.p[1], n_head = pc.p[11], h = hq / pc.p[12];
    uint n_pos = tab[pc.o3 + 2u * i] + 1u, list = tab[pc.o3 + 2u * i + 1u];
    uint window = pc.p[14], lo = window > 0u && n_pos > window ? n_pos - window : 0u;
    bool k16 = pc.p[9] == KV_F16, v16 = pc.p[10] == KV_F16;
    float scale = pf(13) > 0.0 ? pf(13) : 1.0 / sqrt(float(hd));
    uint q0 = pc.o0 + (i * n_head + hq) * hd;
    for (uint d = tid; d < hd; d += WG) {
        float x = q[q0 + d];
        if (k16) x = unpackHalf2x16(packHalf2x16(vec2(x, 0.0))).x;
        qs[d] = x * scale;
    }
    barrier();
    if (pc.p[9] == KV_Q8_0) {
        quantize_query(hd);
        barrier();
    }
    float m = -3.402823e38;
    for (uint p = lo + tid; p < n_pos; p += WG) m = max(m, score(list, p, h));
    m = reduce(m, 0u);
    float l = 0.0;
    for (uint p = lo + tid; p < n_pos; p += WG) l += exp(score(list, p, h) - m);
    float inv = 1.0 / reduce(l, 1u);
    float acc[MAX_HD / WG];
    for (uint k = 0u; k < MAX_HD / WG; k++) acc[k] = 0.0;
    for (uint p0 = lo; p0 < n_pos; p0 += WG) {
        uint p = p0 + tid;
        float wt = p < n_pos ? exp(score(list, p, h) - m) : 0.0;
        if (v16) wt = unpackHalf2x16(packHalf2x16(vec2(wt * inv, 0.0))).x;
        wts[tid] = wt;
        barrier();
        uint np = min(uint(WG), n_pos - p0);
        for (uint k = 0u; k < MAX_HD / WG; k++) {
            uint d = tid + k * WG;
            if (d >= hd) break;
            float a = 0.0;
            for (uint j = 0u; j < np; j++) a += wts[j] * kv_load(v_byte(list, p0 + j, h, d), pc.p[10], d);
            acc[k] += a;
        }
        barrier();
    }
    uint out0 = pc.o1 + (i * n_head + hq) * hd;
    for (uint k = 0u; k < MAX_HD / WG; k++) {
        uint d = tid + k * WG;
        if (d < hd) o[out0 + d] = v16 ? acc[k] : acc[k] * inv;
    }
}
