#version 450
// rope.comp — rotate pairs of each head by angles the host computed
// (cos and sin per row and pair, already times YaRN's magnitude: the host
// takes them from libm exactly as the CPU does, so positions far out lose
// nothing to a GPU's sin). One invocation per (row, pair, head).
// Bindings: 0 x, 1 table [n][n_rot/2][2]. p: n_heads, head_dim, n_rot,
// neox, total, groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer XB { float x[]; };
layout(std430, binding = 1) readonly buffer TB { float t[]; };

void main() {
    uint idx = group_index(pc.p[5]) * 256u + gl_LocalInvocationID.x;
    if (idx >= pc.p[4]) return;
    uint n_heads = pc.p[0], hd = pc.p[1], half_rot = pc.p[2] / 2u;
    uint h = idx % n_heads, pair = (idx / n_heads) % half_rot, r = idx / n_heads / half_rot;
    uint a = pc.p[3] != 0u ? pair : 2u * pair;
    uint b = pc.p[3] != 0u ? pair + half_rot : 2u * pair + 1u;
    uint base = pc.o0 + (r * n_heads + h) * hd;
    uint ti = pc.o1 + (r * half_rot + pair) * 2u;
    float cs = t[ti], sn = t[ti + 1u];
    float x0 = x[base + a], x1 = x[base + b];
    x[base + a] = x0 * cs - x1 * sn;
    x[base + b] = x0 * sn + x1 * cs;
}
