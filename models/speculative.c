/*
 * speculative.c — the speculative decoder of speculative.h.
 *
 * State between steps: the committed tokens toks[0..n_toks) (prompt and
 * output); the target's cache holds all but the last of them (the last is
 * the first row of the next verification batch, so no step decodes a
 * token alone before verifying); the draft's cache holds the first d_len
 * of them. A step drafts k tokens, decodes [last, d_0 .. d_{k-1}] in the
 * target with logits for all k + 1 rows, walks the rows keeping drafted
 * tokens while the target agrees (greedy) or the rejection rule keeps
 * them (sampling), and appends the kept ones plus the one the target
 * picks at the first disagreement (or after the last row). Both caches are
 * then cut back to what is committed: kv_seq_set_len drops the tail, and
 * the next decode writes from there.
 *
 * Sections: vocabulary check, lifecycle, drafting (lookup, draft model),
 * verification, the step.
 */
#include "speculative.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "os.h"

enum { NGRAM_LIMIT = 8 }; /* longest n-gram lookup tries */

struct spec {
    struct model_ctx *tgt, *dft;   /* dft NULL: n-gram lookup */
    struct spec_params p;
    bool greedy;
    int n_vocab, n_ctx;
    struct sampler *ts, *ds;       /* the target's chain; the draft's (same params) */
    int repeat_last_n;             /* history the draft's chain is given again */
    int32_t *toks;                 /* [n_ctx + 1] committed tokens */
    int n_toks;
    int d_len;                     /* positions the draft's cache holds */
    struct batch b;                /* [draft_max + 1] rows */
    float *logits;                 /* [draft_max + 1][n_vocab], the target's */
    float *dlogits;                /* [n_vocab], the draft's */
    struct sampler_prob *dist;     /* [n_vocab] scratch */
    int32_t *draft;                /* [draft_max] */
    /* sampling with a draft model: each drafted token's q, candidates
     * q_pool[q_off[i] .. q_off[i] + q_n[i]) */
    struct sampler_prob *q_pool;
    size_t q_cap;
    size_t *q_off;
    int *q_n;
    double *dense;                 /* [n_vocab] zeros between uses */
    struct spec_stats st;
    /* the draft length's cost model (see choose_k): per source (0: the
     * draft model; n: lookup by an n-gram) decayed counts of drafted tokens
     * kept and of rejections; the verification's time, one row (t1) and
     * per extra row (t_row); the draft model's time per token */
    double kept[NGRAM_LIMIT + 1], rejected[NGRAM_LIMIT + 1];
    double t1, t_row, t_draft;
    int idle;                      /* steps the model chose not to draft */
};

/* --------------------------------------------------------- vocabulary */

enum ember_status spec_check_vocab(const struct model *target, const struct tokenizer *tt,
                                   const struct model *draft, const struct tokenizer *dt,
                                   struct ember_err *err) {
    const char *what = "the draft model's vocabulary differs from the target's";
    int nt = tokenizer_n_vocab(tt), nd = tokenizer_n_vocab(dt);
    if (nt != nd) return ember_fail(err, EMBER_EINVAL, "%s: %d tokens, the target has %d", what, nd, nt);
    int lt = model_get_info(target)->n_vocab, ld = model_get_info(draft)->n_vocab;
    if (lt != ld)
        return ember_fail(err, EMBER_EINVAL, "%s: %d logits per token, the target has %d", what, ld, lt);
    if (tokenizer_bos(tt) != tokenizer_bos(dt) || tokenizer_eos(tt) != tokenizer_eos(dt) ||
        tokenizer_add_bos(tt) != tokenizer_add_bos(dt))
        return ember_fail(err, EMBER_EINVAL, "%s: BOS %d / EOS %d, the target has BOS %d / EOS %d",
                          what, tokenizer_bos(dt), tokenizer_eos(dt), tokenizer_bos(tt),
                          tokenizer_eos(tt));
    for (int32_t id = 0; id < nt; id++) {
        size_t a, b;
        const char *pa = tokenizer_piece(tt, id, &a), *pb = tokenizer_piece(dt, id, &b);
        if (a != b || (a && memcmp(pa, pb, a)))
            return ember_fail(err, EMBER_EINVAL, "%s: token %d has another text", what, (int)id);
        if (tokenizer_is_control(tt, id) != tokenizer_is_control(dt, id) ||
            tokenizer_is_eog(tt, id) != tokenizer_is_eog(dt, id))
            return ember_fail(err, EMBER_EINVAL, "%s: token %d has another type", what, (int)id);
    }
    return EMBER_OK;
}

