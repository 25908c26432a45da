#version 450
// rmsnorm.comp — out[r] = x[r] / rms(x[r]) * w: one workgroup per row,
// the sum of squares reduced in shared memory.
// Bindings: 0 x, 1 w, 2 out. p: width, eps (float bits).
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

#define WG 128
layout(local_size_x = WG) in;
layout(std430, binding = 0) readonly buffer XB { float x[]; };
layout(std430, binding = 1) readonly buffer WB { float w[]; };
layout(std430, binding = 2) writeonly buffer OB { float o[]; };

shared float red[WG];

void main() {
    uint width = pc.p[0], r = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    uint xr = pc.o0 + r * width, orow = pc.o2 + r * width;
    float ss = 0.0;
    for (uint i = tid; i < width; i += WG) ss += x[xr + i] * x[xr + i];
    red[tid] = ss;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    float scale = 1.0 / sqrt(red[0] / float(width) + pf(1));
    for (uint i = tid; i < width; i += WG) o[orow + i] = x[xr + i] * scale * w[pc.o1 + i];
}
