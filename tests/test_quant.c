/*
 * test_quant.c — checks the scalar `_ref` kernels of quant/ against the
 * gguf Python package and against double-precision arithmetic.
 *
 * Sections, in order:
 *   table     type names and row sizes against tests/data/quant/types.txt
 *             (gguf.GGML_QUANT_SIZES), and the ops table's own consistency;
 *   f16/bf16  exhaustive half conversions: every half round-trips, and every
 *             midpoint between neighbours rounds to the even one;
 *   vectors   per weight type, tests/data/quant/<type>.bin (made by
 *             scripts/gen-quant-vectors.py): (a) dequant bit-identical to
 *             gguf.quants.dequantize; (b) quantize byte-identical to
 *             gguf.quants.quantize where the package can quantize the type;
 *   dot       (c) dot(w, quantize_vec(x)) against a double sum of
 *             dequant(w)*dequant(vec(x)), odd block counts, tolerance below;
 *   roundtrip (d) quantize->dequant relative RMS error under a per-type sanity
 *             bound (catches nibble-order and sign bugs), zeros stay zeros;
 *   vec types Q8_1's s and Q8_K's bsums/d invariants.
 * Run from the repo root; a missing vector file is a failure, not a skip.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "quant.h"
#include "quant_impl.h"

#define DATA_DIR "tests/data/quant/"
#define MAX_VALUES (64 * 256)

/* ------------------------------------------------------------------ utils */

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static char *type_lower(int type, char *buf) {
    const char *name = quant_type_name(type);
    size_t i = 0;
    for (; i < 15 && name[i]; i++) buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    buf[i] = 0;
    return buf;
}

/* ------------------------------------------------------------------ table */

static void check_table(void) {
    FILE *f = fopen(DATA_DIR "types.txt", "r");
    CHECK(f != NULL, "types.txt present (run scripts/gen-quant-vectors.py)");
    if (!f) return;
    char line[256], name[64];
    int seen[EMBER_TYPE_COUNT] = {0}, rows = 0, bad_name = 0, bad_size = 0;
    char why[256] = "";
    while (fgets(line, sizeof line, f)) {
        int id, be, bb;
        if (line[0] == '#' || sscanf(line, "%d %63s %d %d", &id, name, &be, &bb) != 4) continue;
        rows++;
        if (id < 0 || id >= EMBER_TYPE_COUNT) continue;
        seen[id] = 1;
        const char *got = quant_type_name(id);
        if (!got || strcmp(got, name)) {
            if (!bad_name++) snprintf(why, sizeof why, "id %d: %s vs %s", id, got ? got : "NULL", name);
        }
        if (quant_row_bytes(id, 3 * (int64_t)be) != 3 * (size_t)bb) {
            if (!bad_size++) snprintf(why, sizeof why, "%s row bytes %zu vs %d", name, quant_row_bytes(id, 3 * (int64_t)be), 3 * bb);
        }
        if (be > 1 && quant_row_bytes(id, be + 1) != 0) bad_size++;
    }
    fclose(f);
    int bad_unknown = 0;
    for (int id = -1; id <= EMBER_TYPE_COUNT + 1; id++) {
        int known = id >= 0 && id < EMBER_TYPE_COUNT && seen[id];
        if (id == EMBER_TYPE_GPTQ4 || id == EMBER_TYPE_GPTQ8) continue; /* ember's own, below */
        if (!known && (quant_type_name(id) || quant_traits_for(id) || quant_row_bytes(id, 32))) bad_unknown++;
    }
    CHECK(rows >= 30 && !bad_name, "type names match gguf for %d ids %s", rows, why);
    CHECK(!bad_size, "row bytes match gguf.GGML_QUANT_SIZES (Q8_1 = 36, ggml's layout) %s", why);
    CHECK(!bad_unknown, "removed/unknown ids (4, 5, 31-33, 36-38, <0, >=42) have no name, ops or size");
    /* ember's GPTQ ids: above ggml's, named, but no block traits or row
     * size, so a GGUF claiming one is refused as unsupported */
    CHECK(!seen[EMBER_TYPE_GPTQ4] && !seen[EMBER_TYPE_GPTQ8] &&
              !strcmp(quant_type_name(EMBER_TYPE_GPTQ4), "GPTQ4") &&
              !strcmp(quant_type_name(EMBER_TYPE_GPTQ8), "GPTQ8") &&
              !quant_traits_for(EMBER_TYPE_GPTQ4) && !quant_traits_for(EMBER_TYPE_GPTQ8) &&
              !quant_row_bytes(EMBER_TYPE_GPTQ4, 32) && !quant_row_bytes(EMBER_TYPE_GPTQ8, 32),
          "GPTQ4/GPTQ8 (40, 41): not ggml ids, named, no block traits or row bytes");

    int bad_ops = 0, n_ops = 0;
    for (int t = 0; t < EMBER_TYPE_COUNT; t++) {
        const struct quant_traits *o = quant_traits_for(t);
        if (!o) continue;
        n_ops++;
        const struct quant_traits *v = quant_traits_for(o->vec_type);
        if (strcmp(o->name, quant_type_name(t)) ||
            quant_row_bytes(t, o->block_elems) != (size_t)o->block_bytes ||
            !o->dequant || !o->quantize || !v || !v->quantize ||
            (o->dot && v->block_elems != o->block_elems) ||
            (!o->dot && t != EMBER_TYPE_Q8_1 && t != EMBER_TYPE_Q8_K))
            bad_ops++;
    }
    CHECK(n_ops == 15 && !bad_ops, "ops table: %d types, names/geometry/vec_type consistent", n_ops);
}