/* ---------------------------------------------------------- lifecycle */

void spec_free(struct spec *s) {
    if (!s) return;
    sampler_free(s->ts);
    sampler_free(s->ds);
    free(s->toks);
    batch_free(&s->b);
    free(s->logits);
    free(s->dlogits);
    free(s->dist);
    free(s->draft);
    free(s->q_pool);
    free(s->q_off);
    free(s->q_n);
    free(s->dense);
    free(s);
}

enum ember_status spec_new(struct model_ctx *target, struct model_ctx *draft,
                           const struct spec_params *p, const struct sampler_params *sp,
                           struct spec **out, struct ember_err *err) {
    *out = NULL;
    if (p->draft_max < 1 || p->draft_max > SPEC_DRAFT_MAX)
        return ember_fail(err, EMBER_EINVAL, "draft-max %d is outside 1..%d", p->draft_max,
                          SPEC_DRAFT_MAX);
    if (p->draft_min < 0 || p->draft_min > p->draft_max)
        return ember_fail(err, EMBER_EINVAL, "draft-min %d is outside 0..draft-max (%d)",
                          p->draft_min, p->draft_max);
    if (!(p->p_min >= 0 && p->p_min <= 1))
        return ember_fail(err, EMBER_EINVAL, "draft-p-min %g is outside 0..1", (double)p->p_min);
    int n_vocab = model_get_info(target->m)->n_vocab;
    if (draft && (model_get_info(draft->m)->n_vocab != n_vocab ||
                  model_ctx_size(draft) < model_ctx_size(target)))
        return ember_fail(err, EMBER_EINVAL,
                          "the draft context (%d positions, %d logits) does not cover the target's "
                          "(%d, %d)",
                          model_ctx_size(draft), model_get_info(draft->m)->n_vocab,
                          model_ctx_size(target), n_vocab);
    struct spec *s = calloc(1, sizeof *s);
    if (!s) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    s->tgt = target;
    s->dft = draft;
    s->p = *p;
    if (s->p.ngram_min <= 0) s->p.ngram_min = 1;
    if (s->p.ngram_max <= 0) s->p.ngram_max = 4;
    if (s->p.ngram_max > NGRAM_LIMIT) s->p.ngram_max = NGRAM_LIMIT;
    if (s->p.ngram_min > s->p.ngram_max) s->p.ngram_min = s->p.ngram_max;
    for (int i = 0; i <= NGRAM_LIMIT; i++) { /* a prior: 3 of 4 drafted tokens kept */
        s->kept[i] = 3;
        s->rejected[i] = 1;
    }
    s->greedy = sp->temp <= 0;
    s->n_vocab = n_vocab;
    s->n_ctx = model_ctx_size(target);
    s->repeat_last_n = sp->repeat_last_n;
    size_t k1 = (size_t)p->draft_max + 1, nv = (size_t)n_vocab;
    s->ts = sampler_new(sp, n_vocab);
    s->ds = draft ? sampler_new(sp, n_vocab) : NULL;
    s->toks = malloc(((size_t)s->n_ctx + 1) * sizeof *s->toks);
    s->logits = malloc(k1 * nv * sizeof *s->logits);
    s->dlogits = draft ? malloc(nv * sizeof *s->dlogits) : NULL;
    s->dist = malloc(nv * sizeof *s->dist);
    s->draft = malloc((size_t)p->draft_max * sizeof *s->draft);
    s->q_off = malloc((size_t)p->draft_max * sizeof *s->q_off);
    s->q_n = malloc((size_t)p->draft_max * sizeof *s->q_n);
    s->dense = calloc(nv, sizeof *s->dense);
    bool ok = batch_init(&s->b, (int)k1);
    if (!ok || !s->ts || (draft && (!s->ds || !s->dlogits)) || !s->toks || !s->logits || !s->dist ||
        !s->draft || !s->q_off || !s->q_n || !s->dense) {
        spec_free(s);
        return ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    if (draft) {
        /* the draft's generator apart from the target's: the rejection
         * rule needs the draft's draws independent of its own */
        struct sampler_params dp = *sp;
        dp.seed = sp->seed ^ 0x9e3779b97f4a7c15ull;
        sampler_free(s->ds);
        if (!(s->ds = sampler_new(&dp, n_vocab))) {
            spec_free(s);
            return ember_fail(err, EMBER_ENOMEM, "out of memory");
        }
    }
    *out = s;
    return EMBER_OK;
}

const struct spec_stats *spec_get_stats(struct spec *s) {
    s->st.t1_ms = s->t1;
    s->st.row_ms = s->t_row;
    s->st.token_ms = s->t_draft;
    return &s->st;
}

/* Logits of banned tokens (--ignore-eos) to -inf, as plain decoding does
 * before sampling. */
static void ban(const struct spec *s, float *logits) {
    for (int i = 0; i < s->p.n_ban; i++) logits[s->p.ban[i]] = -INFINITY;
}

/* Run tokens t[0..n) of sequence 0 at positions pos.. through c, logits
 * for the last row (all) or every row (into out). */
static enum ember_status run_rows(struct spec *s, struct model_ctx *c, const int32_t *t, int n,
                                  int pos, bool all, float *out, struct ember_err *err) {
    struct batch one;
    struct batch *b = &s->b;
    if (n > b->cap) { /* the prompt */
        if (!batch_init(&one, n)) return ember_fail(err, EMBER_ENOMEM, "out of memory");
        b = &one;
    }
    batch_set_run(b, t, n, pos, 0, all);
    b->rows_exact = false;
    enum ember_status st = model_decode(c, b, out, err);
    if (b != &s->b) batch_free(b);
    return st;
}

enum ember_status spec_start(struct spec *s, const int32_t *prompt, int n, int keep,
                             int32_t *first, struct ember_err *err) {
    if (n < 1 || n >= s->n_ctx || keep < 0 || keep >= n)
        return ember_fail(err, EMBER_EINVAL, "a prompt of %d tokens (%d cached) in a context of %d",
                          n, keep, s->n_ctx);
    memcpy(s->toks, prompt, (size_t)n * sizeof *prompt);
    s->n_toks = n;
    if (run_rows(s, s->tgt, prompt + keep, n - keep, keep, false, s->logits, err)) return err->status;
    if (s->dft) {
        if (run_rows(s, s->dft, prompt, n, 0, false, s->dlogits, err)) return err->status;
        s->d_len = n;
        for (int i = 0; i < n; i++) sampler_accept(s->ds, prompt[i]);
    }
    for (int i = 0; i < n; i++) sampler_accept(s->ts, prompt[i]);
    ban(s, s->logits);
    *first = sampler_sample(s->ts, s->logits); /* exactly plain decoding's first draw */
    sampler_accept(s->ts, *first);
    if (s->ds) sampler_accept(s->ds, *first);
    s->toks[s->n_toks++] = *first;
    return EMBER_OK;
}

/* ----------------------------------------------------------- drafting */

/* n-gram lookup: the longest n (ngram_max down to ngram_min) whose last n
 * tokens occur earlier; the latest such occurrence's followers, up to
 * k_max, are the draft (*n_gram: that n, 0 for none). O(n_toks *
 * ngram_max). */
static int draft_lookup(struct spec *s, int k_max, int *n_gram) {
    *n_gram = 0;
    const int32_t *t = s->toks;
    int n_toks = s->n_toks;
    for (int n = s->p.ngram_max; n >= s->p.ngram_min; n--) {
        if (n_toks < n + 1) continue;
        const int32_t *pat = t + n_toks - n;
        for (int j = n_toks - n - 1; j >= 0; j--) {
            if (t[j] != pat[0] || memcmp(t + j, pat, (size_t)n * sizeof *t)) continue;
            int k = 0;
            for (int i = j + n; i < n_toks && k < k_max; i++) s->draft[k++] = t[i];
            *n_gram = n;
            return k;
        }
    }
    return 0;
}

/* The probability the softmax of logits gives its largest entry. */
static double top_prob(const float *l, int n) {
    float m = l[0];
    for (int i = 1; i < n; i++) m = l[i] > m ? l[i] : m;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)(l[i] - m));
    return 1.0 / sum;
}

