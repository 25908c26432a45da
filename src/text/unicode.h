/*
 * unicode.h — the Unicode facts the tokenizer needs, without a regex library.
 *
 * Code point classes (category groups as in \p{L}, \p{N}, ... plus \s), the
 * simple lowercase and "first code point of NFD" maps (src/text/unicode_tables.c,
 * generated), a UTF-8 decoder with llama.cpp's error behaviour, GPT-2's
 * byte <-> code point mapping, and the pre-tokenizer splitters
 * (src/text/unicode_split.c): hand-written matchers equivalent to the regexes
 * llama.cpp applies for each `tokenizer.ggml.pre`.
 */
#ifndef EMBER_UNICODE_H
#define EMBER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Category group of a code point (exactly one bit for every code point below
 * 0x110000), plus UCP_SPACE for Unicode White_Space. */
enum unicode_flag {
    UCP_UNDEFINED = 0x001, /* unassigned (Cn) */
    UCP_NUMBER    = 0x002, /* \p{N} */
    UCP_LETTER    = 0x004, /* \p{L} */
    UCP_SEPARATOR = 0x008, /* \p{Z} */
    UCP_MARK      = 0x010, /* \p{M} */
    UCP_PUNCT     = 0x020, /* \p{P} */
    UCP_SYMBOL    = 0x040, /* \p{S} */
    UCP_CONTROL   = 0x080, /* \p{C} other than Cn */
    UCP_SPACE     = 0x100, /* \s (White_Space) */
};

/* Flags of cp; code points >= 0x110000 are UCP_UNDEFINED. */
unsigned unicode_flags(uint32_t cp);
/* Simple lowercase mapping; cp itself when it has none. */
uint32_t unicode_tolower(uint32_t cp);
/* First code point of cp's canonical decomposition; cp when it has none. */
uint32_t unicode_nfd_first(uint32_t cp);

/* Decode one code point from s[0..n), n >= 1, the way llama.cpp does: the
 * lead byte fixes the length, continuation bytes are checked, overlong forms
 * and surrogates are accepted as they decode. An invalid sequence, or one
 * decoding above U+10FFFF, yields U+FFFD and consumes one byte. *adv gets the
 * number of bytes consumed. */
uint32_t unicode_utf8_decode(const char *s, size_t n, size_t *adv);
/* Encode cp (<= 0x10FFFF) as UTF-8 into out; returns the length (1..4). */
size_t unicode_utf8_encode(uint32_t cp, char out[4]);
/* Bytes a UTF-8 sequence with this lead byte claims (1..4), from its top bits
 * alone (continuation and invalid bytes count as 1). */
size_t unicode_utf8_len(unsigned char lead);

/* GPT-2 byte-level BPE: the code point standing for byte b, and back
 * (-1 when cp stands for no byte). */
uint32_t unicode_byte_to_cp(uint8_t b);
int unicode_cp_to_byte(uint32_t cp);

/* Pre-tokenizers (the regex lists llama.cpp uses per tokenizer.ggml.pre). */
enum unicode_pre {
    UPRE_DEFAULT,
    UPRE_LLAMA3,
    UPRE_QWEN2,
    UPRE_QWEN35,
    UPRE_GPT2,
    UPRE_DEEPSEEK_LLM,
    UPRE_DEEPSEEK_CODER,
    UPRE_FALCON,
    UPRE_STARCODER,
    UPRE_BLOOM,   /* bloom, poro-chat, gpt3-finnish */
    UPRE_VIKING,
};

/* Split cps[0..n) into words; flags[i] must be unicode_flags(cps[i]).
 * lens (room for n entries) receives the length of each word in code points,
 * in order; they sum to n. scratch needs room for n entries too. Returns the
 * number of words. O(n) per regex stage. */
size_t unicode_split(enum unicode_pre pre, const uint32_t *cps,
                     const uint16_t *flags, size_t n, uint32_t *lens,
                     uint32_t *scratch);

/* ---- generated tables (src/text/unicode_tables.c) ---- */
struct unicode_lower_run {
    uint32_t first;  /* first code point of the run */
    uint16_t count;  /* code points in the run */
    uint8_t stride;  /* distance between them: 1 or 2 */
    int32_t delta;   /* lowercase = cp + delta */
};
struct unicode_nfd_run {
    uint32_t first, last, value; /* every cp in [first, last] maps to value */
};
extern const uint32_t unicode_flag_runs[];   /* start << 8 | flags, sorted */
extern const size_t unicode_flag_runs_len;
extern const struct unicode_lower_run unicode_lower_runs[];
extern const size_t unicode_lower_runs_len;
extern const struct unicode_nfd_run unicode_nfd_runs[];
extern const size_t unicode_nfd_runs_len;

#endif
