/*
 * test_hf.c — stories260K as a Hugging Face directory (config.json +
 * model.safetensors in HF's rotary layout + tokenizer.json), from the
 * workplace's shared fixtures ($EMBER_SHARED, default ../shared), against
 * the float64 numpy reference stories260K-reference.json made there:
 *   - logits at every position of both prompts within 1e-4 (F32 KV cache);
 *   - 32 greedy ids of both prompts equal the reference's;
 *   - the same model from the bundled GGUF gives the same logits (1e-4), and
 *     the HF weights with GGUF's interleaved rope do not (the rotate_half
 *     flag is what makes them agree: a negative control);
 *   - tokenizer.json tokenizes both prompts and the 3885-token evaluation
 *     text (ppl.json) to the reference ids, and decodes the greedy ids to
 *     the reference text; so does the same file rewritten in the newer
 *     form (a Metaspace pre-tokenizer instead of the normalizer);
 *   - with rope_scaling of type llama3 in config.json, the divisors made
 *     for rope_freqs.weight are those Meta's rule gives (computed in
 *     Python: 1, 1, 3.2396418468652604, 8 for head size 8, base 10000,
 *     factor 8, low/high 1/4, original length 1024) and change the greedy
 *     text only after it has run a while.
 * Without the shared folder every check is skipped, saying so.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "engine.h"
#include "hf_ref.h"
#include "json_mini.h"
#include "os.h"
#include "tokenizer.h"
#include "weights_hf.h"

#define TOL 1e-4
#define MAXT 64


/* The tokenizer of tokenizer.json text tj (label names the variant). */
static void check_tokenizer(const char *tj, const char *label, const char *ref_json) {
    struct tokenizer *t = NULL;
    struct ember_err err = {0};
    struct tokenizer_hf_hints h = {.bos = -1, .eos = -1, .add_bos = -1, .add_eos = -1};
    CHECK(tj && tokenizer_load_hf(tj, strlen(tj), &h, &t, &err) == EMBER_OK,
          "%s loads %s", label, err.msg);
    if (!t) return;
    CHECK(tokenizer_n_vocab(t) == 512 && tokenizer_bos(t) == 1 && tokenizer_eos(t) == 2 &&
              tokenizer_add_bos(t),
          "512 tokens, BOS 1 (added, from the post-processor), EOS 2");
    const char *p = ref_json;
    for (int k = 0; k < 2; k++) {
        char *text = json_string_after(&p, "\"text\"");
        double want[MAXT] = {0};
        int nw = json_numbers_after(&p, "\"ids\"", want, MAXT);
        int32_t *ids = NULL;
        size_t n = 0;
        bool same = text && tokenizer_encode(t, text, strlen(text), true, true, &ids, &n, &err) ==
                                EMBER_OK && (int)n == nw;
        for (size_t i = 0; same && i < n; i++) same = ids[i] == (int32_t)want[i];
        CHECK(same, "%s, prompt %d %s: the reference's %d ids", label, k, text ? text : "?", nw);
        double g[MAXT] = {0};
        int ng = json_numbers_after(&p, "\"greedy_ids\"", g, MAXT);
        char *gtext = json_string_after(&p, "\"greedy_text\"");
        int32_t all[2 * MAXT] = {0};
        for (size_t i = 0; i < n && i < MAXT; i++) all[i] = ids[i];
        for (int i = 0; i < ng; i++) all[n + (size_t)i] = (int32_t)g[i];
        char *dec = NULL;
        size_t dl = 0;
        /* without the BOS, whose decoding keeps the first piece's space */
        CHECK(gtext && n > 1 &&
                  tokenizer_decode(t, all + 1, n - 1 + (size_t)ng, false, &dec, &dl, &err) ==
                      EMBER_OK &&
                  !strcmp(dec, gtext),
              "%s, prompt %d: prompt + greedy ids decode to the reference text '%s'", label, k,
              dec ? dec : "");
        free(dec);
        free(gtext);
        free(ids);
        free(text);
    }
    /* the evaluation text: 3885 ids, byte fallback for newlines */
    char *ppl = json_slurp(shared_path(2, "models/hf/ppl.json"));
    char *eval = json_slurp(shared_path(3, "models/hf/eval.txt"));
    if (ppl && eval) {
        size_t len = strlen(eval);
        if (len && eval[len - 1] == '\n') len--;
        const char *q = ppl;
        double *want = calloc(8192, sizeof *want);
        int nw = json_numbers_after(&q, "\"eval_ids\"", want, 8192);
        int32_t *ids = NULL;
        size_t n = 0, first_diff = 0;
        bool ok = tokenizer_encode(t, eval, len, false, false, &ids, &n, &err) == EMBER_OK &&
                  (int)n == nw;
        while (ok && first_diff < n && ids[first_diff] == (int32_t)want[first_diff]) first_diff++;
        CHECK(ok && first_diff == n && nw == 3885,
              "%s, eval.txt: %zu ids, %d in ppl.json, first difference at %zu", label, n, nw,
              first_diff);
        free(ids);
        free(want);
    } else {
        SKIP("eval.txt / ppl.json not in the shared folder");
    }
    free(ppl);
    free(eval);
    tokenizer_free(t);
}

