/*
 * tokenizer.h — text <-> token ids, built from a GGUF file's tokenizer.ggml.*
 * metadata, behaving like llama.cpp's tokenizer.
 *
 * Three vocabulary kinds: "llama" (SentencePiece: score-driven merging, byte
 * fallback), "gpt2" (byte-level BPE with merge ranks and the pre-tokenizer
 * named by tokenizer.ggml.pre) and "bert" (WordPiece). The tokenizer copies
 * what it needs, so the gguf_file may be closed after tokenizer_load().
 * A loaded tokenizer is read-only: any number of threads may use it at once.
 */
#ifndef EMBER_TOKENIZER_H
#define EMBER_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "gguf.h"

struct tokenizer;

/* Build from the metadata of f. EMBER_ECORRUPT for malformed or inconsistent
 * metadata, EMBER_EUNSUPPORTED for a tokenizer model or pre-tokenizer ember
 * does not implement. On failure *out is NULL. */
enum ember_status tokenizer_load(const struct gguf_file *f,
                                 struct tokenizer **out,
                                 struct ember_err *err);
void tokenizer_free(struct tokenizer *t);

int32_t tokenizer_n_vocab(const struct tokenizer *t);
int32_t tokenizer_bos(const struct tokenizer *t); /* -1 when absent */
int32_t tokenizer_eos(const struct tokenizer *t); /* -1 when absent */
bool tokenizer_add_bos(const struct tokenizer *t);
/* End of generation: eos, eot, eom and the end-of-turn tokens found by text
 * (<|im_end|>, <|eot_id|>, <end_of_turn>, <|endoftext|>, ...). */
bool tokenizer_is_eog(const struct tokenizer *t, int32_t id);
/* Control or unknown token: its text is not shown when generating. */
bool tokenizer_is_control(const struct tokenizer *t, int32_t id);

/* Tokenize text[0..len) (any bytes). add_special adds BOS/EOS (CLS/SEP for
 * bert) as the vocabulary asks; parse_special turns the text of control
 * tokens (<|im_start|>, <s>, ...) into their ids; user-defined tokens are
 * always matched. *ids (malloc'd, caller frees; NULL when *n is 0) gets *n
 * ids. Fails only with EMBER_ENOMEM, or EMBER_EINVAL for len >= 2^30. Work
 * is about O(len log len) plus a scan per special token. */
enum ember_status tokenizer_encode(const struct tokenizer *t, const char *text,
                                   size_t len, bool add_special,
                                   bool parse_special, int32_t **ids,
                                   size_t *n, struct ember_err *err);

/* The bytes token id stands for (control tokens give their text), borrowed
 * from t; NULL for an id out of range. Not NUL-terminated. */
const char *tokenizer_piece(const struct tokenizer *t, int32_t id,
                            size_t *len);
/* The longest piece, so a buffer of this + 4 bytes fits any stream push. */
size_t tokenizer_max_piece(const struct tokenizer *t);

/* Whole-sequence detokenization as llama.cpp's llama_detokenize(remove_special
 * = false): SentencePiece's leading space is dropped, control tokens appear
 * only when render_special, and BPE/WordPiece clean up spaces before
 * punctuation. *out is malloc'd and NUL-terminated, *len excludes the NUL. */
enum ember_status tokenizer_decode(const struct tokenizer *t,
                                   const int32_t *ids, size_t n,
                                   bool render_special, char **out,
                                   size_t *len, struct ember_err *err);

/* Streaming decode for generation: emits only complete UTF-8 sequences,
 * holding back a sequence split across tokens; control tokens emit nothing.
 * Zero-initialize (or tok_stream_init) before the first push. */
struct tok_stream {
    unsigned char pending[4];
    uint8_t n_pending;
};
static inline void tok_stream_init(struct tok_stream *s) { s->n_pending = 0; }

/* Append the text of id to the stream. Returns the number of bytes that are
 * ready; when that is more than cap, nothing is written and the stream is
 * unchanged (call again with a bigger buffer). Ids out of range emit
 * nothing. */
size_t tokenizer_stream_push(const struct tokenizer *t, struct tok_stream *s,
                             int32_t id, char *out, size_t cap);
/* Emit whatever is held back (an incomplete sequence, as raw bytes) and
 * reset the stream. Writes at most 3 bytes; returns the count. */
size_t tokenizer_stream_flush(struct tok_stream *s, char *out, size_t cap);

#endif
