/*
 * test_speculative.c — models/speculative.h on stories260K.
 *
 * 1. Exact rows: a batch with rows_exact gives every row the logits, bit
 *    for bit, that one-row decodes give (every stories260K type in
 *    tests/data/models, and the cached qwen2.5-coder-0.5b when present:
 *    its Q5_0/Q8_0/Q4_K/Q6_K kernels are where the batch kernels part from
 *    the one-row ones). Without it they differ (printed, not asserted).
 * 2. Greedy: spec_start/spec_step give the tokens plain decoding gives
 *    (sampler_sample after one-row model_decode), with a draft model (the
 *    Q4_0 file, p_min 0 so drafts are long and often rejected), with
 *    n-gram lookup, with draft_max 1, 3 and 16, draft_min, --ignore-eos's
 *    bans and a context that fills up mid-draft.
 * 3. Sampling: the 2nd to 5th generated tokens over a fixed set of seeds
 *    with speculation have the distribution plain sampling gives them: a
 *    chi-square test of homogeneity per position, p < 0.001 fails. The
 *    draft is stories260K with output_norm scaled by 0.5 (a flatter q than
 *    the target's p, so a wrong acceptance rule shows), and lookup (q = 1
 *    at the proposed token) on a prompt that repeats itself.
 * 4. spec_check_vocab and spec_new's refusals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "engine.h"
#include "kv_cache.h"
#include "speculative.h"
#include "tokenizer.h"

#define DIR "tests/data/models/"
#define N_CTX 96

struct lm {
    struct gguf_file *f;
    struct model *m;
    struct tokenizer *tok;
};

static struct ember_backend *be;

static bool lm_open(const char *path, struct lm *l) {
    struct ember_err err = {0};
    memset(l, 0, sizeof *l);
    if (gguf_open(path, &l->f, &err) || test_load(l->f, be, &l->m, &err) ||
        tokenizer_load(l->f, &l->tok, &err)) {
        printf("# %s: %s\n", path, err.msg);
        return false;
    }
    return true;
}

static void lm_close(struct lm *l) {
    tokenizer_free(l->tok);
    model_free(l->m);
    gguf_close(l->f);
}

static struct model_ctx *ctx(const struct model *m, int n_ctx) {
    struct ember_err err = {0};
    struct model_ctx *c = NULL;
    if (test_ctx(m, n_ctx, 2, &c, &err)) printf("# context: %s\n", err.msg);
    return c;
}

/* ------------------------------------------------------- exact rows */

static void check_exact(const char *path, int k) {
    struct lm l;
    if (!lm_open(path, &l)) {
        CHECK(0, "exact rows: open %s", path);
        return;
    }
    struct ember_err err = {0};
    int nv = model_get_info(l.m)->n_vocab;
    int32_t t[40];
    for (int i = 0; i < 40; i++) t[i] = 1 + (i * 37) % (nv < 600 ? nv - 1 : 600);
    int p = 20;
    float *a = malloc((size_t)nv * (size_t)(k + 1) * sizeof *a);
    float *b = malloc((size_t)nv * (size_t)(k + 1) * sizeof *b);
    struct model_ctx *c1 = ctx(l.m, 64), *c2 = ctx(l.m, 64);
    struct batch bb;
    bool ok = a && b && c1 && c2 && batch_init(&bb, k + 1);
    if (ok) {
        test_eval(c1, t, p, 0, false, a, &err);
        for (int i = 0; i <= k; i++) test_eval(c1, t + p + i, 1, p + i, false, a + (size_t)i * nv, &err);
        size_t diff[2];
        for (int exact = 0; exact < 2; exact++) {
            test_eval(c2, t, p, 0, false, b, &err); /* rewrites the cache from 0 */
            batch_set_run(&bb, t + p, k + 1, p, 0, true);
            bb.rows_exact = exact;
            model_decode(c2, &bb, b, &err);
            diff[exact] = 0;
            for (size_t i = 0; i < (size_t)nv * (size_t)(k + 1); i++) diff[exact] += a[i] != b[i];
        }
        const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        CHECK(diff[1] == 0, "exact rows: %s, a batch of %d rows with rows_exact equals one-row decodes "
              "bit for bit (%zu logits differ; %zu without rows_exact)", name, k + 1, diff[1], diff[0]);
        batch_free(&bb);
    } else {
        CHECK(0, "exact rows: set-up of %s", path);
    }
    model_ctx_free(c1);
    model_ctx_free(c2);
    free(a);
    free(b);
    lm_close(&l);
}

