/*
 * template_parse.c — tokens to the statement and expression trees, with
 * jinja2's grammar and precedence (lowest first): `x if c else y`, or,
 * and, not, comparisons (chained, in, not in), + -, ~, * / // %, **,
 * unary - +, then postfix . [] () and the filter/test chain | is, which
 * binds tighter than any operator (`a + b | trim` trims b). Unknown tags,
 * filters and tests are compile errors, as in jinja2. Nesting is capped at
 * TMPL_MAX_PARSE_DEPTH so hostile input cannot exhaust the stack. Sections:
 *   - token cursor
 *   - expressions
 *   - statements
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template_impl.h"

struct parser {
    const struct token *t;
    size_t n, i;
    int depth;
    int loops; /* for bodies we are inside, for break/continue */
    struct template *tp;
    struct ember_err *err;
};

/* ----------------------------------------------------------- token cursor */

static const struct token *cur(const struct parser *p) { return &p->t[p->i]; }
static const struct token *peek(const struct parser *p, size_t k) {
    return p->i + k < p->n ? &p->t[p->i + k] : &p->t[p->n - 1];
}
static void advance(struct parser *p) {
    if (p->i + 1 < p->n) p->i++;
}

static bool tok_name(const struct token *t, const char *name) {
    return t->kind == TK_NAME && t->len == strlen(name) && !memcmp(t->s, name, t->len);
}
static bool tok_op(const struct token *t, enum op op) { return t->kind == TK_OP && t->op == op; }

static enum ember_status fail(struct parser *p, const char *fmt, const char *arg) {
    char what[160];
    snprintf(what, sizeof what, fmt, arg);
    return ember_fail(p->err, EMBER_EINVAL, "template line %d: %s", cur(p)->line, what);
}

static const char *tok_desc(const struct token *t) {
    static const char *const kinds[] = {"end of template", "text", "'{{'", "'}}'", "'{%'",
                                        "'%}'", "name", "string", "integer", "float", "operator"};
    return kinds[t->kind];
}

static enum ember_status unexpected(struct parser *p) {
    const struct token *t = cur(p);
    if (t->kind == TK_NAME) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(t->len < 60 ? t->len : 60), t->s);
        return fail(p, "unexpected '%s'", name);
    }
    return fail(p, "unexpected %s", tok_desc(t));
}

static enum ember_status expect_op(struct parser *p, enum op op, const char *text) {
    if (!tok_op(cur(p), op)) {
        char what[64];
        snprintf(what, sizeof what, "expected '%s'", text);
        return fail(p, "%s", what);
    }
    advance(p);
    return EMBER_OK;
}

static enum ember_status expect_name(struct parser *p, const char **out) {
    const struct token *t = cur(p);
    if (t->kind != TK_NAME) return fail(p, "expected a name, got %s", tok_desc(t));
    *out = tmpl_strdup(p->tp, t->s, t->len);
    if (!*out) return ember_fail(p->err, EMBER_ENOMEM, "template: out of memory");
    advance(p);
    return EMBER_OK;
}

static enum ember_status expect_block_end(struct parser *p) {
    if (cur(p)->kind != TK_BLOCK_END) return fail(p, "expected '%%}', got %s", tok_desc(cur(p)));
    advance(p);
    return EMBER_OK;
}

static enum ember_status nomem(struct parser *p) {
    return ember_fail(p->err, EMBER_ENOMEM, "template: out of memory");
}

static struct expr *node(struct parser *p, enum ex_kind kind) {
    struct expr *e = tmpl_alloc(p->tp, sizeof *e);
    if (e) {
        e->kind = (uint8_t)kind;
        e->line = cur(p)->line;
    }
    return e;
}

/* A growable array of pointers while parsing; moved into the arena. */
struct plist {
    void **v;
    int n, cap;
};

static enum ember_status plist_push(struct parser *p, struct plist *l, void *x) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 4;
        void **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return nomem(p);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return EMBER_OK;
}

static void **plist_finish(struct parser *p, struct plist *l) {
    void **v = l->n ? tmpl_alloc(p->tp, (size_t)l->n * sizeof *v) : NULL;
    if (v) memcpy(v, l->v, (size_t)l->n * sizeof *v);
    free(l->v);
    l->v = NULL;
    return v;
}

/* ------------------------------------------------------------ expressions */

static enum ember_status parse_expression(struct parser *p, bool with_cond, struct expr **out);
static enum ember_status parse_unary(struct parser *p, bool with_filter, struct expr **out);
static enum ember_status parse_postfix(struct parser *p, struct expr **e);
static enum ember_status parse_filter_expr(struct parser *p, struct expr **e);

static enum ember_status enter(struct parser *p) {
    if (++p->depth > TMPL_MAX_PARSE_DEPTH) return fail(p, "%s", "nested too deeply");
    return EMBER_OK;
}

