/*
 * unicode_split.c — the pre-tokenizers: split text (as code points) into the
 * words that byte-level BPE then merges inside of.
 *
 * llama.cpp describes each pre-tokenizer as a list of regexes applied one
 * after the other: each regex cuts every current piece into its matches and
 * the gaps between them. Two of its regexes (GPT-2's and LLaMA-3's) it runs
 * through hand-written code; the others go through std::regex, either on a
 * "collapsed" text (every non-ASCII code point replaced by one byte naming
 * its category, when the regex uses \p{..}) or on the code points themselves
 * (non-ASCII White_Space replaced by U+000B, because std::wregex's \s knows
 * only ASCII). Here every regex is a small matcher written by hand that gives
 * the same leftmost-first (ECMAScript) match on those representations, so the
 * quirks carry over: in collapsed regexes \p{L} and \p{N} match only ASCII
 * letters and digits among code points below 128, and '~' is not \p{P}.
 * (Qwen2's regex went through std::regex in older llama.cpp and through a
 * hand-written splitter since; both give the same words, and this file uses
 * the hand-written form, shared with LLaMA-3's.)
 *
 * Sections: class predicates; the hand-written GPT-2 and LLaMA-3 splitters;
 * the matchers for the other regexes; the stage lists per pre-tokenizer.
 */
#include "unicode.h"

#include <stdbool.h>
#include <string.h>

#define OUT_OF_RANGE 0xFFFFFFFFu

/* One piece being split: code points and their flags in [beg, end). */
struct span {
    const uint32_t *cp;
    const uint16_t *fl;
    size_t beg, end;
};

static inline uint32_t C(const struct span *s, size_t i) {
    return i >= s->beg && i < s->end ? s->cp[i] : OUT_OF_RANGE;
}
static inline unsigned F(const struct span *s, size_t i) {
    return i >= s->beg && i < s->end ? s->fl[i] : 0;
}

/* Output of one stage: word lengths appended to out. */
struct sink {
    uint32_t *out;
    size_t n;
    size_t prev; /* end of the last word emitted */
};

static inline void emit_to(struct sink *k, size_t end) {
    if (end > k->prev) k->out[k->n++] = (uint32_t)(end - k->prev);
    k->prev = end;
}

/* ------------------------------------------------------------------------
 * Class predicates. The c_* ones are the regex classes as seen on the
 * collapsed text; w() is the code point as seen by std::wregex.
 * ---------------------------------------------------------------------- */

static inline bool ascii_space(uint32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D);
}
static inline bool c_space(uint32_t c, unsigned f) {
    return c < 0x80 ? ascii_space(c) : (f & UCP_SPACE) != 0;
}
/* category of a non-ASCII code point in the collapsed text, 0 for spaces */
static inline unsigned c_cat(unsigned f) {
    return (f & UCP_SPACE) ? 0 : (f & 0xFF);
}
static inline bool c_letter(uint32_t c, unsigned f) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return c != OUT_OF_RANGE && c_cat(f) == UCP_LETTER;
}
static inline bool c_number(uint32_t c, unsigned f) {
    if (c < 0x80) return c >= '0' && c <= '9';
    return c != OUT_OF_RANGE && c_cat(f) == UCP_NUMBER;
}
static inline bool c_punct(uint32_t c, unsigned f) {
    if (c < 0x80) return c != 0 && strchr("!\"#%&'()*,-./:;?@[\\]_{}", (int)c);
    return c != OUT_OF_RANGE && c_cat(f) == UCP_PUNCT;
}
static inline uint32_t w(uint32_t c, unsigned f) {
    return (c >= 0x80 && c != OUT_OF_RANGE && (f & UCP_SPACE)) ? 0x0B : c;
}
static inline bool is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }

/* ------------------------------------------------------------------------
 * llama.cpp's hand-written splitters (they use the full Unicode flags).
 * ---------------------------------------------------------------------- */

