/*
 * unicode.c — lookups over the generated tables (category flags, lowercase,
 * NFD first code point), UTF-8 decoding and encoding with llama.cpp's error
 * behaviour, and GPT-2's byte <-> code point mapping. The splitters that use
 * these live in unicode_split.c.
 */
#include "unicode.h"

#include <stdbool.h>

/* White_Space (PropList.txt): few enough to test directly. */
static bool is_white_space(uint32_t cp) {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return false;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

unsigned unicode_flags(uint32_t cp) {
    if (cp >= 0x110000) return UCP_UNDEFINED;
    /* last run whose start <= cp; the first run starts at 0 */
    size_t lo = 0, hi = unicode_flag_runs_len;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((unicode_flag_runs[mid] >> 8) <= cp) lo = mid;
        else hi = mid;
    }
    unsigned f = unicode_flag_runs[lo] & 0xFF;
    return is_white_space(cp) ? (f | UCP_SPACE) : f;
}

uint32_t unicode_tolower(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    size_t lo = 0, hi = unicode_lower_runs_len;
    while (lo < hi) { /* first run with first > cp */
        size_t mid = lo + (hi - lo) / 2;
        if (unicode_lower_runs[mid].first <= cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return cp;
    const struct unicode_lower_run *r = &unicode_lower_runs[lo - 1];
    uint32_t off = cp - r->first;
    if (off % r->stride != 0 || off / r->stride >= r->count) return cp;
    return (uint32_t)((int32_t)cp + r->delta);
}

uint32_t unicode_nfd_first(uint32_t cp) {
    size_t lo = 0, hi = unicode_nfd_runs_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (unicode_nfd_runs[mid].first <= cp) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return cp;
    const struct unicode_nfd_run *r = &unicode_nfd_runs[lo - 1];
    return cp <= r->last ? r->value : cp;
}

size_t unicode_utf8_len(unsigned char lead) {
    static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                    1, 1, 1, 1, 2, 2, 3, 4};
    return len[lead >> 4];
}

uint32_t unicode_utf8_decode(const char *s, size_t n, size_t *adv) {
    const unsigned char *u = (const unsigned char *)s;
    unsigned char b = u[0];
    size_t need;
    uint32_t cp;
    if (b < 0x80) { *adv = 1; return b; }
    if (!(b & 0x40)) goto bad;           /* stray continuation byte */
    if (!(b & 0x20)) { need = 2; cp = b & 0x1F; }
    else if (!(b & 0x10)) { need = 3; cp = b & 0x0F; }
    else if (!(b & 0x08)) { need = 4; cp = b & 0x07; }
    else goto bad;
    if (need > n) goto bad;
    for (size_t i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) goto bad;
        cp = cp << 6 | (u[i] & 0x3F);
    }
    if (cp > 0x10FFFF) goto bad;         /* llama.cpp would throw here */
    *adv = need;
    return cp;
bad:
    *adv = 1;
    return 0xFFFD;
}

size_t unicode_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18 & 0x07));
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Bytes that are printable Latin-1 stand for themselves; the other 68 are
 * numbered from U+0100 upwards in byte order (GPT-2's bytes_to_unicode). */
static bool byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
           (b >= 0xAE && b <= 0xFF);
}

uint32_t unicode_byte_to_cp(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 0x100 + b;                /* 0x00..0x20: 33 bytes */
    if (b <= 0xA0) return 0x100 + 33 + (b - 0x7F);  /* 0x7F..0xA0: 34 bytes */
    return 0x100 + 67;                              /* 0xAD */
}

int unicode_cp_to_byte(uint32_t cp) {
    if (cp < 0x100) return byte_is_printable(cp) ? (int)cp : -1;
    uint32_t n = cp - 0x100;
    if (n < 33) return (int)n;
    if (n < 67) return (int)(0x7F + n - 33);
    return n == 67 ? 0xAD : -1;
}