static bool tuple_end(const struct parser *p, const char *extra) {
    const struct token *t = cur(p);
    return t->kind == TK_VAR_END || t->kind == TK_BLOCK_END || tok_op(t, OP_RPAREN) ||
           (extra && tok_name(t, extra));
}

/* Comma-separated expressions; one without a comma is itself, else a
 * tuple. extra: a name that also ends it ("in" for for-targets). */
static enum ember_status parse_tuple(struct parser *p, bool with_cond, const char *extra,
                                     bool parenthesized, struct expr **out) {
    struct plist items = {0};
    bool comma = false;
    enum ember_status st = EMBER_OK;
    for (;;) {
        if (items.n) {
            if (!tok_op(cur(p), OP_COMMA)) break;
            advance(p);
            comma = true;
        }
        if (tuple_end(p, extra)) break;
        struct expr *e;
        if ((st = parse_expression(p, with_cond, &e)) || (st = plist_push(p, &items, e))) break;
    }
    if (!st && items.n == 1 && !comma) {
        *out = items.v[0];
        free(items.v);
        return EMBER_OK;
    }
    if (!st && !items.n && !parenthesized) st = fail(p, "%s", "expected an expression");
    struct expr *t = st ? NULL : node(p, EX_TUPLE);
    if (!st && !t) st = nomem(p);
    if (st) {
        free(items.v);
        return st;
    }
    t->n_args = items.n;
    t->args = (struct expr **)plist_finish(p, &items);
    *out = t;
    return EMBER_OK;
}

/* [a, b] or {k: v, ...}: the elements into e->args (dicts: k, v pairs). */
static enum ember_status parse_seq(struct parser *p, enum ex_kind kind, struct expr **out) {
    enum op close = kind == EX_LIST ? OP_RBRACKET : OP_RBRACE;
    struct expr *e = node(p, kind);
    if (!e) return nomem(p);
    advance(p);
    struct plist items = {0};
    enum ember_status st = EMBER_OK;
    while (!st && !tok_op(cur(p), close)) {
        if (items.n && (st = expect_op(p, OP_COMMA, ","))) break;
        if (tok_op(cur(p), close)) break;
        struct expr *x;
        if ((st = parse_expression(p, true, &x)) || (st = plist_push(p, &items, x))) break;
        if (kind == EX_DICT) {
            if ((st = expect_op(p, OP_COLON, ":")) || (st = parse_expression(p, true, &x)) ||
                (st = plist_push(p, &items, x)))
                break;
        }
    }
    if (!st) st = expect_op(p, close, close == OP_RBRACKET ? "]" : "}");
    if (st) {
        free(items.v);
        return st;
    }
    e->n_args = items.n;
    e->args = (struct expr **)plist_finish(p, &items);
    *out = e;
    return EMBER_OK;
}

static enum ember_status parse_primary(struct parser *p, struct expr **out) {
    const struct token *t = cur(p);
    struct expr *e = NULL;
    if (t->kind == TK_NAME) {
        if (!(e = node(p, EX_CONST))) return nomem(p);
        if (tok_name(t, "true") || tok_name(t, "True")) e->cval = v_bool(true);
        else if (tok_name(t, "false") || tok_name(t, "False")) e->cval = v_bool(false);
        else if (tok_name(t, "none") || tok_name(t, "None")) e->cval = v_none();
        else {
            e->kind = EX_NAME;
            if (!(e->name = tmpl_strdup(p->tp, t->s, t->len))) return nomem(p);
            e->name_len = t->len;
        }
        advance(p);
    } else if (t->kind == TK_STRING) { /* adjacent literals concatenate */
        size_t n = 0, k = p->i;
        for (; p->t[k].kind == TK_STRING; k++) n += p->t[k].len;
        char *buf = malloc(n + 1);
        if (!buf || !(e = node(p, EX_CONST))) {
            free(buf);
            return nomem(p);
        }
        n = 0;
        for (; cur(p)->kind == TK_STRING; advance(p)) {
            memcpy(buf + n, cur(p)->s, cur(p)->len);
            n += cur(p)->len;
        }
        struct vstr *s = tmpl_str(p->tp, buf, n);
        free(buf);
        if (!s) return nomem(p);
        e->cval.k = V_STR;
        e->cval.u.s = s;
    } else if (t->kind == TK_INT || t->kind == TK_FLOAT) {
        if (!(e = node(p, EX_CONST))) return nomem(p);
        e->cval = t->kind == TK_INT ? v_int(t->i) : v_float(t->f);
        advance(p);
    } else if (tok_op(t, OP_LPAREN)) {
        advance(p);
        TRY(parse_tuple(p, true, NULL, true, &e));
        TRY(expect_op(p, OP_RPAREN, ")"));
    } else if (tok_op(t, OP_LBRACKET)) {
        TRY(parse_seq(p, EX_LIST, &e));
    } else if (tok_op(t, OP_LBRACE)) {
        TRY(parse_seq(p, EX_DICT, &e));
    } else {
        return unexpected(p);
    }
    *out = e;
    return EMBER_OK;
}