/* ----------------------------------------------------------- greedy */

/* Plain decoding: n tokens (fewer at end of context), sampler_sample after
 * each one-row decode, bans applied as run.c does. Returns the count. */
static int plain(const struct model *m, const int32_t *prompt, int np, int n, int n_ctx,
                 const struct sampler_params *sp, const int32_t *ban, int n_ban, int32_t *out) {
    struct ember_err err = {0};
    struct model_ctx *c = ctx(m, n_ctx);
    int nv = model_get_info(m)->n_vocab;
    float *lg = malloc((size_t)nv * sizeof *lg);
    struct sampler *s = sampler_new(sp, nv);
    int got = 0;
    if (c && lg && s && test_eval(c, prompt, np, 0, false, lg, &err) == EMBER_OK) {
        for (int i = 0; i < np; i++) sampler_accept(s, prompt[i]);
        for (int pos = np; got < n; pos++) {
            for (int i = 0; i < n_ban; i++) lg[ban[i]] = -INFINITY;
            int32_t t = sampler_sample(s, lg);
            sampler_accept(s, t);
            out[got++] = t;
            if (pos >= n_ctx || got == n) break;
            if (test_eval(c, &t, 1, pos, false, lg, &err)) break;
        }
    }
    sampler_free(s);
    free(lg);
    model_ctx_free(c);
    return got;
}

/* The same through the speculative decoder (draft NULL: lookup), stopping
 * as run.c does. *stats gets its counters. */
static int spec(const struct model *m, const struct model *dm, const int32_t *prompt, int np, int n,
                int n_ctx, const struct sampler_params *sp, const struct spec_params *p,
                int32_t *out, struct spec_stats *stats) {
    struct ember_err err = {0};
    struct model_ctx *c = ctx(m, n_ctx), *dc = dm ? ctx(dm, n_ctx) : NULL;
    struct spec *s = NULL;
    int got = 0;
    int32_t *step = malloc(((size_t)p->draft_max + 1) * sizeof *step);
    if (!c || (dm && !dc) || !step || spec_new(c, dc, p, sp, &s, &err) ||
        spec_start(s, prompt, np, 0, &out[0], &err)) {
        printf("# spec set-up: %s\n", err.msg);
        goto done;
    }
    got = 1;
    while (got < n && np + got - 1 < n_ctx) {
        int k = 0;
        if (spec_step(s, n - got, step, &k, &err)) {
            printf("# spec_step: %s\n", err.msg);
            break;
        }
        for (int i = 0; i < k && got < n; i++) out[got++] = step[i];
    }
    *stats = *spec_get_stats(s);
done:
    spec_free(s);
    free(step);
    model_ctx_free(dc);
    model_ctx_free(c);
    return got;
}

static const char *PROMPTS[] = {"Once upon a time", "Lily and Tom went to the park. They",
                                "The little dog", "One day, a girl named Sue saw a cat. Sue"};
#define N_PROMPTS (int)(sizeof PROMPTS / sizeof PROMPTS[0])

