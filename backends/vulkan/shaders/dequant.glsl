// dequant.glsl — reading one weight type from binding 0 (a uint array:
// block formats are byte-packed, 2-byte aligned at best) for matmul and
// get_rows. Compiled once per type (-DTYPE_f32 ...); each type defines
// either deq1 (one value: F32, F16, rows of any length) or deq32 (the
// j-th run of 32 values of a row: the block types, rows a multiple of 32),
// following the layouts of quant/<type>.c.
layout(std430, binding = 0) readonly buffer WB { uint w[]; };

uint rd8(uint b) { return (w[b >> 2] >> ((b & 3u) * 8u)) & 0xffu; }
// 16 bits at an even byte offset never cross a word.
uint rd16(uint b) { return (w[b >> 2] >> ((b & 2u) * 8u)) & 0xffffu; }
float h2f(uint h) { return unpackHalf2x16(h).x; }
int sx8(uint v) { return int(v << 24) >> 24; }

#if defined(TYPE_f32)
#define PER_VALUE 1
float deq1(uint rb, uint i) { return uintBitsToFloat(w[(rb >> 2) + i]); }
#elif defined(TYPE_f16)
#define PER_VALUE 1
float deq1(uint rb, uint i) { return h2f(rd16(rb + 2u * i)); }
#elif defined(TYPE_q8_0)
void deq32(uint rb, uint j, out float v[32]) {
    uint b = rb + j * 34u;
    float d = h2f(rd16(b));
    for (uint k = 0u; k < 32u; k++) v[k] = d * float(sx8(rd8(b + 2u + k)));
}
#elif defined(TYPE_q4_0)
void deq32(uint rb, uint j, out float v[32]) {
    uint b = rb + j * 18u;
    float d = h2f(rd16(b));
    for (uint k = 0u; k < 16u; k++) {
        uint q = rd8(b + 2u + k);
        v[k] = float(int(q & 15u) - 8) * d;
        v[k + 16u] = float(int(q >> 4) - 8) * d;
    }
}
#elif defined(TYPE_q4_k)
// Sub-block s of 8: 6-bit scale and min packed in 12 bytes (k_fit.c).
void q4k_scale_min(uint sc, uint s, out uint scale, out uint m) {
    if (s < 4u) {
        scale = rd8(sc + s) & 63u;
        m = rd8(sc + s + 4u) & 63u;
    } else {
        scale = (rd8(sc + s + 4u) & 15u) | ((rd8(sc + s - 4u) >> 6) << 4);
        m = (rd8(sc + s + 4u) >> 4) | ((rd8(sc + s) >> 6) << 4);
    }
}
void deq32(uint rb, uint j, out float v[32]) {
    uint b = rb + (j / 8u) * 144u, s = j % 8u;
    float d = h2f(rd16(b)), dmin = h2f(rd16(b + 2u));
    uint scale, m;
    q4k_scale_min(b + 4u, s, scale, m);
    float dl = d * float(scale), ml = dmin * float(m);
    uint qs = b + 16u + 32u * (s / 2u);
    for (uint l = 0u; l < 32u; l++) {
        uint q = rd8(qs + l);
        v[l] = dl * float((s & 1u) == 0u ? q & 15u : q >> 4) - ml;
    }
}
#elif defined(TYPE_q6_k)
void deq32(uint rb, uint j, out float v[32]) {
    uint b = rb + (j / 8u) * 210u, s = j % 8u;
    uint h = s / 4u, k = s % 4u;
    float d = h2f(rd16(b + 208u));
    for (uint l = 0u; l < 32u; l++) {
        uint lo = rd8(b + 64u * h + 32u * (k % 2u) + l);
        lo = k < 2u ? lo & 15u : lo >> 4;
        uint hi = (rd8(b + 128u + 32u * h + l) >> (2u * k)) & 3u;
        float sc = float(sx8(rd8(b + 192u + s * 2u + l / 16u)));
        v[l] = d * sc * float(int(lo | (hi << 4)) - 32);
    }
}
#endif
