/*
 * cli_suggest.c — messages for unknown command-line words (cli_suggest.h):
 * the edit distance that picks "did you mean", the list of llama.cpp flags
 * ember does not take yet, and the scan of a usage text for the flags a
 * command knows. Sections: distance, llama.cpp flags, messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_suggest.h"

/* ------------------------------------------------------------ distance */

#define NAME_MAX_LEN 64

/* Optimal-string-alignment distance between a and b (insert, delete,
 * substitute, swap two neighbours: one each); names longer than
 * NAME_MAX_LEN count as far apart. O(len(a) * len(b)). */
static size_t edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > NAME_MAX_LEN || m > NAME_MAX_LEN) return (size_t)-1;
    size_t d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];
    for (size_t i = 0; i <= n; i++) d[i][0] = i;
    for (size_t j = 0; j <= m; j++) d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *cli_nearest(const char *word, const char *const *names, size_t n) {
    /* a typo is at most a third of the word wrong (at least one edit, at
     * most three), so "-x" suggests nothing */
    size_t len = strlen(word), limit = len / 3;
    if (limit < 1) limit = 1;
    if (limit > 3) limit = 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(word, names[i]);
        if (dist < best_d) best_d = dist, best = names[i];
    }
    return best;
}

/* ------------------------------------------------------- llama.cpp flags */

/* Common flags of llama-cli, llama-server, llama-bench and llama-quantize
 * (names from llama.cpp's common/arg.cpp, plus --mlock / --no-mmap of older
 * releases). A flag here that ember also takes is never looked up: the
 * command's own parser accepted it first. */
static const char *const llama_flags[] = {
    "-a", "--alias", "-b", "--batch-size", "-ub", "--ubatch-size", "-c", "--ctx-size",
    "-cb", "--cont-batching", "-nocb", "--no-cont-batching", "-cmoe", "--cpu-moe", "-ncmoe",
    "--n-cpu-moe", "-cnv", "--conversation", "-no-cnv", "--no-conversation", "-co", "--color",
    "--control-vector", "-ctk", "--cache-type-k", "-ctv", "--cache-type-v", "-dev", "--device",
    "--dry-multiplier", "--dry-base", "--dry-allowed-length", "--dynatemp-range", "-dt",
    "--defrag-thold", "--embedding", "--embeddings", "-fa", "--flash-attn", "-f", "--file",
    "--grammar", "--grammar-file", "-hf", "-hfr", "--hf-repo", "-hff", "--hf-file", "--hf-token",
    "--host", "--port", "-i", "--interactive", "-if", "--interactive-first", "--in-prefix",
    "--in-suffix", "--in-prefix-bos", "-j", "--json-schema", "-jf", "--json-schema-file",
    "--jinja", "--no-jinja", "--keep", "-kvo", "--kv-offload", "-nkvo", "--no-kv-offload",
    "--list-devices", "--load-mode", "--log-disable", "--log-file", "--log-verbose", "-lv",
    "--log-verbosity", "-l", "--logit-bias", "--lora", "--lora-scaled", "-m", "--model",
    "-md", "--model-draft", "-mu", "--model-url", "-mg", "--main-gpu", "--metrics", "--mirostat",
    "--mirostat-lr", "--mirostat-ent", "--mlock", "--mmap", "--no-mmap", "--mmproj", "--image",
    "-n", "--predict", "--n-predict", "-ngl", "--gpu-layers", "--n-gpu-layers", "-ngld",
    "--gpu-layers-draft", "-np", "--parallel", "--no-display-prompt", "--no-perf", "--no-warmup",
    "--numa", "--override-kv", "-ot", "--override-tensor", "-p", "--prompt", "--poll", "--prio",
    "--ppl-stride", "--prompt-cache", "--prompt-cache-all", "--prompt-cache-ro", "-r",
    "--reverse-prompt", "--reasoning-budget", "--reasoning-format", "--rope-scaling",
    "--rope-scale", "--rope-freq-base", "--rope-freq-scale", "--rpc", "-s", "--seed",
    "--samplers", "--sampling-seq", "-sm", "--split-mode", "--simple-io", "--single-turn",
    "--slots", "-sp", "--special", "-sys", "--system-prompt", "-sysf", "--system-prompt-file",
    "-t", "--threads", "-tb", "--threads-batch", "-td", "--threads-draft", "-ts", "--tensor-split",
    "--temp", "--temperature", "--top-k", "--top-p", "--min-p", "--top-nsigma", "--typical",
    "--xtc-probability", "--xtc-threshold", "--repeat-last-n", "--repeat-penalty",
    "--presence-penalty", "--frequency-penalty", "--verbose-prompt", "--verbose", "-v",
    "--draft", "--draft-max", "--draft-min", "--spm-infill", "--swa-full", "--check-tensors",
    "--kl-divergence", "--kl-divergence-base", "--hellaswag", "--winogrande",
    "--multiple-choice", "-cram", "--cache-ram", "--cache-reuse", "--no-context-shift",
    "--context-shift", "--repack", "--no-repack", "--no-op-offload", "-dio", "--direct-io",
    "-fit", "--fit", "-nr", "--progress", "-o", "--output", "-pg", "-d", "--n-depth",
    "--repetitions", "--leave-output-tensor", "--imatrix",
    "--include-weights", "--exclude-weights", "--keep-split", "--prune-layers",
};

int cli_is_llama_flag(const char *flag) {
    size_t len = strcspn(flag, "=");
    for (size_t i = 0; i < sizeof llama_flags / sizeof llama_flags[0]; i++)
        if (strlen(llama_flags[i]) == len && !strncmp(flag, llama_flags[i], len)) return 1;
    return 0;
}

/* ------------------------------------------------------------ messages */

#define MAX_KNOWN 256
#define MAX_FLAG 48

int cli_unknown_flag(const char *cmd, const char *flag, const char *help) {
    char name[MAX_FLAG + 1];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(flag, "="), flag);
    if (cli_is_llama_flag(name)) {
        cli_error("%s is a llama.cpp flag ember does not support yet (ember %s --help lists "
                  "what it takes)", name, cmd);
        return EXIT_USAGE;
    }
    /* The known flags: every word of the usage text that starts with '-'
     * and a letter or a second '-', cut at what cannot be in a flag. */
    char words[MAX_KNOWN][MAX_FLAG + 1];
    const char *known[MAX_KNOWN];
    size_t n = 0;
    for (const char *p = help; p && *p && n < MAX_KNOWN; p++) {
        if (*p != '-' || (p > help && p[-1] != ' ' && p[-1] != '\n' && p[-1] != '(' &&
                          p[-1] != '[' && p[-1] != '|'))
            continue;
        size_t k = strspn(p, "-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (k < 2 || k > MAX_FLAG || (p[1] == '-' && k < 3) || p[k - 1] == '-') continue;
        snprintf(words[n], sizeof words[n], "%.*s", (int)k, p);
        known[n] = words[n];
        n++;
        p += k - 1;
    }
    const char *near = cli_nearest(name, known, n);
    if (near)
        cli_error("unknown option '%s' (did you mean %s? see ember %s --help)", flag, near, cmd);
    else
        cli_error("unknown option '%s' (see ember %s --help)", flag, cmd);
    return EXIT_USAGE;
}
