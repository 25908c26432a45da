#version 450
// matmul.comp — out[c][row] = W[row] . x[c] for NCOL input rows at once:
// one workgroup per (weight row, NCOL columns), each weight value decoded
// once for all of them (a 1 x NCOL tile: the matvec of a single token is
// the same shader with one column). Threads stride over the row, then
// reduce in shared memory.
// Built twice: with -DSUBGROUP the reduction adds within each subgroup
// first (subgroupAdd) and only the subgroups' sums go through shared
// memory; without it, a shared-memory tree (devices lacking subgroup
// arithmetic in compute shaders).
// Bindings: 0 weights (dequant.glsl), 1 x [n][n_in], 2 out [n][n_out].
// p: n_in, n_out, n, row_bytes, groups_x.
#extension GL_GOOGLE_include_directive : enable
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : enable
#extension GL_KHR_shader_subgroup_basic : enable
#endif
#include "common.glsl"
#include "dequant.glsl"

#define WG 64
#define NCOL 8
layout(local_size_x = WG) in;
layout(std430, binding = 1) readonly buffer XB { float x[]; };
layout(std430, binding = 2) writeonly buffer OB { float o[]; };

shared float red[NCOL][WG];

void main() {
    uint n_in = pc.p[0], n_out = pc.p[1], n = pc.p[2];
    uint row = group_index(pc.p[4]), tid = gl_LocalInvocationID.x;
    uint c0 = gl_WorkGroupID.y * NCOL;
    if (row >= n_out) return; // the whole workgroup: barriers stay uniform
    uint nc = min(uint(NCOL), n - c0);
    float acc[NCOL];
    for (uint c = 0u; c < NCOL; c++) acc[c] = 0.0;
    uint rb = pc.o0 * 4u + row * pc.p[3];
    uint xo = pc.o1 + c0 * n_in;
#ifdef PER_VALUE
    for (uint i = tid; i < n_in; i += WG) {
        float v = deq1(rb, i);
        for (uint c = 0u; c < NCOL; c++)
            if (c < nc) acc[c] += v * x[xo + c * n_in + i];
    }
#else
    for (uint j = tid; j < n_in / 32u; j += WG) {
        float v[32];
        deq32(rb, j, v);
        for (uint c = 0u; c < NCOL; c++) {
            if (c >= nc) break;
            float s = 0.0;
            uint xc = xo + c * n_in + j * 32u;
            for (uint k = 0u; k < 32u; k++) s += v[k] * x[xc + k];
            acc[c] += s;
        }
    }
#endif
#ifdef SUBGROUP
    for (uint c = 0u; c < NCOL; c++) {
        float s = subgroupAdd(acc[c]);
        if (subgroupElect()) red[c][gl_SubgroupID] = s;
    }
    barrier();
    if (tid < nc) {
        float s = 0.0;
        for (uint g = 0u; g < gl_NumSubgroups; g++) s += red[tid][g];
        o[pc.o2 + (c0 + tid) * n_out + row] = s;
    }
#else
    for (uint c = 0u; c < NCOL; c++) red[c][tid] = acc[c];
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (tid < s)
            for (uint c = 0u; c < NCOL; c++) red[c][tid] += red[c][tid + s];
        barrier();
    }
    if (tid < nc) o[pc.o2 + (c0 + tid) * n_out + row] = red[tid][0];
#endif
}
