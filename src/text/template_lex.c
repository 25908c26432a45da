/*
 * template_lex.c — template source to tokens, as jinja2's lexer does it
 * with the options Hugging Face uses (trim_blocks, lstrip_blocks, no
 * keep_trailing_newline). The whitespace rules, which decide the output
 * byte for byte:
 *   - newlines (\r\n, \r, \n) become \n and one trailing newline of the
 *     source is dropped;
 *   - `{%-`, `{{-`, `{#-` strip all whitespace before the tag, `-%}`,
 *     `-}}`, `-#}` all whitespace after it;
 *   - trim_blocks: a block or comment end (`%}`, `#}`) eats one newline;
 *   - lstrip_blocks: spaces and tabs between a line start and `{%` or `{#`
 *     are dropped (not before `{{`, not with `{%+`); "line start" includes
 *     the position right after a tag that ended with a newline.
 * Inside tags: names, strings (Python escapes), integers, floats and
 * operators, with brackets balanced before an end tag counts. Sections:
 *   - cursor and token output
 *   - literals (strings, numbers)
 *   - inside a tag
 *   - text between tags, comments, raw blocks
 */
#include <stdlib.h>
#include <string.h>

#include "template_impl.h"
#include "unicode.h"

struct lexer {
    const char *s;
    size_t n, pos;
    int line;       /* of pos */
    size_t line_pos;
    bool line_starting;
    struct tokens *out;
    struct ember_err *err;
};

/* ------------------------------------------------ cursor and token output */

static int line_at(struct lexer *lx, size_t pos) {
    for (; lx->line_pos < pos; lx->line_pos++)
        if (lx->s[lx->line_pos] == '\n') lx->line++;
    return lx->line;
}

static enum ember_status lex_fail(struct lexer *lx, size_t pos, const char *what) {
    return ember_fail(lx->err, EMBER_EINVAL, "template line %d: %s", line_at(lx, pos), what);
}

static struct token *emit(struct lexer *lx, enum tok_kind kind, size_t pos) {
    struct tokens *t = lx->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        struct token *v = realloc(t->v, cap * sizeof *v);
        if (!v) return NULL;
        t->v = v;
        t->cap = cap;
    }
    struct token *k = &t->v[t->n++];
    memset(k, 0, sizeof *k);
    k->kind = (uint8_t)kind;
    k->line = line_at(lx, pos);
    return k;
}

static enum ember_status oom(struct lexer *lx) {
    return ember_fail(lx->err, EMBER_ENOMEM, "template: out of memory");
}

/* Keep a decoded string alive as long as the token list. */
static enum ember_status own(struct lexer *lx, char *s) {
    struct tokens *t = lx->out;
    if (t->n_strs == t->cap_strs) {
        size_t cap = t->cap_strs ? 2 * t->cap_strs : 64;
        char **v = realloc(t->strs, cap * sizeof *v);
        if (!v) {
            free(s);
            return oom(lx);
        }
        t->strs = v;
        t->cap_strs = cap;
    }
    t->strs[t->n_strs++] = s;
    return EMBER_OK;
}

static bool at(const struct lexer *lx, size_t pos, const char *lit) {
    size_t k = strlen(lit);
    return lx->n - pos >= k && !memcmp(lx->s + pos, lit, k);
}