/* Keep a drafted token's distribution q (sampling): n candidates of dist. */
static bool keep_q(struct spec *s, int i, size_t used, int n) {
    if (used + (size_t)n > s->q_cap) {
        size_t cap = (used + (size_t)n) * 2;
        struct sampler_prob *q = realloc(s->q_pool, cap * sizeof *q);
        if (!q) return false;
        s->q_pool = q;
        s->q_cap = cap;
    }
    memcpy(s->q_pool + used, s->dist, (size_t)n * sizeof *s->dist);
    s->q_off[i] = used;
    s->q_n[i] = n;
    return true;
}

/* The draft model: feed it what it has not seen of the committed tokens,
 * then draft one token per decode until k_max, or until its probability
 * for the token falls below p_min. Its cache ends up holding the committed
 * tokens and every drafted token but the last. *one_ms and *one_n: the
 * time and count of its one-row decodes (a catch-up feed of several
 * tokens, after steps that drafted nothing, is not one). */
static enum ember_status draft_model(struct spec *s, int k_max, int *k_out, double *one_ms,
                                     int *one_n, struct ember_err *err) {
    *k_out = 0;
    *one_ms = 0;
    *one_n = 0;
    int feed = s->n_toks - s->d_len;
    double t0 = os_now_ms();
    TRY(run_rows(s, s->dft, s->toks + s->d_len, feed, s->d_len, false, s->dlogits, err));
    if (feed == 1) {
        *one_ms += os_now_ms() - t0;
        ++*one_n;
    }
    s->d_len = s->n_toks;
    size_t used = 0;
    for (int i = 0; i < k_max; i++) {
        ban(s, s->dlogits);
        int nq = sampler_dist(s->ds, s->dlogits, s->dist);
        int32_t x;
        double p_top;
        if (s->greedy) {
            x = s->dist[0].id;
            p_top = s->p.p_min > 0 ? top_prob(s->dlogits, s->n_vocab) : 1;
        } else {
            x = sampler_draw(s->ds, s->dist, nq);
            p_top = s->dist[0].p;
            if (!keep_q(s, i, used, nq)) return ember_fail(err, EMBER_ENOMEM, "out of memory");
            used += (size_t)nq;
        }
        if (p_top < s->p.p_min) break;
        s->draft[i] = x;
        *k_out = i + 1;
        sampler_accept(s->ds, x);
        if (i + 1 == k_max) break;
        t0 = os_now_ms();
        TRY(run_rows(s, s->dft, &x, 1, s->d_len, false, s->dlogits, err));
        *one_ms += os_now_ms() - t0;
        ++*one_n;
        s->d_len++;
    }
    return EMBER_OK;
}

