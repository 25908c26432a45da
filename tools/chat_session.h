/*
 * chat_session.h — a conversation with a model: its messages, the chat
 * template that turns them into a prompt, and the KV cache holding what
 * was already computed, so that each turn prefills only what is new.
 *
 * Each reply renders the whole conversation with the template and finds
 * how much of it the cache already holds: when the new rendering starts
 * with the text the cache was built from (the previous prompt plus the
 * reply as generated), only the rest is tokenized and prefilled; otherwise
 * (a template that rewrites earlier turns, /system, /retry) the tokens are
 * compared with the cached ones and the longest common prefix is kept. A
 * conversation that outgrows the context keeps its system message and its
 * latest turns: the oldest messages are dropped and the remainder is
 * prefilled again (one line on stderr says so).
 *
 * Front ends (tools/chat.c, `ember run --chat`) do all terminal I/O; this
 * module only calls the emit callback with the reply's text as it comes.
 */
#ifndef EMBER_CHAT_SESSION_H
#define EMBER_CHAT_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "loader.h"
#include "sampler.h"
#include "template.h"

struct chat_params {
    int n_ctx, n_threads, n_batch;
    const struct ember_options *eo; /* KV cache types and block size */
    struct sampler_params sp;
    long n_predict;                 /* tokens per reply; < 0: until end of turn */
    const char *const *reverse;     /* stop strings (-r), n_reverse of them */
    int n_reverse;
    bool ignore_eos;
};

struct chat_stats {
    int n_ctx, n_cached;       /* context size, positions the cache holds */
    int prefilled, generated;  /* last reply: tokens prefilled and generated */
    double prefill_ms, gen_ms; /* last reply */
    int kv_blocks;             /* KV blocks in use and bytes allocated */
    size_t kv_bytes;
    int dropped;               /* messages dropped for room, all turns */
    int kept_toks;             /* positions of the branch /retry kept; -1: none */
    int live_blocks, kept_blocks, shared_blocks; /* blocks of the conversation, of
                                                    the kept branch, and held by both */
};

struct chat_session;

/* A session over a loaded model and a compiled template (both borrowed,
 * alive for the session's life). */
enum ember_status chat_session_new(const struct loaded *l, const struct template *t,
                                   const struct chat_params *p, struct chat_session **out,
                                   struct ember_err *err);
void chat_session_free(struct chat_session *s);

/* The system message: set (text non-empty) or removed (empty). */
enum ember_status chat_set_system(struct chat_session *s, const char *text, struct ember_err *err);
enum ember_status chat_add_user(struct chat_session *s, const char *text, struct ember_err *err);
/* Drop every message but the system one (the cache is reused on the next
 * reply as far as the prompt still matches). */
void chat_clear(struct chat_session *s);
/* /retry: remove the last reply (and nothing else) so the next chat_reply
 * answers the same user message again, keeping the conversation as it was
 * (the reply and its KV blocks, a second sequence sharing the prompt's
 * blocks) for chat_undo. False when the last message is not a reply. */
bool chat_retry(struct chat_session *s);
/* /undo: after a /retry, bring back the reply it replaced, with its KV
 * cache as it was (nothing recomputed), keeping the newer reply in its
 * place, so a second chat_undo swaps back. Returns the reply now in the
 * conversation (the session's, valid until it changes), or NULL when there
 * is nothing to bring back: no /retry since the conversation last moved on
 * (a new user message, chat_clear or chat_load let the kept reply go). */
const char *chat_undo(struct chat_session *s);
void chat_set_sampler(struct chat_session *s, const struct sampler_params *sp);
const struct sampler_params *chat_sampler(const struct chat_session *s);

/* Text of a reply as it is generated. */
typedef void (*chat_emit_fn)(void *user, const char *text, size_t n);

/* Generate the assistant's reply to the conversation, streaming its text to
 * emit, and append it as a message. Stops at an end-of-generation token, a
 * stop string, n_predict tokens, a full context, or when *stop becomes
 * non-zero (Ctrl-C): the partial reply is kept. */
enum ember_status chat_reply(struct chat_session *s, chat_emit_fn emit, void *user,
                             volatile sig_atomic_t *stop, struct ember_err *err);

void chat_get_stats(const struct chat_session *s, struct chat_stats *st);

/* /save FILE and /load FILE: the messages, the cached tokens and their KV
 * blocks, behind a versioned header that names the model (a fingerprint
 * of its file) and the cache's layout. Loading a file written with another
 * model or another cache layout, or a damaged one, fails with a clear
 * error and leaves the session as it was (a damaged KV section empties
 * the cache, so the next reply recomputes it). After a load, the next
 * reply continues exactly as the saved session would have. */
enum ember_status chat_save(const struct chat_session *s, const char *path, struct ember_err *err);
enum ember_status chat_load(struct chat_session *s, const char *path, struct ember_err *err);

#endif
