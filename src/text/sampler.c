/*
 * sampler.c — the sampling chain of sampler.h.
 *
 * Candidates are (id, logit) pairs; each stage narrows or rescales them.
 * top-k uses a partial selection so a 150k vocabulary costs O(n) rather than
 * a full sort; the later stages work on the k survivors. The generator is
 * splitmix64-seeded xoshiro256**, so a seed reproduces a run on any platform.
 */
#include "sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct cand {
    int32_t id;
    float logit;
};

struct sampler {
    struct sampler_params p;
    int n_vocab;
    struct cand *c;
    int32_t *hist; /* ring buffer of the last repeat_last_n tokens */
    int hist_len, hist_pos;
    uint16_t *count; /* scratch: occurrences per token id */
    uint64_t rng[4];
};

struct sampler_params sampler_defaults(void) {
    struct sampler_params p = {
        .temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
        .repeat_penalty = 1.0f, .freq_penalty = 0.0f, .presence_penalty = 0.0f,
        .repeat_last_n = 64, .seed = 0,
    };
    return p;
}

const char *sampler_params_check(const struct sampler_params *p) {
    if (!(p->temp >= 0 && p->temp <= 100)) return "--temp must be between 0 and 100";
    if (!(p->top_p >= 0 && p->top_p <= 1)) return "--top-p must be between 0 and 1";
    if (!(p->min_p >= 0 && p->min_p <= 1)) return "--min-p must be between 0 and 1";
    if (!(p->repeat_penalty > 0 && p->repeat_penalty <= 100))
        return "--repeat-penalty must be greater than 0 and at most 100";
    if (!(fabsf(p->freq_penalty) <= 100)) return "--frequency-penalty must be within [-100, 100]";
    if (!(fabsf(p->presence_penalty) <= 100)) return "--presence-penalty must be within [-100, 100]";
    if (p->repeat_last_n < 0 || p->repeat_last_n > 1 << 20)
        return "--repeat-last-n must be between 0 and 1048576";
    if (p->top_k < 0) return "--top-k must not be negative";
    return NULL;
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(uint64_t *s) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1). */
static double next_unit(uint64_t *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

struct sampler *sampler_new(const struct sampler_params *p, int n_vocab) {
    struct sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->count = calloc((size_t)n_vocab, sizeof *s->count);
    s->hist = malloc((size_t)(p->repeat_last_n + 1) * sizeof *s->hist);
    if (!s->c || !s->count || !s->hist) {
        sampler_free(s);
        return NULL;
    }
    uint64_t x = p->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
    return s;
}

void sampler_free(struct sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->count);
    free(s->hist);
    free(s);
}

void sampler_accept(struct sampler *s, int32_t token) {
    int n = s->p.repeat_last_n;
    if (n <= 0) return;
    s->hist[s->hist_pos] = token;
    s->hist_pos = (s->hist_pos + 1) % n;
    if (s->hist_len < n) s->hist_len++;
}

static bool penalties_on(const struct sampler_params *p) {
    return p->repeat_last_n > 0 &&
           (p->repeat_penalty != 1.0f || p->freq_penalty != 0.0f || p->presence_penalty != 0.0f);
}

/* llama.cpp's rule: a seen token's logit is divided by the penalty when
 * positive and multiplied when negative, then frequency/presence subtract. */
static void apply_penalties(struct sampler *s, float *logits) {
    for (int i = 0; i < s->hist_len; i++) {
        int32_t t = s->hist[i];
        if (t >= 0 && t < s->n_vocab && s->count[t] < UINT16_MAX) s->count[t]++;
    }
    for (int i = 0; i < s->hist_len; i++) {
        int32_t t = s->hist[i];
        if (t < 0 || t >= s->n_vocab || s->count[t] == 0) continue;
        float l = logits[t];
        l = l <= 0 ? l * s->p.repeat_penalty : l / s->p.repeat_penalty;
        l -= (float)s->count[t] * s->p.freq_penalty + s->p.presence_penalty;
        logits[t] = l;
        s->count[t] = 0; /* each distinct token once; also clears the scratch */
    }
}