/* ( args, name=value ) into e. */
static enum ember_status parse_call_args(struct parser *p, struct expr *e) {
    TRY(expect_op(p, OP_LPAREN, "("));
    struct plist args = {0}, names = {0}, vals = {0};
    enum ember_status st = EMBER_OK;
    while (!st && !tok_op(cur(p), OP_RPAREN)) {
        if ((args.n || names.n) && (st = expect_op(p, OP_COMMA, ","))) break;
        if (tok_op(cur(p), OP_RPAREN)) break;
        struct expr *x;
        if (cur(p)->kind == TK_NAME && tok_op(peek(p, 1), OP_ASSIGN)) {
            const char *name;
            if ((st = expect_name(p, &name))) break;
            advance(p);
            if ((st = parse_expression(p, true, &x)) || (st = plist_push(p, &names, (void *)name)) ||
                (st = plist_push(p, &vals, x)))
                break;
        } else if (names.n) {
            st = fail(p, "%s", "positional argument after a keyword argument");
        } else if (tok_op(cur(p), OP_MUL) || tok_op(cur(p), OP_POW)) {
            st = fail(p, "%s", "*args and **kwargs are not supported");
        } else if (!(st = parse_expression(p, true, &x))) {
            st = plist_push(p, &args, x);
        }
    }
    if (!st) st = expect_op(p, OP_RPAREN, ")");
    if (st) {
        free(args.v);
        free(names.v);
        free(vals.v);
        return st;
    }
    e->n_args = args.n;
    e->args = (struct expr **)plist_finish(p, &args);
    e->n_kw = names.n;
    e->kw_names = (const char **)plist_finish(p, &names);
    e->kw_vals = (struct expr **)plist_finish(p, &vals);
    return EMBER_OK;
}

/* name(.name)* of a filter or test. */
static enum ember_status dotted_name(struct parser *p, struct expr *e) {
    char buf[128];
    size_t n = 0;
    for (;;) {
        const struct token *t = cur(p);
        if (t->kind != TK_NAME) return fail(p, "%s", "expected a filter or test name");
        if (n + t->len + 2 > sizeof buf) return fail(p, "%s", "name too long");
        memcpy(buf + n, t->s, t->len);
        n += t->len;
        advance(p);
        if (!tok_op(cur(p), OP_DOT)) break;
        buf[n++] = '.';
        advance(p);
    }
    if (!(e->name = tmpl_strdup(p->tp, buf, n))) return nomem(p);
    e->name_len = n;
    return EMBER_OK;
}

/* `| name(args)` applied to in (NULL in a filter block). */
static enum ember_status parse_filter(struct parser *p, struct expr *in, struct expr **out) {
    struct expr *f = node(p, EX_FILTER);
    if (!f) return nomem(p);
    f->a = in;
    TRY(dotted_name(p, f));
    if (tok_op(cur(p), OP_LPAREN)) TRY(parse_call_args(p, f));
    *out = f;
    return EMBER_OK;
}

static enum ember_status parse_test(struct parser *p, struct expr *in, struct expr **out) {
    struct expr *t = node(p, EX_TEST);
    if (!t) return nomem(p);
    t->a = in;
    advance(p); /* is */
    if (tok_name(cur(p), "not")) {
        t->neg = true;
        advance(p);
    }
    TRY(dotted_name(p, t));
    const struct token *c = cur(p);
    if (tok_op(c, OP_LPAREN)) {
        TRY(parse_call_args(p, t));
    } else if ((c->kind == TK_NAME || c->kind == TK_STRING || c->kind == TK_INT ||
                c->kind == TK_FLOAT || tok_op(c, OP_LBRACKET) || tok_op(c, OP_LBRACE)) &&
               !tok_name(c, "else") && !tok_name(c, "or") && !tok_name(c, "and")) {
        if (tok_name(c, "is")) return fail(p, "%s", "tests cannot be chained with 'is'");
        struct expr *arg;
        TRY(parse_primary(p, &arg));
        TRY(parse_postfix(p, &arg));
        t->args = tmpl_alloc(p->tp, sizeof *t->args);
        if (!t->args) return nomem(p);
        t->args[0] = arg;
        t->n_args = 1;
    }
    *out = t;
    return EMBER_OK;
}

