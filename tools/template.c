/*
 * template.c — `ember template`: render a chat template and print the
 * prompt exactly (no newline added). The template comes from
 * --chat-template (a built-in name or a file) or the model's
 * tokenizer.chat_template; the conversation from --messages (an OpenAI-style
 * list of {"role", "content", ...} messages, or a request object with
 * "messages" and optionally "tools") or a short built-in one. BOS/EOS texts
 * are the model's (--bos/--eos override; "" without a model).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cli_suggest.h"
#include "json.h"
#include "loader.h"
#include "template.h"
#include "tokenizer.h"
#include "tools.h"

#define MAX_TEMPLATE (16u << 20) /* bytes of a template file */
#define MAX_MESSAGES (256u << 20)

static const char usage[] =
    "usage: ember template [-m FILE] [--chat-template NAME|FILE] [--messages FILE]\n"
    "                      [--no-generation-prompt] [--bos TEXT] [--eos TEXT] [--now SECONDS]\n"
    "  -m, --model FILE|DIR     GGUF file or Hugging Face directory: its chat template\n"
    "                           and BOS/EOS texts\n"
    "  --chat-template NAME|FILE  a built-in template (see --list) or a template file;\n"
    "                           needed when the model has none, or without -m\n"
    "  --messages FILE          the conversation as JSON ('-' for stdin): a list of\n"
    "                           messages, or an object with \"messages\" and \"tools\";\n"
    "                           default: a short system/user/assistant/user example\n"
    "  --no-generation-prompt   do not open an assistant turn at the end\n"
    "  --bos TEXT, --eos TEXT   the bos_token / eos_token texts the template sees\n"
    "  --now SECONDS            the time strftime_now() shows (UTC seconds since 1970);\n"
    "                           default: the local time now\n"
    "  --list                   print the built-in template names\n";

static const struct chat_msg example[] = {
    {"system", "You are a helpful assistant."},
    {"user", "Hello!"},
    {"assistant", "Hi there! How can I help you today?"},
    {"user", "Tell me a joke."},
};

struct opts {
    const char *model, *chat_template, *messages, *bos, *eos, *now;
    bool gen;
};

static int parse(int argc, char **argv, struct opts *o) {
    o->gen = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "-m") || !strcmp(a, "--model") ? &o->model
                            : !strcmp(a, "--chat-template")            ? &o->chat_template
                            : !strcmp(a, "--messages")                 ? &o->messages
                            : !strcmp(a, "--bos")                      ? &o->bos
                            : !strcmp(a, "--eos")                      ? &o->eos
                            : !strcmp(a, "--now")                      ? &o->now
                                                                       : NULL;
        if (slot) {
            if (!(*slot = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "--no-generation-prompt")) {
            o->gen = false;
        } else if (!strcmp(a, "--list")) {
            for (int k = 0; template_builtin_name(k); k++) printf("%s\n", template_builtin_name(k));
            return -1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return -1;
        } else {
            return cli_unknown_flag("template", a, usage);
        }
    }
    if (!o->model && !o->chat_template) {
        cli_error("ember template needs -m FILE or --chat-template NAME|FILE");
        return EXIT_USAGE;
    }
    return 0;
}

/* The model's template and BOS/EOS texts (malloc'd copies). */
static int read_model(const char *path, bool want_template, char **tmpl, char **bos, char **eos) {
    struct loaded l;
    int rc = loader_open_files(path, NULL, true, &l);
    if (rc) return rc;
    const char *s;
    size_t sl;
    if (want_template && !loader_meta_str(&l, "tokenizer.chat_template", &s, &sl)) {
        cli_error("%s has no chat template (tokenizer.chat_template); give one with --chat-template "
                  "NAME|FILE (ember template --list shows the built-in names)", path);
        rc = EXIT_RUNTIME;
    } else if (want_template) {
        *tmpl = strndup(s, sl);
    }
    int32_t ids[2] = {tokenizer_bos(l.tok), tokenizer_eos(l.tok)};
    char **outs[2] = {bos, eos};
    for (int k = 0; k < 2 && !rc; k++) {
        size_t n = 0;
        const char *p = ids[k] >= 0 ? tokenizer_piece(l.tok, ids[k], &n) : NULL;
        *outs[k] = strndup(p ? p : "", p ? n : 0);
    }
    loader_close(&l);
    return rc;
}

/* --chat-template: a built-in name, else a file. */
static char *read_template(const char *arg) {
    const char *b = template_builtin(arg);
    if (b) return strdup(b);
    uint64_t len;
    return read_text(arg, MAX_TEMPLATE, &len);
}

/* --messages: a list, or an object with "messages" (and "tools"). */
static int read_messages(const char *path, struct json_doc **doc, struct template_vars *v) {
    uint64_t len;
    char *text = read_text(strcmp(path, "-") ? path : NULL, MAX_MESSAGES, &len);
    if (!text) return EXIT_RUNTIME;
    struct ember_err err = {0};
    enum ember_status st = json_parse(text, (size_t)len, doc, &err);
    free(text);
    if (st) {
        cli_error("%s: %s", path, err.msg);
        return EXIT_RUNTIME;
    }
    const struct json_value *root = json_root(*doc), *msgs = root;
    if (root->type == JSON_OBJECT) {
        msgs = json_get(root, "messages");
        v->tools_json = json_get(root, "tools");
    }
    bool ok = msgs && msgs->type == JSON_ARRAY;
    for (size_t i = 0; ok && i < msgs->len; i++) {
        const struct json_value *role = json_get(&msgs->items[i], "role");
        ok = role && role->type == JSON_STRING;
    }
    if (!ok) {
        cli_error("%s: expected a list of messages, each an object with a \"role\" string", path);
        return EXIT_RUNTIME;
    }
    v->messages_json = msgs;
    return 0;
}

static int render(const char *text, const struct template_vars *v) {
    struct ember_err err = {0};
    struct template *t = NULL;
    char *out = NULL;
    size_t len = 0;
    if (template_compile(text, strlen(text), &t, &err) || template_render(t, v, &out, &len, &err)) {
        cli_error("%s", err.msg);
        template_free(t);
        return EXIT_RUNTIME;
    }
    out_write(out, len);
    free(out);
    template_free(t);
    return 0;
}

int tool_template(int argc, char **argv) {
    struct opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    struct tm now;
    time_t secs = time(NULL);
    long given;
    if (o.now && !args_int("--now", o.now, 0, 253402300799L /* 9999-12-31 */, &given)) return EXIT_USAGE;
    if (o.now) secs = (time_t)given;
    if (o.now ? !gmtime_r(&secs, &now) : !localtime_r(&secs, &now)) {
        cli_error("--now: time out of range");
        return EXIT_USAGE;
    }

    char *text = NULL, *bos = NULL, *eos = NULL;
    struct json_doc *doc = NULL;
    struct template_vars v = {.messages = example, .n_messages = 4, .add_generation_prompt = o.gen, .now = &now};
    if (o.model) rc = read_model(o.model, !o.chat_template, &text, &bos, &eos);
    if (!rc && o.chat_template && !(text = read_template(o.chat_template))) rc = EXIT_RUNTIME;
    if (!rc && o.messages) rc = read_messages(o.messages, &doc, &v);
    if (!rc && (!text || (o.model && (!bos || !eos)))) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
    }
    if (!rc) {
        v.bos_token = o.bos ? o.bos : bos ? bos : "";
        v.eos_token = o.eos ? o.eos : eos ? eos : "";
        rc = render(text, &v);
    }
    json_free(doc);
    free(text);
    free(bos);
    free(eos);
    return rc;
}
