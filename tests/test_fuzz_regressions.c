/*
 * test_fuzz_regressions.c — replays every input saved under
 * tests/fuzz/regressions/<harness>/ through that libFuzzer harness, built
 * normally (no libFuzzer; under make sanitize, with ASan and UBSan), so a
 * crash the fuzzers once found stays fixed. Each harness also runs on a few
 * built-in inputs (empty, tiny) so the code path is exercised even when its
 * directory is empty. Prints one "ok" line per harness with the count.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Each harness, its entry points renamed. */
#define FUZZ_ENTRY fuzz_gguf_one
#define FUZZ_INIT fuzz_gguf_init
#include "fuzz/fuzz_gguf.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_tokenizer_one
#define FUZZ_INIT fuzz_tokenizer_init
#include "fuzz/fuzz_tokenizer.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_args_one
#define FUZZ_INIT fuzz_args_init
#include "fuzz/fuzz_args.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_model_one
#define FUZZ_INIT fuzz_model_init
#include "fuzz/fuzz_model.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_json_one
#define FUZZ_INIT fuzz_json_init
#include "fuzz/fuzz_json.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_template_one
#define FUZZ_INIT fuzz_template_init
#include "fuzz/fuzz_template.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_safetensors_one
#define FUZZ_INIT fuzz_safetensors_init
#include "fuzz/fuzz_safetensors.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT
#define FUZZ_ENTRY fuzz_hf_one
#define FUZZ_INIT fuzz_hf_init
#include "fuzz/fuzz_hf.c"
#undef FUZZ_ENTRY
#undef FUZZ_INIT

struct harness {
    const char *name;
    int (*one)(const uint8_t *, size_t);
};

static const struct harness harnesses[] = {
    {"gguf", fuzz_gguf_one},
    {"tokenizer", fuzz_tokenizer_one},
    {"args", fuzz_args_one},
    {"model", fuzz_model_one},
    {"json", fuzz_json_one},
    {"template", fuzz_template_one},
    {"safetensors", fuzz_safetensors_one},
    {"hf", fuzz_hf_one},
};

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    uint8_t *p = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        p = malloc((size_t)st.st_size + 1);
        if (p && fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            free(p);
            p = NULL;
        }
        *n = (size_t)st.st_size;
    }
    fclose(f);
    return p;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    int fails = 0;
    fuzz_tokenizer_init(NULL, NULL);
    fuzz_model_init(NULL, NULL);
    fuzz_hf_init(NULL, NULL);
#define LIT(s) {s, sizeof(s) - 1}
    static const struct { const char *p; size_t n; } builtin[] = {
        LIT(""), LIT("GGUF"), LIT("GGUF\3\0\0\0"), LIT("-m\0x\0-p\0hi\0--temp\0 0.5"),
        LIT("\1\7 hello <s> world"), LIT("\0\3\xff\xfe\xc3")};
    for (size_t h = 0; h < sizeof harnesses / sizeof harnesses[0]; h++) {
        const struct harness *hs = &harnesses[h];
        for (size_t b = 0; b < sizeof builtin / sizeof builtin[0]; b++)
            hs->one((const uint8_t *)builtin[b].p, builtin[b].n);
        char dir[256];
        snprintf(dir, sizeof dir, "tests/fuzz/regressions/%s", hs->name);
        DIR *d = opendir(dir);
        char *names[4096];
        int n = 0;
        for (struct dirent *e; d && (e = readdir(d)) && n < 4096;)
            if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
        if (d) closedir(d);
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        int replayed = 0;
        for (int i = 0; i < n; i++) {
            char path[600];
            size_t len = 0;
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            uint8_t *data = read_all(path, &len);
            if (data) {
                hs->one(data, len); /* a regression crashes or aborts here */
                replayed++;
            }
            free(data);
            free(names[i]);
        }
        printf("ok fuzz regressions %s: %d saved inputs and %zu built-in ones replayed\n",
               hs->name, replayed, sizeof builtin / sizeof builtin[0]);
    }
    return fails;
}