/* Inside [ ]: an expression or a slice a:b:c (parts optional). */
static enum ember_status parse_subscribed(struct parser *p, struct expr **out) {
    struct expr *parts[3] = {NULL, NULL, NULL};
    if (!tok_op(cur(p), OP_COLON)) {
        TRY(parse_expression(p, true, &parts[0]));
        if (!tok_op(cur(p), OP_COLON)) {
            *out = parts[0];
            return EMBER_OK;
        }
    }
    for (int k = 1; k < 3 && tok_op(cur(p), OP_COLON); k++) {
        advance(p);
        if (!tok_op(cur(p), OP_RBRACKET) && !tok_op(cur(p), OP_COMMA) && !tok_op(cur(p), OP_COLON))
            TRY(parse_expression(p, true, &parts[k]));
    }
    struct expr *s = node(p, EX_SLICE);
    if (!s || !(s->args = tmpl_alloc(p->tp, 3 * sizeof *s->args))) return nomem(p);
    memcpy(s->args, parts, sizeof parts);
    s->n_args = 3;
    *out = s;
    return EMBER_OK;
}

static enum ember_status parse_subscript(struct parser *p, struct expr **e) {
    if (tok_op(cur(p), OP_DOT)) {
        advance(p);
        const struct token *t = cur(p);
        struct expr *g = node(p, t->kind == TK_NAME ? EX_GETATTR : EX_GETITEM);
        if (!g) return nomem(p);
        g->a = *e;
        if (t->kind == TK_NAME) {
            if (!(g->name = tmpl_strdup(p->tp, t->s, t->len))) return nomem(p);
            g->name_len = t->len;
        } else if (t->kind == TK_INT) {
            if (!(g->b = node(p, EX_CONST))) return nomem(p);
            g->b->cval = v_int(t->i);
        } else {
            return fail(p, "%s", "expected a name after '.'");
        }
        advance(p);
        *e = g;
        return EMBER_OK;
    }
    advance(p); /* [ */
    struct expr *key = NULL;
    TRY(parse_subscribed(p, &key));
    if (tok_op(cur(p), OP_COMMA)) return fail(p, "%s", "tuple subscripts are not supported");
    TRY(expect_op(p, OP_RBRACKET, "]"));
    struct expr *g = node(p, key->kind == EX_SLICE ? EX_SLICE : EX_GETITEM);
    if (!g) return nomem(p);
    g->a = *e;
    if (key->kind == EX_SLICE) {
        g->args = key->args;
        g->n_args = 3;
    } else {
        g->b = key;
    }
    *e = g;
    return EMBER_OK;
}

static enum ember_status parse_call(struct parser *p, struct expr **e) {
    struct expr *c = node(p, EX_CALL);
    if (!c) return nomem(p);
    c->a = *e;
    TRY(parse_call_args(p, c));
    *e = c;
    return EMBER_OK;
}

static enum ember_status parse_postfix(struct parser *p, struct expr **e) {
    for (;;) {
        const struct token *t = cur(p);
        if (tok_op(t, OP_DOT) || tok_op(t, OP_LBRACKET)) TRY(parse_subscript(p, e));
        else if (tok_op(t, OP_LPAREN)) TRY(parse_call(p, e));
        else return EMBER_OK;
    }
}

static enum ember_status parse_filter_expr(struct parser *p, struct expr **e) {
    for (;;) {
        const struct token *t = cur(p);
        if (tok_op(t, OP_PIPE)) {
            advance(p);
            TRY(parse_filter(p, *e, e));
        } else if (tok_name(t, "is")) {
            TRY(parse_test(p, *e, e));
        } else if (tok_op(t, OP_LPAREN)) {
            TRY(parse_call(p, e));
        } else {
            return EMBER_OK;
        }
    }
}

static enum ember_status unary_node(struct parser *p, enum op op, struct expr *a, struct expr **out) {
    struct expr *u = node(p, EX_UNARY);
    if (!u) return nomem(p);
    u->op = (uint8_t)op;
    u->a = a;
    *out = u;
    return EMBER_OK;
}

static enum ember_status parse_unary(struct parser *p, bool with_filter, struct expr **out) {
    TRY(enter(p));
    struct expr *e = NULL;
    if (tok_op(cur(p), OP_SUB) || tok_op(cur(p), OP_ADD)) {
        enum op op = tok_op(cur(p), OP_SUB) ? OP_NEG : OP_POS;
        advance(p);
        struct expr *a;
        TRY(parse_unary(p, false, &a));
        TRY(unary_node(p, op, a, &e));
    } else {
        TRY(parse_primary(p, &e));
    }
    TRY(parse_postfix(p, &e));
    if (with_filter) TRY(parse_filter_expr(p, &e));
    p->depth--;
    *out = e;
    return EMBER_OK;
}

static enum ember_status binary_node(struct parser *p, enum op op, struct expr *a, struct expr *b,
                                     struct expr **out) {
    struct expr *e = node(p, EX_BINARY);
    if (!e) return nomem(p);
    e->op = (uint8_t)op;
    e->a = a;
    e->b = b;
    *out = e;
    return EMBER_OK;
}

/* The left-associative binary levels, each over the next tighter one. */
enum level { L_OR, L_AND, L_MATH1, L_CONCAT, L_MATH2, L_POW };

