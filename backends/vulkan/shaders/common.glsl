// common.glsl — what every shader shares: the push constants (the word
// offset of each of the four bound buffers, then the op's parameters;
// vk_impl.h) and the grid helper. Included after #version.
layout(push_constant) uniform PC {
    uint o0, o1, o2, o3;
    uint p[24];
} pc;

float pf(uint i) { return uintBitsToFloat(pc.p[i]); }

// The workgroup's index when the host split n groups over x and z
// (x at most groups_x, vk_grid).
uint group_index(uint groups_x) { return gl_WorkGroupID.z * groups_x + gl_WorkGroupID.x; }
