#version 450
// scale.comp — x *= s over n floats, one value per invocation.
// Bindings: 0 x. p: n, groups_x, s (float bits).
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer XB { float x[]; };

void main() {
    uint i = group_index(pc.p[1]) * 256u + gl_LocalInvocationID.x;
    if (i >= pc.p[0]) return;
    x[pc.o0 + i] *= pf(2);
}