static enum ember_status parse_level(struct parser *p, enum level lv, struct expr **out);
static enum ember_status parse_not(struct parser *p, struct expr **out);
static enum ember_status parse_compare(struct parser *p, struct expr **out);

static enum ember_status parse_operand(struct parser *p, enum level lv, struct expr **out) {
    switch (lv) {
    case L_OR: return parse_level(p, L_AND, out);
    case L_AND: return parse_not(p, out);
    case L_MATH1: return parse_level(p, L_CONCAT, out);
    case L_CONCAT: return parse_level(p, L_MATH2, out);
    case L_MATH2: return parse_level(p, L_POW, out);
    default: return parse_unary(p, true, out);
    }
}

/* The operator of level lv at the cursor, or -1. */
static int level_op(const struct parser *p, enum level lv) {
    const struct token *t = cur(p);
    switch (lv) {
    case L_OR: return tok_name(t, "or") ? OP_OR : -1;
    case L_AND: return tok_name(t, "and") ? OP_AND : -1;
    case L_MATH1: return tok_op(t, OP_ADD) ? OP_ADD : tok_op(t, OP_SUB) ? OP_SUB : -1;
    case L_CONCAT: return tok_op(t, OP_TILDE) ? OP_TILDE : -1;
    case L_MATH2:
        if (t->kind == TK_OP && (t->op == OP_MUL || t->op == OP_DIV || t->op == OP_FLOORDIV ||
                                 t->op == OP_MOD))
            return t->op;
        return -1;
    default: return tok_op(t, OP_POW) ? OP_POW : -1;
    }
}

static enum ember_status parse_level(struct parser *p, enum level lv, struct expr **out) {
    TRY(enter(p));
    struct expr *e;
    TRY(parse_operand(p, lv, &e));
    for (int op; (op = level_op(p, lv)) >= 0;) {
        advance(p);
        struct expr *b;
        TRY(parse_operand(p, lv, &b));
        TRY(binary_node(p, (enum op)op, e, b, &e));
    }
    p->depth--;
    *out = e;
    return EMBER_OK;
}

static enum ember_status parse_not(struct parser *p, struct expr **out) {
    if (!tok_name(cur(p), "not")) return parse_compare(p, out);
    TRY(enter(p));
    advance(p);
    struct expr *a;
    TRY(parse_not(p, &a));
    p->depth--;
    return unary_node(p, OP_NOT, a, out);
}

/* The comparison operator at the cursor (consumed), or -1. */
static int compare_op(struct parser *p) {
    const struct token *t = cur(p);
    int op = -1;
    if (t->kind == TK_OP && (t->op == OP_EQ || t->op == OP_NE || t->op == OP_LT ||
                             t->op == OP_LTEQ || t->op == OP_GT || t->op == OP_GTEQ))
        op = t->op;
    else if (tok_name(t, "in")) op = OP_IN;
    else if (tok_name(t, "not") && tok_name(peek(p, 1), "in")) {
        advance(p);
        op = OP_NOTIN;
    }
    if (op >= 0) advance(p);
    return op;
}

static enum ember_status parse_compare(struct parser *p, struct expr **out) {
    struct expr *first;
    TRY(parse_level(p, L_MATH1, &first));
    int op = compare_op(p);
    if (op < 0) {
        *out = first;
        return EMBER_OK;
    }
    struct plist args = {0}, ops = {0};
    enum ember_status st = plist_push(p, &args, first);
    for (; !st && op >= 0; op = compare_op(p)) {
        struct expr *b;
        if ((st = parse_level(p, L_MATH1, &b)) || (st = plist_push(p, &args, b))) break;
        st = plist_push(p, &ops, (void *)(intptr_t)op);
    }
    struct expr *c = st ? NULL : node(p, EX_COMPARE);
    uint8_t *opv = c ? tmpl_alloc(p->tp, (size_t)ops.n) : NULL;
    if (!st && !opv) st = nomem(p);
    if (st) {
        free(args.v);
        free(ops.v);
        return st;
    }
    for (int k = 0; k < ops.n; k++) opv[k] = (uint8_t)(intptr_t)ops.v[k];
    free(ops.v);
    c->ops = opv;
    c->n_args = args.n;
    c->args = (struct expr **)plist_finish(p, &args);
    *out = c;
    return EMBER_OK;
}

static enum ember_status parse_expression(struct parser *p, bool with_cond, struct expr **out) {
    TRY(enter(p));
    struct expr *e;
    TRY(parse_level(p, L_OR, &e));
    while (with_cond && tok_name(cur(p), "if")) {
        advance(p);
        struct expr *c = node(p, EX_COND);
        if (!c) return nomem(p);
        c->b = e;
        TRY(parse_level(p, L_OR, &c->a));
        if (tok_name(cur(p), "else")) {
            advance(p);
            TRY(parse_expression(p, true, &c->c));
        }
        e = c;
    }
    p->depth--;
    *out = e;
    return EMBER_OK;
}

