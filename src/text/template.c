/*
 * template.c — the public face of the template engine (template.h):
 * compile = lex + parse into a tree held in one arena; render = a fresh
 * runtime over that read-only tree, with the chat variables as globals;
 * free = drop the arena. The work itself is in template_lex.c,
 * template_parse.c and template_eval.c (see template_impl.h for the map).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "template_impl.h"

/* ----------------------------------------------------------------- arena */

struct tchunk {
    struct tchunk *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
};

struct tarena {
    struct tchunk *head;
};

void *tmpl_alloc(struct template *t, size_t n) {
    n = (n + 15) & ~(size_t)15;
    struct tchunk *c = t->arena->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = t->arena->head;
        c->used = 0;
        c->cap = cap;
        t->arena->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *tmpl_strdup(struct template *t, const char *s, size_t n) {
    char *p = tmpl_alloc(t, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

struct vstr *tmpl_str(struct template *t, const char *s, size_t n) {
    struct vstr *v = tmpl_alloc(t, sizeof *v + n + 1);
    if (!v) return NULL;
    v->h.rc = TMPL_IMMORTAL;
    v->h.kind = V_STR;
    v->len = n;
    memcpy(v->data, s, n);
    v->data[n] = '\0';
    return v;
}

/* --------------------------------------------------------------- compile */

void template_free(struct template *t) {
    if (!t) return;
    for (struct tchunk *c = t->arena ? t->arena->head : NULL, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(t->arena);
    free(t);
}

enum ember_status template_compile(const char *src, size_t len, struct template **out,
                                   struct ember_err *err) {
    *out = NULL;
    struct template *t = calloc(1, sizeof *t);
    if (!t || !(t->arena = calloc(1, sizeof *t->arena))) {
        free(t);
        return ember_fail(err, EMBER_ENOMEM, "template: out of memory");
    }
    struct tokens toks;
    enum ember_status st = tmpl_lex(src, len, &toks, err);
    if (!st) {
        st = tmpl_parse(t, &toks, err);
        tmpl_tokens_free(&toks);
    }
    if (st) {
        template_free(t);
        return st;
    }
    *out = t;
    return EMBER_OK;
}

/* ---------------------------------------------------------------- render */

static enum ember_status set_global(struct rt *rt, const char *name, struct val v) {
    struct val k;
    enum ember_status st = str_new(rt, name, strlen(name), &k);
    if (st) {
        val_unref(v);
        return st;
    }
    return dict_set(rt, rt->globals, k, v);
}

static enum ember_status set_str(struct rt *rt, const char *name, const char *s) {
    struct val v;
    if (!s) return set_global(rt, name, v_none());
    TRY(str_new(rt, s, strlen(s), &v));
    return set_global(rt, name, v);
}

/* messages[] as a list of {"role": ..., "content": ...} dicts. */
static enum ember_status messages_value(struct rt *rt, const struct template_vars *v, struct val *out) {
    TRY(list_new(rt, v->n_messages > 0 ? (size_t)v->n_messages : 0, out));
    for (int i = 0; i < v->n_messages; i++) {
        struct val d, k, s;
        TRY(dict_new(rt, &d));
        TRY(list_push(rt, out->u.l, d));
        const char *const keys[2] = {"role", "content"};
        const char *const vals[2] = {v->messages[i].role, v->messages[i].content};
        for (int j = 0; j < 2; j++) {
            TRY(str_new(rt, keys[j], strlen(keys[j]), &k));
            if (!vals[j]) s = v_none();
            else if (str_new(rt, vals[j], strlen(vals[j]), &s)) {
                val_unref(k);
                return EMBER_ENOMEM;
            }
            TRY(dict_set(rt, d.u.d, k, s));
        }
    }
    return EMBER_OK;
}

static enum ember_status set_globals(struct rt *rt, const struct template_vars *v) {
    struct val m = v_undef(NULL), tools = v_none();
    enum ember_status st = v->messages_json ? val_from_json(rt, v->messages_json, &m) : messages_value(rt, v, &m);
    if (st) {
        val_clear(&m);
        return st;
    }
    TRY(set_global(rt, "messages", m));
    if (v->tools_json) TRY(val_from_json(rt, v->tools_json, &tools));
    TRY(set_global(rt, "tools", tools));
    TRY(set_global(rt, "documents", v_none()));
    TRY(set_global(rt, "add_generation_prompt", v_bool(v->add_generation_prompt)));
    TRY(set_str(rt, "bos_token", v->bos_token ? v->bos_token : ""));
    return set_str(rt, "eos_token", v->eos_token ? v->eos_token : "");
}

enum ember_status template_render(const struct template *t, const struct template_vars *v, char **out,
                                  size_t *len, struct ember_err *err) {
    *out = NULL;
    *len = 0;
    struct rt rt = {.t = t, .err = err, .steps = TEMPLATE_MAX_STEPS, .now = v->now};
    struct val g;
    struct sbuf b = {0};
    enum ember_status st = dict_new(&rt, &g);
    if (st) return st;
    rt.globals = g.u.d;
    st = set_globals(&rt, v);
    if (!st) st = exec_template(&rt, t->body, &b);
    rt_release_namespaces(&rt);
    val_unref(g);
    if (!st && !b.p) st = sbuf_put(&rt, &b, "", 0);
    if (st) {
        free(b.p);
        return st;
    }
    *out = b.p;
    *len = b.n;
    return EMBER_OK;
}