static int32_t argmax(const float *logits, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b) {
    float x = ((const struct cand *)a)->logit, y = ((const struct cand *)b)->logit;
    return (x < y) - (x > y);
}

/* Move the k largest candidates to the front (quickselect), then sort them. */
static void top_k(struct cand *c, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = c[(lo + hi) / 2].logit;
        int i = lo, j = hi;
        while (i <= j) {
            while (c[i].logit > pivot) i++;
            while (c[j].logit < pivot) j--;
            if (i <= j) {
                struct cand t = c[i]; c[i] = c[j]; c[j] = t;
                i++; j--;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
    qsort(c, (size_t)k, sizeof *c, cmp_desc);
}

/* The candidates the chain keeps for these logits, in c[0..*n) sorted by
 * descending logit (penalties applied, then top-k, top-p, min-p; the
 * temperature is left to the caller). Not for greedy. */
static void filter(struct sampler *s, float *logits, int *n_out) {
    const struct sampler_params *p = &s->p;
    int n = s->n_vocab;
    struct cand *c = s->c;
    for (int i = 0; i < n; i++) c[i] = (struct cand){i, logits[i]};
    int k = (p->top_k > 0 && p->top_k < n) ? p->top_k : n;
    top_k(c, n, k);
    n = k;

    /* top-p and min-p on the untempered distribution, as llama.cpp does */
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)(c[i].logit - c[0].logit));
    if (p->top_p < 1.0f) {
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += exp((double)(c[i].logit - c[0].logit)) / sum;
            if (cum >= p->top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (p->min_p > 0.0f) {
        float floor_logit = c[0].logit + logf(p->min_p);
        int keep = 1;
        while (keep < n && c[keep].logit >= floor_logit) keep++;
        n = keep;
    }
    *n_out = n;
}

int32_t sampler_sample(struct sampler *s, float *logits) {
    const struct sampler_params *p = &s->p;
    if (penalties_on(p)) apply_penalties(s, logits);
    if (p->temp <= 0) return argmax(logits, s->n_vocab);
    int n;
    filter(s, logits, &n);
    const struct cand *c = s->c;

    /* temperature, then draw */
    double total = 0;
    for (int i = 0; i < n; i++) total += exp((double)((c[i].logit - c[0].logit) / p->temp));
    double r = next_unit(s->rng) * total, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += exp((double)((c[i].logit - c[0].logit) / p->temp));
        if (r < acc) return c[i].id;
    }
    return c[n - 1].id;
}

int sampler_dist(struct sampler *s, float *logits, struct sampler_prob *out) {
    const struct sampler_params *p = &s->p;
    if (penalties_on(p)) apply_penalties(s, logits);
    if (p->temp <= 0) {
        out[0] = (struct sampler_prob){argmax(logits, s->n_vocab), 1.0};
        return 1;
    }
    int n;
    filter(s, logits, &n);
    const struct cand *c = s->c;
    double total = 0;
    for (int i = 0; i < n; i++) {
        double w = exp((double)((c[i].logit - c[0].logit) / p->temp));
        out[i] = (struct sampler_prob){c[i].id, w};
        total += w;
    }
    for (int i = 0; i < n; i++) out[i].p /= total;
    return n;
}

double sampler_uniform(struct sampler *s) { return next_unit(s->rng); }

int32_t sampler_draw(struct sampler *s, const struct sampler_prob *c, int n) {
    double total = 0;
    for (int i = 0; i < n; i++) total += c[i].p;
    double r = next_unit(s->rng) * total, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += c[i].p;
        if (r < acc) return c[i].id;
    }
    for (int i = n - 1; i > 0; i--) /* rounding: the last candidate with weight */
        if (c[i].p > 0) return c[i].id;
    return c[0].id;
}

void sampler_reset(struct sampler *s) {
    s->hist_len = 0;
    s->hist_pos = 0;
}
