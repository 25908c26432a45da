/*
 * template_impl.h — what the files of the template engine share (not a
 * public interface; template.h is). The pipeline:
 *
 *   template_lex.c     source -> tokens, with jinja2's whitespace control
 *   template_parse.c   tokens -> statement and expression trees (AST)
 *   template_value.c   values: refcounted strings, lists, dicts, namespaces;
 *                      Python's str()/repr(), equality, ordering
 *   template_json.c    tojson, as transformers' json.dumps(ensure_ascii=False)
 *   template_str.c     Python str operations: case, strip, split, format
 *   template_eval.c    the renderer: scopes, statements, expressions
 *   template_filters.c filters and tests
 *   template_methods.c str/dict/list methods and the global functions
 *   template.c         compile / render / free, the public entry points
 *   template_builtin.c the built-in templates
 *
 * Values are small structs passed by value; heap kinds carry a reference
 * count (struct obj first). Strings made by the parser (literals) are
 * immortal (count TMPL_IMMORTAL), so a compiled template is never written
 * while rendering and may be shared between threads.
 */
#ifndef EMBER_TEMPLATE_IMPL_H
#define EMBER_TEMPLATE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ember.h"
#include "template.h"

#define TMPL_IMMORTAL UINT32_MAX
#define TMPL_MAX_NEST 128     /* lists/dicts nested inside each other */
#define TMPL_MAX_PARSE_DEPTH 256

#ifndef TRY
#define TRY(x)                             \
    do {                                   \
        enum ember_status st_ = (x);       \
        if (st_) return st_;               \
    } while (0)
#endif

/* ------------------------------------------------------------- values */

enum vkind {
    V_UNDEF, /* u.name: the name looked up (or NULL), for messages */
    V_NONE,
    V_BOOL,
    V_INT,
    V_FLOAT,
    V_STR,
    V_LIST,   /* also tuples and generators (vlist.tuple, vlist.gen) */
    V_DICT,
    V_NS,     /* namespace(): the one mutable kind */
    V_MACRO,
    V_METHOD, /* a bound method or a global function */
    V_LOOP,   /* the `loop` variable of a for */
};

struct obj {
    uint32_t rc;
    uint8_t kind;
};

struct vstr;
struct vlist;
struct vdict;
struct vns;
struct vmacro;
struct vmethod;
struct vloop;

struct val {
    uint8_t k;
    union {
        bool b;
        int64_t i;
        double f;
        const char *name;
        struct obj *o;
        struct vstr *s;
        struct vlist *l;
        struct vdict *d;
        struct vns *ns;
        struct vmacro *m;
        struct vmethod *meth;
        struct vloop *loop;
    } u;
};

struct vstr {
    struct obj h;
    /* markupsafe's Markup (from |safe, |escape): `markup + str` escapes the
     * str, as it does in jinja2 even without autoescape. */
    bool markup;
    size_t len;
    char data[]; /* NUL-terminated */
};

struct vlist {
    struct obj h;
    bool tuple;
    /* A Python generator (what select, map, unique, ... return in jinja2):
     * always true, no len, not JSON, iterating it empties it. */
    bool gen;
    uint16_t nest;
    size_t n, cap;
    struct val *items;
};

struct vdict {
    struct obj h;
    uint16_t nest;
    size_t n, cap;
    struct val *keys, *vals; /* insertion order */
};

struct vns {
    struct obj h;
    struct vdict *attrs;
};

struct stmt;
struct frame;

struct vmacro {
    struct obj h;
    const struct stmt *def; /* the macro, or for caller() its call block: params, defaults, body */
    /* The scope the macro was defined in, if it is still running when the
     * macro is called (checked by serial); else the template's top scope. */
    struct frame *scope;
    uint64_t scope_serial;
};

struct vmethod {
    struct obj h;
    int id;          /* enum in template_methods.c */
    struct val self; /* V_UNDEF for a global function */
};

struct vloop {
    struct obj h;
    size_t index0, length;
    struct vlist *items; /* what is iterated, for previtem/nextitem */
    int depth0;
};

static inline struct val v_undef(const char *name) {
    struct val v = {.k = V_UNDEF};
    v.u.name = name;
    return v;
}
static inline struct val v_none(void) { return (struct val){.k = V_NONE}; }
static inline struct val v_bool(bool b) {
    struct val v = {.k = V_BOOL};
    v.u.b = b;
    return v;
}
static inline struct val v_int(int64_t i) {
    struct val v = {.k = V_INT};
    v.u.i = i;
    return v;
}
static inline struct val v_float(double f) {
    struct val v = {.k = V_FLOAT};
    v.u.f = f;
    return v;
}
static inline bool v_heap(struct val v) { return v.k >= V_STR; }

