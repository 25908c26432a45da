#version 450
// gather.comp — out row i = x row rows[i] (mixture-of-experts: the rows
// routed to one expert), one value per invocation.
// Bindings: 0 out, 1 x, 2 rows (int32, the ring). p: n * width, width,
// groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer OB { float o[]; };
layout(std430, binding = 1) readonly buffer XB { float x[]; };
layout(std430, binding = 2) readonly buffer RB { int rows[]; };

void main() {
    uint e = group_index(pc.p[2]) * 256u + gl_LocalInvocationID.x;
    if (e >= pc.p[0]) return;
    uint w = pc.p[1], i = e / w, k = e % w;
    o[pc.o0 + e] = x[pc.o1 + uint(rows[pc.o2 + i]) * w + k];
}