/* --------------------------------------------------------------- f16/bf16 */

static void check_half_conversions(void) {
    int bad_rt = 0, bad_mid = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = quant_f16_to_f32((uint16_t)h);
        int nan = ((h & 0x7c00) == 0x7c00) && (h & 0x3ff);
        /* NaNs come back quiet, everything else unchanged */
        uint16_t want = nan ? (uint16_t)(h | 0x200) : (uint16_t)h;
        if (quant_f32_to_f16(f) != want) bad_rt++;
        /* midpoint to the next larger magnitude rounds to the even code */
        uint32_t mag = h & 0x7fff;
        if (mag >= 0x7c00 - 1) continue;
        double a = fabs((double)f), b = fabs((double)quant_f16_to_f32((uint16_t)(mag + 1)));
        double mid = (a + b) / 2; /* exact in float: at most 12 significant bits */
        float sgn = (h & 0x8000) ? -1.0f : 1.0f;
        uint16_t even = (mag & 1) ? (uint16_t)(mag + 1) : (uint16_t)mag;
        uint16_t got = quant_f32_to_f16(sgn * (float)mid);
        if ((uint16_t)(got & 0x7fff) != even || (got & 0x8000) != (h & 0x8000)) bad_mid++;
        /* just above / below the midpoint go to the nearer neighbour */
        float above = nextafterf((float)mid, INFINITY), below = nextafterf((float)mid, 0.0f);
        if ((quant_f32_to_f16(above) & 0x7fff) != mag + 1) bad_mid++;
        if ((quant_f32_to_f16(below) & 0x7fff) != mag) bad_mid++;
    }
    CHECK(!bad_rt, "f16 -> f32 -> f16 identity for all 65536 halves (%d bad)", bad_rt);
    CHECK(!bad_mid, "f32 -> f16 rounds every half midpoint to even, neighbours to nearest (%d bad)", bad_mid);
    int bad_bf = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        int nan = ((h & 0x7f80) == 0x7f80) && (h & 0x7f);
        uint16_t want = nan ? (uint16_t)(h | 0x40) : (uint16_t)h;
        if (quant_f32_to_bf16(quant_bf16_to_f32((uint16_t)h)) != want) bad_bf++;
    }
    CHECK(!bad_bf, "bf16 -> f32 -> bf16 identity for all 65536 values (%d bad)", bad_bf);
}

/* ---------------------------------------------------------------- vectors */

struct vcase {
    int64_t n;
    const float *input;    /* NULL: bytes only */
    const uint8_t *bytes;
    uint32_t n_bytes;
    const float *deq;
};

struct vfile {
    uint8_t *buf;
    int n_cases;
    struct vcase cases[32];
};

static int rd_u32(const uint8_t **p, const uint8_t *end, uint32_t *v) {
    if (end - *p < 4) return 0;
    *v = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 | (uint32_t)(*p)[3] << 24;
    *p += 4;
    return 1;
}

/* Loads and validates one vector file; on failure fills `why`, returns 0.
 * The floats are read in place, so the file's alignment must be 4: all
 * section sizes are multiples of 4 except the byte blob, which is copied. */
