// kv.glsl — the paged KV cache in the KV arena (binding 2, words) as
// kv_cache.h lays it out, for store_kv and attention. The host passes one
// layer's view geometry in p[0..] and, in the table (binding 3, the ring),
// each row's position and where its sequence's block list starts, then the
// block lists as word offsets into the arena.
// p: n_head_kv, head_dim, block_size, k_off, v_off, k_head, v_head, k_row,
//    v_row (bytes), k type, v type (KV_F32, KV_F16, KV_Q8_0), n_head.
// Q8_0 rows are stored by position: head_dim/32 blocks of 34 bytes (an
// f16 scale, 32 int8 codes); F32/F16 keys transposed, values by position.
layout(std430, binding = 2) buffer KB { uint kv[]; };
layout(std430, binding = 3) readonly buffer TB { uint tab[]; };

// Byte address in the arena of dimension d of position p's key (transposed:
// a row of block_size values per dimension) and value, for KV head h of
// the sequence whose block list starts at tab[list].
#define KV_F32 0u
#define KV_F16 1u
#define KV_Q8_0 2u

uint block_byte(uint list, uint p) { return tab[pc.o3 + list + p / pc.p[2]] * 4u; }
// For Q8_0, the byte of dimension d's 34-byte block (its scale first).
uint k_byte(uint list, uint p, uint h, uint d) {
    uint base = block_byte(list, p) + pc.p[3] + h * pc.p[5];
    if (pc.p[9] == KV_Q8_0) return base + (p % pc.p[2]) * pc.p[7] + (d / 32u) * 34u;
    return base + d * pc.p[7] + (p % pc.p[2]) * (pc.p[9] == KV_F16 ? 2u : 4u);
}
uint v_byte(uint list, uint p, uint h, uint d) {
    uint base = block_byte(list, p) + pc.p[4] + h * pc.p[6] + (p % pc.p[2]) * pc.p[8];
    if (pc.p[10] == KV_Q8_0) return base + (d / 32u) * 34u;
    return base + d * (pc.p[10] == KV_F16 ? 2u : 4u);
}
uint kv_half(uint byte) { return (kv[byte >> 2] >> ((byte & 2u) * 8u)) & 0xffffu; }
int kv_code(uint byte) { return int(((kv[byte >> 2] >> ((byte & 3u) * 8u)) & 0xffu) << 24) >> 24; }
// Value d of a row whose (block) address is byte.
float kv_load(uint byte, uint type, uint d) {
    if (type == KV_F32) return uintBitsToFloat(kv[byte >> 2]);
    if (type == KV_F16) return unpackHalf2x16(kv_half(byte)).x;
    return unpackHalf2x16(kv_half(byte)).x * float(kv_code(byte + 2u + d % 32u));
}
