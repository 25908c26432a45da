/*
 * loader.h — open a model file for a CLI command: the backend the options
 * name, the GGUF mapping, the model and its tokenizer together. This is the
 * edge where errors are printed, so commands just return the exit code it
 * gives them.
 */
#ifndef EMBER_LOADER_H
#define EMBER_LOADER_H

#include "backend.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"

struct loaded {
    struct ember_backend *be;
    struct gguf_file *gguf;
    struct model *model;
    struct tokenizer *tok;
    double load_ms;
};

/* 0 on success; otherwise the error is printed and the exit status
 * returned. With_tokenizer false skips the tokenizer (bench). */
int loader_open(const char *path, const struct ember_options *o, bool with_tokenizer,
                struct loaded *l);
void loader_close(struct loaded *l);

/* A 64-bit identity of the model file (its size, tensor table and a few
 * bytes of every tensor), for files that hold state computed with it. */
uint64_t loader_fingerprint(const struct loaded *l);

/* Print an ember_err as the one-line error and return EXIT_RUNTIME. */
int loader_report(const struct ember_err *err);

#endif
