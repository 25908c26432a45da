/*
 * rope.c — the rotary angles (rope.h). freq_factors are read from the
 * tensor's part[0], which every weight source keeps mapped on the host.
 */
#include "rope.h"

#include <math.h>

/* YaRN's ramp between the interpolated and extrapolated angle. */
static float yarn_ramp(float low, float high, int i0) {
    float y = ((float)i0 / 2 - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

static float yarn_corr_dim(int n_rot, int n_ctx_orig, float n_pairs_rot, float base) {
    return (float)n_rot * logf((float)n_ctx_orig / (n_pairs_rot * 2.0f * (float)M_PI)) /
           (2.0f * logf(base));
}

void rope_yarn_range(const struct rope_params *rp, float *low, float *high) {
    *low = *high = 0;
    if (rp->ext_factor == 0.0f) return;
    int n_rot = rp->n_rot;
    *low = fmaxf(0.0f, floorf(yarn_corr_dim(n_rot, rp->n_ctx_orig, rp->beta_fast, rp->freq_base)));
    *high = fminf((float)(n_rot - 1),
                  ceilf(yarn_corr_dim(n_rot, rp->n_ctx_orig, rp->beta_slow, rp->freq_base)));
}

void rope_pair(const struct rope_params *rp, float theta_pos, int i0, float low, float high,
               float *cs, float *sn) {
    float theta_extrap = theta_pos;
    if (rp->freq_factors) theta_extrap /= ((const float *)rp->freq_factors->part[0])[i0 / 2];
    float theta = rp->freq_scale * theta_extrap;
    float mscale = rp->attn_factor;
    if (rp->ext_factor != 0.0f) {
        float mix = yarn_ramp(low, high, i0) * rp->ext_factor;
        theta = theta * (1 - mix) + theta_extrap * mix;
        mscale *= 1.0f + 0.1f * logf(1.0f / rp->freq_scale);
    }
    *cs = cosf(theta) * mscale;
    *sn = sinf(theta) * mscale;
}

void rope_angles(const struct rope_params *rp, int pos, float *t) {
    float low, high;
    rope_yarn_range(rp, &low, &high);
    float theta_scale = powf(rp->freq_base, -2.0f / (float)rp->n_rot);
    float theta_pos = (float)pos;
    for (int i0 = 0; i0 < rp->n_rot; i0 += 2, theta_pos *= theta_scale)
        rope_pair(rp, theta_pos, i0, low, high, &t[i0], &t[i0 + 1]);
}