/* 's|'t|'re|'ve|'m|'ll|'d (case-folded when fold): length 0, 2 or 3 */
static size_t contraction(const struct span *s, size_t pos, bool fold) {
    if (C(s, pos) != '\'' || pos + 1 >= s->end) return 0;
    uint32_t a = C(s, pos + 1);
    if (fold) a = unicode_tolower(a);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= s->end) return 0;
    uint32_t b = C(s, pos + 2);
    if (fold) b = unicode_tolower(b);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
        (a == 'l' && b == 'l'))
        return 3;
    return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static void split_gpt2(const struct span *s, struct sink *k) {
    const unsigned LNS = UCP_LETTER | UCP_NUMBER | UCP_SPACE;
    size_t pos = s->beg;
    k->prev = s->beg;
    while (pos < s->end) {
        uint32_t c = C(s, pos);
        size_t m = contraction(s, pos, false);
        if (m) { pos += m; emit_to(k, pos); continue; }
        unsigned f2 = c == ' ' ? F(s, pos + 1) : F(s, pos);
        if (f2 & UCP_LETTER) {
            pos += c == ' ';
            while (F(s, pos) & UCP_LETTER) pos++;
            emit_to(k, pos);
            continue;
        }
        if (f2 & UCP_NUMBER) {
            pos += c == ' ';
            while (F(s, pos) & UCP_NUMBER) pos++;
            emit_to(k, pos);
            continue;
        }
        if (!(f2 & LNS) && f2) {
            pos += c == ' ';
            while (!(F(s, pos) & LNS) && F(s, pos)) pos++;
            emit_to(k, pos);
            continue;
        }
        size_t nws = 0;
        while (F(s, pos + nws) & UCP_SPACE) nws++;
        if (nws > 1 && pos + nws < s->end) pos += nws - 1; /* \s+(?!\S) */
        else if (nws > 0) pos += nws;                      /* \s+ */
        else pos++;                                        /* no match */
        emit_to(k, pos);
    }
}

/* LLaMA-3:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
 *   \p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * Qwen2 is the same with \p{N} for \p{N}{1,3}; Qwen3.5 also lets letter runs
 * take combining marks: [\p{L}\p{M}]+ and [^\s\p{L}\p{M}\p{N}]. */
static void split_llama3_like(const struct span *s, struct sink *k,
                              size_t max_digits, unsigned letter) {
    const unsigned LNS = letter | UCP_NUMBER | UCP_SPACE;
    size_t pos = s->beg;
    k->prev = s->beg;
    while (pos < s->end) {
        uint32_t c = C(s, pos);
        unsigned f = F(s, pos);
        size_t m = contraction(s, pos, true);
        if (m) { pos += m; emit_to(k, pos); continue; }
        if (!(is_crlf(c) || (f & UCP_NUMBER)) &&
            ((f & letter) || (F(s, pos + 1) & letter))) {
            pos++;
            while (F(s, pos) & letter) pos++;
            emit_to(k, pos);
            continue;
        }
        if (f & UCP_NUMBER) { /* digits in groups of at most max_digits */
            size_t ini = pos;
            while (F(s, pos) & UCP_NUMBER) {
                if (++pos - ini >= max_digits) { emit_to(k, pos); ini = pos; }
            }
            emit_to(k, pos);
            continue;
        }
        unsigned f2 = c == ' ' ? F(s, pos + 1) : f;
        if (!(f2 & LNS) && f) {
            pos += c == ' ';
            while (!(F(s, pos) & LNS) && F(s, pos)) pos++;
            while (is_crlf(C(s, pos))) pos++;
            emit_to(k, pos);
            continue;
        }
        size_t nws = 0, last_crlf = 0;
        while (F(s, pos + nws) & UCP_SPACE) {
            if (is_crlf(C(s, pos + nws))) last_crlf = pos + nws + 1;
            nws++;
        }
        if (last_crlf) pos = last_crlf;                      /* \s*[\r\n]+ */
        else if (nws > 1 && pos + nws < s->end) pos += nws - 1; /* \s+(?!\S) */
        else if (nws > 0) pos += nws;                        /* \s+ */
        else pos++;
        emit_to(k, pos);
    }
}

/* ------------------------------------------------------------------------
 * Matchers for the regexes llama.cpp runs through std::regex. Each returns
 * the length of the leftmost-first match starting exactly at pos, 0 if none;
 * none of these regexes can match the empty string.
 * ---------------------------------------------------------------------- */

typedef size_t (*matcher)(const struct span *s, size_t pos);

#define CP(i) C(s, i)
#define FL(i) F(s, i)

/* \p{N} and \p{N}+ (collapsed) */
static size_t m_num1(const struct span *s, size_t pos) {
    return c_number(CP(pos), FL(pos)) ? 1 : 0;
}
static size_t m_nums(const struct span *s, size_t pos) {
    size_t q = pos;
    while (c_number(CP(q), FL(q))) q++;
    return q - pos;
}

