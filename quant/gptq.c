/*
 * gptq.c — the scalar references of GPTQ matrices (quant.h): one row
 * dequantized, and the product with float activations that every CPU
 * kernel is checked against.
 *
 * The product keeps, per output, one running sum of (q - z) * x for the
 * current group and adds scale * sum to the result whenever the group
 * changes (for contiguous groups: once per group; with act-order's g_idx
 * possibly at every input). The SIMD kernels follow the same order for
 * contiguous groups, so they differ from this only by fused multiply-adds;
 * their act-order path sums each group whole and takes the zero point off
 * with the group's activation sum (another rounding order, same value).
 */
#include "quant_impl.h"

/* q of input i, output o. */
static int gptq_q(const struct gptq_matrix *m, int64_t i, int64_t o) {
    int pf = 32 / m->l.bits;
    uint32_t w = (uint32_t)m->qweight[(i / pf) * m->n_out + o];
    return (int)((w >> (i % pf * m->l.bits)) & ((1u << m->l.bits) - 1));
}

static int64_t gptq_group(const struct gptq_matrix *m, int64_t i) {
    return m->g_idx ? m->g_idx[i] : i / m->l.group_size;
}

void gptq_dequant_row_ref(const struct gptq_matrix *m, int64_t o, float *dst) {
    for (int64_t i = 0; i < m->n_in; i++) {
        int64_t g = gptq_group(m, i);
        float s = quant_f16_to_f32(m->scales[g * m->n_out + o]);
        dst[i] = s * (float)(gptq_q(m, i, o) - gptq_zero(m, g, o));
    }
}

void gptq_dequant_row(const struct gptq_matrix *m, int64_t o, float *dst, float *scale_tmp, int *zero_tmp) {
    for (int64_t g = 0; g < m->l.n_groups; g++) {
        scale_tmp[g] = quant_f16_to_f32(m->scales[g * m->n_out + o]);
        zero_tmp[g] = gptq_zero(m, g, o);
    }
    int bits = m->l.bits, pf = 32 / bits;
    uint32_t mask = (1u << bits) - 1;
    int64_t g = 0, next = m->l.group_size; /* contiguous groups: g changes at next */
    for (int64_t i = 0, wi = 0; i < m->n_in; wi++) {
        uint32_t w = (uint32_t)m->qweight[wi * m->n_out + o];
        for (int j = 0; j < pf && i < m->n_in; j++, i++, w >>= bits) {
            if (m->g_idx) g = m->g_idx[i];
            else if (i == next) g++, next += m->l.group_size;
            dst[i] = scale_tmp[g] * (float)((int)(w & mask) - zero_tmp[g]);
        }
    }
}

void gptq_mul_mat_ref(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                      size_t x_stride, int n_cols, float *out, size_t out_stride) {
    for (int c = 0; c < n_cols; c++) {
        const float *xc = x + (size_t)c * x_stride;
        for (int64_t o = o0; o < o1; o++) {
            float y = 0, acc = 0, s = 0;
            int64_t cur = -1;
            int z = 0;
            for (int64_t i = 0; i < m->n_in; i++) {
                int64_t g = gptq_group(m, i);
                if (g != cur) {
                    y += s * acc;
                    acc = 0;
                    cur = g;
                    s = quant_f16_to_f32(m->scales[g * m->n_out + o]);
                    z = gptq_zero(m, g, o);
                }
                acc += (float)(gptq_q(m, i, o) - z) * xc[i];
            }
            out[(size_t)c * out_stride + o] = y + s * acc;
        }
    }
}