/* Skip Python whitespace (\s) from pos; returns the new position. */
static size_t skip_space(const struct lexer *lx, size_t pos) {
    size_t adv;
    while (pos < lx->n && py_space_at(lx->s + pos, lx->n - pos, &adv)) pos += adv;
    return pos;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_name0(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* ------------------------------------------------------------- literals */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One escape of Python's unicode-escape codec at s[*i] (after the
 * backslash); writes its UTF-8 to o, returns the byte count, or -1 for a
 * malformed \x, \u or \U escape. Unknown escapes stay as written. */
static int unescape_one(const char *s, size_t n, size_t *i, char *o) {
    static const char from[] = "\\'\"abfnrtv", to[] = "\\'\"\a\b\f\n\r\t\v";
    char c = s[*i];
    const char *k = strchr(from, c);
    if (c && k) {
        (*i)++;
        o[0] = to[k - from];
        return 1;
    }
    if (c == '\n') { /* a backslash-newline continues the line */
        (*i)++;
        return 0;
    }
    uint32_t cp = 0;
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (digits) {
        if (n - *i <= (size_t)digits) return -1;
        for (int d = 1; d <= digits; d++) {
            int h = hexval(s[*i + (size_t)d]);
            if (h < 0) return -1;
            cp = cp * 16 + (uint32_t)h;
        }
        *i += (size_t)digits + 1;
    } else if (c >= '0' && c <= '7') {
        for (int d = 0; d < 3 && *i < n && s[*i] >= '0' && s[*i] <= '7'; d++)
            cp = cp * 8 + (uint32_t)(s[(*i)++] - '0');
    } else {
        o[0] = '\\'; /* unknown: kept, the character follows as text */
        return 1;
    }
    if (cp > 0x10ffff) return -1;
    return (int)unicode_utf8_encode(cp, o);
}

static enum ember_status lex_string(struct lexer *lx) {
    size_t start = lx->pos;
    char q = lx->s[lx->pos];
    size_t end = start + 1;
    while (end < lx->n && lx->s[end] != q) end += lx->s[end] == '\\' ? 2 : 1;
    if (end >= lx->n) return lex_fail(lx, start, "unterminated string");
    const char *body = lx->s + start + 1;
    size_t blen = end - start - 1;
    char *buf = malloc(blen + 1);
    if (!buf) return oom(lx);
    size_t o = 0;
    for (size_t i = 0; i < blen;) {
        if (body[i] != '\\') {
            buf[o++] = body[i++];
            continue;
        }
        i++;
        int k = unescape_one(body, blen, &i, buf + o);
        if (k < 0) {
            free(buf);
            return lex_fail(lx, start, "malformed escape in string");
        }
        o += (size_t)k;
    }
    buf[o] = '\0';
    TRY(own(lx, buf));
    struct token *t = emit(lx, TK_STRING, start);
    if (!t) return oom(lx);
    t->s = buf;
    t->len = o;
    lx->pos = end + 1;
    return EMBER_OK;
}

/* Digits with single underscores between them, from pos; the end. */
static size_t digit_run(const struct lexer *lx, size_t pos, int base) {
    size_t p = pos;
    while (p < lx->n) {
        int h = hexval(lx->s[p]), next = p + 1 < lx->n ? hexval(lx->s[p + 1]) : -1;
        bool digit = h >= 0 && h < base;
        bool sep = lx->s[p] == '_' && p > pos && next >= 0 && next < base; /* 1_000 */
        if (!digit && !sep) break;
        p++;
    }
    return p;
}

/* The end of a float literal at pos, or 0 when there is none there. */
static size_t float_end(const struct lexer *lx, size_t pos) {
    size_t p = digit_run(lx, pos, 10);
    if (p == pos) return 0;
    bool frac = false;
    if (p < lx->n && lx->s[p] == '.' && p + 1 < lx->n && is_digit(lx->s[p + 1])) {
        p = digit_run(lx, p + 1, 10);
        frac = true;
    }
    if (p < lx->n && (lx->s[p] == 'e' || lx->s[p] == 'E')) {
        size_t q = p + 1;
        if (q < lx->n && (lx->s[q] == '+' || lx->s[q] == '-')) q++;
        size_t r = digit_run(lx, q, 10);
        if (r > q) return r;
    }
    return frac ? p : 0;
}

static enum ember_status lex_number(struct lexer *lx) {
    size_t start = lx->pos, fe = float_end(lx, start);
    char buf[128];
    if (fe) {
        size_t k = 0;
        for (size_t i = start; i < fe && k + 1 < sizeof buf; i++)
            if (lx->s[i] != '_') buf[k++] = lx->s[i];
        buf[k] = '\0';
        struct token *t = emit(lx, TK_FLOAT, start);
        if (!t) return oom(lx);
        t->f = strtod(buf, NULL);
        lx->pos = fe;
        return EMBER_OK;
    }
    int base = 10;
    size_t p = start;
    if (lx->s[p] == '0' && p + 1 < lx->n) {
        char x = (char)(lx->s[p + 1] | 0x20);
        base = x == 'x' ? 16 : x == 'o' ? 8 : x == 'b' ? 2 : 10;
        if (base != 10) p += 2;
    }
    size_t end = digit_run(lx, p, base);
    if (end == p) return lex_fail(lx, start, "malformed number");
    uint64_t v = 0;
    for (size_t i = p; i < end; i++) {
        if (lx->s[i] == '_') continue;
        if (v > (UINT64_C(1) << 63) / (uint64_t)base)
            return lex_fail(lx, start, "integer literal too large");
        v = v * (uint64_t)base + (uint64_t)hexval(lx->s[i]);
    }
    if (v > (uint64_t)INT64_MAX) return lex_fail(lx, start, "integer literal too large");
    struct token *t = emit(lx, TK_INT, start);
    if (!t) return oom(lx);
    t->i = (int64_t)v;
    lx->pos = end;
    return EMBER_OK;
}

/* Operators, longest first. */
static const struct {
    const char *text;
    enum op op;
} ops[] = {
    {"//", OP_FLOORDIV}, {"**", OP_POW}, {"==", OP_EQ},     {"!=", OP_NE},
    {">=", OP_GTEQ},     {"<=", OP_LTEQ}, {"+", OP_ADD},    {"-", OP_SUB},
    {"/", OP_DIV},       {"*", OP_MUL},  {"%", OP_MOD},     {"~", OP_TILDE},
    {"[", OP_LBRACKET},  {"]", OP_RBRACKET}, {"(", OP_LPAREN}, {")", OP_RPAREN},
    {"{", OP_LBRACE},    {"}", OP_RBRACE}, {">", OP_GT},    {"<", OP_LT},
    {"=", OP_ASSIGN},    {".", OP_DOT},  {":", OP_COLON},   {"|", OP_PIPE},
    {",", OP_COMMA},     {";", OP_SEMICOLON},
};

/* --------------------------------------------------------- inside a tag */

struct balance {
    char want[TMPL_MAX_PARSE_DEPTH];
    int n;
};

static enum ember_status lex_op(struct lexer *lx, struct balance *b) {
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!at(lx, lx->pos, ops[i].text)) continue;
        enum op op = ops[i].op;
        char c = ops[i].text[0];
        if (op == OP_LPAREN || op == OP_LBRACKET || op == OP_LBRACE) {
            if (b->n == TMPL_MAX_PARSE_DEPTH) return lex_fail(lx, lx->pos, "brackets nested too deeply");
            b->want[b->n++] = (char)(c == '(' ? ')' : c == '[' ? ']' : '}');
        } else if (op == OP_RPAREN || op == OP_RBRACKET || op == OP_RBRACE) {
            if (!b->n || b->want[b->n - 1] != c) return lex_fail(lx, lx->pos, "unbalanced bracket");
            b->n--;
        }
        struct token *t = emit(lx, TK_OP, lx->pos);
        if (!t) return oom(lx);
        t->op = (uint8_t)op;
        lx->pos += strlen(ops[i].text);
        return EMBER_OK;
    }
    return lex_fail(lx, lx->pos, "unexpected character in tag");
}

