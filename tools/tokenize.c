/*
 * tokenize.c — `ember tokenize -m FILE|DIR -p TEXT`: the token ids of a text, as
 * one line of space-separated ids, or with --pieces one `id 'piece'` line per
 * token. Only the tokenizer metadata is read, so vocabulary-only GGUF files
 * work too. BOS/EOS are added as the vocabulary asks unless --no-bos, and
 * special-token text (<|im_start|>, <s>, ...) becomes its id unless
 * --no-parse-special.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_suggest.h"
#include "loader.h"
#include "tokenizer.h"
#include "tools.h"

#define MAX_TEXT (1u << 30) /* -f: the tokenizer's own input limit */

static const char usage[] =
    "usage: ember tokenize -m FILE|DIR (-p TEXT | -f FILE) [--pieces] [--no-bos]\n"
    "                      [--no-parse-special] [--vocab FILE.gguf]\n"
    "  -m, --model FILE|DIR  GGUF file or Hugging Face directory whose tokenizer to use\n"
    "  --vocab FILE.gguf     use this GGUF's tokenizer instead\n"
    "  -p, --prompt TEXT     text to tokenize\n"
    "  -f, --file FILE       read the text from FILE ('-' for stdin)\n"
    "  --pieces              print one `id 'piece'` line per token\n"
    "  --no-bos              do not add BOS/EOS tokens\n"
    "  --no-parse-special    treat special-token text as plain text\n";

/* Append piece to line, escaping what would not show on a terminal line. */
static size_t escape_piece(const char *p, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') o += (size_t)sprintf(out + o, "\\n");
        else if (c == '\t') o += (size_t)sprintf(out + o, "\\t");
        else if (c == '\r') o += (size_t)sprintf(out + o, "\\r");
        else if (c == '\\' || c == '\'') o += (size_t)sprintf(out + o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f) o += (size_t)sprintf(out + o, "\\x%02x", c);
        else out[o++] = (char)c;
    }
    return o;
}

static int print_ids(const struct tokenizer *tok, const int32_t *ids, size_t n,
                     bool pieces) {
    /* worst case per token: 11 digits, quotes, 4 bytes per escaped byte */
    size_t cap = 32 + 4 * tokenizer_max_piece(tok);
    char *line = malloc(cap);
    if (!line) {
        cli_error("out of memory");
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (pieces) {
            size_t pl;
            const char *p = tokenizer_piece(tok, ids[i], &pl);
            len = (size_t)sprintf(line, "%d '", ids[i]);
            len += escape_piece(p, pl, line + len);
            line[len++] = '\'';
            line[len++] = '\n';
        } else {
            len = (size_t)sprintf(line, "%s%d", i ? " " : "", ids[i]);
        }
        out_write(line, len);
    }
    if (!pieces) out_write("\n", 1);
    free(line);
    return 0;
}

int tool_tokenize(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *file = NULL, *vocab = NULL;
    bool pieces = false, add_special = true, parse_special = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(model = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "--vocab")) {
            if (!(vocab = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            if (!(prompt = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (!(file = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "--pieces")) {
            pieces = true;
        } else if (!strcmp(a, "--no-bos")) {
            add_special = false;
        } else if (!strcmp(a, "--no-parse-special")) {
            parse_special = false;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else {
            return cli_unknown_flag("tokenize", a, usage);
        }
    }
    if (!model || (!prompt == !file)) {
        cli_error("ember tokenize needs -m FILE and one of -p TEXT or -f FILE");
        return EXIT_USAGE;
    }

    char *text = NULL;
    uint64_t len;
    if (file) {
        text = read_text(strcmp(file, "-") ? file : NULL, MAX_TEXT - 1, &len);
        if (!text) return EXIT_RUNTIME;
    } else {
        len = strlen(prompt);
    }

    struct ember_err err = {0};
    struct loaded l;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = loader_open_files(model, vocab, true, &l);
    if (rc) {
        free(text);
        return rc;
    }
    if (tokenizer_encode(l.tok, text ? text : prompt, (size_t)len, add_special, parse_special, &ids,
                         &n, &err)) {
        cli_error("%s", err.msg);
        rc = EXIT_RUNTIME;
    } else {
        rc = print_ids(l.tok, ids, n, pieces);
    }
    free(ids);
    loader_close(&l);
    free(text);
    return rc;
}