/* ------------------------------------------------------------ statements */

static enum ember_status subparse(struct parser *p, const char *const *ends, struct stmt **body);

static struct stmt *stmt_new(struct parser *p, enum st_kind kind, int line) {
    struct stmt *s = tmpl_alloc(p->tp, sizeof *s);
    if (s) {
        s->kind = (uint8_t)kind;
        s->line = line;
    }
    return s;
}

/* Assignment targets: a name or names separated by commas (optionally in
 * parentheses). */
static enum ember_status parse_targets(struct parser *p, struct stmt *s) {
    struct plist names = {0};
    bool paren = tok_op(cur(p), OP_LPAREN);
    if (paren) advance(p);
    enum ember_status st = EMBER_OK;
    for (;;) {
        const char *name;
        if ((st = expect_name(p, &name)) || (st = plist_push(p, &names, (void *)name))) break;
        if (!tok_op(cur(p), OP_COMMA)) break;
        s->unpack = true;
        advance(p);
    }
    if (!st && paren) {
        s->unpack = true;
        st = expect_op(p, OP_RPAREN, ")");
    }
    if (st) {
        free(names.v);
        return st;
    }
    s->n_targets = names.n;
    s->targets = (const char **)plist_finish(p, &names);
    return EMBER_OK;
}

/* The name of the end tag subparse stopped at, then past it and its %}. */
static enum ember_status end_tag(struct parser *p, const char *name) {
    if (!tok_name(cur(p), name)) return fail(p, "expected '%s'", name);
    advance(p);
    return expect_block_end(p);
}

static enum ember_status parse_for(struct parser *p, struct stmt *s) {
    TRY(parse_targets(p, s));
    if (!tok_name(cur(p), "in")) return fail(p, "%s", "expected 'in' in for");
    advance(p);
    TRY(parse_tuple(p, false, "recursive", false, &s->e));
    if (tok_name(cur(p), "if")) {
        advance(p);
        TRY(parse_expression(p, true, &s->cond));
    }
    if (tok_name(cur(p), "recursive")) return fail(p, "%s", "recursive loops are not supported");
    TRY(expect_block_end(p));
    static const char *const ends[] = {"endfor", "else", NULL};
    p->loops++;
    TRY(subparse(p, ends, &s->body));
    p->loops--;
    if (tok_name(cur(p), "else")) {
        advance(p);
        TRY(expect_block_end(p));
        static const char *const ends2[] = {"endfor", NULL};
        TRY(subparse(p, ends2, &s->else_body));
    }
    return end_tag(p, "endfor");
}

static enum ember_status parse_if(struct parser *p, struct stmt *s) {
    TRY(parse_tuple(p, false, NULL, false, &s->e));
    TRY(expect_block_end(p));
    static const char *const ends[] = {"elif", "else", "endif", NULL};
    TRY(subparse(p, ends, &s->body));
    if (tok_name(cur(p), "elif")) {
        struct stmt *e = stmt_new(p, ST_IF, cur(p)->line);
        if (!e) return nomem(p);
        advance(p);
        s->else_body = e;
        return parse_if(p, e); /* consumes the shared endif */
    }
    if (tok_name(cur(p), "else")) {
        advance(p);
        TRY(expect_block_end(p));
        static const char *const ends2[] = {"endif", NULL};
        TRY(subparse(p, ends2, &s->else_body));
    }
    return end_tag(p, "endif");
}

static enum ember_status parse_set(struct parser *p, struct stmt *s) {
    if (cur(p)->kind == TK_NAME && tok_op(peek(p, 1), OP_DOT)) { /* ns.attr = */
        struct expr *obj = node(p, EX_NAME);
        if (!obj) return nomem(p);
        TRY(expect_name(p, &obj->name));
        obj->name_len = strlen(obj->name);
        advance(p);
        s->attr_obj = obj;
        TRY(expect_name(p, &s->attr));
    } else {
        TRY(parse_targets(p, s));
    }
    if (tok_op(cur(p), OP_ASSIGN)) {
        advance(p);
        TRY(parse_tuple(p, true, NULL, false, &s->e));
        return expect_block_end(p);
    }
    if (s->attr_obj || s->unpack) return fail(p, "%s", "expected '=' in set");
    s->kind = ST_SETBLOCK;
    while (tok_op(cur(p), OP_PIPE)) {
        advance(p);
        TRY(parse_filter(p, s->e, &s->e));
    }
    TRY(expect_block_end(p));
    static const char *const ends[] = {"endset", NULL};
    TRY(subparse(p, ends, &s->body));
    return end_tag(p, "endset");
}

