#version 450
// get_rows.comp — out[i] = row rows[i] of W, decoded: one workgroup per
// output row, threads striding over its values (or runs of 32).
// Bindings: 0 weights (dequant.glsl), 1 rows (int, the ring), 2 out.
// p: n_in, row_bytes.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"
#include "dequant.glsl"

#define WG 64
layout(local_size_x = WG) in;
layout(std430, binding = 1) readonly buffer RB { int rows[]; };
layout(std430, binding = 2) writeonly buffer OB { float o[]; };

void main() {
    uint n_in = pc.p[0], i = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
    uint rb = pc.o0 * 4u + uint(rows[pc.o1 + i]) * pc.p[1];
    uint out0 = pc.o2 + i * n_in;
#ifdef PER_VALUE
    for (uint k = tid; k < n_in; k += WG) o[out0 + k] = deq1(rb, k);
#else
    for (uint j = tid; j < n_in / 32u; j += WG) {
        float v[32];
        deq32(rb, j, v);
        for (uint k = 0u; k < 32u; k++) o[out0 + j * 32u + k] = v[k];
    }
#endif
}
