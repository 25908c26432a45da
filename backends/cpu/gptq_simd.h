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
 * Contiguous groups (g_idx NULL) run as row-major bands (band): each word
 * row is read as one stretch of up to GPTQ_BAND outputs, GV_WIDE vectors
 * at a time (rows are n_out words apart: walking one vector of outputs
 * down all rows made decode 3x slower than Q4_0 on TinyLlama's shape), the
 * group's sums kept in L1. Act-order (g_idx) keeps one running sum per
 * group in L1 and adds each input's q * x to its group's, the zero points coming off at the end through the groups'
 * activation sums (block_act: about 5x slower than contiguous groups for
 * one token, it walks all rows for each vector of outputs); block_any,
 * which flushes whenever the group changes, is left for the shapes
 * neither handles (groups not a multiple of a word, over
 * GPTQ_ACT_MAX_GROUPS groups).
 *
 * The includer defines: gv (the float vector type), gvi (the int vector),
 * GV_LANES, GV_WIDE (vectors per chunk of a band: GV_WIDE * GPTQ_COLS
 * accumulators must fit its registers), gv_zero(), gv_fma(a, b, c) =
 * a*b + c, gv_sub, gv_mul, gv_set1(float), gv_loadu(const float *),
 * gv_storeu(float *, gv), gvi_loadu(const int32_t *), gv_q(gvi q, int sh,
 * int mask) = float((q >> sh) & mask), gv_scales(const uint16_t *)
 * (GV_LANES f16 to float), gv_prefetch(const void *) (a hint, never
 * faults), and GPTQ_NAME(x), the kernel's name.
 */

#define GPTQ_COLS 4  /* activation columns per pass, their sums in registers */
/* Fully unroll the loops over columns, vectors and a word's values (their
 * counts are constants), so the accumulators stay in registers: GCC's -O2
 * does not on its own. */
#define GPTQ_UNROLL _Pragma("GCC unroll 8")
#define GPTQ_AHEAD 4
#define GPTQ_ACT_MAX_GROUPS 1024 /* act-order's per-group sums: 256 KB a thread at most */
#define GPTQ_BAND 512 /* outputs per row-major band (their sums: 8 KB of L1 at 4 columns) */ /* word rows prefetched ahead (past the end is harmless) */

/* The zero points (z + zero_add) of outputs o..o+GV_LANES-1, group g;
 * BITS a constant so the word and shift of each lane are shifts, not
 * divisions (this runs once per group and vector). */
static inline gv gptq_zeros_v(const struct gptq_matrix *m, int64_t g, int64_t o, const int BITS) {
    const int pf = 32 / BITS;
    const uint32_t *zr = (const uint32_t *)m->qzeros + g * ((m->n_out + pf - 1) / pf);
    float z[GV_LANES];
    GPTQ_UNROLL
    for (int l = 0; l < GV_LANES; l++) {
        int64_t c = o + l;
        z[l] = (float)((int)((zr[c / pf] >> (c % pf * BITS)) & ((1u << BITS) - 1)) +
                       m->l.zero_add);
    }
    return gv_loadu(z);
}

/* A band of outputs [o0, o1) (o1 - o0 a multiple of GV_LANES, at most
 * GPTQ_BAND) for NC columns, contiguous groups, walking qweight row by
 * row across the whole band: each word row is read as one stretch of
 * (o1 - o0) * 4 bytes, which the hardware prefetchers follow (a block of
 * outputs walked down all rows is a page-crossing stride they do not; it
 * decoded TinyLlama's shape at a quarter of Q4_0's speed). The group's
 * running sums and zero points live in buffers in L1. */
static inline __attribute__((always_inline)) void GPTQ_NAME(band)(
    const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x, size_t xs, float *out,
    size_t os, const int NC, const int BITS) {
    const int pf = 32 / BITS, mask = (1 << BITS) - 1;
    const int64_t nb = o1 - o0, n_in = m->n_in, gs = m->l.group_size;
    _Alignas(64) float acc[GPTQ_COLS][GPTQ_BAND], zb[GPTQ_BAND];
    GPTQ_UNROLL
    for (int c = 0; c < NC; c++)
        for (int64_t k = 0; k < nb; k++) out[(size_t)c * os + o0 + k] = 0;
    for (int64_t g = 0; g < m->l.n_groups; g++) {
        for (int64_t k = 0; k < nb; k += GV_LANES) {
            gv_storeu(zb + k, gptq_zeros_v(m, g, o0 + k, BITS));
            GPTQ_UNROLL
            for (int c = 0; c < NC; c++) gv_storeu(acc[c] + k, gv_zero());
        }
        int64_t i1 = (g + 1) * gs < n_in ? (g + 1) * gs : n_in;
        for (int64_t i = g * gs; i < i1; i += pf) {
            const int32_t *row = m->qweight + (i / pf) * m->n_out + o0;
            int nj = i1 - i < pf ? (int)(i1 - i) : pf;
            gv xv[GPTQ_COLS][32 / 4]; /* at most pf = 8 values a word */
            GPTQ_UNROLL
            for (int c = 0; c < NC; c++)
                GPTQ_UNROLL
                for (int j = 0; j < pf; j++)
                    xv[c][j] = gv_set1(j < nj ? x[(size_t)c * xs + i + j] : 0.0f);
            int64_t k = 0;
            for (; k + GV_WIDE * GV_LANES <= nb; k += GV_WIDE * GV_LANES) {
                gvi q[GV_WIDE];
                gv a[GPTQ_COLS][GV_WIDE], z[GV_WIDE];
                GPTQ_UNROLL
                for (int v = 0; v < GV_WIDE; v++) {
                    gv_prefetch(row + GPTQ_AHEAD * m->n_out + k + v * GV_LANES);
                    q[v] = gvi_loadu(row + k + v * GV_LANES);
                    z[v] = gv_loadu(zb + k + v * GV_LANES);
                    GPTQ_UNROLL
                    for (int c = 0; c < NC; c++) a[c][v] = gv_loadu(acc[c] + k + v * GV_LANES);
                }
                GPTQ_UNROLL
                for (int j = 0; j < pf; j++)
                    GPTQ_UNROLL
                    for (int v = 0; v < GV_WIDE; v++) {
                        gv w = gv_sub(gv_q(q[v], j * BITS, mask), z[v]);
                        GPTQ_UNROLL
                        for (int c = 0; c < NC; c++) a[c][v] = gv_fma(w, xv[c][j], a[c][v]);
                    }
                GPTQ_UNROLL
                for (int v = 0; v < GV_WIDE; v++)
                    GPTQ_UNROLL
                    for (int c = 0; c < NC; c++) gv_storeu(acc[c] + k + v * GV_LANES, a[c][v]);
            }
            for (; k < nb; k += GV_LANES) {
                gvi q = gvi_loadu(row + k);
                gv z = gv_loadu(zb + k), a[GPTQ_COLS];
                GPTQ_UNROLL
                for (int c = 0; c < NC; c++) a[c] = gv_loadu(acc[c] + k);
                GPTQ_UNROLL
                for (int j = 0; j < pf; j++) {
                    gv w = gv_sub(gv_q(q, j * BITS, mask), z);
                    GPTQ_UNROLL
                    for (int c = 0; c < NC; c++) a[c] = gv_fma(w, xv[c][j], a[c]);
                }
                GPTQ_UNROLL
                for (int c = 0; c < NC; c++) gv_storeu(acc[c] + k, a[c]);
            }
        }
        for (int64_t k = 0; k < nb; k += GV_LANES) {
            gv s = gv_scales(m->scales + g * m->n_out + o0 + k);
            GPTQ_UNROLL
            for (int c = 0; c < NC; c++) {
                float *y = out + (size_t)c * os + o0 + k;
                gv_storeu(y, gv_fma(s, gv_loadu(acc[c] + k), gv_loadu(y)));
            }
        }
    }
}

/* Act-order (any g_idx): one vector of outputs for NC columns with one
 * running sum per group and column in acc (n_groups * NC vectors, L1),
 * q * x added to the input's group without its zero point, which comes
 * off at the end with the group's activation sum xsum[c][g]: per output,
 * y = sum_g s_g (sum_{g(i)=g} q x - z_g sum_{g(i)=g} x). A lookup, a load
 * and a store per input beside the grouped body's work. */
static inline __attribute__((always_inline)) void GPTQ_NAME(block_act)(
    const struct gptq_matrix *m, int64_t o, const float *x, size_t xs, float *out, size_t os,
    float *acc, const float *xsum, const int NC, const int BITS) {
    const int pf = 32 / BITS, mask = (1 << BITS) - 1;
    const int64_t n_in = m->n_in, ng = m->l.n_groups;
    for (int64_t k = 0; k < ng * NC; k++) gv_storeu(acc + k * GV_LANES, gv_zero());
    for (int64_t i0 = 0; i0 < n_in; i0 += pf) {
        gvi q = gvi_loadu(m->qweight + (i0 / pf) * m->n_out + o);
        int nj = n_in - i0 < pf ? (int)(n_in - i0) : pf;
        for (int j = 0; j < nj; j++) {
            float *a = acc + (int64_t)m->g_idx[i0 + j] * NC * GV_LANES;
            gv w = gv_q(q, j * BITS, mask);
            GPTQ_UNROLL
            for (int c = 0; c < NC; c++)
                gv_storeu(a + c * GV_LANES, gv_fma(w, gv_set1(x[(size_t)c * xs + i0 + j]),
                                                   gv_loadu(a + c * GV_LANES)));
        }
    }
    gv y[GPTQ_COLS];
    GPTQ_UNROLL
    for (int c = 0; c < NC; c++) y[c] = gv_zero();
    for (int64_t g = 0; g < ng; g++) {
        gv s = gv_scales(m->scales + g * m->n_out + o), z = gptq_zeros_v(m, g, o, BITS);
        GPTQ_UNROLL
        for (int c = 0; c < NC; c++) {
            gv t = gv_sub(gv_loadu(acc + (g * NC + c) * GV_LANES),
                          gv_mul(z, gv_set1(xsum[c * ng + g])));
            y[c] = gv_fma(s, t, y[c]);
        }
    }
    GPTQ_UNROLL
    for (int c = 0; c < NC; c++) gv_storeu(out + (size_t)c * os + o, y[c]);
}

/* block_act for any column count up to GPTQ_COLS. */
static void GPTQ_NAME(act_nc)(const struct gptq_matrix *m, int64_t o, const float *x, size_t xs,
                              int nc, float *out, size_t os, float *acc, const float *xsum) {
#define GPTQ_ACT_CASE(NC, B) GPTQ_NAME(block_act)(m, o, x, xs, out, os, acc, xsum, NC, B); return
    if (m->l.bits == 4) {
        switch (nc) {
        case 1: GPTQ_ACT_CASE(1, 4);
        case 2: GPTQ_ACT_CASE(2, 4);
        case 3: GPTQ_ACT_CASE(3, 4);
        default: GPTQ_ACT_CASE(4, 4);
        }
    }
    switch (nc) {
    case 1: GPTQ_ACT_CASE(1, 8);
    case 2: GPTQ_ACT_CASE(2, 8);
    case 3: GPTQ_ACT_CASE(3, 8);
    default: GPTQ_ACT_CASE(4, 8);
    }
#undef GPTQ_ACT_CASE
}

/* Act-order over the whole vectors of [o0, o1), when the groups' sums fit
 * GPTQ_ACT_MAX_GROUPS; returns where it stopped (o0: it did nothing). */
static int64_t GPTQ_NAME(mul_mat_act)(const struct gptq_matrix *m, int64_t o0, int64_t o1,
                                      const float *x, size_t x_stride, int n_cols, float *out,
                                      size_t out_stride) {
    const int64_t ng = m->l.n_groups;
    if (!m->g_idx || ng > GPTQ_ACT_MAX_GROUPS) return o0;
    static _Thread_local float acc[GPTQ_ACT_MAX_GROUPS * GPTQ_COLS * GV_LANES];
    static _Thread_local float xsum[GPTQ_COLS * GPTQ_ACT_MAX_GROUPS];
    int64_t end = o0 + (o1 - o0) / GV_LANES * GV_LANES;
    for (int c = 0; c < n_cols; c += GPTQ_COLS) {
        int nc = n_cols - c < GPTQ_COLS ? n_cols - c : GPTQ_COLS;
        const float *xc = x + (size_t)c * x_stride;
        for (int k = 0; k < nc; k++) {
            for (int64_t g = 0; g < ng; g++) xsum[k * ng + g] = 0;
            for (int64_t i = 0; i < m->n_in; i++)
                xsum[k * ng + m->g_idx[i]] += xc[(size_t)k * x_stride + i];
        }
        for (int64_t o = o0; o < end; o += GV_LANES)
            GPTQ_NAME(act_nc)(m, o, xc, x_stride, nc, out + (size_t)c * out_stride, out_stride,
                              acc, xsum);
    }
    return end;
}

/* One vector of outputs for any g_idx (act-order): the group looked up
 * per input. */
static inline __attribute__((always_inline)) void GPTQ_NAME(block_any)(const struct gptq_matrix *m, int64_t o, const float *x,
                                        size_t xs, float *out, size_t os, const int NC,
                                        const int BITS) {
    const int pf = 32 / BITS, mask = (1 << BITS) - 1;
    gv y[GPTQ_COLS], acc[GPTQ_COLS];
    GPTQ_UNROLL
    for (int c = 0; c < NC; c++) y[c] = acc[c] = gv_zero();
    gv s = gv_zero(), z = gv_zero();
    int64_t cur = -1, end = 0;
    const int64_t n_in = m->n_in, gs = m->l.group_size;
    for (int64_t i0 = 0; i0 < n_in; i0 += pf) {
        gvi q = gvi_loadu(m->qweight + (i0 / pf) * m->n_out + o);
        int nj = n_in - i0 < pf ? (int)(n_in - i0) : pf;
        GPTQ_UNROLL
        for (int j = 0; j < nj; j++) {
            int64_t i = i0 + j;
            int64_t g = m->g_idx ? m->g_idx[i] : i < end ? cur : i / gs;
            if (g != cur) {
                GPTQ_UNROLL
                for (int c = 0; c < NC; c++) {
                    y[c] = gv_fma(s, acc[c], y[c]);
                    acc[c] = gv_zero();
                }
                cur = g;
                end = (g + 1) * gs;
                s = gv_scales(m->scales + g * m->n_out + o);
                z = gptq_zeros_v(m, g, o, BITS);
            }
            gv w = gv_sub(gv_q(q, j * BITS, mask), z);
            GPTQ_UNROLL
            for (int c = 0; c < NC; c++)
                acc[c] = gv_fma(w, gv_set1(x[(size_t)c * xs + i]), acc[c]);
        }
    }
    GPTQ_UNROLL
    for (int c = 0; c < NC; c++) gv_storeu(out + (size_t)c * os + o, gv_fma(s, acc[c], y[c]));
}

/* block_any for any column count up to GPTQ_COLS, with the counts as
 * constants so the loops unroll. */
static void GPTQ_NAME(block)(const struct gptq_matrix *m, int64_t o, const float *x, size_t xs,
                             int nc, float *out, size_t os) {
#define GPTQ_CASE(NC, B) GPTQ_NAME(block_any)(m, o, x, xs, out, os, NC, B); return
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

/* A row-major band for any column count up to GPTQ_COLS. */
static void GPTQ_NAME(band_nc)(const struct gptq_matrix *m, int64_t o0, int64_t o1,
                               const float *x, size_t xs, int nc, float *out, size_t os) {
#define GPTQ_BAND_CASE(NC, B) GPTQ_NAME(band)(m, o0, o1, x, xs, out, os, NC, B); return
    if (m->l.bits == 4) {
        switch (nc) {
        case 1: GPTQ_BAND_CASE(1, 4);
        case 2: GPTQ_BAND_CASE(2, 4);
        case 3: GPTQ_BAND_CASE(3, 4);
        default: GPTQ_BAND_CASE(4, 4);
        }
    }
    switch (nc) {
    case 1: GPTQ_BAND_CASE(1, 8);
    case 2: GPTQ_BAND_CASE(2, 8);
    case 3: GPTQ_BAND_CASE(3, 8);
    default: GPTQ_BAND_CASE(4, 8);
    }
#undef GPTQ_BAND_CASE
}

void GPTQ_NAME(mul_mat)(const struct gptq_matrix *m, int64_t o0, int64_t o1, const float *x,
                        size_t x_stride, int n_cols, float *out, size_t out_stride) {
    bool grouped = !m->g_idx && m->l.group_size % (32 / m->l.bits) == 0;
    int64_t o = GPTQ_NAME(mul_mat_act)(m, o0, o1, x, x_stride, n_cols, out, out_stride);
    if (grouped) { /* row-major bands of whole vectors */
        int64_t end = o0 + (o1 - o0) / GV_LANES * GV_LANES;
        for (; o < end; o += GPTQ_BAND) {
            int64_t b1 = o + GPTQ_BAND < end ? o + GPTQ_BAND : end;
            for (int c = 0; c < n_cols; c += GPTQ_COLS) {
                int nc = n_cols - c < GPTQ_COLS ? n_cols - c : GPTQ_COLS;
                GPTQ_NAME(band_nc)(m, o, b1, x + (size_t)c * x_stride, x_stride, nc,
                                   out + (size_t)c * out_stride, out_stride);
            }
        }
        o = end;
    }
    for (; o + GV_LANES <= o1; o += GV_LANES)
        for (int c = 0; c < n_cols; c += GPTQ_COLS) {
            int nc = n_cols - c < GPTQ_COLS ? n_cols - c : GPTQ_COLS;
            GPTQ_NAME(block)(m, o, x + (size_t)c * x_stride, x_stride, nc,
                             out + (size_t)c * out_stride, out_stride);
        }
    if (o < o1) gptq_mul_mat_ref(m, o, o1, x, x_stride, n_cols, out, out_stride);
}
