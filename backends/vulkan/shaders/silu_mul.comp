#version 450
// silu_mul.comp — g = silu(g) * u, one value per invocation.
// Bindings: 0 g, 1 u. p: n, groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer GB { float g[]; };
layout(std430, binding = 1) readonly buffer UB { float u[]; };

void main() {
    uint i = group_index(pc.p[1]) * 256u + gl_LocalInvocationID.x;
    if (i >= pc.p[0]) return;
    float v = g[pc.o0 + i];
    g[pc.o0 + i] = v / (1.0 + exp(-v)) * u[pc.o1 + i];
}
