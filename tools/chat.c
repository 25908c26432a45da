/*
 * chat.c — `ember chat` (and `ember run -cnv`, `ember run --chat`): a
 * conversation in the terminal, or one message per line from a pipe.
 *
 * The conversation itself (template, prefix reuse, full context) is
 * chat_session.c; this file is the front end: where messages come from
 * (the line editor on a terminal, lines or """ blocks otherwise), the
 * commands, Ctrl-C, and where text goes. Standard output carries only the
 * replies; prompts, notes and command output go to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "chat.h"
#include "chat_session.h"
#include "line_edit.h"
#include "tools.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

/* SIGTERM, SIGHUP: the terminal back as it was, then die of the signal. */
static void on_fatal(int sig) {
    line_edit_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint; /* no SA_RESTART: a blocked read returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_fatal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    atexit(line_edit_restore);
}

static void emit_stdout(void *user, const char *text, size_t n) {
    (void)user;
    out_write(text, n);
}

/* ------------------------------------------------------------- templates */

/* The template: --chat-template NAME (built in) or FILE, else the model's
 * tokenizer.chat_template, else ChatML (said on stderr). */
static int load_template(const struct run_opts *o, const struct loaded *l, struct template **t) {
    struct ember_err err = {0};
    char *file = NULL;
    const char *src = NULL;
    size_t len = 0;
    if (o->chat_template) {
        if ((src = template_builtin(o->chat_template))) {
            len = strlen(src);
        } else {
            uint64_t n;
            if (access(o->chat_template, R_OK) != 0) {
                cli_error("--chat-template %s: not a built-in template name nor a readable file",
                          o->chat_template);
                return EXIT_USAGE;
            }
            if (!(file = read_text(o->chat_template, 1u << 20, &n))) {
                return EXIT_RUNTIME; /* read_text said why */
            }
            src = file, len = (size_t)n;
        }
    } else if (loader_meta_str(l, "tokenizer.chat_template", &src, &len) && len) {
        /* the model's */
    } else {
        fprintf(stderr, "ember: the model has no chat template; using ChatML\n");
        src = template_builtin("chatml");
        len = strlen(src);
    }
    enum ember_status st = template_compile(src, len, t, &err);
    free(file);
    return st ? loader_report(&err) : 0;
}

/* -------------------------------------------------------------- messages */

/* One message from a pipe: a line, or the lines between two """ lines.
 * NULL at end of input. */
static char *read_piped(FILE *in) {
    char *line = NULL, *msg = NULL;
    size_t cap = 0, len = 0;
    ssize_t n;
    bool block = false;
    while ((n = getline(&line, &cap, in)) >= 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!block && !strcmp(line, "\"\"\"")) {
            block = true;
            msg = calloc(1, 1);
            continue;
        }
        if (!block) {
            free(msg);
            return line;
        }
        if (!strcmp(line, "\"\"\"")) break;
        char *m = realloc(msg, len + (size_t)n + 2);
        if (!m) break;
        msg = m;
        if (len) msg[len++] = '\n';
        memcpy(msg + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    free(line);
    return msg;
}

/* ------------------------------------------------------------- commands */

static void help(void) {
    fputs("/help               this list\n"
          "/clear              forget the conversation (keeps the system message)\n"
          "/system TEXT        set the system message (empty: none)\n"
          "/set temp|top_k|top_p|min_p|seed VALUE   change sampling\n"
          "/retry              answer the last message again (the old reply is kept for /undo)\n"
          "/undo               bring back the reply /retry replaced (again: swap back)\n"
          "/stats              context used, KV cache blocks and bytes, last turn's speed\n"
          "/save FILE          save the conversation and its KV cache\n"
          "/load FILE          continue a saved conversation (same model and cache settings)\n"
          "/exit               quit (also Ctrl-D or Ctrl-C on an empty line)\n"
          "A line ending in \\ continues on the next; \"\"\" starts and ends a block.\n"
          "Ctrl-C stops a reply; what was written of it stays in the conversation.\n",
          stderr);
}

static void stats(struct chat_session *s) {
    struct chat_stats st;
    chat_get_stats(s, &st);
    fprintf(stderr,
            "context: %d of %d tokens; KV cache: %d blocks, %.1f MiB allocated\n"
            "last turn: prefilled %d tokens (%.1f t/s), generated %d (%.1f t/s)%s\n",
            st.n_cached, st.n_ctx, st.kv_blocks, (double)st.kv_bytes / 1048576.0, st.prefilled,
            st.prefilled * 1000.0 / (st.prefill_ms + 1e-9), st.generated,
            st.generated * 1000.0 / (st.gen_ms + 1e-9), st.dropped ? "; old messages dropped for room" : "");
    if (st.kept_toks >= 0)
        fprintf(stderr, "kept for /undo: %d tokens in %d blocks, %d of them shared with the conversation's %d\n",
                st.kept_toks, st.kept_blocks, st.shared_blocks, st.live_blocks);
}

/* /set NAME VALUE */
static void set_param(struct chat_session *s, const char *arg) {
    struct sampler_params sp = *chat_sampler(s);
    char name[16];
    const char *sp_at = strchr(arg, ' ');
    size_t nl = sp_at ? (size_t)(sp_at - arg) : 0;
    char *end = NULL;
    double v = sp_at ? strtod(sp_at + 1, &end) : 0;
    if (!sp_at || nl == 0 || nl >= sizeof name || end == sp_at + 1 || *end) {
        fputs("usage: /set temp|top_k|top_p|min_p|seed VALUE\n", stderr);
        return;
    }
    memcpy(name, arg, nl);
    name[nl] = 0;
    if (!strcmp(name, "temp")) sp.temp = (float)v;
    else if (!strcmp(name, "top_k")) sp.top_k = (int)v;
    else if (!strcmp(name, "top_p")) sp.top_p = (float)v;
    else if (!strcmp(name, "min_p")) sp.min_p = (float)v;
    else if (!strcmp(name, "seed") && v >= 0) sp.seed = (uint64_t)v;
    else {
        fprintf(stderr, "/set: unknown parameter '%s'\n", name);
        return;
    }
    const char *bad = sampler_params_check(&sp);
    if (bad) {
        fprintf(stderr, "/set: %s\n", bad);
        return;
    }
    chat_set_sampler(s, &sp);
    fprintf(stderr, "%s = %g\n", name, v);
}

enum { CMD_DONE, CMD_REPLY, CMD_EXIT };

static int command(struct chat_session *s, const char *line) {
    struct ember_err err = {0};
    const char *arg = strchr(line, ' ');
    size_t n = arg ? (size_t)(arg - line) : strlen(line);
    arg = arg ? arg + 1 : "";
#define IS(name) (n == strlen(name) && !strncmp(line, name, n))
    if (IS("/help")) help();
    else if (IS("/exit") || IS("/quit")) return CMD_EXIT;
    else if (IS("/clear")) chat_clear(s), fputs("conversation cleared\n", stderr);
    else if (IS("/system")) {
        if (chat_set_system(s, arg, &err)) loader_report(&err);
        else fputs(*arg ? "system message set\n" : "system message removed\n", stderr);
    } else if (IS("/set")) set_param(s, arg);
    else if (IS("/stats")) stats(s);
    else if (IS("/save") || IS("/load")) {
        if (!*arg) fprintf(stderr, "usage: %.*s FILE\n", (int)n, line);
        else if (line[1] == 's' ? chat_save(s, arg, &err) : chat_load(s, arg, &err)) loader_report(&err);
        else fprintf(stderr, "%s %s\n", line[1] == 's' ? "saved to" : "loaded", arg);
    }
    else if (IS("/retry")) {
        if (chat_retry(s)) return CMD_REPLY;
        fputs("/retry: there is no reply to redo\n", stderr);
    } else if (IS("/undo")) {
        const char *r = chat_undo(s);
        if (!r) {
            fputs("/undo: there is no reply from before a /retry to bring back\n", stderr);
        } else { /* the reply now in the conversation, on stdout as replies are */
            fputs("(the other reply is back; /undo again swaps)\n", stderr);
            out_write(r, strlen(r));
            out_write("\n", 1);
        }
    } else fprintf(stderr, "unknown command %.*s (/help lists them)\n", (int)n, line);
#undef IS
    return CMD_DONE;
}

/* ------------------------------------------------------------- the loop */

static int reply(struct chat_session *s, bool tty) {
    struct ember_err err = {0};
    interrupted = 0;
    enum ember_status st = chat_reply(s, emit_stdout, NULL, &interrupted, &err);
    out_write("\n", 1);
    if (interrupted && tty) fputs("(stopped)\n", stderr);
    interrupted = 0;
    return st ? loader_report(&err) : 0;
}

static int converse(const struct run_opts *o, struct chat_session *s, const char *first) {
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    struct line_edit *ed = NULL;
    char hist[4096];
    const char *home = getenv("HOME");
    if (tty) {
        bool with_hist = !o->no_history && home && snprintf(hist, sizeof hist, "%s/.ember_history", home) <
                                                       (int)sizeof hist;
        if (!(ed = line_edit_new(STDIN_FILENO, STDOUT_FILENO, with_hist ? hist : NULL, o->color))) {
            cli_error("out of memory");
            return EXIT_RUNTIME;
        }
        fputs("ember chat: /help for commands, Ctrl-C stops a reply, Ctrl-D quits\n", stderr);
    }
    int rc = 0;
    struct ember_err err = {0};
    for (bool first_turn = true; !rc; first_turn = false) {
        char *text = NULL;
        if (first_turn && first) {
            text = strdup(first);
        } else if (tty) {
            enum le_result r = line_edit_read(ed, "> ", &text);
            if (r == LE_ERROR) rc = EXIT_RUNTIME, cli_error("cannot read the terminal: %s", strerror(errno));
            if (r != LE_LINE) break;
        } else if (!(text = read_piped(stdin))) {
            break;
        }
        if (!text) {
            rc = EXIT_RUNTIME;
            cli_error("out of memory");
        } else if (text[0] == '/') {
            int c = command(s, text);
            if (c == CMD_EXIT) {
                free(text);
                break;
            }
            if (c == CMD_REPLY) rc = reply(s, tty);
        } else if (text[0]) {
            if (chat_add_user(s, text, &err)) rc = loader_report(&err);
            else rc = reply(s, tty);
        }
        free(text);
    }
    line_edit_free(ed);
    return rc;
}

int run_chat(const struct run_opts *o, const char *prompt) {
    struct loaded l;
    int rc = loader_open(o->model, &o->eo, true, &l);
    if (rc) return rc;
    struct template *t = NULL;
    struct chat_session *s = NULL;
    struct ember_err err = {0};
    const struct model_info *mi = model_get_info(l.model);
    long n_ctx = run_ctx_size(o, mi->n_ctx_train);
    struct chat_params cp = {
        .n_ctx = (int)n_ctx, .n_threads = (int)o->n_threads, .n_batch = (int)o->n_batch, .eo = &o->eo,
        .sp = o->sp, .n_predict = o->n_predict, .reverse = o->reverse, .n_reverse = o->n_reverse,
        .ignore_eos = o->ignore_eos,
    };
    if ((rc = load_template(o, &l, &t))) goto done;
    if (chat_session_new(&l, t, &cp, &s, &err) ||
        (o->system_prompt && chat_set_system(s, o->system_prompt, &err))) {
        rc = loader_report(&err);
        goto done;
    }
    warn_ctx_train(n_ctx, mi->n_ctx_train);
    install_signals();
    bool one_turn = o->chat_once || (prompt && !isatty(STDIN_FILENO));
    if (one_turn) {
        if (chat_add_user(s, prompt ? prompt : "", &err)) rc = loader_report(&err);
        else rc = reply(s, false);
    } else {
        rc = converse(o, s, prompt);
    }
done:
    chat_session_free(s);
    template_free(t);
    loader_close(&l);
    return rc;
}

int cmd_chat(int argc, char **argv) {
    struct run_opts o;
    int rc = run_parse_args(argc, argv, &o);
    if (rc == RUN_HELP) return 0;
    if (rc) return rc;
    o.conversation = true;
    o.eo.n_seq = 2; /* -ngl's plan: a chat keeps a /retry branch */
    return run_chat(&o, o.prompt);
}