/* [0-9][0-9][0-9] (code points) */
static size_t m_digit3(const struct span *s, size_t pos) {
    for (size_t i = 0; i < 3; i++) {
        uint32_t c = CP(pos + i);
        if (c < '0' || c > '9') return 0;
    }
    return 3;
}

/* [\p{P}\$\+<=>\^~\|]+ (default) and the same with ` (falcon) */
static size_t punct_run(const struct span *s, size_t pos, const char *extra) {
    size_t q = pos;
    for (;; q++) {
        uint32_t c = CP(q);
        if (c_punct(c, FL(q))) continue;
        if (c != 0 && c < 0x80 && strchr(extra, (int)c)) continue;
        break;
    }
    return q - pos;
}
static size_t m_punct_default(const struct span *s, size_t pos) {
    return punct_run(s, pos, "$+<=>^~|");
}
static size_t m_punct_falcon(const struct span *s, size_t pos) {
    return punct_run(s, pos, "$+<=>^~|`");
}

/* [\r\n] */
static size_t m_crlf(const struct span *s, size_t pos) {
    return is_crlf(CP(pos)) ? 1 : 0;
}

/* \s?X+ for a class X that contains no white space */
static size_t opt_space_run(const struct span *s, size_t pos,
                            bool (*x)(uint32_t c, unsigned f)) {
    size_t q = pos;
    if (c_space(CP(q), FL(q)) && x(CP(q + 1), FL(q + 1))) q++;
    if (!x(CP(q), FL(q))) return 0;
    while (x(CP(q), FL(q))) q++;
    return q - pos;
}

struct cp_range { uint32_t lo, hi; };

static bool in_ranges(uint32_t c, const struct cp_range *r, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (c >= r[i].lo && c <= r[i].hi) return true;
    return false;
}

