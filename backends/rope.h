/*
 * rope.h — the rotary angles every backend computes the same way, to the
 * bit: ggml's formulas (YaRN's ramp and correction range, Llama 3.1's
 * frequency divisors), which GGUF metadata assumes. The CPU applies a pair
 * as it computes it; Vulkan computes a row's angles on the host and ships
 * them to its shader; CUDA takes the YaRN range from here and repeats the
 * per-pair steps in device code.
 */
#ifndef EMBER_ROPE_H
#define EMBER_ROPE_H

#include "backend.h"

/* The YaRN correction range of rp's rotated dims: *low and *high are 0
 * when YaRN is off (ext_factor 0). */
void rope_yarn_range(const struct rope_params *rp, float *low, float *high);

/* The rotation of pair i0 (even, below n_rot) at theta_pos, the position
 * times theta_scale^(i0/2) advanced by repeated products as ggml does:
 * *cs and *sn are its cosine and sine times the magnitude. */
void rope_pair(const struct rope_params *rp, float theta_pos, int i0, float low, float high,
               float *cs, float *sn);

/* The angles of one row at pos: t[i0] = cos, t[i0 + 1] = sin for every
 * pair (n_rot floats). */
void rope_angles(const struct rope_params *rp, int pos, float *t);

#endif
