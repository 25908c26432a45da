#version 450
// store_kv.comp — the n rows of k and v into their sequences' blocks at
// their positions: one invocation per (row, KV head, dimension). An F16
// value is half a word that another invocation writes the other half of,
// so it goes in with two atomics (clear our half, or in the value).
// Bindings: 0 k, 1 v, 2 arena, 3 table (per row: position, list start).
// p (after kv.glsl's): [12] total invocations, [13] groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"
#include "kv.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer K { float k[]; };
layout(std430, binding = 1) readonly buffer V { float v[]; };

void put(uint byte, float x, bool f16) {
    if (!f16) {
        kv[byte >> 2] = floatBitsToUint(x);
        return;
    }
    uint shift = (byte & 2u) * 8u;
    atomicAnd(kv[byte >> 2], ~(0xffffu << shift));
    atomicOr(kv[byte >> 2], (packHalf2x16(vec2(x, 0.0)) & 0xffffu) << shift);
}

void main() {
    uint idx = group_index(pc.p[13]) * 256u + gl_LocalInvocationID.x;
    if (idx >= pc.p[12]) return;
    uint hkv = pc.p[0], hd = pc.p[1];
    uint d = idx % hd, h = (idx / hd) % hkv, i = idx / hd / hkv;
    uint pos = tab[pc.o3 + 2u * i], list = tab[pc.o3 + 2u * i + 1u];
    uint from = (i * hkv + h) * hd + d;
    put(k_byte(list, pos, h, d), k[pc.o0 + from], pc.p[9] != 0u);
    put(v_byte(list, pos, h, d), v[pc.o1 + from], pc.p[10] != 0u);
}
