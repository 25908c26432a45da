#version 450
// softmax.comp — x = softmax(x) in place over one vector of n values:
// one workgroup (max, then the sum of exponentials, then the scale).
// Bindings: 0 x. p: n.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

#define WG 256
layout(local_size_x = WG) in;
layout(std430, binding = 0) buffer XB { float x[]; };

shared float red[WG];

void main() {
    uint n = pc.p[0], tid = gl_LocalInvocationID.x, x0 = pc.o0;
    float m = -3.402823e38;
    for (uint i = tid; i < n; i += WG) m = max(m, x[x0 + i]);
    red[tid] = m;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (tid < s) red[tid] = max(red[tid], red[tid + s]);
        barrier();
    }
    m = red[0];
    barrier();
    float sum = 0.0;
    for (uint i = tid; i < n; i += WG) {
        float e = exp(x[x0 + i] - m);
        x[x0 + i] = e;
        sum += e;
    }
    red[tid] = sum;
    barrier();
    for (uint s = WG / 2; s > 0u; s >>= 1) {
        if (tid < s) red[tid] += red[tid + s];
        barrier();
    }
    float inv = 1.0 / red[0];
    for (uint i = tid; i < n; i += WG) x[x0 + i] *= inv;
}
