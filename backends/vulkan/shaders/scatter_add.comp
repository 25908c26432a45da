#version 450
// scatter_add.comp — x row rows[i] += w[i] * y row i (mixture-of-experts:
// an expert's outputs back into the tokens' rows), one value per
// invocation. The rows are distinct (backend.h), so no two invocations
// write one value and no atomics are needed.
// Bindings: 0 x, 1 y, 2 rows (int32), 3 w (the ring). p: n * width,
// width, groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer XB { float x[]; };
layout(std430, binding = 1) readonly buffer YB { float y[]; };
layout(std430, binding = 2) readonly buffer RB { int rows[]; };
layout(std430, binding = 3) readonly buffer WB { float wt[]; };

void main() {
    uint e = group_index(pc.p[2]) * 256u + gl_LocalInvocationID.x;
    if (e >= pc.p[0]) return;
    uint w = pc.p[1], i = e / w, k = e % w;
    x[pc.o0 + uint(rows[pc.o2 + i]) * w + k] += wt[pc.o3 + i] * y[pc.o1 + e];
}