static int vfile_load(int type, struct vfile *vf, char *why, size_t why_len) {
    char lower[16], path[256];
    snprintf(path, sizeof path, DATA_DIR "%s.bin", type_lower(type, lower));
    memset(vf, 0, sizeof *vf);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "cannot open %s (run from the repo root; regenerate with scripts/gen-quant-vectors.py)", path);
        return 0;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    vf->buf = malloc((size_t)size * 2 + 64);
    if (!vf->buf || fread(vf->buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        snprintf(why, why_len, "cannot read %s", path);
        return 0;
    }
    fclose(f);
    /* floats go to an aligned arena after the raw file */
    float *arena = (float *)(vf->buf + (((size_t)size + 15) & ~(size_t)15));
    const uint8_t *p = vf->buf, *end = vf->buf + size;
    uint32_t ver, t, nc;
    if (size < 16 || memcmp(p, "EMQV", 4)) goto corrupt;
    p += 4;
    if (!rd_u32(&p, end, &ver) || !rd_u32(&p, end, &t) || !rd_u32(&p, end, &nc) || ver != 1 ||
        (int)t != type || nc == 0 || nc > 32)
        goto corrupt;
    for (uint32_t c = 0; c < nc; c++) {
        struct vcase *vc = &vf->cases[c];
        uint32_t n, flags, nb;
        if (!rd_u32(&p, end, &n) || !rd_u32(&p, end, &flags) || n == 0 || n > MAX_VALUES) goto corrupt;
        vc->n = n;
        if (flags & 1) {
            if ((size_t)(end - p) < 4 * (size_t)n) goto corrupt;
            memcpy(arena, p, 4 * (size_t)n);
            vc->input = arena;
            arena += n;
            p += 4 * (size_t)n;
        }
        if (!rd_u32(&p, end, &nb) || (size_t)(end - p) < nb) goto corrupt;
        vc->bytes = p;
        vc->n_bytes = nb;
        p += nb;
        if ((size_t)(end - p) < 4 * (size_t)n) goto corrupt;
        memcpy(arena, p, 4 * (size_t)n);
        vc->deq = arena;
        arena += n;
        p += 4 * (size_t)n;
        if (quant_row_bytes(type, vc->n) != nb) goto corrupt;
    }
    if (p != end) goto corrupt;
    vf->n_cases = (int)nc;
    return 1;
corrupt:
    snprintf(why, why_len, "%s is malformed", path);
    return 0;
}

static void check_vectors(int type, struct vfile *vf) {
    const struct quant_traits *o = quant_traits_for(type);
    char lower[16];
    type_lower(type, lower);
    float *out = malloc(MAX_VALUES * sizeof(float));
    uint8_t *q = malloc(MAX_VALUES * 4);
    int bad_deq = 0, n_q = 0, bad_q = 0;
    int64_t n_vals = 0;
    char why[160] = "";
    for (int c = 0; c < vf->n_cases; c++) {
        const struct vcase *vc = &vf->cases[c];
        o->dequant(vc->bytes, out, vc->n);
        n_vals += vc->n;
        for (int64_t i = 0; i < vc->n; i++)
            if (fbits(out[i]) != fbits(vc->deq[i])) {
                if (!bad_deq++)
                    snprintf(why, sizeof why, "case %d value %lld: %a vs gguf %a", c, (long long)i,
                             (double)out[i], (double)vc->deq[i]);
            }
        if (vc->input) {
            n_q++;
            memset(q, 0xa5, vc->n_bytes);
            o->quantize(vc->input, q, vc->n);
            if (memcmp(q, vc->bytes, vc->n_bytes)) {
                uint32_t k = 0;
                while (q[k] == vc->bytes[k]) k++;
                if (!bad_q++)
                    snprintf(why, sizeof why, "case %d byte %u: %02x vs gguf %02x", c, k, q[k], vc->bytes[k]);
            }
        }
    }
    CHECK(!bad_deq, "%s dequant bit-identical to gguf.dequantize (%d cases, %lld values) %s", lower,
          vf->n_cases, (long long)n_vals, bad_deq ? why : "");
    if (n_q)
        CHECK(!bad_q, "%s quantize byte-identical to gguf.quantize (%d cases) %s", lower, n_q, bad_q ? why : "");
    else
        SKIP("%s quantize vs gguf: the package cannot quantize %s (covered by round trip)", lower, o->name);
    free(out);
    free(q);
}