/* ( name, name=default, ... ) of a macro or call block. */
static enum ember_status parse_params(struct parser *p, struct stmt *s) {
    struct plist names = {0}, defs = {0};
    enum ember_status st = expect_op(p, OP_LPAREN, "(");
    while (!st && !tok_op(cur(p), OP_RPAREN)) {
        if (names.n && (st = expect_op(p, OP_COMMA, ","))) break;
        const char *name;
        struct expr *def = NULL;
        if ((st = expect_name(p, &name))) break;
        if (tok_op(cur(p), OP_ASSIGN)) {
            advance(p);
            if ((st = parse_expression(p, true, &def))) break;
        }
        if ((st = plist_push(p, &names, (void *)name)) || (st = plist_push(p, &defs, def))) break;
    }
    if (!st) st = expect_op(p, OP_RPAREN, ")");
    if (st) {
        free(names.v);
        free(defs.v);
        return st;
    }
    s->n_params = names.n;
    s->params = (const char **)plist_finish(p, &names);
    s->defaults = (struct expr **)plist_finish(p, &defs);
    return EMBER_OK;
}

static enum ember_status parse_macro(struct parser *p, struct stmt *s) {
    TRY(expect_name(p, &s->name));
    TRY(parse_params(p, s));
    TRY(expect_block_end(p));
    static const char *const ends[] = {"endmacro", NULL};
    int loops = p->loops;
    p->loops = 0;
    TRY(subparse(p, ends, &s->body));
    p->loops = loops;
    return end_tag(p, "endmacro");
}

static enum ember_status parse_call_block(struct parser *p, struct stmt *s) {
    if (tok_op(cur(p), OP_LPAREN)) TRY(parse_params(p, s));
    TRY(parse_expression(p, true, &s->e));
    if (s->e->kind != EX_CALL) return fail(p, "%s", "expected a macro call in call block");
    TRY(expect_block_end(p));
    static const char *const ends[] = {"endcall", NULL};
    TRY(subparse(p, ends, &s->body));
    return end_tag(p, "endcall");
}

static enum ember_status parse_with(struct parser *p, struct stmt *s) {
    struct plist names = {0}, vals = {0};
    enum ember_status st = EMBER_OK;
    while (!st && cur(p)->kind != TK_BLOCK_END) {
        if (names.n && (st = expect_op(p, OP_COMMA, ","))) break;
        const char *name;
        struct expr *v;
        if ((st = expect_name(p, &name)) || (st = expect_op(p, OP_ASSIGN, "=")) ||
            (st = parse_expression(p, true, &v)) || (st = plist_push(p, &names, (void *)name)))
            break;
        st = plist_push(p, &vals, v);
    }
    if (st) {
        free(names.v);
        free(vals.v);
        return st;
    }
    s->n_targets = names.n;
    s->targets = (const char **)plist_finish(p, &names);
    s->values = (struct expr **)plist_finish(p, &vals);
    TRY(expect_block_end(p));
    static const char *const ends[] = {"endwith", NULL};
    TRY(subparse(p, ends, &s->body));
    return end_tag(p, "endwith");
}

static enum ember_status parse_filter_block(struct parser *p, struct stmt *s) {
    TRY(parse_filter(p, NULL, &s->e));
    while (tok_op(cur(p), OP_PIPE)) {
        advance(p);
        TRY(parse_filter(p, s->e, &s->e));
    }
    TRY(expect_block_end(p));
    static const char *const ends[] = {"endfilter", NULL};
    TRY(subparse(p, ends, &s->body));
    return end_tag(p, "endfilter");
}

/* {% name ... %} at the cursor (on the name). */
static enum ember_status parse_tag(struct parser *p, struct stmt **out) {
    const struct token *t = cur(p);
    struct stmt *s = stmt_new(p, ST_IF, t->line);
    if (!s) return nomem(p);
    *out = s;
    if (t->kind != TK_NAME) return fail(p, "%s", "expected a tag name");
    bool brk = tok_name(t, "break");
    if (brk || tok_name(t, "continue")) {
        if (!p->loops) return fail(p, "'%s' outside a for loop", brk ? "break" : "continue");
        s->kind = brk ? ST_BREAK : ST_CONTINUE;
        advance(p);
        return expect_block_end(p);
    }
    static const struct {
        const char *name;
        enum st_kind kind;
        enum ember_status (*parse)(struct parser *, struct stmt *);
    } tags[] = {
        {"for", ST_FOR, parse_for},       {"if", ST_IF, parse_if},
        {"set", ST_SET, parse_set},       {"macro", ST_MACRO, parse_macro},
        {"call", ST_CALLBLOCK, parse_call_block}, {"with", ST_WITH, parse_with},
        {"filter", ST_FILTER, parse_filter_block},
    };
    for (size_t k = 0; k < sizeof tags / sizeof tags[0]; k++) {
        if (!tok_name(t, tags[k].name)) continue;
        s->kind = (uint8_t)tags[k].kind;
        advance(p);
        return tags[k].parse(p, s);
    }
    if (tok_name(t, "generation")) { /* transformers' assistant-mask tag */
        s->kind = ST_BLOCK;
        advance(p);
        TRY(expect_block_end(p));
        static const char *const ends[] = {"endgeneration", NULL};
        TRY(subparse(p, ends, &s->body));
        return end_tag(p, "endgeneration");
    }
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(t->len < 60 ? t->len : 60), t->s);
    return fail(p, "unknown or unsupported tag '%s'", name);
}

