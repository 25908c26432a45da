/*
 * loader.h — open a model for a CLI command: the backend the options name,
 * the weights (a GGUF file, or a Hugging Face directory: config.json +
 * safetensors), the model and its tokenizer (the GGUF's, tokenizer.json, or
 * --vocab's GGUF) together. This is the edge where errors are printed, so
 * commands just return the exit code it gives them.
 */
#ifndef EMBER_LOADER_H
#define EMBER_LOADER_H

#include "backend.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"
#include "weights_hf.h"

struct loaded {
    struct ember_backend *be;
    struct ember_backend *dev; /* -ngl's device, or NULL */
    struct gguf_file *gguf;   /* the model file, or NULL for a directory */
    struct hf_model *hf;      /* the Hugging Face directory, or NULL */
    struct weight_source src; /* metadata and weights of either */
    struct model *model;
    struct tokenizer *tok;
    double load_ms;
};

/* 0 on success; otherwise the error is printed and the exit status
 * returned. With_tokenizer false skips the tokenizer (bench). */
int loader_open(const char *path, const struct ember_options *o, bool with_tokenizer,
                struct loaded *l);
/* -ngl for a loaded model (loader_open calls it; bench per -ngl value):
 * the device o->device names, else the first non-host one (a warning and
 * a CPU run when there is none; an error when --device names one that is
 * not usable), the plan against its memory (model_offload), and one
 * stderr line saying what went where. 0 or the printed error's exit
 * status. For a model just loaded (model_load), not yet offloaded: bench
 * loads the model again for each -ngl value and calls this again. */
int loader_offload(struct loaded *l, const struct ember_options *o);

/* The weights' files and (with_tokenizer) the tokenizer only: no backend,
 * no model (tokenize, template, bench). vocab: --vocab's GGUF or NULL. */
int loader_open_files(const char *path, const char *vocab, bool with_tokenizer,
                      struct loaded *l);
void loader_close(struct loaded *l);

/* A metadata string by GGUF key ("tokenizer.chat_template"), from either
 * source; false when absent. Not NUL-terminated. */
bool loader_meta_str(const struct loaded *l, const char *key, const char **s, size_t *len);

/* A 64-bit identity of the model (its size, tensor table and a few bytes
 * of every tensor), for files that hold state computed with it. */
uint64_t loader_fingerprint(const struct loaded *l);

/* Print an ember_err as the one-line error and return EXIT_RUNTIME. */
int loader_report(const struct ember_err *err);

#endif
