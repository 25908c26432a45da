// kv.glsl — the paged KV cache in the KV arena (binding 2, words) as
// kv_cache.h lays it out, for store_kv and attention. The host passes one
// layer's view geometry in p[0..] and, in the table (binding 3, the ring),
// each row's position and where its sequence's block list starts, then the
// block lists as word offsets into the arena.
// p: n_head_kv, head_dim, block_size, k_off, v_off, k_head, v_head, k_row,
//    v_row (bytes), k_f16, v_f16, n_head.
layout(std430, binding = 2) buffer KB { uint kv[]; };
layout(std430, binding = 3) readonly buffer TB { uint tab[]; };

// Byte address in the arena of dimension d of position p's key (transposed:
// a row of block_size values per dimension) and value, for KV head h of
// the sequence whose block list starts at tab[list].
uint block_byte(uint list, uint p) { return tab[pc.o3 + list + p / pc.p[2]] * 4u; }
uint k_byte(uint list, uint p, uint h, uint d) {
    uint es = pc.p[9] != 0u ? 2u : 4u;
    return block_byte(list, p) + pc.p[3] + h * pc.p[5] + d * pc.p[7] + (p % pc.p[2]) * es;
}
uint v_byte(uint list, uint p, uint h, uint d) {
    uint es = pc.p[10] != 0u ? 2u : 4u;
    return block_byte(list, p) + pc.p[4] + h * pc.p[6] + (p % pc.p[2]) * pc.p[8] + d * es;
}
float kv_load(uint byte, bool f16) {
    if (!f16) return uintBitsToFloat(kv[byte >> 2]);
    return unpackHalf2x16(kv[byte >> 2] >> ((byte & 2u) * 8u)).x;
}