static bool is_end(const struct parser *p, const char *const *ends) {
    for (; ends && *ends; ends++)
        if (tok_name(cur(p), *ends)) return true;
    return false;
}

static enum ember_status parse_output(struct parser *p, struct stmt **out) {
    struct stmt *s = stmt_new(p, ST_OUTPUT, cur(p)->line);
    if (!s) return nomem(p);
    advance(p);
    TRY(parse_tuple(p, true, NULL, false, &s->e));
    if (cur(p)->kind != TK_VAR_END) return fail(p, "expected '}}', got %s", tok_desc(cur(p)));
    advance(p);
    *out = s;
    return EMBER_OK;
}

/* Statements until one of the end tags (left at the cursor, on its name)
 * or, with ends NULL, the end of the template. */
static enum ember_status subparse(struct parser *p, const char *const *ends, struct stmt **body) {
    TRY(enter(p));
    struct stmt **tail = body;
    for (;;) {
        const struct token *t = cur(p);
        struct stmt *s = NULL;
        if (t->kind == TK_EOF) {
            if (ends) return fail(p, "unexpected end of template, expected '%s'", ends[0]);
            break;
        }
        if (t->kind == TK_DATA) {
            if (!(s = stmt_new(p, ST_TEXT, t->line)) || !(s->text = tmpl_strdup(p->tp, t->s, t->len)))
                return nomem(p);
            s->text_len = t->len;
            advance(p);
        } else if (t->kind == TK_VAR_BEGIN) {
            TRY(parse_output(p, &s));
        } else if (t->kind == TK_BLOCK_BEGIN) {
            advance(p);
            if (is_end(p, ends)) break;
            TRY(parse_tag(p, &s));
        } else {
            return unexpected(p);
        }
        *tail = s;
        tail = &s->next;
    }
    p->depth--;
    return EMBER_OK;
}

/* ------------------------------------------------ unknown filters and tests */

/* jinja2 reports an unknown filter or test when compiling, except inside an
 * if (its test and bodies) or a conditional expression, where it waits
 * until the filter runs; loop, macro, set-block and filter-block bodies
 * start over. The same here: a walk over the finished tree. */
static enum ember_status name_fail(struct parser *p, const struct expr *e) {
    return ember_fail(p->err, EMBER_EINVAL, "template line %d: no %s named '%s'", e->line,
                      e->kind == EX_FILTER ? "filter" : "test", e->name);
}

static enum ember_status check_expr(struct parser *p, const struct expr *e, bool soft) {
    if (!e) return EMBER_OK;
    if (e->kind == EX_FILTER && !soft && !filter_known(e->name)) return name_fail(p, e);
    if (e->kind == EX_TEST && !soft && !test_known(e->name)) return name_fail(p, e);
    soft = soft || e->kind == EX_COND;
    TRY(check_expr(p, e->a, soft));
    TRY(check_expr(p, e->b, soft));
    TRY(check_expr(p, e->c, soft));
    for (int k = 0; k < e->n_args; k++) TRY(check_expr(p, e->args[k], soft));
    for (int k = 0; k < e->n_kw; k++) TRY(check_expr(p, e->kw_vals[k], soft));
    return EMBER_OK;
}

static enum ember_status check_body(struct parser *p, const struct stmt *s, bool soft) {
    for (; s; s = s->next) {
        bool in_if = s->kind == ST_IF;
        bool inner = s->kind == ST_SETBLOCK || s->kind == ST_FILTER;
        TRY(check_expr(p, s->e, (soft || in_if) && !inner));
        TRY(check_expr(p, s->cond, soft));
        TRY(check_expr(p, s->attr_obj, soft));
        for (int k = 0; k < s->n_params; k++) TRY(check_expr(p, s->defaults[k], false));
        for (int k = 0; s->values && k < s->n_targets; k++) TRY(check_expr(p, s->values[k], soft));
        TRY(check_body(p, s->body, in_if));
        TRY(check_body(p, s->else_body, in_if));
    }
    return EMBER_OK;
}

enum ember_status tmpl_parse(struct template *t, const struct tokens *toks,
                             struct ember_err *err) {
    struct parser p = {.t = toks->v, .n = toks->n, .tp = t, .err = err};
    TRY(subparse(&p, NULL, &t->body));
    return check_body(&p, t->body, false);
}