/* ------------------------------------------------------- verification */

/* p(id) in a distribution of n candidates. */
static double prob_of(const struct sampler_prob *d, int n, int32_t id) {
    for (int i = 0; i < n; i++)
        if (d[i].id == id) return d[i].p;
    return 0;
}

/* Sampling: whether drafted token x (draft i) survives the target's
 * distribution dist[0..np); on rejection *y gets the replacement, drawn
 * from normalize(max(0, p - q)). */
static bool accept_sampled(struct spec *s, int i, int np, int32_t x, int32_t *y) {
    const struct sampler_prob *q = s->dft ? s->q_pool + s->q_off[i] : NULL;
    int nq = s->dft ? s->q_n[i] : 0;
    double px = prob_of(s->dist, np, x), qx = q ? prob_of(q, nq, x) : 1.0;
    /* u < p/q, as u * q < p (q > 0: x was drawn from it) */
    if (px > 0 && sampler_uniform(s->ts) * qx < px) return true;
    /* the residual: q spread on a dense scratch, subtracted, cleared */
    if (q) {
        for (int j = 0; j < nq; j++) s->dense[q[j].id] = q[j].p;
    } else {
        s->dense[x] = 1.0;
    }
    double total = 0;
    for (int j = 0; j < np; j++) {
        double r = s->dist[j].p - s->dense[s->dist[j].id];
        s->dist[j].p = r > 0 ? r : 0;
        total += s->dist[j].p;
    }
    if (q) {
        for (int j = 0; j < nq; j++) s->dense[q[j].id] = 0;
    } else {
        s->dense[x] = 0;
    }
    /* p <= q everywhere means p == q: a rejection has probability 0 then,
     * so only rounding gets here; the target's own top token stands in */
    *y = total > 0 ? sampler_draw(s->ts, s->dist, np) : s->dist[0].id;
    return false;
}