static void check_greedy(const char *target, struct lm *draft) {
    struct lm l;
    if (!lm_open(target, &l)) {
        CHECK(0, "greedy: open %s", target);
        return;
    }
    struct sampler_params sp = sampler_defaults();
    sp.temp = 0;
    const char *name = strrchr(target, '/') + 1;
    struct cfg {
        int max, min, n_ctx;
        float p_min;
        bool dm, ban;
    } cfgs[] = {
        {16, 0, N_CTX, 0, true, false}, {3, 0, N_CTX, 0, true, false}, {16, 0, N_CTX, 0.75f, true, false},
        {16, 0, N_CTX, 0, false, false}, {1, 0, N_CTX, 0, false, false}, {4, 2, N_CTX, 0, false, false},
        {8, 0, 40, 0, true, true}, {16, 0, 30, 0, false, true},
    };
    int32_t eog[8];
    int n_eog = 0;
    for (int32_t t = 0; t < tokenizer_n_vocab(l.tok) && n_eog < 8; t++)
        if (tokenizer_is_eog(l.tok, t)) eog[n_eog++] = t;
    for (int pi = 0; pi < N_PROMPTS; pi++) {
        struct ember_err err = {0};
        int32_t *ids = NULL;
        size_t np = 0;
        tokenizer_encode(l.tok, PROMPTS[pi], strlen(PROMPTS[pi]), true, true, &ids, &np, &err);
        for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++) {
            const struct cfg *c = &cfgs[ci];
            struct spec_params p = {.draft_max = c->max, .draft_min = c->min, .p_min = c->p_min,
                                    .ban = c->ban ? eog : NULL, .n_ban = c->ban ? n_eog : 0};
            int32_t want[64], got[64];
            struct spec_stats st = {0};
            int n = 48;
            int nw = plain(l.m, ids, (int)np, n, c->n_ctx, &sp, p.ban, p.n_ban, want);
            int ng = spec(l.m, c->dm ? draft->m : NULL, ids, (int)np, n, c->n_ctx, &sp, &p, got, &st);
            int first = 0;
            while (first < nw && first < ng && want[first] == got[first]) first++;
            CHECK(nw == ng && first == nw && nw > 0,
                  "greedy: %s \"%s\" %s draft-max %d min %d p-min %.2f ctx %d%s: %d tokens equal "
                  "plain decoding's %d (drafted %ld, accepted %ld, %ld steps)",
                  name, PROMPTS[pi], c->dm ? "draft Q4_0" : "lookup", c->max, c->min,
                  (double)c->p_min, c->n_ctx, c->ban ? " ignore-eos" : "", first, nw, st.drafted,
                  st.accepted, st.steps);
        }
        free(ids);
    }
    lm_close(&l);
}

/* --------------------------------------------------------- sampling */

/* 1 - the chi-square distribution's CDF at x is below 0.001 exactly when
 * x exceeds this (Wilson-Hilferty; z of 0.001 is 3.0902). */
static double chi2_crit(int df) {
    double d = (double)df, a = 2.0 / (9.0 * d);
    double w = 1 - a + 3.0902 * sqrt(a);
    return d * w * w * w;
}

/* Two samples' counts over nv bins: the chi-square statistic of
 * homogeneity, bins with fewer than 10 in both together pooled. */
static double chi2_two(const int *a, const int *b, int nv, int na, int nb, int *df) {
    double stat = 0;
    int bins = 0;
    long pa = 0, pb = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < nv + 1; i++) {
            long x, y;
            if (i < nv) {
                x = a[i];
                y = b[i];
                if (x + y < 10) {
                    if (!pass) pa += x, pb += y;
                    continue;
                }
                if (pass) continue;
            } else {
                if (!pass || pa + pb == 0) continue;
                x = pa;
                y = pb;
            }
            double t = (double)(x + y), ea = t * na / (na + nb), eb = t * nb / (na + nb);
            stat += (x - ea) * (x - ea) / ea + (y - eb) * (y - eb) / eb;
            bins++;
        }
    *df = bins - 1;
    return stat;
}

/* A copy of stories260K in a temporary file with output_norm scaled by
 * s: the same vocabulary, a flatter distribution. */
