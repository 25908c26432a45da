/*
 * gptq_simd.h — the body of the GPTQ matrix kernels (cpu_kernels.h's
 * mul_mat_gptq), written once over a small vector vocabulary that each
 * ISA file defines before including it (x86/gptq_avx2.c, x86/gptq_avx512.c,
 * arm/gptq_neon.c). Included only by those; it has no ISA code itself.
 *
 * The packed layout is read as it is: qweight's words are [in/pf][out], so
 * GV_LANES consecutive outputs of one word row are one vector load; the
 * pf values of each word are taken lowest bits first by a mask and a
 * shift, converted to float, and their zero point subtracted. Activations
 * stay float: per output and group, acc += (q - z) * x, then y += s * acc
 * when the group changes (gptq_mul_mat_ref's order, with fused
 * multiply-adds). Up to GPTQ_COLS activation columns share each unpacked
 * vector, so a batch unpacks the weights once per GPTQ_COLS tokens.
 * Contiguous groups (g_idx NULL) run group by group; act-order looks up
 * g_idx per input and flushes when the group changes (correct, slower:
 * about one flush per input for a real permutation).
 *
 * The includer defines: gv (the float vector type), gvi (the int vector),
 * GV_LANES, gv_zero(), gv_fma(a, b, c) = a*b + c, gv_sub, gv_set1(float),
 * gv_loadu(const float *), gv_storeu(float *, gv), gvi_loadu(const int32_t *),
 * gv_q(gvi q, int sh, int mask) = float((q >> sh) & mask),
 * gv_scales(const uint16_t *) (GV_LANES f16 to float), and GPTQ_NAME(x),
 * the kernel's name.
 */

#define GPTQ_COLS 4 /* activation columns per pass, their sums in registers */

/* The zero points (z + zero_add) of outputs o..o+GV_LANES-1, group g. */
static inline gv gptq_zeros_v(const struct gptq_matrix *m, int64_t g, int64_t o) {
    float z[GV_LANES];
    for (int l = 0; l < GV_LANES; l++) z[l] = (float)gptq_zero(m, g, o + l);
    return gv_loadu(z);
}

/* GV_LANES outputs from o for NC columns; BITS 4 or 8, contiguous groups
 * whose size is a multiple of the values per word. */
static inline void GPTQ_NAME(block_grouped)(const struct gptq_matrix *m, int64_t o,
                                            const float *x, size_t xs, float *out, size_t os,
                                            const int NC, const int BITS) {
    const int pf = 32 / BITS, mask = (1 << BITS) - 1;
    gv y[GPTQ_COLS];
    for (int c = 0; c < NC; c++) y[c] = gv_zero();
    const int64_t n_in = m->n_in, gs = m->l.group_size;
    for (int64_t g = 0; g < m->l.n_groups; g++) {
        gv acc[GPTQ_COLS];
        for (int c = 0; c < NC; c++) acc[c] = gv_zero();
        gv z = gptq_zeros_v(m, g, o);
        int64_t i1 = (g + 1) * gs < n_in ? (g + 1) * gs : n_in;
        for (int64_t i = g * gs; i < i1; i += pf) {
            gvi q = gvi_loadu(m->qweight + (i / pf) * m->n_out + o);
            int nj = i1 - i < pf ? (int)(i1 - i) : pf;
            if (nj == pf) {
                for (int j = 0; j < pf; j++) {
                    gv w = gv_sub(gv_q(q, j * BITS, mask), z);
                    for (int c = 0; c < NC; c++)
                        acc[c] = gv_fma(w, gv_set1(x[(size_t)c * xs + i + j]), acc[c]);
                }
            } else {
                for (int j = 0; j < nj; j++) {
                    gv w = gv_sub(gv_q(q, j * BITS, mask), z);
                    for (int c = 0; c < NC; c++)
                        acc[c] = gv_fma(w, gv_set1(x[(size_t)c * xs + i + j]), acc[c]);
                }
            }
        }
        gv s = gv_scales(m->scales + g * m->n_out + o);
        for (int c = 0; c < NC; c++) y[c] = gv_fma(s, acc[c], y[c]);
    }
    for (int c = 0; c < NC; c++) gv_storeu(out + (size_t)c * os + o, y[c]);
}