/* The directory with config.json's rope_scaling set to llama3 (a copy of
 * config.json in a temporary directory, the rest linked). */
static void check_llama3(const char *dir, struct ember_backend *be, const int32_t *prompt, int n,
                         const double *ref_greedy) {
    char tmp[] = "/tmp/ember-hf-llama3-XXXXXX", path[PATH_MAX + 64], real[PATH_MAX];
    if (!mkdtemp(tmp) || !realpath(dir, real)) {
        CHECK(0, "llama3: temporary directory");
        return;
    }
    static const char *const links[] = {"model.safetensors", "tokenizer.json"};
    for (int i = 0; i < 2; i++) {
        char target[PATH_MAX + 64];
        snprintf(target, sizeof target, "%s/%s", real, links[i]);
        snprintf(path, sizeof path, "%s/%s", tmp, links[i]);
        if (symlink(target, path)) CHECK(0, "llama3: link %s", path);
    }
    snprintf(path, sizeof path, "%s/config.json", tmp);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": 64, "
              "\"intermediate_size\": 172, \"num_attention_heads\": 8, \"num_key_value_heads\": 4, "
              "\"num_hidden_layers\": 5, \"rms_norm_eps\": 1e-05, \"vocab_size\": 512, "
              "\"max_position_embeddings\": 2048, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, "
              "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
              "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 1024}}", f);
        fclose(f);
    }
    struct hf_model *h = NULL;
    struct model *m = NULL;
    struct ember_err err = {0};
    CHECK(hf_open(tmp, &h, &err) == EMBER_OK, "llama3: open %s", err.msg);
    struct weight_source src = h ? weight_source_hf(h) : (struct weight_source){0};
    struct weight_desc d = {0};
    static const double want[4] = {1.0, 1.0, 3.2396418468652604, 8.0};
    bool same = h && src.ops->find(src.impl, "rope_freqs.weight", &d) && d.n_dims == 1 && d.ne[0] == 4 &&
                d.type == EMBER_TYPE_F32;
    for (int i = 0; same && i < 4; i++) same = fabs(((const float *)d.data)[i] - want[i]) < 1e-6;
    CHECK(same, "llama3: rope_freqs.weight = 1, 1, 3.23964, 8 (Meta's rule, computed in Python)");
    CHECK(h && model_load(&src, be, &m, &err) == EMBER_OK, "llama3: the model loads %s", err.msg);
    int32_t gen[32] = {0};
    if (m && greedy(m, MAXT, prompt, n, 32, gen, &err) == EMBER_OK) {
        int match = 0;
        while (match < 32 && gen[match] == (int32_t)ref_greedy[match]) match++;
        CHECK(match >= 10 && match < 32,
              "llama3: the greedy ids follow the unscaled ones for %d tokens, then part (the long "
              "wavelengths rotate slower)", match);
    }
    model_free(m);
    hf_close(h);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, links[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/config.json", tmp);
    unlink(path);
    rmdir(tmp);
}

