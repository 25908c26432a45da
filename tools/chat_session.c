/*
 * chat_session.c — a conversation over the paged KV cache (chat_session.h).
 *
 * The cache has two sequences. Sequence 0 is the conversation. Sequence 1
 * is the branch /retry keeps: the conversation as it was before the retry
 * (prompt and replaced reply), sharing the prompt's blocks with sequence 0
 * (kv_seq_share), so keeping it costs only the replaced reply's blocks and
 * a copy of the one block where the two part. /undo swaps the two
 * (kv_seq_swap) and the replaced reply is back with nothing recomputed; a
 * further /undo swaps back. Truncating, as /retry did before, costs nothing
 * either for the retry itself (the last prompt position is recomputed for
 * its logits in both designs), but the replaced reply could only come back
 * by prefilling it again. The branch is let go as soon as the conversation
 * moves on (a new message, /clear, /load), since nothing can return to it.
 * Each sequence may hold n_ctx positions, so the memory check made when the
 * context is created counts two full sequences, though sharing keeps what
 * is allocated far below that.
 *
 * Sections: messages, the prompt, the reply, save and load.
 */
#include "chat_session.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_cache.h"
#include "kv_state.h"
#include "os.h"

/* Return the status of x when it is an error. */
#define TRY(x)                                                                                     \
    do {                                                                                           \
        enum ember_status st_ = (x);                                                               \
        if (st_) return st_;                                                                       \
    } while (0)

struct msg {
    char *role, *content;
};

struct chat_session {
    const struct loaded *l;
    const struct template *tmpl;
    struct chat_params p;
    struct msg *msgs;
    int n_msgs, cap_msgs;
    struct model_ctx *mc;
    struct sampler *smp;
    float *logits;
    struct batch b;
    int32_t *toks; /* what the cache holds for sequence 0: n_toks tokens */
    int n_toks;
    char *cache_text; /* the text toks came from (prompt + reply), or NULL */
    size_t cache_len;
    int32_t *eog;     /* the vocabulary's end-of-generation ids (--ignore-eos) */
    int n_eog;
    struct chat_stats st;
    /* The branch /retry kept in sequence 1 (live: kept_reply != NULL):
     * the reply it replaced and what the cache held with it. */
    char *kept_reply;
    int32_t *kept_toks;
    int kept_n;
    char *kept_text;
    size_t kept_len;
};

enum { SEQ_LIVE = 0, SEQ_KEPT = 1 };

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static void drop_cache_text(struct chat_session *s) {
    free(s->cache_text);
    s->cache_text = NULL;
    s->cache_len = 0;
}

