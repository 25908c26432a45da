/*
 * batch.h — the unit of work of model_decode: a list of tokens, each with
 * its position, its sequence and whether its logits are wanted (llama.cpp's
 * llama_batch). One batch may mix sequences; the prompt of one sequence is
 * simply its tokens at consecutive positions.
 */
#ifndef EMBER_BATCH_H
#define EMBER_BATCH_H

#include <stdbool.h>
#include <stdint.h>

struct batch {
    int n, cap;
    int32_t *token;
    int32_t *pos;
    int32_t *seq;
    bool *logits;  /* model_decode writes n_vocab logits for each row set */
    /* Each row computed to the same bits as when decoded alone, where the
     * backend offers it (backend.h set_rows_exact; the CPU does): what
     * speculative verification needs to equal plain decoding. Slower for
     * wide batches; batch_init clears it. */
    bool rows_exact;
};

/* Room for cap rows; false on out of memory (b is then empty but safe to
 * free). */
bool batch_init(struct batch *b, int cap);
void batch_free(struct batch *b);
/* Append one row; the caller keeps n below cap (returns false when full). */
bool batch_add(struct batch *b, int32_t token, int32_t pos, int32_t seq, bool logits);
/* Replace the contents by n tokens of one sequence at positions pos..,
 * with logits for all of them or only the last; false when n > cap. */
bool batch_set_run(struct batch *b, const int32_t *tokens, int n, int32_t pos, int32_t seq,
                   bool all_logits);

#endif