/* -------------------------------------------------------------------- dot */

/* Magnitude of the offset term of value e of a block (0 for symmetric
 * types): the dot computes scale*code*x and offset*x separately, so their
 * rounding error scales with |scale*code| + |offset| <= |w| + 2|offset|. */
static double offset_mag(int type, const uint8_t *row, int64_t e) {
    switch (type) {
    case EMBER_TYPE_Q4_1: return fabs(quant_f16_to_f32(((const block_q4_1 *)row)[e / 32].m));
    case EMBER_TYPE_Q5_1: return fabs(quant_f16_to_f32(((const block_q5_1 *)row)[e / 32].m));
    case EMBER_TYPE_Q2_K: {
        const block_q2_k *b = (const block_q2_k *)row + e / QK_K;
        return fabs(quant_f16_to_f32(b->dmin) * (b->scales[(e % QK_K) / 16] >> 4));
    }
    case EMBER_TYPE_Q4_K:
    case EMBER_TYPE_Q5_K: {
        const uint8_t *blk = row + (e / QK_K) * (type == EMBER_TYPE_Q4_K ? sizeof(block_q4_k) : sizeof(block_q5_k));
        uint16_t dmin;
        memcpy(&dmin, blk + 2, 2);
        uint8_t sc, m;
        k_scale_min_get(blk + 4, (int)(e % QK_K) / 32, &sc, &m);
        return fabs(quant_f16_to_f32(dmin) * m);
    }
    default: return 0.0;
    }
}

struct dot_stats {
    int runs, bad;
    double worst; /* largest |err| / tol seen */
    char why[200];
};

/* One dot check. Tolerance: |got - ref| <= 2^-22 * (nb + 4) * S + slack,
 * with S = sum (|w_i| + 2|offset_i|) * |x_i| and nb the number of blocks
 * accumulated in float (1 for the float types, which sum in double): each
 * block adds a few float roundings (2^-24 each) of terms bounded by S. */
static void dot_one(int type, const uint8_t *w, int64_t n, const float *x, struct dot_stats *st) {
    const struct quant_traits *o = quant_traits_for(type), *v = quant_traits_for(o->vec_type);
    float *wf = malloc((size_t)n * sizeof(float)), *xf = malloc((size_t)n * sizeof(float));
    uint8_t *xq = malloc(quant_row_bytes(o->vec_type, n) + 1);
    v->quantize(x, xq, n);
    o->dequant(w, wf, n);
    v->dequant(xq, xf, n);
    for (int64_t i = 0; i < n; i++)
        if (!(fabsf(wf[i]) < 1e20f)) { /* inf/NaN/huge float-type vectors: no finite dot */
            free(wf);
            free(xf);
            free(xq);
            return;
        }
    double ref = 0.0, S = 0.0;
    for (int64_t i = 0; i < n; i++) {
        ref += (double)wf[i] * xf[i];
        S += (fabs(wf[i]) + 2 * offset_mag(type, w, i)) * fabs(xf[i]);
    }
    double nb = o->block_elems > 1 ? (double)(n / o->block_elems) : 1.0;
    /* no allowance for Q8_1's s: it is exact (f16 d times the integer sum),
     * so a Q4_1/Q5_1 dot has only the float roundings of the others */
    double tol = 0x1p-22 * (nb + 4) * S;
    double got = o->dot(w, xq, n), err = fabs(got - ref);
    st->runs++;
    if (tol > 0 && err / tol > st->worst) st->worst = err / tol;
    if (!(err <= tol)) {
        if (!st->bad++)
            snprintf(st->why, sizeof st->why, "n=%lld: got %.9g ref %.9g err %.3g tol %.3g", (long long)n, got, ref,
                     err, tol);
    }
    free(wf);
    free(xf);
    free(xq);
}