static bool write_flat_draft(const char *src, const char *dst, float s) {
    struct ember_err err = {0};
    struct gguf_file *f;
    if (gguf_open(src, &f, &err)) return false;
    const struct gguf_tensor *t = gguf_find_tensor(f, "output_norm.weight");
    uint64_t off = t ? gguf_data_offset(f) + t->offset : 0, n = t ? t->n_elems : 0;
    gguf_close(f);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    bool ok = in && out && t;
    char buf[65536];
    size_t r;
    while (ok && (r = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, r, out) == r;
    for (uint64_t i = 0; ok && i < n; i++) {
        float v = 0;
        ok = fseek(out, (long)(off + 4 * i), SEEK_SET) == 0 && fseek(in, (long)(off + 4 * i), SEEK_SET) == 0 &&
             fread(&v, 4, 1, in) == 1;
        v *= s;
        ok = ok && fseek(out, (long)(off + 4 * i), SEEK_SET) == 0 && fwrite(&v, 4, 1, out) == 1;
    }
    if (in) fclose(in);
    if (out && fclose(out)) ok = false;
    return ok;
}

static void check_sampling(const struct lm *l, const struct lm *flat, const char *what,
                           const struct sampler_params *base, const char *prompt, bool lookup) {
    enum { POS = 5 };
    /* under make sanitize (about 10x slower) 150 seeds: a memory check
     * there (sparse bins pool), the statistics' power is make test's */
    const int N = getenv("EMBER_SANITIZE") ? 150 : 2000;
    int nv = model_get_info(l->m)->n_vocab;
    int *cnt[2][POS];
    for (int k = 0; k < 2; k++)
        for (int p = 0; p < POS; p++) cnt[k][p] = calloc((size_t)nv, sizeof(int));
    struct ember_err err = {0};
    int32_t *ids = NULL;
    size_t np = 0;
    tokenizer_encode(l->tok, prompt, strlen(prompt), true, true, &ids, &np, &err);
    struct spec_params p = {.draft_max = 4, .p_min = 0};
    long drafted = 0, accepted = 0;
    for (int i = 0; i < N; i++) {
        struct sampler_params sp = *base;
        sp.seed = 1000 + (uint64_t)i;
        int32_t a[POS], b[POS];
        struct spec_stats st = {0};
        int na = plain(l->m, ids, (int)np, POS, N_CTX, &sp, NULL, 0, a);
        sp.seed = 900000 + (uint64_t)i; /* independent of the plain sample */
        int nb = spec(l->m, flat && !lookup ? flat->m : NULL, ids, (int)np, POS, N_CTX, &sp, &p, b, &st);
        drafted += st.drafted;
        accepted += st.accepted;
        for (int k = 0; k < POS && k < na; k++) cnt[0][k][a[k]]++;
        for (int k = 0; k < POS && k < nb; k++) cnt[1][k][b[k]]++;
    }
    for (int k = 1; k < POS; k++) { /* token 0 is spec_start's plain draw */
        int df;
        double x = chi2_two(cnt[0][k], cnt[1][k], nv, N, N, &df);
        double crit = chi2_crit(df > 0 ? df : 1);
        CHECK(df > 0 && x < crit,
              "sampling: %s, generated token %d over %d seeds: chi-square %.1f, %d degrees of "
              "freedom, below %.1f (p = 0.001); drafted %ld, accepted %ld",
              what, k + 1, N, x, df, crit, drafted, accepted);
    }
    for (int k = 0; k < 2; k++)
        for (int q = 0; q < POS; q++) free(cnt[k][q]);
    free(ids);
}

/* --------------------------------------------------------- refusals */

static void check_refusals(const struct lm *l, const struct lm *other) {
    struct ember_err err = {0};
    CHECK(spec_check_vocab(l->m, l->tok, l->m, l->tok, &err) == EMBER_OK,
          "vocab: a model drafts for itself");
    if (other->m) {
        CHECK(spec_check_vocab(l->m, l->tok, other->m, other->tok, &err) == EMBER_EINVAL,
              "vocab: another vocabulary is refused: %s", err.msg);
    }
    struct model_ctx *c = ctx(l->m, 32), *small = ctx(l->m, 16);
    struct sampler_params sp = sampler_defaults();
    struct spec *s = NULL;
    struct spec_params bad[] = {{.draft_max = 0}, {.draft_max = -3}, {.draft_max = 4, .draft_min = 5},
                                {.draft_max = 4, .p_min = 2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(spec_new(c, NULL, &bad[i], &sp, &s, &err) == EMBER_EINVAL && !s,
              "spec_new refuses draft-max %d draft-min %d p-min %.1f: %s", bad[i].draft_max,
              bad[i].draft_min, (double)bad[i].p_min, err.msg);
    struct spec_params ok = {.draft_max = 4};
    CHECK(spec_new(c, small, &ok, &sp, &s, &err) == EMBER_EINVAL,
          "spec_new refuses a draft context smaller than the target's: %s", err.msg);
    int32_t t[40] = {1, 403, 407, 261, 378}, first;
    CHECK(spec_new(c, NULL, &ok, &sp, &s, &err) == EMBER_OK &&
              spec_start(s, t, 32, 0, &first, &err) == EMBER_EINVAL,
          "spec_start refuses a prompt that fills the context: %s", err.msg);
    spec_free(s);
    model_ctx_free(small);
    model_ctx_free(c);
}

int main(void) {
    struct ember_err err = {0};
    if (test_backend(&be, &err)) {
        CHECK(0, "backend: %s", err.msg);
        return CHECK_DONE();
    }
    const char *types[] = {"stories260K.gguf", "stories260K-F16.gguf", "stories260K-BF16.gguf",
                           "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf", "stories260K-Q4_1.gguf",
                           "stories260K-Q5_0.gguf", "stories260K-Q5_1.gguf", "stories260K-Q6_K.gguf",
                           "stories260K-Q4_K_M.gguf"};
    char path[256];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        snprintf(path, sizeof path, DIR "%s", types[i]);
        check_exact(path, 8);
    }
    /* real K-quant models (Q4_K, Q6_K, Q5_0, Q8_0): 6 rows, and 9 for the
     * 1.5B target, which runs its exact kernels as a group plus a column */
    const char *real[] = {"models-cache/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                          "models-cache/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"};
    for (int i = 0; i < 2; i++) {
        if (access(real[i], R_OK) == 0) check_exact(real[i], i ? 8 : 5);
        else SKIP("exact rows on %s (not cached: models-cache/ is filled by scripts, not a clean clone)",
                  real[i]);
    }

    struct lm draft, l, flat, other = {0};
    if (!lm_open(DIR "stories260K-Q4_0.gguf", &draft)) return CHECK_DONE() | 1;
    check_greedy(DIR "stories260K.gguf", &draft);
    check_greedy(DIR "stories260K-Q8_0.gguf", &draft);

    char tmp[] = "/tmp/ember-spec-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd >= 0) close(fd);
    if (!lm_open(DIR "stories260K.gguf", &l) || fd < 0 ||
        !write_flat_draft(DIR "stories260K.gguf", tmp, 0.5f) || !lm_open(tmp, &flat)) {
        CHECK(0, "sampling: set-up (%s)", tmp);
        return CHECK_DONE();
    }
    struct sampler_params full = sampler_defaults();
    full.temp = 1.0f, full.top_k = 0, full.top_p = 1.0f, full.min_p = 0;
    struct sampler_params chain = sampler_defaults(); /* temp 0.8, top-k 40, top-p 0.95, min-p 0.05 */
    chain.repeat_penalty = 1.3f;
    struct sampler_params plainchain = sampler_defaults();
    check_sampling(&l, &flat, "draft model (output_norm x0.5), temp 1, no truncation", &full,
                   "Once upon a time", false);
    check_sampling(&l, &flat, "draft model (output_norm x0.5), default chain, repeat-penalty 1.3",
                   &chain, "Once upon a time", false);
    check_sampling(&l, NULL, "lookup, temp 1, no truncation", &full,
                   "Once upon a time, there was a little girl named Lily. Once upon a time, there was a", true);
    check_sampling(&l, NULL, "lookup, default chain (penalties drop copied tokens: none)", &plainchain,
                   "Once upon a time, there was a little girl named Lily. Once upon a time, there was a", true);
    remove(tmp);

    const char *sm = "models-cache/smollm2-135m-instruct-q4_1.gguf";
    if (access(sm, R_OK) == 0 && lm_open(sm, &other)) check_refusals(&l, &other);
    else {
        SKIP("vocab: another vocabulary (%s not cached; test_speculative.sh edits a token instead)", sm);
        check_refusals(&l, &other);
    }
    if (other.m) lm_close(&other);
    lm_close(&flat);
    lm_close(&l);
    lm_close(&draft);
    ember_backend_free(be);
    return CHECK_DONE();
}