/* The letter class of DeepSeek-LLM's second regex, as written there. */
static const struct cp_range ds_letters[] = {
    {0x41,0x5A}, {0x61,0x7A}, {0xB5,0xB5}, {0xC0,0xD6}, {0xD8,0xF6},
    {0xF8,0x1BA}, {0x1BC,0x1BF}, {0x1C4,0x293}, {0x295,0x2AF},
    {0x370,0x373}, {0x376,0x377}, {0x37B,0x37D}, {0x37F,0x37F},
    {0x386,0x386}, {0x388,0x38A}, {0x38C,0x38C}, {0x38E,0x3A1},
    {0x3A3,0x3F5}, {0x3F7,0x481}, {0x48A,0x52F}, {0x531,0x556},
    {0x10A0,0x10C5}, {0x13A0,0x13F5}, {0x13F8,0x13FD}, {0x1C90,0x1CBA},
    {0x1CBD,0x1CBF}, {0x1D00,0x1D2B}, {0x1D6B,0x1D77}, {0x1D79,0x1D9A},
    {0x1E00,0x1F15}, {0x1F18,0x1F1D}, {0x1F20,0x1F45}, {0x1F48,0x1F4D},
    {0x1F50,0x1F57}, {0x1F59,0x1F59}, {0x1F5B,0x1F5B}, {0x1F5D,0x1F5D},
    {0x1F5F,0x1F7D}, {0x1F80,0x1FB4}, {0x1FB6,0x1FBC}, {0x1FBE,0x1FBE},
    {0x1FC2,0x1FC4}, {0x1FC6,0x1FCC}, {0x1FD0,0x1FD3}, {0x1FD6,0x1FDB},
    {0x1FE0,0x1FEC}, {0x1FF2,0x1FF4}, {0x1FF6,0x1FFC}, {0x2102,0x2102},
    {0x2107,0x2107}, {0x210A,0x2113}, {0x2115,0x2115}, {0x2119,0x211D},
    {0x2124,0x2124}, {0x2126,0x2126}, {0x2128,0x2128}, {0x212A,0x212D},
    {0x212F,0x2134}, {0x2139,0x2139}, {0x213C,0x213F}, {0x2145,0x2149},
    {0x214E,0x214E}, {0x2183,0x2184}, {0x2C00,0x2C7B}, {0x2C7E,0x2CE4},
    {0x2CEB,0x2CEE}, {0x2CF2,0x2CF3}, {0xA640,0xA66D}, {0xA680,0xA69B},
    {0xA722,0xA76F}, {0xA771,0xA787}, {0xA78B,0xA78E}, {0xAB70,0xABBF},
    {0xFB00,0xFB06}, {0xFB13,0xFB17}, {0xFF21,0xFF3A}, {0xFF41,0xFF5A},
    {0x10400,0x1044F}, {0x104B0,0x104D3}, {0x104D8,0x104FB},
    {0x10C80,0x10CB2}, {0x10CC0,0x10CF2}, {0x118A0,0x118DF},
    {0x1E900,0x1E943},
};
/* [!-/:-~！-／：-～‘-‟　-。] */
static const struct cp_range ds_punct[] = {
    {0x21,0x2F}, {0x3A,0x7E}, {0xFF01,0xFF0F}, {0xFF1A,0xFF5E},
    {0x2018,0x201F}, {0x3000,0x3002},
};
/* [一-龥ࠀ-一가-퟿] */
static const struct cp_range ds_cjk[] = {
    {0x4E00,0x9FA5}, {0x0800,0x4E00}, {0xAC00,0xD7FF},
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool x_ds_letter(uint32_t c, unsigned f) {
    return in_ranges(w(c, f), ds_letters, N_OF(ds_letters));
}
static bool x_ds_punct(uint32_t c, unsigned f) {
    return in_ranges(w(c, f), ds_punct, N_OF(ds_punct));
}
static bool x_letter(uint32_t c, unsigned f) { return c_letter(c, f); }
static bool x_punct(uint32_t c, unsigned f) { return c_punct(c, f); }

static size_t m_ds_letters(const struct span *s, size_t pos) {
    return opt_space_run(s, pos, x_ds_letter);
}
static size_t m_ds_punct(const struct span *s, size_t pos) {
    return opt_space_run(s, pos, x_ds_punct);
}
static size_t m_space_letters(const struct span *s, size_t pos) {
    return opt_space_run(s, pos, x_letter);
}
static size_t m_space_punct(const struct span *s, size_t pos) {
    return opt_space_run(s, pos, x_punct);
}

/* \s+$ : the white space that runs to the end of the piece */
static size_t m_trailing_space(const struct span *s, size_t pos) {
    size_t q = pos;
    while (q < s->end && c_space(CP(q), FL(q))) q++;
    return (q > pos && q == s->end) ? q - pos : 0;
}

static size_t m_cjk(const struct span *s, size_t pos) {
    size_t q = pos;
    while (q < s->end && in_ranges(w(CP(q), FL(q)), ds_cjk, N_OF(ds_cjk))) q++;
    return q - pos;
}

/*  ?[^(\s|.,!?…。，、।۔،)]+  (BLOOM, Poro, Viking) */
static bool x_bloom(uint32_t c, unsigned f) {
    static const uint32_t no[] = {'(', '|', '.', ',', '!', '?', ')', 0x2026,
                                  0x3002, 0xFF0C, 0x3001, 0x0964, 0x06D4,
                                  0x060C};
    if (c == OUT_OF_RANGE || c_space(c, f)) return false;
    c = w(c, f);
    for (size_t i = 0; i < N_OF(no); i++)
        if (c == no[i]) return false;
    return true;
}
static size_t m_bloom(const struct span *s, size_t pos) {
    size_t q = pos;
    if (CP(q) == ' ' && x_bloom(CP(q + 1), FL(q + 1))) q++;
    if (!x_bloom(CP(q), FL(q))) return 0;
    while (x_bloom(CP(q), FL(q))) q++;
    return q - pos;
}

/* Cut [beg, end) into matches of m and the gaps between them. */
static void split_regex(const struct span *s, struct sink *k, matcher m) {
    size_t pos = s->beg;
    k->prev = s->beg;
    while (pos < s->end) {
        size_t len = m(s, pos);
        if (len) {
            emit_to(k, pos);       /* the gap before, if any */
            emit_to(k, pos + len);
            pos += len;
        } else {
            pos++;
        }
    }
    emit_to(k, s->end);
}

/* ------------------------------------------------------------------------
 * Stage lists
 * ---------------------------------------------------------------------- */

enum stage {
    ST_END, ST_GPT2, ST_LLAMA3, ST_QWEN2, ST_QWEN35, ST_NUM1, ST_NUMS, ST_DIGIT3,
    ST_PUNCT_DEFAULT, ST_PUNCT_FALCON, ST_CRLF, ST_DS_LETTERS, ST_DS_PUNCT,
    ST_TRAIL_SPACE, ST_CJK, ST_SPACE_LETTERS, ST_SPACE_PUNCT, ST_BLOOM,
};

static const matcher stage_matcher[] = {
    [ST_NUM1] = m_num1, [ST_NUMS] = m_nums,
    [ST_DIGIT3] = m_digit3, [ST_PUNCT_DEFAULT] = m_punct_default,
    [ST_PUNCT_FALCON] = m_punct_falcon, [ST_CRLF] = m_crlf,
    [ST_DS_LETTERS] = m_ds_letters, [ST_DS_PUNCT] = m_ds_punct,
    [ST_TRAIL_SPACE] = m_trailing_space, [ST_CJK] = m_cjk,
    [ST_SPACE_LETTERS] = m_space_letters, [ST_SPACE_PUNCT] = m_space_punct,
    [ST_BLOOM] = m_bloom,
};

static const uint8_t *stages_of(enum unicode_pre pre) {
    static const uint8_t def[] = {ST_PUNCT_DEFAULT, ST_GPT2, ST_NUMS,
                                  ST_DIGIT3, ST_END};
    static const uint8_t llama3[] = {ST_LLAMA3, ST_END};
    static const uint8_t qwen2[] = {ST_QWEN2, ST_END};
    static const uint8_t qwen35[] = {ST_QWEN35, ST_END};
    static const uint8_t gpt2[] = {ST_GPT2, ST_END};
    static const uint8_t ds_llm[] = {ST_CRLF, ST_DS_LETTERS, ST_DS_PUNCT,
                                     ST_TRAIL_SPACE, ST_CJK, ST_NUMS, ST_END};
    static const uint8_t ds_coder[] = {ST_CRLF, ST_SPACE_LETTERS,
                                       ST_SPACE_PUNCT, ST_CJK, ST_NUM1,
                                       ST_END};
    static const uint8_t falcon[] = {ST_PUNCT_FALCON, ST_GPT2, ST_DIGIT3,
                                     ST_END};
    static const uint8_t starcoder[] = {ST_NUM1, ST_GPT2, ST_END};
    static const uint8_t bloom[] = {ST_BLOOM, ST_END};
    static const uint8_t viking[] = {ST_BLOOM, ST_NUM1, ST_END};
    switch (pre) {
    case UPRE_LLAMA3: return llama3;
    case UPRE_QWEN2: return qwen2;
    case UPRE_QWEN35: return qwen35;
    case UPRE_GPT2: return gpt2;
    case UPRE_DEEPSEEK_LLM: return ds_llm;
    case UPRE_DEEPSEEK_CODER: return ds_coder;
    case UPRE_FALCON: return falcon;
    case UPRE_STARCODER: return starcoder;
    case UPRE_BLOOM: return bloom;
    case UPRE_VIKING: return viking;
    case UPRE_DEFAULT: break;
    }
    return def;
}

size_t unicode_split(enum unicode_pre pre, const uint32_t *cps,
                     const uint16_t *flags, size_t n, uint32_t *lens,
                     uint32_t *scratch) {
    if (n == 0) return 0;
    /* pieces live in `cur`; each stage writes the finer cut to `next` */
    uint32_t *cur = lens, *next = scratch;
    size_t n_cur = 1;
    const uint8_t *st = stages_of(pre);
    size_t n_stages = 0;
    while (st[n_stages] != ST_END) n_stages++;
    /* make the last stage write into lens */
    if (n_stages % 2 == 1) { cur = scratch; next = lens; }
    cur[0] = (uint32_t)n;
    for (size_t i = 0; i < n_stages; i++) {
        struct sink k = {next, 0, 0};
        size_t beg = 0;
        for (size_t j = 0; j < n_cur; j++) {
            struct span s = {cps, flags, beg, beg + cur[j]};
            switch (st[i]) {
            case ST_GPT2: split_gpt2(&s, &k); break;
            case ST_LLAMA3: split_llama3_like(&s, &k, 3, UCP_LETTER); break;
            case ST_QWEN2: split_llama3_like(&s, &k, 1, UCP_LETTER); break;
            case ST_QWEN35:
                split_llama3_like(&s, &k, 1, UCP_LETTER | UCP_MARK);
                break;
            default: split_regex(&s, &k, stage_matcher[st[i]]); break;
            }
            beg += cur[j];
        }
        uint32_t *t = cur; cur = next; next = t;
        n_cur = k.n;
    }
    return n_cur;
}
