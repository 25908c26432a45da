#version 450
// matmul.comp — out[c][row] = W[row] . x[c] for NCOL input rows at once:
// one workgroup per (weight row, NCOL columns), each weight value decoded
// once for all of them (a 1 x NCOL tile: the matvec of a single token is
// the same shader with one column). Threads stride over the row, then
// reduce in shared memory.
// Built twice: with -DSUBGROUP each subgroup computes whole rows and
// reduces with subgroupAdd; without it (devices lacking subgroup
// arithmetic in compute shaders), a workgroup per row and a shared-memory
// tree.
// Bindings: 0 weights (dequant.glsl), 1 x [n][n_in], 2 out [n][n_out].
// p: n_in, n_out, n, row_bytes, groups_x, rows per workgroup (SUBGROUP).
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

#ifndef SUBGROUP
shared float red[NCOL][WG];
#endif

// The weight row's dot with each of the nc columns, this invocation's
// share: values lane, lane + stride, ... (runs of 32 for the block types).
void row_dots(uint rb, uint xo, uint n_in, uint nc, uint lane, uint stride, inout float acc[NCOL]) {
    if (nc == 1u) { // a single token: no column loop around every value
        float a = 0.0;
#ifdef PER_VALUE
        for (uint i = lane; i < n_in; i += stride) a += deq1(rb, i) * x[xo + i];
#else
        for (uint j = lane; j < n_in / 32u; j += stride) {
            float v[32];
            deq32(rb, j, v);
            for (uint k = 0u; k < 32u; k++) a += v[k] * x[xo + j * 32u + k];
        }
#endif
        acc[0] = a;
        return;
    }
#ifdef PER_VALUE
    for (uint i = lane; i < n_in; i += stride) {
        float v = deq1(rb, i);
        for (uint c = 0u; c < NCOL; c++)
            if (c < nc) acc[c] += v * x[xo + c * n_in + i];
    }
#else
    for (uint j = lane; j < n_in / 32u; j += stride) {
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
}

#ifdef SUBGROUP
// Each subgroup takes rows of the workgroup's p[5] on its own and reduces
// with subgroupAdd: no barrier, no shared memory (barriers are what a
// CPU driver such as lavapipe pays most for). Rows are handed out by the
// subgroups the workgroup really has, whatever size the driver chose.
void main() {
    uint n_in = pc.p[0], n_out = pc.p[1], n = pc.p[2], per_wg = pc.p[5];
    uint c0 = gl_WorkGroupID.y * NCOL, nc = min(uint(NCOL), n - c0);
    uint first = group_index(pc.p[4]) * per_wg;
    for (uint r = gl_SubgroupID; r < per_wg; r += gl_NumSubgroups) {
        uint row = first + r;
        if (row >= n_out) break;
        float acc[NCOL];
        for (uint c = 0u; c < NCOL; c++) acc[c] = 0.0;
        row_dots(pc.o0 * 4u + row * pc.p[3], pc.o1 + c0 * n_in, n_in, nc, gl_SubgroupInvocationID,
                 gl_SubgroupSize, acc);
        for (uint c = 0u; c < NCOL; c++) {
            float s = subgroupAdd(acc[c]);
            if (c < nc && subgroupElect()) o[pc.o2 + (c0 + c) * n_out + row] = s;
        }
    }
}
#else
// One row per workgroup, its threads' sums reduced in shared memory.
void main() {
    uint n_in = pc.p[0], n_out = pc.p[1], n = pc.p[2];
    uint row = group_index(pc.p[4]), tid = gl_LocalInvocationID.x;
    uint c0 = gl_WorkGroupID.y * NCOL;
    if (row >= n_out) return; // the whole workgroup: barriers stay uniform
    uint nc = min(uint(NCOL), n - c0);
    float acc[NCOL];
    for (uint c = 0u; c < NCOL; c++) acc[c] = 0.0;
    row_dots(pc.o0 * 4u + row * pc.p[3], pc.o1 + c0 * n_in, n_in, nc, tid, WG, acc);
    for (uint c = 0u; c < NCOL; c++) red[c][tid] = acc[c];
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (tid < s)
            for (uint c = 0u; c < NCOL; c++) red[c][tid] += red[c][tid + s];
        barrier();
    }
    if (tid < nc) o[pc.o2 + (c0 + tid) * n_out + row] = red[tid][0];
}
#endif
