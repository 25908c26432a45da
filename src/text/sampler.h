/*
 * sampler.h — turning logits into the next token.
 *
 * Greedy (argmax) when temp <= 0. Otherwise the chain runs in llama.cpp's
 * default order: repetition/frequency/presence penalties over the last
 * repeat_last_n tokens, top-k, top-p, min-p, temperature, then a draw from
 * the resulting distribution with a seeded generator (same seed, same text).
 */
#ifndef EMBER_SAMPLER_H
#define EMBER_SAMPLER_H

#include <stdint.h>

struct sampler_params {
    float temp;             /* <= 0: greedy */
    int top_k;              /* <= 0: off */
    float top_p;            /* 1: off */
    float min_p;            /* 0: off */
    float repeat_penalty;   /* 1: off */
    float freq_penalty;     /* 0: off */
    float presence_penalty; /* 0: off */
    int repeat_last_n;      /* history length the penalties look at; 0 off */
    uint64_t seed;
};

/* llama.cpp's defaults (temp 0.8, top-k 40, top-p 0.95, min-p 0.05, ...). */
struct sampler_params sampler_defaults(void);

/* Check ranges; returns NULL when fine, else a message naming the flag. */
const char *sampler_params_check(const struct sampler_params *p);

struct sampler;
struct sampler *sampler_new(const struct sampler_params *p, int n_vocab);
void sampler_free(struct sampler *s);

/* Pick a token from logits[n_vocab] (the array is used as scratch). */
int32_t sampler_sample(struct sampler *s, float *logits);
/* Record a token in the penalty history (prompt and generated tokens). */
void sampler_accept(struct sampler *s, int32_t token);

/* For speculative decoding (models/speculative.h), which needs the
 * distribution itself rather than one draw from it. */
struct sampler_prob {
    int32_t id;
    double p;
};
/* The distribution sampler_sample draws from for these logits (penalties,
 * top-k, top-p, min-p, temperature; greedy: the argmax with probability
 * 1): its n candidates in out (room for n_vocab), by descending
 * probability, summing to 1. Returns n >= 1; logits is scratch. O(n_vocab)
 * plus a sort of the top-k survivors. Draws nothing from the generator. */
int sampler_dist(struct sampler *s, float *logits, struct sampler_prob *out);
/* One draw in [0, 1) from the seeded generator. */
double sampler_uniform(struct sampler *s);
/* One id drawn from n weighted candidates (the weights need not sum to 1;
 * at least one must be positive). */
int32_t sampler_draw(struct sampler *s, const struct sampler_prob *c, int n);
/* Forget the penalty history (to accept a sequence's tokens again after
 * speculative tokens were dropped); the generator is left as it is. */
void sampler_reset(struct sampler *s);

#endif