/* Walk the k + 1 rows of logits: keep drafts while the target agrees,
 * then the target's own token. Writes the tokens to out, returns how many
 * drafts were kept. The target's chain accepts each token as it is
 * decided, so its penalties see exactly the committed history. */
static int verify(struct spec *s, int k, int32_t *out, int *n_out) {
    int n = 0, kept = 0;
    for (int i = 0; i <= k; i++) {
        float *row = s->logits + (size_t)i * (size_t)s->n_vocab;
        ban(s, row);
        int np = sampler_dist(s->ts, row, s->dist);
        int32_t y;
        bool ok;
        if (i == k) {
            y = s->greedy ? s->dist[0].id : sampler_draw(s->ts, s->dist, np);
            ok = false;
        } else if (s->greedy) {
            y = s->dist[0].id;
            ok = y == s->draft[i];
        } else {
            ok = accept_sampled(s, i, np, s->draft[i], &y);
            if (ok) y = s->draft[i];
        }
        out[n++] = y;
        sampler_accept(s->ts, y);
        if (!ok) break;
        kept++;
    }
    *n_out = n;
    return kept;
}

/* ----------------------------------------------------------- the step */

/* How many tokens to draft from source src (0: the draft model, n: an
 * n-gram match), at most k_max: the k that maximizes expected tokens per
 * millisecond. With a per-token acceptance a (the source's decayed
 * counts), k drafts yield (1 - a^(k+1)) / (1 - a) tokens (the kept ones
 * and the target's own) for t1 + k * (t_row + t_draft) ms. On a CPU an
 * extra verified row costs a fair part of a decode (a quarter with the
 * K-quants' exact multi-column kernels on a 2-core Xeon, about half
 * where a type has only the one-row kernel per row), so a source that is
 * often wrong is better not asked: k = 0, with a one-token try every
 * eighth such step so its counts can recover. Until the verification has
 * been timed, k_max. */
static int choose_k(struct spec *s, int src, int k_max) {
    if (k_max <= 0 || s->t1 <= 0) return k_max;
    double a = s->kept[src] / (s->kept[src] + s->rejected[src]);
    double row = s->t_row > 0 ? s->t_row : 0.4 * s->t1;
    double best = 1.0 / s->t1, tokens = 1, ak = 1;
    int k_best = 0;
    for (int k = 1; k <= k_max; k++) {
        ak *= a;
        tokens += ak;
        double rate = tokens / (s->t1 + k * (row + s->t_draft));
        if (rate > best) {
            best = rate;
            k_best = k;
        }
    }
    if (k_best == 0 && ++s->idle % 8 == 0) k_best = 1;
    return k_best;
}

