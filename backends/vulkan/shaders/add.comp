#version 450
// add.comp — x[i] += y[i mod width]: a residual (width = the whole length)
// or a bias (y one row of width values), one value per invocation.
// Bindings: 0 x, 1 y. p: n, width, groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer XB { float x[]; };
layout(std430, binding = 1) readonly buffer YB { float y[]; };

void main() {
    uint i = group_index(pc.p[2]) * 256u + gl_LocalInvocationID.x;
    if (i >= pc.p[0]) return;
    x[pc.o0 + i] += y[pc.o1 + i % pc.p[1]];
}
