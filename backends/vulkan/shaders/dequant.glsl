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
// Four bytes at an even offset: one word, or the halves of two (blocks of
// 18, 34 and 210 bytes leave their codes 2-byte aligned). Reading words
// rather than bytes is most of a matvec's speed.
uint rd32(uint b) {
    uint i = b >> 2;
    return (b & 2u) == 0u ? w[i] : (w[i] >> 16) | (w[i + 1u] << 16);
}
uint byte_of(uint word, uint k) { return (word >> (k * 8u)) & 0xffu; }
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
    for (uint q = 0u; q < 8u; q++) {
        uint word = rd32(b + 2u + 4u * q);
        for (uint k = 0u; k < 4u; k++) v[4u * q + k] = d * float(sx8(byte_of(word, k)));
    }
}
#elif defined(TYPE_q4_0)
void deq32(uint rb, uint j, out float v[32]) {
    uint b = rb + j * 18u;
    float d = h2f(rd16(b));
    for (uint q = 0u; q < 4u; q++) {
        uint word = rd32(b + 2u + 4u * q);
        for (uint k = 0u; k < 4u; k++) {
            uint c = byte_of(word, k);
            v[4u * q + k] = float(int(c & 15u) - 8) * d;
            v[4u * q + k + 16u] = float(int(c >> 4) - 8) * d;
        }
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
    uint qs = (b + 16u + 32u * (s / 2u)) >> 2, shift = (s & 1u) * 4u;
    for (uint q = 0u; q < 8u; q++) {
        uint word = w[qs + q] >> shift;
        for (uint k = 0u; k < 4u; k++) v[4u * q + k] = dl * float((word >> (8u * k)) & 15u) - ml;
    }
}
#elif defined(TYPE_q6_k)
void deq32(uint rb, uint j, out float v[32]) {
    uint b = rb + (j / 8u) * 210u, s = j % 8u;
    uint h = s / 4u, k = s % 4u;
    float d = h2f(rd16(b + 208u));
    uint scs = rd16(b + 192u + s * 2u);
    float sc0 = d * float(sx8(scs & 0xffu)), sc1 = d * float(sx8(scs >> 8));
    uint lo_at = b + 64u * h + 32u * (k % 2u), hi_at = b + 128u + 32u * h;
    uint lo_shift = k < 2u ? 0u : 4u, hi_shift = 2u * k;
    for (uint q = 0u; q < 8u; q++) {
        uint lw = rd32(lo_at + 4u * q) >> lo_shift, hw = rd32(hi_at + 4u * q) >> hi_shift;
        for (uint m = 0u; m < 4u; m++) {
            uint code = ((lw >> (8u * m)) & 15u) | (((hw >> (8u * m)) & 3u) << 4);
            v[4u * q + m] = (q < 4u ? sc0 : sc1) * float(int(code) - 32);
        }
    }
}
#endif
