/*
 * batch.c — building batches (batch.h).
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

bool batch_init(struct batch *b, int cap) {
    memset(b, 0, sizeof *b);
    size_t n = cap > 0 ? (size_t)cap : 1;
    b->token = malloc(n * sizeof *b->token);
    b->pos = malloc(n * sizeof *b->pos);
    b->seq = malloc(n * sizeof *b->seq);
    b->logits = malloc(n * sizeof *b->logits);
    if (!b->token || !b->pos || !b->seq || !b->logits) {
        batch_free(b);
        return false;
    }
    b->cap = cap;
    return true;
}

void batch_free(struct batch *b) {
    free(b->token);
    free(b->pos);
    free(b->seq);
    free(b->logits);
    memset(b, 0, sizeof *b);
}

bool batch_add(struct batch *b, int32_t token, int32_t pos, int32_t seq, bool logits) {
    if (b->n >= b->cap) return false;
    b->token[b->n] = token;
    b->pos[b->n] = pos;
    b->seq[b->n] = seq;
    b->logits[b->n] = logits;
    b->n++;
    return true;
}

bool batch_set_run(struct batch *b, const int32_t *tokens, int n, int32_t pos, int32_t seq,
                   bool all_logits) {
    if (n > b->cap) return false;
    b->n = 0;
    for (int i = 0; i < n; i++) batch_add(b, tokens[i], pos + i, seq, all_logits || i == n - 1);
    return true;
}
