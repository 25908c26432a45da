/*
 * tokenizer.h — text <-> token ids, built from a GGUF file's tokenizer.ggml.*
 * metadata or a Hugging Face tokenizer.json, behaving like llama.cpp's
 * tokenizer.
 *
 * Three vocabulary kinds: "llama" (SentencePiece: score-driven merging, byte
 * fallback), "gpt2" (byte-level BPE with merge ranks and the pre-tokenizer
 * named by tokenizer.ggml.pre) and "bert" (WordPiece). The tokenizer copies
 * what it needs, so the file may be closed after loading.
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

/* A vocabulary as plain arrays, borrowed for the call: what every loader
 * below fills and tokenizer_new builds from. Start from tokenizer_spec_init
 * (every id and flag absent). */
struct tok_bytes {
    const char *p; /* not NUL-terminated; NULL: absent */
    size_t len;
};
enum tok_special_id {
    TOK_BOS, TOK_EOS, TOK_EOT, TOK_EOM, TOK_UNK, TOK_SEP, TOK_PAD,
    TOK_FIM_PRE, TOK_FIM_SUF, TOK_FIM_MID, TOK_FIM_PAD, TOK_FIM_REP,
    TOK_FIM_SEP, TOK_N_SPECIAL
};
enum tok_flag {
    TOKF_ADD_BOS, TOKF_ADD_EOS, TOKF_ADD_SPACE_PREFIX, TOKF_IGNORE_MERGES,
    TOKF_LOWERCASE, TOKF_STRIP_ACCENTS, TOKF_N
};
struct tokenizer_spec {
    struct tok_bytes model;      /* "llama" (SentencePiece), "gpt2" (byte-level
                                    BPE) or "bert" (WordPiece) */
    struct tok_bytes pre;        /* the pre-tokenizer's name (gpt2 splits by it;
                                    others only read per-model rules); absent:
                                    default */
    struct tok_bytes name, arch; /* the model's, for per-model rules; may be absent */
    uint64_t n_vocab;
    const struct tok_bytes *tokens; /* [n_vocab] token texts */
    const float *scores;         /* [n_vocab] or NULL */
    const int32_t *types;        /* [n_vocab] llama.cpp's token types (1 normal,
                                    2 unknown, 3 control, 4 user-defined,
                                    5 unused, 6 byte) or NULL */
    const struct tok_bytes *merges; /* [n_merges] "left right" by rank, or NULL;
                                    required by gpt2; with llama they replace
                                    the scores (Hugging Face's BPE with byte
                                    fallback merges by rank) */
    uint64_t n_merges;
    int64_t special[TOK_N_SPECIAL]; /* an id; negative or out of range: the
                                       model kind's default */
    int8_t flags[TOKF_N];        /* 0, 1, or -1: the model kind's default */
    bool kind_from_format;       /* model was derived from the vocabulary's own
                                    format (tokenizer.json), not read from a
                                    label that may lie: no SentencePiece or
                                    WordPiece look checked */
};
void tokenizer_spec_init(struct tokenizer_spec *sp);

/* Build from a vocabulary. EMBER_ECORRUPT for an inconsistent one (duplicate
 * texts, malformed byte tokens, gpt2 without merges), EMBER_EUNSUPPORTED for
 * a model kind or pre-tokenizer ember does not implement. Copies what it
 * needs. On failure *out is NULL. */
enum ember_status tokenizer_new(const struct tokenizer_spec *sp,
                                struct tokenizer **out,
                                struct ember_err *err);

/* From the tokenizer.ggml.* metadata of f (tokenizer_gguf.c): also
 * EMBER_ECORRUPT for metadata of the wrong type or length. */
enum ember_status tokenizer_load(const struct gguf_file *f,
                                 struct tokenizer **out,
                                 struct ember_err *err);

/* From a Hugging Face tokenizer.json (json[0..len), tokenizer_hf.c): a BPE
 * model, byte-level (GPT-2, Qwen, Llama 3) or SentencePiece-style (the "▁"
 * normalizer or Metaspace, byte fallback), with its added tokens. Special
 * ids and flags already set in *defaults (from tokenizer_config.json and
 * friends) win over what the file implies; bos_text/eos_text name tokens by
 * text. hints may be NULL. EMBER_EUNSUPPORTED, naming the field, for models, normalizers and
 * pre-tokenizer regexes ember does not implement. */
struct tokenizer_hf_hints {
    int64_t bos, eos;           /* ids, -1: unknown */
    const char *bos_text, *eos_text; /* or NULL */
    int add_bos, add_eos;       /* -1: unknown */
    int64_t n_vocab;            /* pad the vocabulary with unused "[PAD<id>]"
                                   tokens up to this many (the embedding's
                                   rows); 0: no padding */
};
enum ember_status tokenizer_load_hf(const char *json, size_t len,
                                    const struct tokenizer_hf_hints *hints,
                                    struct tokenizer **out,
                                    struct ember_err *err);
/* The vocabulary tokenizer_load_hf builds from, as a spec (tokenizer.json's
 * texts, kept alive by v), for writing it elsewhere (ember convert): the
 * same reading and the same errors, without tokenizer_new's checks. */
struct tokenizer_hf_vocab;
enum ember_status tokenizer_hf_read(const char *json, size_t len,
                                    const struct tokenizer_hf_hints *hints,
                                    struct tokenizer_hf_vocab **out,
                                    struct ember_err *err);
const struct tokenizer_spec *tokenizer_hf_spec(const struct tokenizer_hf_vocab *v);
void tokenizer_hf_vocab_free(struct tokenizer_hf_vocab *v);
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