static void check_dot(int type, struct vfile *vf) {
    const struct quant_traits *o = quant_traits_for(type);
    char lower[16];
    type_lower(type, lower);
    struct dot_stats st = {0};
    float *x = malloc(MAX_VALUES * sizeof(float)), *wsrc = malloc(MAX_VALUES * sizeof(float));
    uint8_t *w = malloc(MAX_VALUES * 4);
    /* weights from the gguf vectors (package-quantized or random bytes) */
    for (int c = 0; c < vf->n_cases; c++) {
        const struct vcase *vc = &vf->cases[c];
        for (int seed = 1; seed <= 2; seed++) {
            rng_state = (uint64_t)(seed * 1000 + c);
            for (int64_t i = 0; i < vc->n; i++) x[i] = rng_gauss() * (seed == 2 ? 300.0f : 1.0f);
            dot_one(type, vc->bytes, vc->n, x, &st);
        }
    }
    /* weights quantized by ember, odd block counts, a few seeds */
    int be = o->block_elems > 1 ? o->block_elems : 32;
    const int blocks[] = {1, 3, 5, 9};
    for (int k = 0; k < 4; k++) {
        int64_t n = (int64_t)blocks[k] * be + (o->block_elems == 1 ? 1 : 0); /* odd for F types too */
        /* seed 4 is adversarial for the affine types: weights far from zero
         * (|m| >> d) against activations of one sign (|sum(q)| near 32*127),
         * so m*s is large and mostly cancels against the code term, as in
         * SmolLM2's Q4_1 layers; an f16 rounding of s shows up here. */
        for (int seed = 1; seed <= 4; seed++) {
            rng_state = (uint64_t)(seed * 7919 + k);
            for (int64_t i = 0; i < n; i++) {
                wsrc[i] = rng_gauss() * (seed == 3 ? 0.02f : 1.0f) + (seed == 2 ? 0.7f : 0.0f);
                x[i] = seed == 2 ? -fabsf(rng_gauss()) : rng_gauss();
                if (seed == 4) {
                    wsrc[i] = 3.0f + 0.05f * rng_gauss();
                    x[i] = 1.0f + 0.02f * rng_gauss();
                }
            }
            o->quantize(wsrc, w, n);
            dot_one(type, w, n, x, &st);
        }
    }
    CHECK(!st.bad, "%s dot (vs %s) matches double reference: %d runs, worst err/tol %.2f %s", lower,
          quant_type_name(o->vec_type), st.runs, st.worst, st.bad ? st.why : "");
    free(x);
    free(wsrc);
    free(w);
}

/* -------------------------------------------------------------- roundtrip */

/* Sanity bounds on the relative RMS error of quantize->dequant for gaussian
 * data, about 1.5x what the quantizers achieve (a code-order bug gives ~1). */
static double rt_bound(int type) {
    switch (type) {
    case EMBER_TYPE_F32: return 0.0;
    case EMBER_TYPE_F16: return 5e-4;
    case EMBER_TYPE_BF16: return 4e-3;
    case EMBER_TYPE_Q4_0: return 0.15;
    case EMBER_TYPE_Q4_1: return 0.13;
    case EMBER_TYPE_Q5_0: return 0.075;
    case EMBER_TYPE_Q5_1: return 0.065;
    case EMBER_TYPE_Q8_0: return 0.009;
    case EMBER_TYPE_Q8_1: return 0.009;
    case EMBER_TYPE_Q2_K: return 0.45;
    case EMBER_TYPE_Q3_K: return 0.25;
    case EMBER_TYPE_Q4_K: return 0.12;
    case EMBER_TYPE_Q5_K: return 0.06;
    case EMBER_TYPE_Q6_K: return 0.03;
    case EMBER_TYPE_Q8_K: return 0.014; /* one scale per 256 values */
    default: return 0.0;
    }
}

static void check_roundtrip(int type) {
    const struct quant_traits *o = quant_traits_for(type);
    char lower[16];
    type_lower(type, lower);
    int be = o->block_elems > 1 ? o->block_elems : 32;
    int64_t n = 3 * (int64_t)be;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    uint8_t *q = malloc(quant_row_bytes(type, n));
    double worst = 0.0;
    int bad_zero = 0;
    const char *worst_case = "-";
    static const char *names[] = {"gauss", "gauss*1e3", "negative-only", "positive+offset", "gauss*1e-3"};
    for (int kind = 0; kind < 5; kind++) {
        for (int seed = 1; seed <= 3; seed++) {
            rng_state = (uint64_t)(seed * 104729 + kind);
            for (int64_t i = 0; i < n; i++) {
                float g = rng_gauss();
                x[i] = kind == 0 ? g : kind == 1 ? g * 1e3f : kind == 2 ? -fabsf(g) : kind == 3 ? g + 3.0f : g * 1e-3f;
            }
            o->quantize(x, q, n);
            o->dequant(q, y, n);
            double se = 0.0, sx = 0.0;
            for (int64_t i = 0; i < n; i++) {
                se += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
                sx += (double)x[i] * x[i];
            }
            double rel = sqrt(se / sx);
            if (rel > worst || isnan(rel)) {
                worst = isnan(rel) ? INFINITY : rel;
                worst_case = names[kind];
            }
        }
    }
    memset(x, 0, (size_t)n * sizeof(float));
    o->quantize(x, q, n);
    o->dequant(q, y, n);
    for (int64_t i = 0; i < n; i++)
        if (y[i] != 0.0f) bad_zero++;
    CHECK(worst <= rt_bound(type) && !bad_zero,
          "%s round trip: worst relative RMS error %.4f (bound %.4f, worst on %s), zeros exact", lower, worst,
          rt_bound(type), worst_case);
    free(x);
    free(y);
    free(q);
}