/* The same for any g_idx (act-order): the group looked up per input. */
static inline void GPTQ_NAME(block_any)(const struct gptq_matrix *m, int64_t o, const float *x,
                                        size_t xs, float *out, size_t os, const int NC,
                                        const int BITS) {
    const int pf = 32 / BITS, mask = (1 << BITS) - 1;
    gv y[GPTQ_COLS], acc[GPTQ_COLS];
    for (int c = 0; c < NC; c++) y[c] = acc[c] = gv_zero();
    gv s = gv_zero(), z = gv_zero();
    int64_t cur = -1, end = 0;
    const int64_t n_in = m->n_in, gs = m->l.group_size;
    for (int64_t i0 = 0; i0 < n_in; i0 += pf) {
        gvi q = gvi_loadu(m->qweight + (i0 / pf) * m->n_out + o);
        int nj = n_in - i0 < pf ? (int)(n_in - i0) : pf;
        for (int j = 0; j < nj; j++) {
            int64_t i = i0 + j;
            int64_t g = m->g_idx ? m->g_idx[i] : i < end ? cur : i / gs;
            if (g != cur) {
                for (int c = 0; c < NC; c++) {
                    y[c] = gv_fma(s, acc[c], y[c]);
                    acc[c] = gv_zero();
                }
                cur = g;
                end = (g + 1) * gs;
                s = gv_scales(m->scales + g * m->n_out + o);
                z = gptq_zeros_v(m, g, o);
            }
            gv w = gv_sub(gv_q(q, j * BITS, mask), z);
            for (int c = 0; c < NC; c++)
                acc[c] = gv_fma(w, gv_set1(x[(size_t)c * xs + i]), acc[c]);
        }
    }
    for (int c = 0; c < NC; c++) gv_storeu(out + (size_t)c * os + o, gv_fma(s, acc[c], y[c]));
}

/* One block of outputs for any column count up to GPTQ_COLS, with the
 * counts and widths as constants so the loops unroll. */
static void GPTQ_NAME(block)(const struct gptq_matrix *m, int64_t o, const float *x, size_t xs,
                             int nc, float *out, size_t os) {
    bool grouped = !m->g_idx && m->l.group_size % (32 / m->l.bits) == 0;
#define GPTQ_CASE(NC, B)                                                                 \
    if (grouped) GPTQ_NAME(block_grouped)(m, o, x, xs, out, os, NC, B);                  \
    else GPTQ_NAME(block_any)(m, o, x, xs, out, os, NC, B);                              \
    return
    if (m->l.bits == 4) {
        switch (nc) {
        case 1: GPTQ_CASE(1, 4);
        case 2: GPTQ_CASE(2, 4);
        case 3: GPTQ_CASE(3, 4);
        default: GPTQ_CASE(4, 4);
        }
    }
    switch (nc) {
    case 1: GPTQ_CASE(1, 8);
    case 2: GPTQ_CASE(2, 8);
    case 3: GPTQ_CASE(3, 8);
    default: GPTQ_CASE(4, 8);
    }
#undef GPTQ_CASE
}

void GPTQ_NAME(mul_mat)(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                        size_t x_stride, int n_cols, float *out, size_t out_stride) {
    int64_t o = o0;
    for (; o + GV_LANES <= o1; o += GV_LANES)
        for (int c = 0; c < n_cols; c += GPTQ_COLS) {
            int nc = n_cols - c < GPTQ_COLS ? n_cols - c : GPTQ_COLS;
            GPTQ_NAME(block)(m, o, x + (size_t)c * x_stride, x_stride, nc,
                             out + (size_t)c * out_stride, out_stride);
        }
    if (o < o1) gptq_mul_mat_ref(m, o, o1, x, x_stride, n_cols, out, out_stride);
}
