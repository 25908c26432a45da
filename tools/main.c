/*
 * main.c — `ember`: pick the subcommand and hand it the rest of argv.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "chat.h"
#include "cli_suggest.h"
#include "os.h"
#include "tools.h"

#define EMBER_VERSION "0.1.0"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"run", cmd_run, "generate text from a prompt (-p, -f or stdin)"},
    {"chat", cmd_chat, "chat with a model in the terminal (or one message per line from a pipe)"},
    {"info", tool_info, "print a model's metadata and tensor table"},
    {"tokenize", tool_tokenize, "print the token ids of a text"},
    {"template", tool_template, "render a chat template into the prompt text"},
    {"perplexity", tool_perplexity, "perplexity of a text file, llama.cpp-style chunks"},
    {"quantize", tool_quantize, "re-encode a GGUF to Q4_K_M, Q8_0, … (llama-quantize's types and flags)"},
    {"convert", tool_convert, "a Hugging Face directory (plain or GPTQ) as a GGUF llama.cpp loads"},
    {"bench", tool_bench, "prompt and generation speed, llama-bench style (pp/tg t/s)"},
};

static void usage(FILE *o) {
    fprintf(o, "ember %s: run GGUF and Hugging Face language models on the CPU\n\n"
               "usage: ember COMMAND [options]    (ember COMMAND --help for its options)\n\n",
            EMBER_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(o, "  %-12s %s\n", commands[i].name, commands[i].help);
}

/* The exit status once a command returned rc: a model file that changed
 * under the run, or standard output that could not be written (a full
 * disk; help, info, tokenize and template print without checking each
 * write), turns success into EXIT_RUNTIME with one error line. A closed
 * pipe stays quiet: the reader is done. */
static int finish(int rc) {
    struct ember_err err = {0};
    if (!rc && os_mapped_files_check(&err)) { /* a failed command said why already */
        cli_error("%s", err.msg);
        rc = EXIT_RUNTIME;
    }
    errno = 0;
    bool bad = fflush(stdout) != 0;
    int e = errno;
    if (ferror(stdout)) bad = true;
    if (bad && e != EPIPE) {
        cli_error("cannot write to standard output%s%s", e ? ": " : "", e ? strerror(e) : "");
        if (!rc) rc = EXIT_RUNTIME;
    }
    return rc;
}

/* The command argv names, or usage/version; its exit status. */
static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(c, "--version")) {
        printf("ember %s\n", EMBER_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(c, commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) names[i] = commands[i].name;
    const char *near = cli_nearest(c, names, sizeof names / sizeof names[0]);
    if (near) cli_error("unknown command '%s' (did you mean %s? try ember --help)", c, near);
    else if (c[0] == '-') cli_error("options come after a command: ember run %s ... (try ember --help)", c);
    else cli_error("unknown command '%s' (try ember --help)", c);
    return EXIT_USAGE;
}

int main(int argc, char **argv) {
    /* A closed pipe shows up as EPIPE on write, which out_write handles. */
    signal(SIGPIPE, SIG_IGN);
    /* A model file truncated while mapped must not be read as zeros. */
    os_on_mapped_file_fault("ember: error: the model file changed or was truncated while in use\n");
    return finish(dispatch(argc, argv));
}