/* -------------------------------------------------------------- vec types */

static void check_vec_invariants(void) {
    float x[5 * QK_K];
    block_q8_1 q1[5 * QK_K / 32];
    block_q8_k qk[5];
    int bad_s = 0, bad_k = 0;
    for (int seed = 1; seed <= 4; seed++) {
        rng_state = (uint64_t)seed * 31337;
        for (int i = 0; i < 5 * QK_K; i++) x[i] = rng_gauss() * (seed == 4 ? 50.0f : 1.0f) + (seed == 3 ? 2.0f : 0.0f);
        q8_1_quantize_ref(x, q1, 5 * QK_K);
        for (int b = 0; b < 5 * QK_K / 32; b++) {
            int sum = 0;
            for (int j = 0; j < 32; j++) sum += q1[b].qs[j];
            if (q1[b].sum != sum) bad_s++;
        }
        q8_k_quantize_ref(x, qk, 5 * QK_K);
        for (int b = 0; b < 5; b++) {
            const float *xb = x + b * QK_K;
            int imax = 0;
            for (int j = 1; j < QK_K; j++)
                if (fabsf(xb[j]) > fabsf(xb[imax])) imax = j;
            /* the value of largest magnitude maps to -127, d = max / -127 */
            if (qk[b].qs[imax] != -127 || fabsf(qk[b].d * -127.0f - xb[imax]) > 1e-6f * fabsf(xb[imax])) bad_k++;
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) sum += qk[b].qs[16 * g + j];
                if (sum != qk[b].bsums[g]) bad_k++;
            }
        }
    }
    memset(x, 0, sizeof x);
    memset(qk, 0x5a, sizeof qk);
    q8_k_quantize_ref(x, qk, QK_K);
    for (int g = 0; g < 16; g++) bad_k += qk[0].bsums[g] != 0;
    bad_k += qk[0].d != 0.0f;
    CHECK(!bad_s, "q8_1 sum = sum(q) (%d bad blocks)", bad_s);
    CHECK(!bad_k, "q8_k: largest magnitude -> -127, d = max/-127, bsums = sums of 16, zero block zeroed (%d bad)", bad_k);
}

/* ------------------------------------------------------------------- main */

int main(void) {
    check_table();
    check_half_conversions();

    static const int weight_types[] = {
        EMBER_TYPE_F32,  EMBER_TYPE_F16,  EMBER_TYPE_BF16, EMBER_TYPE_Q4_0, EMBER_TYPE_Q4_1,
        EMBER_TYPE_Q5_0, EMBER_TYPE_Q5_1, EMBER_TYPE_Q8_0, EMBER_TYPE_Q2_K, EMBER_TYPE_Q3_K,
        EMBER_TYPE_Q4_K, EMBER_TYPE_Q5_K, EMBER_TYPE_Q6_K,
    };
    for (size_t k = 0; k < sizeof weight_types / sizeof weight_types[0]; k++) {
        int type = weight_types[k];
        char lower[16], why[512];
        struct vfile *vf = malloc(sizeof *vf);
        if (!vfile_load(type, vf, why, sizeof why)) {
            CHECK(0, "%s vectors: %s", type_lower(type, lower), why);
        } else {
            check_vectors(type, vf);
            check_dot(type, vf);
        }
        check_roundtrip(type);
        free(vf->buf);
        free(vf);
    }
    check_roundtrip(EMBER_TYPE_Q8_1);
    check_roundtrip(EMBER_TYPE_Q8_K);
    check_vec_invariants();
    return CHECK_DONE();
}
