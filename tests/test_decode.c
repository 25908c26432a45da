/*
 * test_decode.c — model_decode's batches (models/batch.h) on stories260K:
 * a batch that interleaves two sequences gives each row the logits it gets
 * when its sequence is decoded alone, a later step of one sequence sees
 * only its own history, rewriting a sequence from position 0 repeats the
 * first result, and bad batches (unknown sequence, a gap, positions that
 * do not follow each other, a full context) are refused without touching
 * the cache.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine.h"

#define MODEL "tests/data/models/stories260K.gguf"
#define N_CTX 64
#define TOL 1e-4

static const int32_t seq_a[] = {1, 403, 407, 261, 378, 141, 300, 301};
static const int32_t seq_b[] = {1, 79, 80, 81, 82, 83};
#define NA (int)(sizeof seq_a / sizeof seq_a[0])
#define NB (int)(sizeof seq_b / sizeof seq_b[0])

static struct model_ctx *new_ctx(const struct model *m, int n_seq) {
    struct ember_err err = {0};
    struct model_ctx *c = NULL;
    struct model_ctx_params p = {.n_ctx = N_CTX, .n_threads = 2, .n_batch = 4, .n_seq = n_seq}; /* n_batch 4: batches span passes */
    CHECK(model_ctx_new(m, &p, &c, &err) == EMBER_OK, "context of %d sequences %s", n_seq, err.msg);
    return c;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

/* Logits of every row of one sequence decoded alone (sequence 0). */
static void alone(const struct model *m, const int32_t *t, int n, float *out) {
    struct ember_err err = {0};
    struct model_ctx *c = new_ctx(m, 1);
    if (!c) return;
    CHECK(test_eval(c, t, n, 0, true, out, &err) == EMBER_OK, "alone %s", err.msg);
    model_ctx_free(c);
}

/* The bad batches: each refused with EMBER_EINVAL, the cache unchanged. */
static void check_refusals(struct model_ctx *c, int nv) {
    struct ember_err err = {0};
    struct batch b;
    float *out = malloc(4 * (size_t)nv * sizeof *out);
    if (!batch_init(&b, 4) || !out) {
        free(out);
        return;
    }
    int len0 = model_seq_len(c, 0), len1 = model_seq_len(c, 1);
    struct { int32_t pos[2], seq[2]; int n; const char *what; } bad[] = {
        {{len0, 0}, {2, 0}, 1, "sequence id 2 of a 2-sequence context"},
        {{len0 + 1, 0}, {0, 0}, 1, "a gap after the positions sequence 0 holds"},
        {{len0, len0 + 2}, {0, 0}, 2, "positions that do not follow each other"},
        {{N_CTX, 0}, {1, 0}, 1, "a position at the end of the context"},
        {{len1, len1}, {1, -1}, 2, "a negative sequence id"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        b.n = 0;
        for (int i = 0; i < bad[k].n; i++) batch_add(&b, 5, bad[k].pos[i], bad[k].seq[i], true);
        CHECK(model_decode(c, &b, out, &err) == EMBER_EINVAL, "refuses %s: %s", bad[k].what,
              err.msg);
    }
    b.n = 0;
    batch_add(&b, nv, len0, 0, true);
    CHECK(model_decode(c, &b, out, &err) == EMBER_EINVAL, "refuses token id %d: %s", nv, err.msg);
    CHECK(model_seq_len(c, 0) == len0 && model_seq_len(c, 1) == len1,
          "refused batches leave the cache as it was (%d, %d positions)", model_seq_len(c, 0),
          model_seq_len(c, 1));
    batch_free(&b);
    free(out);
}

int main(void) {
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    struct gguf_file *f = NULL;
    struct model *m = NULL;
    CHECK(test_backend(&be, &err) == EMBER_OK, "backend %s", err.msg);
    CHECK(gguf_open(MODEL, &f, &err) == EMBER_OK && be && test_load(f, be, &m, &err) == EMBER_OK,
          "load %s %s", MODEL, err.msg);
    if (!m) return CHECK_DONE();
    size_t nv = (size_t)model_get_info(m)->n_vocab;
    /* zeroed: compared even where a decode failed (and said so) */
    float *la = calloc((NA + 1) * nv, sizeof *la), *lb = calloc((NB + 1) * nv, sizeof *lb);
    float *mixed = calloc((NA + NB) * nv, sizeof *mixed), *step = calloc(nv, sizeof *step);
    int32_t b_more[NB + 1];
    memcpy(b_more, seq_b, sizeof seq_b);
    b_more[NB] = 99;
    struct model_ctx *c = NULL;
    struct batch b;
    bool have_batch = batch_init(&b, NA + NB);
    if (!have_batch || !la || !lb || !mixed || !step) goto done;
    alone(m, seq_a, NA, la);
    alone(m, b_more, NB + 1, lb);

    /* a0 b0 a1 b1 ...: one batch, two sequences, n_batch 4 (four passes) */
    if (!(c = new_ctx(m, 2))) goto done;
    for (int i = 0; i < NA || i < NB; i++) {
        if (i < NA) batch_add(&b, seq_a[i], i, 0, true);
        if (i < NB) batch_add(&b, seq_b[i], i, 1, true);
    }
    CHECK(model_decode(c, &b, mixed, &err) == EMBER_OK, "mixed batch %s", err.msg);
    double da = 0, db = 0;
    for (int r = 0, ia = 0, ib = 0; r < b.n; r++) {
        const float *got = mixed + (size_t)r * nv;
        if (b.seq[r] == 0) da = fmax(da, max_diff(got, la + (size_t)ia++ * nv, nv));
        else db = fmax(db, max_diff(got, lb + (size_t)ib++ * nv, nv));
    }
    CHECK(da <= TOL && db <= TOL,
          "interleaved sequences get their own logits (max abs diff %.2e, %.2e)", da, db);
    CHECK(model_seq_len(c, 0) == NA && model_seq_len(c, 1) == NB, "lengths %d and %d recorded",
          model_seq_len(c, 0), model_seq_len(c, 1));

    /* one more token of sequence 1 only: its history, not sequence 0's */
    batch_set_run(&b, &b_more[NB], 1, NB, 1, false);
    CHECK(model_decode(c, &b, step, &err) == EMBER_OK, "step %s", err.msg);
    double ds = max_diff(step, lb + (size_t)NB * nv, nv);
    CHECK(ds <= TOL, "a step of sequence 1 matches it decoded alone (max abs diff %.2e)", ds);

    check_refusals(c, (int)nv);

    /* sequence 0 again from position 0: the tail is rewritten */
    batch_set_run(&b, seq_a, NA, 0, 0, true);
    CHECK(model_decode(c, &b, mixed, &err) == EMBER_OK, "rewrite %s", err.msg);
    double dr = max_diff(mixed, la, (size_t)NA * nv);
    CHECK(dr <= TOL && model_seq_len(c, 0) == NA,
          "sequence 0 decoded again from position 0 repeats its logits (max abs diff %.2e)", dr);

done:
    batch_free(&b);
    model_ctx_free(c);
    free(la);
    free(lb);
    free(mixed);
    free(step);
    model_free(m);
    gguf_close(f);
    ember_backend_free(be);
    return CHECK_DONE();
}