/* At a tag's end ("%}" or "}}" with its whitespace controls)? Consumes it. */
static bool tag_end(struct lexer *lx, bool block) {
    const char *end = block ? "%}" : "}}";
    size_t p = lx->pos;
    if (block && lx->s[p] == '+' && at(lx, p + 1, end)) {
        lx->pos = p + 3;
    } else if (lx->s[p] == '-' && at(lx, p + 1, end)) {
        lx->pos = skip_space(lx, p + 3);
    } else if (at(lx, p, end)) {
        lx->pos = p + 2;
        if (block && lx->pos < lx->n && lx->s[lx->pos] == '\n') lx->pos++; /* trim_blocks */
    } else {
        return false;
    }
    lx->line_starting = lx->s[lx->pos - 1] == '\n';
    return true;
}

static enum ember_status lex_tag(struct lexer *lx, bool block, size_t open) {
    struct balance b = {.n = 0};
    for (;;) {
        if (lx->pos >= lx->n) return lex_fail(lx, open, block ? "unclosed '{%'" : "unclosed '{{'");
        size_t here = lx->pos;
        if (!b.n && tag_end(lx, block)) {
            if (!emit(lx, block ? TK_BLOCK_END : TK_VAR_END, here)) return oom(lx);
            return EMBER_OK;
        }
        char c = lx->s[lx->pos];
        size_t adv;
        if (py_space_at(lx->s + lx->pos, lx->n - lx->pos, &adv)) {
            lx->pos += adv;
        } else if (is_digit(c)) {
            TRY(lex_number(lx));
        } else if (is_name0(c)) {
            size_t e = lx->pos + 1;
            while (e < lx->n && (is_name0(lx->s[e]) || is_digit(lx->s[e]))) e++;
            struct token *t = emit(lx, TK_NAME, lx->pos);
            if (!t) return oom(lx);
            t->s = lx->s + lx->pos;
            t->len = e - lx->pos;
            lx->pos = e;
        } else if (c == '\'' || c == '"') {
            TRY(lex_string(lx));
        } else {
            TRY(lex_op(lx, &b));
        }
    }
}