enum ember_status chat_session_new(const struct loaded *l, const struct template *t,
                                   const struct chat_params *p, struct chat_session **out,
                                   struct ember_err *err) {
    *out = NULL;
    const struct model_info *mi = model_get_info(l->model);
    struct chat_session *s = calloc(1, sizeof *s);
    if (!s) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    s->l = l;
    s->tmpl = t;
    s->p = *p;
    struct model_ctx_params cp = {.n_ctx = p->n_ctx, .n_threads = p->n_threads, .n_batch = p->n_batch,
                                  .n_seq = 2, .type_k = (enum kv_type)p->eo->cache_type_k,
                                  .type_v = (enum kv_type)p->eo->cache_type_v, .kv_block = p->eo->kv_block};
    enum ember_status st = model_ctx_new(l->model, &cp, &s->mc, err);
    if (!st) {
        s->smp = sampler_new(&p->sp, mi->n_vocab);
        s->logits = malloc((size_t)mi->n_vocab * sizeof *s->logits);
        s->toks = malloc((size_t)p->n_ctx * sizeof *s->toks);
        s->kept_toks = malloc((size_t)p->n_ctx * sizeof *s->kept_toks);
        s->eog = malloc((size_t)mi->n_vocab * sizeof *s->eog);
        if (!s->smp || !s->logits || !s->toks || !s->kept_toks || !s->eog || !batch_init(&s->b, p->n_ctx))
            st = ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    if (st) {
        chat_session_free(s);
        return st;
    }
    for (int32_t i = 0; i < mi->n_vocab; i++)
        if (tokenizer_is_eog(l->tok, i)) s->eog[s->n_eog++] = i;
    s->st.n_ctx = p->n_ctx;
    *out = s;
    return EMBER_OK;
}

void chat_session_free(struct chat_session *s) {
    if (!s) return;
    for (int i = 0; i < s->n_msgs; i++) free(s->msgs[i].role), free(s->msgs[i].content);
    free(s->msgs);
    model_ctx_free(s->mc);
    sampler_free(s->smp);
    free(s->logits);
    batch_free(&s->b);
    free(s->toks);
    free(s->cache_text);
    free(s->eog);
    free(s->kept_reply);
    free(s->kept_toks);
    free(s->kept_text);
    free(s);
}

/* ------------------------------------------------------------- messages */

static enum ember_status insert_msg(struct chat_session *s, int at, const char *role, const char *text,
                                    struct ember_err *err) {
    if (s->n_msgs == s->cap_msgs) {
        int cap = s->cap_msgs ? 2 * s->cap_msgs : 16;
        struct msg *m = realloc(s->msgs, (size_t)cap * sizeof *m);
        if (!m) return ember_fail(err, EMBER_ENOMEM, "out of memory");
        s->msgs = m;
        s->cap_msgs = cap;
    }
    struct msg m = {dup_str(role), dup_str(text)};
    if (!m.role || !m.content) {
        free(m.role), free(m.content);
        return ember_fail(err, EMBER_ENOMEM, "out of memory");
    }
    memmove(s->msgs + at + 1, s->msgs + at, (size_t)(s->n_msgs - at) * sizeof *s->msgs);
    s->msgs[at] = m;
    s->n_msgs++;
    return EMBER_OK;
}

static void remove_msg(struct chat_session *s, int at) {
    free(s->msgs[at].role), free(s->msgs[at].content);
    memmove(s->msgs + at, s->msgs + at + 1, (size_t)(s->n_msgs - at - 1) * sizeof *s->msgs);
    s->n_msgs--;
}

/* Let go of the branch /retry kept: its blocks that sequence 0 does not
 * share go back to the pool. */
static void drop_kept(struct chat_session *s) {
    if (!s->kept_reply) return;
    kv_seq_set_len(model_kv(s->mc), SEQ_KEPT, 0);
    free(s->kept_reply);
    free(s->kept_text);
    s->kept_reply = s->kept_text = NULL;
    s->kept_n = 0;
    s->kept_len = 0;
}

static bool has_system(const struct chat_session *s) {
    return s->n_msgs && !strcmp(s->msgs[0].role, "system");
}

enum ember_status chat_set_system(struct chat_session *s, const char *text, struct ember_err *err) {
    if (has_system(s)) remove_msg(s, 0);
    return *text ? insert_msg(s, 0, "system", text, err) : EMBER_OK;
}

enum ember_status chat_add_user(struct chat_session *s, const char *text, struct ember_err *err) {
    drop_kept(s);
    return insert_msg(s, s->n_msgs, "user", text, err);
}

void chat_clear(struct chat_session *s) {
    drop_kept(s);
    while (s->n_msgs > (has_system(s) ? 1 : 0)) remove_msg(s, s->n_msgs - 1);
}

static bool last_is_reply(const struct chat_session *s) {
    return s->n_msgs && !strcmp(s->msgs[s->n_msgs - 1].role, "assistant");
}

bool chat_retry(struct chat_session *s) {
    if (!last_is_reply(s)) return false;
    char *text = s->cache_text ? malloc(s->cache_len + 1) : NULL;
    if (s->cache_text && !text) { /* no memory for the branch: retry without keeping it */
        drop_kept(s);
        remove_msg(s, s->n_msgs - 1);
        return true;
    }
    drop_kept(s);
    kv_seq_share(model_kv(s->mc), SEQ_KEPT, SEQ_LIVE, s->n_toks);
    memcpy(s->kept_toks, s->toks, (size_t)s->n_toks * sizeof *s->toks);
    s->kept_n = s->n_toks;
    if (text) memcpy(text, s->cache_text, s->cache_len + 1);
    s->kept_text = text;
    s->kept_len = s->cache_len;
    struct msg *m = &s->msgs[s->n_msgs - 1];
    s->kept_reply = m->content; /* the message's text moves to the branch */
    free(m->role);
    s->n_msgs--;
    return true;
}

const char *chat_undo(struct chat_session *s) {
    if (!s->kept_reply) return NULL;
    /* the retry failed before its reply: put the kept one back, keep nothing */
    bool failed = !last_is_reply(s);
    struct ember_err err = {0};
    if (failed && insert_msg(s, s->n_msgs, "assistant", "", &err)) return NULL;
    kv_seq_swap(model_kv(s->mc), SEQ_LIVE, SEQ_KEPT);
    struct msg *m = &s->msgs[s->n_msgs - 1];
    char *c = m->content;
    m->content = s->kept_reply, s->kept_reply = c;
    int32_t *t = s->toks;
    s->toks = s->kept_toks, s->kept_toks = t;
    int n = s->n_toks;
    s->n_toks = s->kept_n, s->kept_n = n;
    char *x = s->cache_text;
    s->cache_text = s->kept_text, s->kept_text = x;
    size_t l = s->cache_len;
    s->cache_len = s->kept_len, s->kept_len = l;
    s->st.prefilled = s->st.generated = 0;
    s->st.prefill_ms = s->st.gen_ms = 0;
    if (failed) drop_kept(s);
    return m->content;
}

void chat_set_sampler(struct chat_session *s, const struct sampler_params *sp) {
    struct sampler *n = sampler_new(sp, model_get_info(s->l->model)->n_vocab);
    if (!n) return; /* keep the old one */
    sampler_free(s->smp);
    s->smp = n;
    s->p.sp = *sp;
    for (int i = 0; i < s->n_toks; i++) sampler_accept(s->smp, s->toks[i]);
}

const struct sampler_params *chat_sampler(const struct chat_session *s) { return &s->p.sp; }

/* ------------------------------------------------------------- the prompt */

static enum ember_status render(const struct chat_session *s, char **out, size_t *len, struct ember_err *err) {
    struct chat_msg *m = malloc((size_t)(s->n_msgs ? s->n_msgs : 1) * sizeof *m);
    if (!m) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    for (int i = 0; i < s->n_msgs; i++) m[i] = (struct chat_msg){s->msgs[i].role, s->msgs[i].content};
    const struct tokenizer *tok = s->l->tok;
    char bos[256] = "", eos[256] = "";
    size_t n;
    const char *p;
    if (tokenizer_bos(tok) >= 0 && (p = tokenizer_piece(tok, tokenizer_bos(tok), &n)) && n < sizeof bos)
        memcpy(bos, p, n), bos[n] = 0;
    if (tokenizer_eos(tok) >= 0 && (p = tokenizer_piece(tok, tokenizer_eos(tok), &n)) && n < sizeof eos)
        memcpy(eos, p, n), eos[n] = 0;
    time_t now = time(NULL);
    struct tm tm_now;
    struct template_vars v = {.messages = m, .n_messages = s->n_msgs, .add_generation_prompt = true,
                              .bos_token = bos, .eos_token = eos, .now = localtime_r(&now, &tm_now)};
    enum ember_status st = template_render(s->tmpl, &v, out, len, err);
    free(m);
    return st;
}

/* The tokens of the whole prompt r: a BOS in front when the vocabulary
 * wants one and the template did not write it. */
static enum ember_status tokenize_all(const struct chat_session *s, const char *r, size_t len, int32_t **ids,
                                      size_t *n, struct ember_err *err) {
    const struct tokenizer *tok = s->l->tok;
    size_t bl = 0;
    const char *bp = tokenizer_bos(tok) >= 0 ? tokenizer_piece(tok, tokenizer_bos(tok), &bl) : NULL;
    bool wrote_bos = bp && bl && len >= bl && !memcmp(r, bp, bl);
    return tokenizer_encode(tok, r, len, tokenizer_add_bos(tok) && !wrote_bos, true, ids, n, err);
}

/* The prompt's tokens: want[0..*keep) are the cached ones still valid, the
 * rest is new. */
static enum ember_status prompt_tokens(const struct chat_session *s, const char *r, size_t len,
                                       int32_t **want, size_t *n_want, int *keep, struct ember_err *err) {
    if (s->cache_text && len > s->cache_len && !memcmp(r, s->cache_text, s->cache_len)) {
        int32_t *tail = NULL;
        size_t n_tail = 0;
        TRY(tokenizer_encode(s->l->tok, r + s->cache_len, len - s->cache_len, false, true, &tail, &n_tail, err));
        *want = malloc(((size_t)s->n_toks + n_tail + 1) * sizeof **want);
        if (!*want) {
            free(tail);
            return ember_fail(err, EMBER_ENOMEM, "out of memory");
        }
        memcpy(*want, s->toks, (size_t)s->n_toks * sizeof **want);
        if (n_tail) memcpy(*want + s->n_toks, tail, n_tail * sizeof *tail);
        free(tail);
        *n_want = (size_t)s->n_toks + n_tail;
        *keep = s->n_toks;
    } else {
        TRY(tokenize_all(s, r, len, want, n_want, err));
        int k = 0;
        while (k < s->n_toks && (size_t)k < *n_want && s->toks[k] == (*want)[k]) k++;
        *keep = k;
    }
    if (*keep >= (int)*n_want) *keep = (int)*n_want - 1; /* recompute the last position's logits */
    return EMBER_OK;
}

/* Room a reply needs after the prompt. */
static int reply_room(const struct chat_session *s) {
    int room = s->p.n_predict > 0 ? (int)s->p.n_predict : s->p.n_ctx / 8;
    if (room > s->p.n_ctx / 2) room = s->p.n_ctx / 2;
    return room > 0 ? room : 1;
}

/* Drop the oldest turn after the system message (a user message and the
 * replies after it); false when only the last user message is left. */
static bool drop_oldest(struct chat_session *s) {
    int first = has_system(s) ? 1 : 0, last_user = -1;
    for (int i = s->n_msgs - 1; i >= first && last_user < 0; i--)
        if (!strcmp(s->msgs[i].role, "user")) last_user = i;
    if (first >= s->n_msgs || first == last_user) return false;
    int n = 1;
    while (first + n < s->n_msgs && first + n < last_user && strcmp(s->msgs[first + n].role, "user")) n++;
    for (int i = 0; i < n; i++) remove_msg(s, first);
    s->st.dropped += n;
    return true;
}

/* Render, fit into the context (dropping old turns), prefill what is new.
 * *r gets the rendered prompt. */
static enum ember_status prefill(struct chat_session *s, char **r, size_t *rl, struct ember_err *err) {
    int32_t *want = NULL;
    size_t n_want = 0;
    int keep = 0, dropped = s->st.dropped;
    for (;;) {
        TRY(render(s, r, rl, err));
        enum ember_status st = prompt_tokens(s, *r, *rl, &want, &n_want, &keep, err);
        if (st) {
            free(*r);
            return st;
        }
        if ((int)n_want + reply_room(s) <= s->p.n_ctx) break;
        free(want);
        free(*r);
        if (!drop_oldest(s))
            return ember_fail(err, EMBER_EINVAL,
                              "the conversation's last message needs %zu tokens with the template; the "
                              "context holds %d (raise -c)",
                              n_want, s->p.n_ctx);
        drop_cache_text(s);
    }
    if (s->st.dropped > dropped)
        fprintf(stderr, "ember: the context of %d tokens is full: dropped the %d oldest messages, "
                "prefilling %zu tokens again\n", s->p.n_ctx, s->st.dropped - dropped, n_want - (size_t)keep);
    double t0 = os_now_ms();
    batch_set_run(&s->b, want + keep, (int)n_want - keep, keep, 0, false);
    enum ember_status st = model_decode(s->mc, &s->b, s->logits, err);
    if (!st) {
        memcpy(s->toks, want, n_want * sizeof *want);
        s->n_toks = (int)n_want;
        for (size_t i = (size_t)keep; i < n_want; i++) sampler_accept(s->smp, want[i]);
        s->st.prefilled = (int)n_want - keep;
        s->st.prefill_ms = os_now_ms() - t0;
    } else {
        s->n_toks = keep < s->n_toks ? keep : s->n_toks; /* the cache may hold less now */
        drop_cache_text(s);
        free(*r);
    }
    free(want);
    return st;
}

/* ------------------------------------------------------------- the reply */

struct reply {
    char *text;
    size_t len, cap;
};

static bool reply_add(struct reply *r, const char *t, size_t n) {
    if (!r->text || r->len + n + 1 > r->cap) {
        size_t cap = (r->len + n + 1) * 2;
        char *p = realloc(r->text, cap);
        if (!p) return false;
        r->text = p;
        r->cap = cap;
    }
    if (n) memcpy(r->text + r->len, t, n);
    r->len += n;
    r->text[r->len] = 0;
    return true;
}

static bool ends_with_stop(const struct chat_session *s, const struct reply *r) {
    for (int i = 0; i < s->p.n_reverse; i++) {
        size_t n = strlen(s->p.reverse[i]);
        if (n && r->len >= n && !memcmp(r->text + r->len - n, s->p.reverse[i], n)) return true;
    }
    return false;
}

/* One more token into the cache. */
static enum ember_status feed(struct chat_session *s, int32_t tok, struct ember_err *err) {
    batch_set_run(&s->b, &tok, 1, s->n_toks, 0, false);
    TRY(model_decode(s->mc, &s->b, s->logits, err));
    s->toks[s->n_toks++] = tok;
    return EMBER_OK;
}

/* Sample the reply into *r, feeding each token back; *fed_all false when
 * the last token could not be fed (a full context). */
static enum ember_status generate(struct chat_session *s, struct reply *r, chat_emit_fn emit, void *user,
                                  volatile sig_atomic_t *stop, bool *fed_all, struct ember_err *err) {
    size_t cap = tokenizer_max_piece(s->l->tok) + 8;
    char *buf = malloc(cap);
    if (!buf) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    struct tok_stream ts = {0};
    enum ember_status st = EMBER_OK;
    *fed_all = true;
    for (long g = 0; !(stop && *stop); g++) {
        if (s->p.ignore_eos)
            for (int i = 0; i < s->n_eog; i++) s->logits[s->eog[i]] = -INFINITY;
        int32_t tok = sampler_sample(s->smp, s->logits);
        if (tokenizer_is_eog(s->l->tok, tok)) break;
        size_t n = tokenizer_stream_push(s->l->tok, &ts, tok, buf, cap);
        emit(user, buf, n);
        if (!reply_add(r, buf, n)) {
            st = ember_fail(err, EMBER_ENOMEM, "out of memory");
            break;
        }
        sampler_accept(s->smp, tok);
        s->st.generated++;
        if (s->n_toks >= s->p.n_ctx) {
            fprintf(stderr, "\nember: the context of %d tokens is full; the reply stops here\n", s->p.n_ctx);
            *fed_all = false;
            break;
        }
        if ((st = feed(s, tok, err))) break;
        if ((s->p.n_predict >= 0 && g + 1 >= s->p.n_predict) || ends_with_stop(s, r)) break;
    }
    size_t n = tokenizer_stream_flush(&ts, buf, cap);
    emit(user, buf, n);
    if (!st && !reply_add(r, buf, n)) st = ember_fail(err, EMBER_ENOMEM, "out of memory");
    free(buf);
    return st;
}

enum ember_status chat_reply(struct chat_session *s, chat_emit_fn emit, void *user,
                             volatile sig_atomic_t *stop, struct ember_err *err) {
    char *r = NULL;
    size_t rl = 0;
    s->st.generated = 0;
    TRY(prefill(s, &r, &rl, err));
    struct reply rep = {0};
    bool fed_all = true;
    double t0 = os_now_ms();
    enum ember_status st = generate(s, &rep, emit, user, stop, &fed_all, err);
    s->st.gen_ms = os_now_ms() - t0;
    if (!st) st = insert_msg(s, s->n_msgs, "assistant", rep.text ? rep.text : "", err);
    /* the cache now holds the prompt and the reply as generated: what the
     * next rendering must start with to be reused without tokenizing it */
    drop_cache_text(s);
    if (!st && fed_all && (s->cache_text = malloc(rl + rep.len + 1))) {
        memcpy(s->cache_text, r, rl);
        if (rep.text && rep.len) memcpy(s->cache_text + rl, rep.text, rep.len);
        s->cache_len = rl + rep.len;
        s->cache_text[s->cache_len] = 0;
    }
    free(rep.text);
    free(r);
    return st;
}

void chat_get_stats(const struct chat_session *s, struct chat_stats *st) {
    *st = s->st;
    st->n_cached = s->n_toks;
    model_kv_usage(s->mc, &st->kv_blocks, &st->kv_bytes);
    const struct kv_cache *kv = model_kv(s->mc);
    st->kept_toks = s->kept_reply ? s->kept_n : -1;
    st->kept_blocks = kv_seq_blocks(kv, SEQ_KEPT);
    st->live_blocks = kv_seq_blocks(kv, SEQ_LIVE);
    st->shared_blocks = kv_seq_shared_blocks(kv, SEQ_LIVE, SEQ_KEPT);
}

/* ------------------------------------------------------- save and load */

/* The payload of a chat file: the messages as length-prefixed role and
 * content, then the cache text (a length of UINT32_MAX: none). */
struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void buf_add(struct buf *b, const void *p, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2 + 64;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_str(struct buf *b, const char *s, size_t n) {
    uint32_t len = (uint32_t)n;
    buf_add(b, &len, sizeof len);
    buf_add(b, s, n);
}

enum ember_status chat_save(const struct chat_session *s, const char *path, struct ember_err *err) {
    struct buf b = {0};
    uint32_t n = (uint32_t)s->n_msgs, none = UINT32_MAX;
    buf_add(&b, &n, sizeof n);
    for (int i = 0; i < s->n_msgs; i++) {
        buf_str(&b, s->msgs[i].role, strlen(s->msgs[i].role));
        buf_str(&b, s->msgs[i].content, strlen(s->msgs[i].content));
    }
    if (s->cache_text && s->cache_len < UINT32_MAX) buf_str(&b, s->cache_text, s->cache_len);
    else buf_add(&b, &none, sizeof none);
    enum ember_status st = b.oom ? ember_fail(err, EMBER_ENOMEM, "out of memory")
                                 : kv_state_save(path, KV_STATE_CHAT, s->l, s->mc, s->toks, s->n_toks, b.p,
                                                 b.len, err);
    free(b.p);
    return st;
}

/* A length-prefixed string from *p (n bytes left), malloc'd; NULL when it
 * does not fit. *none: the length said "none". */
static char *take_str(const char **p, size_t *n, bool *none) {
    uint32_t len;
    *none = false;
    if (*n < sizeof len) return NULL;
    memcpy(&len, *p, sizeof len);
    *p += sizeof len, *n -= sizeof len;
    if (len == UINT32_MAX) {
        *none = true;
        return NULL;
    }
    if (len > *n) return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s) return NULL;
    memcpy(s, *p, len);
    s[len] = 0;
    *p += len, *n -= len;
    return s;
}

/* The messages and cache text of a payload; false when it is malformed. */
static bool parse_payload(const char *p, size_t n, struct msg **msgs, int *n_msgs, char **text) {
    uint32_t count;
    bool none;
    *msgs = NULL, *n_msgs = 0, *text = NULL;
    if (n < sizeof count) return false;
    memcpy(&count, p, sizeof count);
    p += sizeof count, n -= sizeof count;
    if (count > n / 8 || !(*msgs = calloc((size_t)count + 1, sizeof **msgs))) return false;
    for (; *n_msgs < (int)count; ++*n_msgs) {
        struct msg *m = &(*msgs)[*n_msgs];
        if (!(m->role = take_str(&p, &n, &none)) || !(m->content = take_str(&p, &n, &none))) return false;
    }
    *text = take_str(&p, &n, &none);
    return (*text || none) && n == 0;
}

static void free_msgs(struct msg *msgs, int n) {
    for (int i = 0; msgs && i <= n; i++) free(msgs[i].role), free(msgs[i].content);
    free(msgs);
}

static bool payload_ok(const void *p, size_t n) {
    struct msg *msgs;
    char *text;
    int n_msgs;
    bool ok = parse_payload(p, n, &msgs, &n_msgs, &text);
    free_msgs(msgs, n_msgs);
    free(text);
    return ok;
}

enum ember_status chat_load(struct chat_session *s, const char *path, struct ember_err *err) {
    int32_t *toks = malloc((size_t)s->p.n_ctx * sizeof *toks);
    if (!toks) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    int n_toks = 0, n_msgs = 0;
    void *pl = NULL;
    size_t pl_len = 0;
    struct msg *msgs = NULL;
    char *text = NULL;
    enum ember_status st =
        kv_state_load(path, KV_STATE_CHAT, s->l, s->mc, toks, &n_toks, &pl, &pl_len, payload_ok, err);
    if (!st && !parse_payload(pl, pl_len, &msgs, &n_msgs, &text))
        st = ember_fail(err, EMBER_ENOMEM, "out of memory");
    free(pl);
    if (st) {
        free_msgs(msgs, n_msgs);
        free(text), free(toks);
        /* a load that failed in the KV blocks left the cache empty */
        if (model_seq_len(s->mc, 0) != s->n_toks) s->n_toks = 0, drop_cache_text(s);
        return st;
    }
    for (int i = 0; i < s->n_msgs; i++) free(s->msgs[i].role), free(s->msgs[i].content);
    free(s->msgs);
    s->msgs = msgs, s->n_msgs = n_msgs, s->cap_msgs = n_msgs + 1;
    memcpy(s->toks, toks, (size_t)n_toks * sizeof *toks);
    s->n_toks = n_toks;
    free(toks);
    free(s->cache_text);
    s->cache_text = text;
    s->cache_len = text ? strlen(text) : 0;
    drop_kept(s);
    chat_set_sampler(s, &s->p.sp); /* the penalties' history: the loaded tokens */
    return EMBER_OK;
}
