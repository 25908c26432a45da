#version 450
// gelu_mul.comp — g = gelu(g) * u (GeGLU), GELU's tanh approximation as
// the CPU computes it (backends/cpu/ops.c): 0.5 x (1 + tanh(sqrt(2/pi)
// x (1 + 0.044715 x^2))), one value per invocation. The tanh argument is
// clamped to +-10 first: a driver may build tanh from exp (lavapipe
// does), which overflows to inf/inf for large arguments, and
// tanh(10) is 1 in float anyway.
// Bindings: 0 g, 1 u. p: n, groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer GB { float g[]; };
layout(std430, binding = 1) readonly buffer UB { float u[]; };

void main() {
    uint i = group_index(pc.p[1]) * 256u + gl_LocalInvocationID.x;
    if (i >= pc.p[0]) return;
    float x = g[pc.o0 + i];
    float t = clamp(0.7978845608 * x * (1.0 + 0.044715 * x * x), -10.0, 10.0);
    g[pc.o0 + i] = 0.5 * x * (1.0 + tanh(t)) * u[pc.o1 + i];
}