/* ------------------------------------ text between tags, comments, raw */

/* Emit text s[from..to) as data after the whitespace rules of the tag that
 * follows it: sign '-' strips all trailing whitespace, lstrip_blocks (not
 * for '{{', not with '+') the blanks after the last line start. */
static enum ember_status emit_text(struct lexer *lx, size_t from, size_t to, char sign,
                                   bool lstrip) {
    if (sign == '-') {
        while (to > from) {
            size_t q = to - 1, adv;
            while (q > from && ((unsigned char)lx->s[q] & 0xc0) == 0x80) q--;
            if (!py_space_at(lx->s + q, to - q, &adv) || q + adv != to) break;
            to = q;
        }
    } else if (sign != '+' && lstrip) {
        size_t l = to;
        while (l > from && lx->s[l - 1] != '\n') l--;
        if (l > from || lx->line_starting) {
            size_t p = skip_space(lx, l);
            if (p == to) to = l;
        }
    }
    if (to == from) return EMBER_OK;
    struct token *t = emit(lx, TK_DATA, from);
    if (!t) return oom(lx);
    t->s = lx->s + from;
    t->len = to - from;
    return EMBER_OK;
}

static enum ember_status lex_comment(struct lexer *lx, size_t open) {
    const char *s = lx->s;
    for (size_t p = lx->pos; p + 1 < lx->n; p++) {
        if (s[p] != '#' || s[p + 1] != '}') continue;
        size_t end = p + 2;
        if (p > lx->pos && s[p - 1] == '-') end = skip_space(lx, end);
        else if (!(p > lx->pos && s[p - 1] == '+') && end < lx->n && s[end] == '\n') end++;
        lx->pos = end;
        lx->line_starting = s[end - 1] == '\n';
        return EMBER_OK;
    }
    return lex_fail(lx, open, "unclosed comment '{#'");
}

