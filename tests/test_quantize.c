/*
 * test_quantize.c — `ember quantize` against llama.cpp's llama-quantize.
 *
 * The shared fixtures hold stories260K.gguf (all F32) and the files
 * llama-quantize made from it (the commands are in its reference.json). The
 * same command through `ember quantize` must give the same file type, the
 * same type for every tensor (the mixes' per-tensor rules and the
 * fallbacks for rows that a block does not divide) and the same bytes in
 * every tensor (ember's reference quantizers are ggml's, bit for bit).
 * Then the writer's own promises: the output opens as GGUF with the
 * metadata copied, a failed run leaves no file, and bad arguments are
 * usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gguf.h"
#include "quant.h"

static const char *ember(void) { return getenv("EMBER") ? getenv("EMBER") : "./ember"; }

static int sh(const char *fmt, const char *a, const char *b, const char *c, const char *d) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, ember(), a, b, c, d);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Every tensor of ref present in out with the same type and bytes. */
static void compare(const char *what, const char *out_path, const char *ref_path) {
    struct ember_err err = {0};
    struct gguf_file *o = NULL, *r = NULL;
    if (gguf_open(out_path, &o, &err) || gguf_open(ref_path, &r, &err)) {
        CHECK(0, "%s: opens as GGUF: %s", what, err.msg);
        gguf_close(o);
        return;
    }
    int bad_type = 0, bad_bytes = 0, missing = 0;
    char first[160] = "";
    for (int64_t i = 0; i < gguf_n_tensors(r); i++) {
        const struct gguf_tensor *rt = gguf_tensor(r, i);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)rt->name.len, rt->name.p);
        const struct gguf_tensor *ot = gguf_find_tensor(o, name);
        if (!ot) {
            missing++;
            continue;
        }
        if (ot->type != rt->type) {
            if (!bad_type++)
                snprintf(first, sizeof first, "%s is %s, llama-quantize's %s", name, quant_type_name(ot->type),
                         quant_type_name(rt->type));
        } else if (ot->n_bytes != rt->n_bytes || memcmp(ot->data, rt->data, rt->n_bytes)) {
            if (!bad_bytes++ && !first[0]) snprintf(first, sizeof first, "%s (%s) differs", name, quant_type_name(rt->type));
        }
    }
    uint32_t ft_o = 99, ft_r = 98;
    gguf_get_u32(o, "general.file_type", &ft_o);
    gguf_get_u32(r, "general.file_type", &ft_r);
    CHECK(!missing && !bad_type && !bad_bytes && gguf_n_tensors(o) == gguf_n_tensors(r) && ft_o == ft_r,
          "%s: %lld tensors as llama-quantize wrote them: %d of another type, %d with other bytes, %d missing; "
          "file type %u (llama.cpp %u) %s",
          what, (long long)gguf_n_tensors(r), bad_type, bad_bytes, missing, ft_o, ft_r, first);
    /* the metadata travels: the vocabulary and the architecture's keys */
    CHECK(gguf_n_kv(o) >= gguf_n_kv(r) - 1 && gguf_find_key(o, "tokenizer.ggml.tokens") >= 0,
          "%s: metadata copied (%lld pairs, llama.cpp's file %lld)", what, (long long)gguf_n_kv(o),
          (long long)gguf_n_kv(r));
    gguf_close(o);
    gguf_close(r);
}

int main(void) {
    const char *root = getenv("EMBER_SHARED") ? getenv("EMBER_SHARED") : "../shared";
    char src[512], out[] = "/tmp/ember-test-quantize-XXXXXX";
    snprintf(src, sizeof src, "%s/models/stories260K.gguf", root);
    if (access(src, R_OK)) {
        SKIP("quantize: %s is missing (set EMBER_SHARED): its 22 checks against llama-quantize not run", src);
        return CHECK_DONE();
    }
    int fd = mkstemp(out);
    if (fd >= 0) close(fd);
    /* llama-quantize's commands (reference.json): the 32-block types with
     * ffn_down (rows of 172) forced to F16, which ember's fallback would
     * choose by itself (checked below) */
    static const struct {
        const char *type, *flags;
    } cases[] = {{"Q8_0", "--tensor-type ffn_down=f16"}, {"Q4_0", "--tensor-type ffn_down=f16"},
                 {"Q4_1", "--tensor-type ffn_down=f16"}, {"Q5_0", "--tensor-type ffn_down=f16"},
                 {"Q5_1", "--tensor-type ffn_down=f16"}, {"Q6_K", ""},
                 {"Q4_K_M", ""},                         {"F16", ""},
                 {"BF16", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ref[600], what[64];
        snprintf(ref, sizeof ref, "%s/models/stories260K-%s.gguf", root, cases[i].type);
        snprintf(what, sizeof what, "quantize %s", cases[i].type);
        int rc = sh("'%s' quantize %s '%s' '%s' %s 2 2>/dev/null", cases[i].flags, src, out, cases[i].type);
        CHECK(rc == 0, "%s: exit %d", what, rc);
        if (!rc) compare(what, out, ref);
    }
    /* no --tensor-type: ffn_down falls back to F16 by itself */
    int rc = sh("'%s' quantize %s '%s' '%s' %s 2 2>/dev/null", "", src, out, "Q4_0");
    char ref[600];
    snprintf(ref, sizeof ref, "%s/models/stories260K-Q4_0.gguf", root);
    if (!rc) compare("quantize Q4_0 (fallback to F16 unforced)", out, ref);
    /* errors: usage, requantizing, an unwritable path; no OUT.tmp left */
    CHECK(sh("'%s' quantize %s '%s' '%s' %s 2>/dev/null", "", src, out, "Q9_9") == 2, "unknown type: exit 2");
    CHECK(sh("'%s' quantize %s '%s' '%s' %s 2>/dev/null", "", ref, out, "Q8_0") == 2,
          "a quantized input without --allow-requantize: exit 2");
    CHECK(sh("'%s' quantize %s '%s' '%s' %s 2>/dev/null", "--tensor-type '('", src, out, "Q8_0") == 2,
          "a bad --tensor-type regex: exit 2");
    CHECK(sh("'%s' quantize %s '%s' '%s' %s 2>/dev/null", "", src, "/nonexistent-dir/x.gguf", "Q8_0") == 1,
          "an unwritable output: exit 1");
    CHECK(access("/nonexistent-dir/x.gguf.tmp", F_OK) != 0, "no .tmp left behind");
    unlink(out);
    return CHECK_DONE();
}
