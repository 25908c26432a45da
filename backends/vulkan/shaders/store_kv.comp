#version 450
// store_kv.comp — the n rows of k and v into their sequences' blocks at
// their positions: one invocation per (row, KV head, dimension). An F16
// value is half a word that another invocation writes the other half of,
// so it goes in with two atomics (clear our half, or in the value). A
// Q8_0 row is written by the invocations of each 32-block's first
// dimension: the block's absmax, the scale d = absmax/127 (stored as f16)
// and codes rounded half away from zero against the unrounded d, as
// quant/q8_0.c does; its 34 bytes go in as 17 halves, atomically (blocks
// share words at their ends).
// Bindings: 0 k, 1 v, 2 arena, 3 table (per row: position, list start).
// p (after kv.glsl's): [12] total invocations, [13] groups_x.
#extension GL_GOOGLE_include_directive : enable
#include "common.glsl"
#include "kv.glsl"

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer K { float k[]; };
layout(std430, binding = 1) readonly buffer V { float v[]; };

void put16(uint byte, uint half_word) {
    uint shift = (byte & 2u) * 8u;
    atomicAnd(kv[byte >> 2], ~(0xffffu << shift));
    atomicOr(kv[byte >> 2], (half_word & 0xffffu) << shift);
}

// The 32 values from src[at..] as one Q8_0 block at byte.
void put_q8(uint byte, uint at, bool keys) {
    float amax = 0.0;
    for (uint j = 0u; j < 32u; j++) amax = max(amax, abs(keys ? k[at + j] : v[at + j]));
    float d = amax / 127.0, id = d != 0.0 ? 1.0 / d : 0.0;
    put16(byte, packHalf2x16(vec2(d, 0.0)));
    for (uint j = 0u; j < 32u; j += 2u) {
        float a = (keys ? k[at + j] : v[at + j]) * id, b = (keys ? k[at + j + 1u] : v[at + j + 1u]) * id;
        int qa = int(sign(a) * floor(abs(a) + 0.5)), qb = int(sign(b) * floor(abs(b) + 0.5));
        put16(byte + 2u + j, uint(qa & 0xff) | (uint(qb & 0xff) << 8));
    }
}

void put(uint byte, float x, uint type, uint d, uint at, bool keys) {
    if (type == KV_F32) kv[byte >> 2] = floatBitsToUint(x);
    else if (type == KV_F16) put16(byte, packHalf2x16(vec2(x, 0.0)));
    else if (d % 32u == 0u) put_q8(byte, at, keys);
}

void main() {
    uint idx = group_index(pc.p[13]) * 256u + gl_LocalInvocationID.x;
    if (idx >= pc.p[12]) return;
    uint hkv = pc.p[0], hd = pc.p[1];
    uint d = idx % hd, h = (idx / hd) % hkv, i = idx / hd / hkv;
    uint pos = tab[pc.o3 + 2u * i], list = tab[pc.o3 + 2u * i + 1u];
    uint from = (i * hkv + h) * hd + d;
    put(k_byte(list, pos, h, d), k[pc.o0 + from], pc.p[9], d, pc.o0 + from, true);
    put(v_byte(list, pos, h, d), v[pc.o1 + from], pc.p[10], d, pc.o1 + from, false);
}