/* ------------------------------------------------------------- runtime */

struct sbuf {
    char *p;
    size_t n, cap;
};

struct rt {
    const struct template *t;
    struct ember_err *err;
    long steps;       /* left */
    int depth;        /* nested calls and blocks */
    int loop_ctl;     /* LOOP_BREAK / LOOP_CONTINUE pending */
    uint64_t serial;  /* last frame serial handed out */
    struct frame *frame, *top;
    struct vdict *globals;
    const struct tm *now;
    struct vns **nss; /* every namespace made, to break cycles at the end */
    size_t n_ns, cap_ns;
    int line;         /* of the node being evaluated, for messages */
};

enum { LOOP_NONE, LOOP_BREAK, LOOP_CONTINUE };

/* Record a render error "line N: ..." (EMBER_EINVAL). */
enum ember_status rt_fail(struct rt *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* As ember.h does for ember_fail: show the static analyzer the result. */
#ifdef __clang_analyzer__
#define rt_fail(rt, ...) (rt_fail((rt), __VA_ARGS__), EMBER_EINVAL)
#endif
/* Spend n steps; an error once the budget is gone. */
enum ember_status rt_steps(struct rt *rt, long n);

/* ---- value lifecycle and constructors (template_value.c) ---- */
void val_ref(struct val v);
void val_unref(struct val v);
/* A new string of len bytes copied from p (p NULL: uninitialised, the
 * caller fills data[0..len)). Costs steps by length; fails past
 * TEMPLATE_MAX_OUT. */
enum ember_status str_new(struct rt *rt, const char *p, size_t len, struct val *out);
enum ember_status list_new(struct rt *rt, size_t cap, struct val *out);
/* Append v (taking the reference) to a list being built. */
enum ember_status list_push(struct rt *rt, struct vlist *l, struct val v);
enum ember_status dict_new(struct rt *rt, struct val *out);
/* Set key to v (taking both references), replacing an equal key's value. */
enum ember_status dict_set(struct rt *rt, struct vdict *d, struct val key, struct val v);
/* Borrowed value of an equal key, or NULL. */
const struct val *dict_find(const struct vdict *d, struct val key);
const struct val *dict_find_str(const struct vdict *d, const char *key, size_t len);
enum ember_status ns_new(struct rt *rt, struct val *out);
void rt_release_namespaces(struct rt *rt);
enum ember_status obj_new(struct rt *rt, enum vkind kind, size_t size, struct val *out);

/* Drop v's reference and leave it undefined. The rule for failures: a
 * function that fails leaves its *out undefined (holding nothing). */
static inline void val_clear(struct val *v) {
    val_unref(*v);
    *v = v_undef(NULL);
}

/* ---- what values mean (template_value.c) ---- */
bool val_truthy(struct val v);
bool val_eq(struct val a, struct val b);
/* Python ordering: *cmp < 0, 0, > 0; an error for unorderable kinds. */
enum ember_status val_cmp(struct rt *rt, struct val a, struct val b, int *cmp);
const char *val_type_name(struct val v);
/* Append str(v) / repr(v) to b. */
enum ember_status val_str(struct rt *rt, struct val v, struct sbuf *b);
enum ember_status val_repr(struct rt *rt, struct val v, struct sbuf *b, int depth);
/* Append s with & < > ' " escaped as markupsafe does. */
enum ember_status html_escape(struct rt *rt, const struct vstr *s, struct sbuf *b);
/* str(v) as a string value (v itself, referenced, when it is one). */
enum ember_status val_to_str(struct rt *rt, struct val v, struct val *out);
void py_float_repr(double f, char out[32]);
/* Length in code points (Python's len of a str). */
size_t utf8_count(const char *s, size_t n);
/* Byte offset of code point index i (clamped to n). */
size_t utf8_offset(const char *s, size_t n, size_t i);
/* Python's str.isspace() for the code point at s (length in *adv). */
bool py_space_at(const char *s, size_t n, size_t *adv);

/* ---- output buffers ---- */
enum ember_status sbuf_put(struct rt *rt, struct sbuf *b, const char *p, size_t n);
static inline enum ember_status sbuf_puts(struct rt *rt, struct sbuf *b, const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return sbuf_put(rt, b, s, n);
}
/* The buffer's text as a string value; the buffer is emptied. */
enum ember_status sbuf_to_val(struct rt *rt, struct sbuf *b, struct val *out);

/* ---- tojson (template_json.c) ---- */
struct json_opts {
    const char *indent; /* NULL: one line */
    const char *item_sep, *key_sep;
    bool sort_keys, ensure_ascii;
};
enum ember_status val_tojson(struct rt *rt, struct val v, const struct json_opts *o,
                             struct sbuf *b);
/* A JSON tree (json.h) as a value. */
enum ember_status val_from_json(struct rt *rt, const struct json_value *j, struct val *out);

/* ---- Python str operations (template_str.c) ---- */
enum str_case { CASE_LOWER, CASE_UPPER, CASE_CAPITALIZE, CASE_TITLE, CASE_JINJA_TITLE };
enum ember_status pystr_case(struct rt *rt, const struct vstr *s, enum str_case mode, struct val *out);
/* chars NULL: Python whitespace. */
enum ember_status pystr_strip(struct rt *rt, const struct vstr *s, const struct vstr *chars, bool left,
                              bool right, struct val *out);
/* sep NULL: runs of whitespace. maxsplit < 0: no limit. A list of strings. */
enum ember_status pystr_split(struct rt *rt, const struct vstr *s, const struct vstr *sep, int64_t maxsplit,
                              struct val *out);
enum ember_status pystr_splitlines(struct rt *rt, const struct vstr *s, bool keepends, struct val *out);
/* count < 0: all. */
enum ember_status pystr_replace(struct rt *rt, const struct vstr *s, const struct vstr *old,
                                const struct vstr *new, int64_t count, struct val *out);
enum ember_status pystr_format(struct rt *rt, const struct vstr *fmt, const struct val *args, int n_args,
                               const char *const *kw_names, const struct val *kw_vals, int n_kw,
                               struct val *out);

/* ----------------------------------------------------------- tokens */

enum tok_kind {
    TK_EOF,
    TK_DATA,        /* template text between tags (str) */
    TK_VAR_BEGIN,   /* {{ */
    TK_VAR_END,     /* }} */
    TK_BLOCK_BEGIN, /* {% */
    TK_BLOCK_END,   /* %} */
    TK_NAME,
    TK_STRING,
    TK_INT,
    TK_FLOAT,
    TK_OP,
};

/* Operators, by their text. */
enum op {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_TILDE,
    OP_LBRACKET, OP_RBRACKET, OP_LPAREN, OP_RPAREN, OP_LBRACE, OP_RBRACE,
    OP_EQ, OP_NE, OP_GT, OP_GTEQ, OP_LT, OP_LTEQ, OP_ASSIGN, OP_DOT,
    OP_COLON, OP_PIPE, OP_COMMA, OP_SEMICOLON,
    /* not tokens: expression operators the parser adds */
    OP_AND, OP_OR, OP_NOT, OP_IN, OP_NOTIN, OP_NEG, OP_POS,
};

struct token {
    uint8_t kind, op;
    int line;
    const char *s; /* NAME, STRING, DATA: bytes (owned by the token list) */
    size_t len;
    int64_t i;
    double f;
};

struct tokens {
    struct token *v;
    size_t n, cap;
    char **strs; /* decoded strings to free */
    size_t n_strs, cap_strs;
};

/* Tokenize src[0..len) as jinja2's lexer does with trim_blocks and
 * lstrip_blocks on and keep_trailing_newline off. */
enum ember_status tmpl_lex(const char *src, size_t len, struct tokens *out,
                           struct ember_err *err);
void tmpl_tokens_free(struct tokens *t);

/* ---------------------------------------------------------------- AST */

enum ex_kind {
    EX_CONST,   /* cval */
    EX_NAME,    /* name */
    EX_LIST,    /* args */
    EX_TUPLE,   /* args */
    EX_DICT,    /* args: key, value, key, value ... */
    EX_GETATTR, /* a . name */
    EX_GETITEM, /* a [ b ] */
    EX_SLICE,   /* a [ args[0] : args[1] : args[2] ] (NULL parts) */
    EX_CALL,    /* a ( args, kw ) */
    EX_FILTER,  /* a | name ( args, kw ); a NULL in a filter block */
    EX_TEST,    /* a is [not] name ( args ); neg */
    EX_UNARY,   /* op a */
    EX_BINARY,  /* a op b */
    EX_COMPARE, /* args[0] ops[0] args[1] ops[1] args[2] ... */
    EX_COND,    /* b if a else c (c NULL: undefined) */
};

struct expr {
    uint8_t kind, op;
    bool neg;
    int line;
    const char *name; /* NUL-terminated, owned by the template */
    size_t name_len;
    struct val cval;
    struct expr *a, *b, *c;
    struct expr **args;
    int n_args;
    const char **kw_names;
    struct expr **kw_vals;
    int n_kw;
    uint8_t *ops;
};

enum st_kind {
    ST_TEXT,     /* text */
    ST_OUTPUT,   /* {{ e }} */
    ST_IF,       /* e, body, else_body */
    ST_FOR,      /* targets, e (iter), cond, body, else_body */
    ST_SET,      /* targets or (e_obj . attr) = e */
    ST_SETBLOCK, /* targets[0] = body | filter */
    ST_MACRO,    /* name, params, defaults, body */
    ST_CALLBLOCK,/* e (the call), params (caller's), body */
    ST_BREAK,
    ST_CONTINUE,
    ST_WITH,     /* targets = values, body */
    ST_FILTER,   /* filter chain e (innermost a NULL), body */
    ST_BLOCK,    /* generation, plain block: body */
};

struct stmt {
    uint8_t kind;
    int line;
    struct stmt *next;
    const char *text;
    size_t text_len;
    struct expr *e, *cond, *attr_obj;
    const char *attr; /* ns.attr assignment */
    const char **targets;
    int n_targets;
    bool unpack;      /* a, b = ... / for a, b in ... */
    struct expr **values; /* with: one per target */
    const char *name;
    const char **params;
    struct expr **defaults; /* per param, NULL when none */
    int n_params;
    bool recursive;
    struct stmt *body, *else_body;
};

struct template {
    struct stmt *body;
    struct tarena *arena; /* every node and string of the AST */
};

/* AST allocation: zeroed memory owned by the template. */
void *tmpl_alloc(struct template *t, size_t n);
char *tmpl_strdup(struct template *t, const char *s, size_t n);
/* An immortal string value in the template's arena (literals). */
struct vstr *tmpl_str(struct template *t, const char *s, size_t n);

/* Build the AST from tokens. EMBER_EINVAL "line N: ..." on a syntax error,
 * an unknown tag, filter or test. */
enum ember_status tmpl_parse(struct template *t, const struct tokens *toks,
                             struct ember_err *err);

/* ---------------------------------------------- evaluation (eval.c) */

enum ember_status eval_expr(struct rt *rt, const struct expr *e, struct val *out);
enum ember_status exec_body(struct rt *rt, const struct stmt *s, struct sbuf *out);
/* Run the whole template in a new top-level scope. */
enum ember_status exec_template(struct rt *rt, const struct stmt *body, struct sbuf *out);
/* Call a callable value (macro, method, global) with evaluated arguments
 * (borrowed). */
enum ember_status call_value(struct rt *rt, struct val fn, const struct val *args,
                             int n_args, const char *const *kw_names,
                             const struct val *kw_vals, int n_kw, struct val *out);
/* Attribute / item access with jinja2's rules (methods first for '.'). */
enum ember_status get_attr(struct rt *rt, struct val obj, const char *name, size_t len,
                           struct val *out);
enum ember_status get_item(struct rt *rt, struct val obj, struct val key, struct val *out);
/* Iterate v as a for loop does: a new list (strings by code point, dicts
 * by key, undefined as empty). */
enum ember_status val_iter(struct rt *rt, struct val v, struct val *out);

/* ---------------------------------------- filters, tests, methods */

/* Known names, checked at compile time. */
bool filter_known(const char *name);
bool test_known(const char *name);
enum ember_status apply_filter(struct rt *rt, const char *name, struct val in,
                               const struct val *args, int n_args,
                               const char *const *kw_names, const struct val *kw_vals,
                               int n_kw, struct val *out);
enum ember_status apply_test(struct rt *rt, const char *name, struct val in,
                             const struct val *args, int n_args, bool *out);
/* The bound method `name` of obj (str, dict, list), or false. */
bool method_lookup(struct val obj, const char *name, size_t len, int *id);
enum ember_status method_call(struct rt *rt, int id, struct val self, const struct val *args,
                              int n_args, const char *const *kw_names,
                              const struct val *kw_vals, int n_kw, struct val *out);
/* Global functions: range, namespace, dict, raise_exception, strftime_now. */
bool global_lookup(const char *name, int *id);
int method_id_strftime(void);

/* Keyword arguments: the value named name, else the positional one at pos,
 * else NULL. */
const struct val *arg_get(const struct val *args, int n_args, const char *const *kw_names,
                          const struct val *kw_vals, int n_kw, int pos, const char *name);

/* The arguments of a method or filter call, and typed access to them
 * (template_methods.c): str_arg treats none as absent; need_str requires
 * the argument; int_arg gives def when absent. */
struct call {
    const struct val *args;
    int n;
    const char *const *kw_names;
    const struct val *kw_vals;
    int n_kw;
};
const struct val *arg(const struct call *c, int pos, const char *name);
enum ember_status str_arg(struct rt *rt, const struct call *c, int pos, const char *name,
                          const struct vstr **out);
enum ember_status need_str(struct rt *rt, const struct call *c, int pos, const char *name,
                           const struct vstr **out);
enum ember_status int_arg(struct rt *rt, const struct call *c, int pos, const char *name,
                          int64_t def, int64_t *out);

#endif
