/*
 * decode.c — model_decode (model.h): check a batch whole, then run it
 * through the architecture's forward pass in passes of up to n_batch rows
 * and record what each sequence's cache now holds.
 */
#include "arch.h"

/* Every row's token, sequence and position, before anything runs: a
 * failed batch leaves the cache as it was. */
static enum ember_status check_batch(struct model_ctx *c, const struct batch *b,
                                     struct ember_err *err) {
    const struct model_info *in = &c->m->info;
    for (int s = 0; s < c->n_seq; s++) c->seq_rows[s] = 0;
    for (int i = 0; i < b->n; i++) {
        int s = b->seq[i];
        if (s < 0 || s >= c->n_seq)
            return ember_fail(err, EMBER_EINVAL, "sequence id %d is outside the context's %d", s,
                              c->n_seq);
        if (b->token[i] < 0 || b->token[i] >= in->n_vocab)
            return ember_fail(err, EMBER_EINVAL, "token id %d is outside the vocabulary (%d)",
                              b->token[i], in->n_vocab);
        if (!c->seq_rows[s]) {
            c->seq_first[s] = b->pos[i];
        } else if (b->pos[i] != c->seq_first[s] + c->seq_rows[s]) {
            return ember_fail(err, EMBER_EINVAL,
                              "sequence %d: position %d does not follow position %d", s,
                              b->pos[i], c->seq_first[s] + c->seq_rows[s] - 1);
        }
        c->seq_rows[s]++;
    }
    for (int s = 0; s < c->n_seq; s++) {
        int first = c->seq_first[s], n = c->seq_rows[s];
        if (!n) continue;
        if (first < 0 || first > c->n_ctx - n)
            return ember_fail(err, EMBER_EINVAL,
                              "%d tokens at position %d do not fit the context of %d tokens", n,
                              first, c->n_ctx);
        if (first > kv_seq_len(c->kv, s))
            return ember_fail(err, EMBER_EINVAL,
                              "sequence %d holds %d positions; position %d would leave a gap", s,
                              kv_seq_len(c->kv, s), first);
    }
    return EMBER_OK;
}

enum ember_status model_decode(struct model_ctx *c, const struct batch *b, float *logits,
                               struct ember_err *err) {
    TRY(check_batch(c, b, err));
    /* blocks for the new positions (copies of shared ones they write into) */
    for (int s = 0; s < c->n_seq; s++)
        if (c->seq_rows[s]) TRY(kv_seq_prepare(c->kv, s, c->seq_first[s], c->seq_rows[s], err));
    size_t n_vocab = (size_t)c->m->info.n_vocab;
    for (int i = 0; i < c->n_stages && b->rows_exact; i++) be_set_rows_exact(c->stage[i].be, true);
    float *out = logits;
    for (int i = 0; i < b->n; i += c->n_batch) {
        int n = b->n - i < c->n_batch ? b->n - i : c->n_batch;
        struct pass p = {n, b->token + i, b->pos + i, b->seq + i, b->logits + i, out};
        c->m->arch->forward(c, &p);
        c->n_passes++;
        c->n_rows += (uint64_t)n;
        for (int r = 0; r < n && out; r++) out += p.logits[r] ? n_vocab : 0;
    }
    for (int i = 0; i < c->n_stages && b->rows_exact; i++) be_set_rows_exact(c->stage[i].be, false);
    for (int s = 0; s < c->n_seq; s++)
        if (c->seq_rows[s]) kv_seq_set_len(c->kv, s, c->seq_first[s] + c->seq_rows[s]);
    return EMBER_OK;
}