int main(void) {
    const char *dir = shared_path(0, "models/hf/stories260K");
    const char *ref = shared_path(1, "models/hf/stories260K-reference.json");
    if (os_path_kind(dir) != OS_PATH_DIR) {
        SKIP("hf: %s is missing (set EMBER_SHARED to the shared folder): its 40 checks not run", dir);
        return 0;
    }
    char *json = json_slurp(ref);
    struct ember_err err = {0};
    struct ember_backend *be = NULL;
    struct hf_model *h = NULL;
    struct model *m = NULL, *flat = NULL, *g = NULL;
    CHECK(json != NULL, "reference %s readable", ref);
    CHECK(test_backend(&be, &err) == EMBER_OK, "backend %s", err.msg);
    CHECK(hf_open(dir, &h, &err) == EMBER_OK, "open %s %s", dir, err.msg);
    struct weight_source src = h ? weight_source_hf(h) : (struct weight_source){0};
    CHECK(h && be && model_load(&src, be, &m, &err) == EMBER_OK, "load the directory %s", err.msg);
    if (!json || !m) return CHECK_DONE();
    const struct model_info *in = model_get_info(m);
    CHECK(in->n_vocab == 512 && in->n_layer == 5 && in->n_head == 8 && in->n_head_kv == 4 &&
              in->head_dim == 8 && in->n_ff == 172 && in->n_ctx_train == 2048,
          "hyper-parameters from config.json");

    /* negative control: the same weights read as if rope were interleaved */
    struct weight_source_ops flat_ops = *src.ops;
    flat_ops.qk_rotate_half = false;
    struct weight_source flat_src = src;
    flat_src.ops = &flat_ops;
    CHECK(model_load(&flat_src, be, &flat, &err) == EMBER_OK, "load again without rotate_half");
    struct gguf_file *gf = NULL;
    CHECK(gguf_open("tests/data/models/stories260K.gguf", &gf, &err) == EMBER_OK &&
              test_load(gf, be, &g, &err) == EMBER_OK,
          "load the bundled GGUF %s", err.msg);

    int nv = in->n_vocab;
    double *want = calloc((size_t)MAXT * nv, sizeof *want);
    float *got = calloc((size_t)MAXT * nv, sizeof *got), *other = calloc((size_t)MAXT * nv, sizeof *other);
    const char *p = json;
    for (int k = 0; k < 2; k++) {
        double ids_d[MAXT] = {0}, gd[MAXT] = {0};
        int n = json_numbers_after(&p, "\"ids\"", ids_d, MAXT);
        int nl = json_numbers_after(&p, "\"logits\"", want, MAXT * nv);
        int ng = json_numbers_after(&p, "\"greedy_ids\"", gd, MAXT);
        CHECK(n > 0 && nl == n * nv && ng == 32, "prompt %d: %d ids, %d logits, %d greedy ids", k, n, nl,
              ng);
        if (n <= 0 || nl != n * nv || ng != 32) break;
        int32_t ids[MAXT] = {0}, gen[32] = {0};
        for (int i = 0; i < n; i++) ids[i] = (int32_t)ids_d[i];
        CHECK(all_logits(m, MAXT, ids, n, got, &err) == EMBER_OK, "eval %s", err.msg);
        double d = max_diff(got, want, (size_t)n * nv);
        CHECK(d <= TOL, "prompt %d: logits at all %d positions within %g of the reference (max abs diff %.2e)",
              k, n, TOL, d);
        CHECK(greedy(m, MAXT, ids, n, 32, gen, &err) == EMBER_OK, "greedy %s", err.msg);
        int match = 0;
        while (match < 32 && gen[match] == (int32_t)gd[match]) match++;
        CHECK(match == 32, "prompt %d: 32 greedy ids equal the reference's (%d match)", k, match);
        if (k == 0) check_llama3(dir, be, ids, n, gd);
        if (flat && all_logits(flat, MAXT, ids, n, other, &err) == EMBER_OK) {
            double df = max_diff(other, want, (size_t)n * nv);
            CHECK(df > 0.1, "prompt %d: without rotate_half the logits are off by %.2f (must be > 0.1)", k,
                  df);
        }
        if (g && all_logits(g, MAXT, ids, n, other, &err) == EMBER_OK) {
            double dg = 0;
            for (int i = 0; i < n * nv; i++) dg = fmax(dg, fabs(other[i] - got[i]));
            CHECK(dg <= TOL, "prompt %d: the GGUF and the directory agree (max abs diff %.2e)", k, dg);
        }
    }
    char tpath[1200];
    snprintf(tpath, sizeof tpath, "%s/tokenizer.json", dir);
    char *tj = json_slurp(tpath);
    check_tokenizer(tj, "tokenizer.json", json);
    /* the same vocabulary in the newer form: no normalizer, a Metaspace
     * pre-tokenizer that prepends U+2581 to the first word */
    static const char norm[] =
        "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", \"prepend\": "
        "\"\xe2\x96\x81\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": "
        "\"\xe2\x96\x81\"}]}, \"pre_tokenizer\": null";
    static const char meta[] =
        "\"normalizer\": null, \"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": "
        "\"\xe2\x96\x81\", \"prepend_scheme\": \"first\", \"split\": false}";
    const char *at = tj ? strstr(tj, norm) : NULL;
    CHECK(at != NULL, "tokenizer.json has the Prepend + Replace normalizer");
    if (at) {
        size_t pre = (size_t)(at - tj), rest = strlen(at + sizeof norm - 1);
        char *mj = malloc(pre + sizeof meta + rest);
        memcpy(mj, tj, pre);
        memcpy(mj + pre, meta, sizeof meta - 1);
        memcpy(mj + pre + sizeof meta - 1, at + sizeof norm - 1, rest + 1);
        check_tokenizer(mj, "as Metaspace", json);
        free(mj);
    }
    free(tj);
    free(want);
    free(got);
    free(other);
    free(json);
    model_free(m);
    model_free(flat);
    model_free(g);
    gguf_close(gf);
    hf_close(h);
    ember_backend_free(be);
    return CHECK_DONE();
}
