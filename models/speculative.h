/*
 * speculative.h — speculative decoding: draft a few tokens cheaply, verify
 * them with the target model in one batched model_decode, keep the ones
 * it agrees with.
 *
 * Drafts come from a second, smaller model of the same vocabulary (its own
 * context, rolled back with the target's) or from n-gram lookup in the
 * tokens so far (the last n tokens found earlier in the prompt or output:
 * what followed them is the draft). The target decodes the last token and
 * the k drafted ones as one batch of consecutive positions with logits for
 * every row; KV entries of rejected tokens are dropped.
 *
 * What it promises: with greedy sampling, exactly the tokens plain
 * decoding (sampler_sample after each one-row model_decode) gives, since
 * ember's kernels compute a row's logits to the same bits in a batch as
 * alone (tests/test_speculative.c checks both). With temperature, the
 * standard rejection rule (Leviathan et al. 2023; Chen et al. 2023): a
 * drafted token x is kept with probability min(1, p(x)/q(x)), p and q the
 * target's and the draft's distributions after the same sampler chain
 * (penalties, top-k, top-p, min-p, temperature); at the first rejection
 * the token is drawn from normalize(max(0, p - q)); when all are kept one
 * more is drawn from p. Each emitted token is then distributed as plain
 * sampling's. Lookup drafts are deterministic (q = 1 at x).
 *
 * Nothing here prints; the front ends (tools/run.c) stream what
 * spec_step returns and stop where they like.
 */
#ifndef EMBER_SPECULATIVE_H
#define EMBER_SPECULATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "ember.h"
#include "model.h"
#include "sampler.h"
#include "tokenizer.h"

/* The most tokens one step drafts: the verification keeps the logits of
 * every row (128 x a 152k vocabulary: 78 MB). */
#define SPEC_DRAFT_MAX 128

struct spec_params {
    int draft_max;      /* tokens drafted per step at most (>= 1) */
    int draft_min;      /* a draft shorter than this is not verified (0) */
    float p_min;        /* draft model: stop drafting at a token whose draft
                           probability is below this (0: never) */
    int ngram_min, ngram_max; /* lookup: n-gram lengths tried, longest first
                                 (0: 1 and 4, as llama.cpp's lookup) */
    int n_ban;
    const int32_t *ban; /* n_ban tokens never produced (their logits -inf: --ignore-eos) */
};

struct spec_stats {
    long steps;         /* target decodes after the prompt */
    long drafted;       /* tokens proposed and verified */
    long accepted;      /* of those, kept */
    double draft_ms, verify_ms;
    /* the draft length's cost model now: a one-row verification, each
     * extra row, each draft-model token (ms) */
    double t1_ms, row_ms, token_ms;
};

struct spec;

/* Whether a draft model can draft for the target: the same vocabulary
 * (count, every token's text, control and end-of-generation flags, BOS and
 * EOS) and the same number of logits. EMBER_EINVAL, naming the first
 * difference, otherwise. */
enum ember_status spec_check_vocab(const struct model *target, const struct tokenizer *tt,
                                   const struct model *draft, const struct tokenizer *dt,
                                   struct ember_err *err);

/* A speculative decoder over the target's context (sequence 0) and, for a
 * draft model, the draft's (sequence 0, at least the target's n_ctx);
 * draft NULL: n-gram lookup. Both contexts must be empty or, for the
 * target, hold a prefix of the prompt (spec_start's keep). The contexts
 * must outlive it. EMBER_EINVAL for bad parameters, EMBER_ENOMEM. */
enum ember_status spec_new(struct model_ctx *target, struct model_ctx *draft,
                           const struct spec_params *p, const struct sampler_params *sp,
                           struct spec **out, struct ember_err *err);
void spec_free(struct spec *s);

/* Decode the prompt (n >= 1 tokens; the target's cache already holds the
 * first keep of them) into the target and the draft, and sample the first
 * new token into *first: the same token plain decoding samples. */
enum ember_status spec_start(struct spec *s, const int32_t *prompt, int n, int keep,
                             int32_t *first, struct ember_err *err);

/* One step: draft up to min(draft_max, max_new - 1) tokens after the last
 * token given out (room in the context permitting), verify them in one
 * target decode, and write the tokens that follow, 1 .. k + 1 of them,
 * to out (room for draft_max + 1); *n_out gets the count. max_new >= 1.
 * EMBER_EINVAL when the context has no room for one more token. */
enum ember_status spec_step(struct spec *s, int max_new, int32_t *out, int *n_out,
                            struct ember_err *err);

const struct spec_stats *spec_get_stats(struct spec *s);

#endif