/* "{% raw %}" at pos (any sign, any spaces)? Returns its end or 0. */
static size_t raw_begin(const struct lexer *lx, size_t pos, const char *word) {
    size_t p = pos + 2;
    if (p < lx->n && (lx->s[p] == '-' || lx->s[p] == '+')) p++;
    p = skip_space(lx, p);
    if (!at(lx, p, word)) return 0;
    p = skip_space(lx, p + strlen(word));
    if (lx->s[p] == '-' && at(lx, p + 1, "%}")) return skip_space(lx, p + 3);
    if (at(lx, p, "%}")) return p + 2;
    return 0;
}

static enum ember_status lex_raw(struct lexer *lx, size_t open) {
    size_t body = lx->pos;
    for (size_t p = body; p + 1 < lx->n; p++) {
        if (lx->s[p] != '{' || lx->s[p + 1] != '%' || !raw_begin(lx, p, "endraw")) continue;
        char sign = '\0';
        if (p + 2 < lx->n) sign = lx->s[p + 2];
        TRY(emit_text(lx, body, p, sign, true));
        /* the end tag, as a block end with trim_blocks */
        size_t q = skip_space(lx, p + 2 + (sign == '-' || sign == '+'));
        lx->pos = skip_space(lx, q + 6);
        if (!tag_end(lx, true)) return lex_fail(lx, p, "malformed endraw");
        return EMBER_OK;
    }
    return lex_fail(lx, open, "unclosed raw block");
}

static enum ember_status lex_root(struct lexer *lx) {
    while (lx->pos < lx->n) {
        const char *s = lx->s;
        size_t t = lx->pos;
        while (t + 1 < lx->n && !(s[t] == '{' && (s[t + 1] == '{' || s[t + 1] == '%' || s[t + 1] == '#')))
            t++;
        if (t + 1 >= lx->n) { /* plain text to the end */
            TRY(emit_text(lx, lx->pos, lx->n, 0, false));
            lx->pos = lx->n;
            break;
        }
        char kind = s[t + 1];
        char sign = '\0';
        if (t + 2 < lx->n && (s[t + 2] == '-' || s[t + 2] == '+')) sign = s[t + 2];
        TRY(emit_text(lx, lx->pos, t, sign, kind != '{'));
        size_t raw = kind == '%' ? raw_begin(lx, t, "raw") : 0;
        lx->pos = raw ? raw : t + 2 + (sign != 0);
        lx->line_starting = s[lx->pos - 1] == '\n';
        if (raw) {
            TRY(lex_raw(lx, t));
        } else if (kind == '#') {
            TRY(lex_comment(lx, t));
        } else {
            if (!emit(lx, kind == '%' ? TK_BLOCK_BEGIN : TK_VAR_BEGIN, t)) return oom(lx);
            TRY(lex_tag(lx, kind == '%', t));
        }
    }
    return emit(lx, TK_EOF, lx->n) ? EMBER_OK : oom(lx);
}

/* Newlines to \n, one trailing newline dropped (jinja2's defaults). */
static char *normalize(const char *src, size_t len, size_t *out_len) {
    char *o = malloc(len + 1);
    if (!o) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            o[n++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else {
            o[n++] = src[i];
        }
    }
    if (n && o[n - 1] == '\n') n--;
    o[n] = '\0';
    *out_len = n;
    return o;
}

enum ember_status tmpl_lex(const char *src, size_t len, struct tokens *out,
                           struct ember_err *err) {
    memset(out, 0, sizeof *out);
    size_t n;
    char *s = normalize(src, len, &n);
    if (!s) return ember_fail(err, EMBER_ENOMEM, "template: out of memory");
    struct lexer lx = {.s = s, .n = n, .line = 1, .line_starting = true, .out = out, .err = err};
    enum ember_status st = own(&lx, s);
    if (!st) st = lex_root(&lx);
    if (st) tmpl_tokens_free(out);
    return st;
}

void tmpl_tokens_free(struct tokens *t) {
    for (size_t i = 0; i < t->n_strs; i++) free(t->strs[i]);
    free(t->strs);
    free(t->v);
    memset(t, 0, sizeof *t);
}