/* Count a verified draft of source src: k drafted, kept of them kept. */
static void learn(struct spec *s, int src, int k, int kept, double verify_ms, double draft_ms,
                  int draft_runs) {
    const double decay = 0.95; /* about the last 20 drafts count */
    if (k > 0) {
        s->kept[src] = s->kept[src] * decay + kept;
        s->rejected[src] = s->rejected[src] * decay + (kept < k);
    }
    if (k == 0) {
        s->t1 = s->t1 > 0 ? 0.8 * s->t1 + 0.2 * verify_ms : verify_ms;
    } else if (s->t1 <= 0) { /* no one-row time yet: split by the prior */
        s->t1 = verify_ms / (1 + 0.4 * k);
        s->t_row = 0.4 * s->t1;
    } else {
        double row = (verify_ms - s->t1) / k;
        if (row < 0) row = 0;
        s->t_row = s->t_row > 0 ? 0.8 * s->t_row + 0.2 * row : row;
    }
    if (draft_runs > 0) {
        double per = draft_ms / draft_runs;
        s->t_draft = s->t_draft > 0 ? 0.8 * s->t_draft + 0.2 * per : per;
    }
}

enum ember_status spec_step(struct spec *s, int max_new, int32_t *out, int *n_out,
                            struct ember_err *err) {
    *n_out = 0;
    int room = s->n_ctx - s->n_toks; /* drafts after the last token that fit */
    if (room < 0 || max_new < 1)
        return ember_fail(err, EMBER_EINVAL, "the context of %d tokens is full", s->n_ctx);
    int k_max = s->p.draft_max;
    if (k_max > max_new - 1) k_max = max_new - 1;
    if (k_max > room) k_max = room;
    int k = 0, src = 0, runs = 0;
    double t0 = os_now_ms(), run_ms = 0;
    if (k_max > 0) {
        if (s->dft) {
            int cap = choose_k(s, 0, k_max);
            if (cap > 0) TRY(draft_model(s, cap, &k, &run_ms, &runs, err));
        } else {
            k = draft_lookup(s, k_max, &src);
            if (k > 0) k = choose_k(s, src, k);
        }
    }
    if (k < s->p.draft_min) k = 0;
    double t1 = os_now_ms();

    /* the last committed token and the drafts, one batch, logits for all */
    int base = s->n_toks - 1;
    s->b.n = 0;
    /* exact rows make greedy output plain decoding's (sampling needs only
     * the distribution: the faster batch kernels serve it) */
    s->b.rows_exact = s->greedy;
    batch_add(&s->b, s->toks[base], base, 0, true);
    for (int i = 0; i < k; i++) batch_add(&s->b, s->draft[i], base + 1 + i, 0, true);
    TRY(model_decode(s->tgt, &s->b, s->logits, err));
    int kept = verify(s, k, out, n_out);

    /* commit; cut both caches back to what stands */
    memcpy(s->toks + s->n_toks, out, (size_t)*n_out * sizeof *out);
    s->n_toks += *n_out;
    kv_seq_set_len(model_kv(s->tgt), 0, s->n_toks - 1);
    if (s->dft) {
        if (s->d_len > s->n_toks - 1) s->d_len = s->n_toks - 1;
        kv_seq_set_len(model_kv(s->dft), 0, s->d_len);
        /* the draft's chain saw the drafts: give it the committed history */
        sampler_reset(s->ds);
        int from = s->n_toks - s->repeat_last_n;
        for (int i = from > 0 ? from : 0; i < s->n_toks; i++) sampler_accept(s->ds, s->toks[i]);
    }
    learn(s, src, k, kept, os_now_ms() - t1, run_ms, runs);
    s->st.steps++;
    s->st.drafted += k;
    s->st.accepted += kept;
    s->st.draft_ms += t1 - t0;
    s->st.verify_ms += os_now_ms() - t1;
    return EMBER_OK;
}
