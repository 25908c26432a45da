/*
 * k_fit.c — what the K-quant quantizers share: fitting one sub-block of
 * values to a scale (and offset) over a small integer code range, and the
 * 6-bit scale/min packing that Q4_K and Q5_K use.
 *
 * The fit is in the spirit of ggml's reference quantizers, not a copy of
 * them and not bit-compatible with them: try a handful of reciprocal scales
 * around range/nmax, round every value to a code under each, solve the
 * least-squares scale (and offset) for those codes, and keep the candidate
 * with the smallest unweighted squared error. Callers then round the scales
 * themselves to the super-block's 4-, 6- or 8-bit scale codes and requantize,
 * so this only has to pick good codes, not final ones. Inputs must be
 * finite and well below 1e30 in magnitude.
 */
#include "quant_impl.h"

#include <math.h>

/* Candidate reciprocal scales are (nmax + FIT_STEP*s) / range for s in
 * [-FIT_STEPS, FIT_STEPS]: a small search, since rounding shifts the best
 * scale by less than one code step. */
#define FIT_STEPS 9
#define FIT_STEP 0.1f
/* Below this a sub-block counts as all zero (and 1/max would overflow). */
#define FIT_TINY 1e-30f
#define FIT_MAX_N 32 /* longest sub-block: Q4_K/Q5_K */

/* Codes are signed, L in [-nmax, nmax-1]; the value of largest magnitude
 * goes to the negative end, where the range has its extra code. Returns the
 * least-squares scale of the best candidate (0 for an all-zero input). */
float kfit_symmetric(int n, int nmax, const float *x, int8_t *L) {
    if (n <= 0 || n > FIT_MAX_N) return 0.0f; /* callers pass 16 or 32 */
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    memset(L, 0, (size_t)n);
    if (amax < FIT_TINY) return 0.0f;

    /* minimizing sum (x - s*L)^2 over s leaves sum x^2 - sxl^2/sll, so the
     * best candidate has the largest sxl^2/sll */
    double best_num = -1.0, best_den = 1.0;
    float best_scale = 0.0f;
    int8_t trial[FIT_MAX_N];
    for (int s = -FIT_STEPS; s <= FIT_STEPS; s++) {
        float iscale = -((float)nmax + FIT_STEP * (float)s) / max;
        double sxl = 0.0, sll = 0.0;
        for (int i = 0; i < n; i++) {
            int l = quant_clampi(quant_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            trial[i] = (int8_t)l;
            sxl += (double)x[i] * l;
            sll += (double)l * l;
        }
        if (sll == 0.0) continue;
        if (sxl * sxl * best_den > best_num * sll) {
            best_num = sxl * sxl;
            best_den = sll;
            best_scale = (float)(sxl / sll);
            memcpy(L, trial, (size_t)n);
        }
    }
    return best_scale;
}

/* Codes are unsigned, L in [0, nmax], value = scale*L - min_off. The offset
 * is the sub-block minimum clamped to <= 0 (so min_off >= 0), then refined
 * by least squares together with the scale. */
float kfit_affine(int n, int nmax, const float *x, uint8_t *L, float *min_off) {
    *min_off = 0.0f;
    if (n <= 0 || n > FIT_MAX_N) return 0.0f;
    float xmin = x[0], xmax = x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < xmin) xmin = x[i];
        if (x[i] > xmax) xmax = x[i];
    }
    if (xmin > 0.0f) xmin = 0.0f;
    memset(L, 0, (size_t)n);
    *min_off = -xmin;
    if (xmax - xmin < FIT_TINY) return 0.0f; /* constant block, offset is exact */

    double best_err = INFINITY;
    float best_a = (xmax - xmin) / (float)nmax, best_b = xmin;
    uint8_t trial[FIT_MAX_N];
    for (int s = -FIT_STEPS; s <= FIT_STEPS; s++) {
        float iscale = ((float)nmax + FIT_STEP * (float)s) / (xmax - xmin);
        double sl = 0.0, sll = 0.0, sx = 0.0, sxl = 0.0;
        for (int i = 0; i < n; i++) {
            int l = quant_clampi(quant_nearest_int(iscale * (x[i] - xmin)), 0, nmax);
            trial[i] = (uint8_t)l;
            sl += l;
            sll += (double)l * l;
            sx += x[i];
            sxl += (double)x[i] * l;
        }
        /* least squares for x ~ a*L + b */
        double det = n * sll - sl * sl;
        if (det <= 0.0) continue; /* all codes equal: no scale to fit */
        double a = (n * sxl - sl * sx) / det;
        double b = (sll * sx - sl * sxl) / det;
        if (b > 0.0) { /* an offset may only lower values */
            b = 0.0;
            a = sxl / sll;
        }
        if (a <= 0.0) continue;
        double err = 0.0;
        for (int i = 0; i < n; i++) {
            double e = a * trial[i] + b - x[i];
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_a = (float)a;
            best_b = (float)b;
            memcpy(L, trial, (size_t)n);
        }
    }
    *min_off = -best_b;
    return best_a;
}

/* Layout of the 12 bytes (scale s_j, min m_j, 6 bits each, j = 0..7):
 * bytes 0-3: s_0..s_3 in the low 6 bits, top 2 bits of s_4..s_7;
 * bytes 4-7: m_0..m_3 in the low 6 bits, top 2 bits of m_4..m_7;
 * bytes 8-11: low nibble of s_4..s_7, high nibble the low 4 bits of m_4..m_7. */
void k_scale_min_get(const uint8_t *packed, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = packed[j] & 63;
        *m = packed[j + 4] & 63;
    } else {
        *sc = (uint8_t)((packed[j + 4] & 0xf) | ((packed[j - 4] >> 6) << 4));
        *m = (uint8_t)((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
    }
}

void k_scale_min_put(uint8_t *packed, const uint8_t *sc, const uint8_t *m) {
    memset(packed, 0, K_SCALE_SIZE);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            packed[j] |= sc[j] & 63;
            packed[j + 4] |= m[j] & 63;
        } else {
            packed[j + 4] = (uint8_t)((sc[j] & 0xf) | ((m[j] & 0xf) << 4));
            packed[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
            packed[j] |= (uint8_t)((m[j] >> 4) << 6);
        }
    }
}

/* The super-block header of Q4_K/Q5_K: fit each 32-value sub-block affinely
 * with codes 0..nmax, then store the largest scale and min as f16 d/dmin and
 * every sub-block's scale and min as 6-bit multiples of them. Returns the
 * decoded d and dmin and the 6-bit values so the caller can pick codes. */
void k_fit_header(const float *x, int nmax, uint16_t *d16, uint16_t *dmin16, uint8_t *packed,
                  float *d, float *dmin, uint8_t sc[8], uint8_t m[8]) {
    float scales[8], mins[8], max_scale = 0.0f, max_min = 0.0f;
    uint8_t L[32];
    for (int j = 0; j < 8; j++) {
        scales[j] = kfit_affine(32, nmax, x + 32 * j, L, &mins[j]);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    *d16 = quant_f16_scale(max_scale / 63);
    *dmin16 = quant_f16_scale(max_min / 63);
    *d = quant_f16_to_f32(*d16);
    *dmin = quant_f16_to_f32(*dmin16);
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(*d > 0.0f ? quant_round_code(scales[j] / *d, 0, 63) : 0);
        m[j] = (uint8_t)(*dmin > 0.0f ? quant_round_code(mins[j] / *dmin, 0, 63) : 0);
    }
    k_scale_min_put(packed, sc, m);
}
