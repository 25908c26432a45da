/*
 * test_model_logits.c — stories260K (F32 GGUF) logits at every position of
 * the prompts in tests/data/models/stories260K-reference.json, produced by an
 * independent float64 numpy implementation, must agree within 1e-4 (max
 * abs). Also checks that a context is reusable and that positions past the
 * context are refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json_mini.h"
#include "gguf.h"
#include "engine.h"
#include "model.h"

#define REF "tests/data/models/stories260K-reference.json"
#define MODEL "tests/data/models/stories260K.gguf"
#define TOL 1e-4
#define TOL_F16 3e-2

int main(void) {
    char *json = json_slurp(REF);
    struct ember_err err = {0};
    struct gguf_file *f = NULL;
    struct model *m = NULL;
    struct model_ctx *c = NULL;
    struct ember_backend *be = NULL;
    CHECK(json != NULL, "reference file %s readable", REF);
    CHECK(test_backend(&be, &err) == EMBER_OK, "backend %s", err.msg);
    CHECK(gguf_open(MODEL, &f, &err) == EMBER_OK, "open %s %s", MODEL, err.msg);
    CHECK(f && be && test_load(f, be, &m, &err) == EMBER_OK, "load model %s", err.msg);
    if (!json || !m) return CHECK_DONE();
    int nv = model_get_info(m)->n_vocab;
    double *ids = malloc(64 * sizeof *ids), *want = malloc(64 * (size_t)nv * sizeof *want);
    float *got = calloc(64 * (size_t)nv, sizeof *got); /* read even where an eval failed */
    /* The F32 cache in blocks of several sizes (1 and 7 leave partial
     * blocks everywhere; 64 is one block) must meet the float64 reference
     * at TOL; the F16 cache rounds keys, values, the query and the
     * probabilities to f16, and meets it at TOL_F16. */
    static const struct {
        enum kv_type t;
        int block;
        double tol;
    } cfg[] = {{KV_F32, 16, TOL}, {KV_F32, 1, TOL}, {KV_F32, 7, TOL}, {KV_F32, 64, TOL}, {KV_F16, 16, TOL_F16},
               {KV_F16, 5, TOL_F16}};
    for (size_t k = 0; k < sizeof cfg / sizeof cfg[0]; k++) {
        const char *p = json;
        model_ctx_free(c);
        c = NULL;
        CHECK(test_ctx_kv(m, 64, 2, cfg[k].t, cfg[k].t, cfg[k].block, &c, &err) == EMBER_OK, "context %s",
              err.msg);
        if (!c) break;
        for (int prompt = 0; prompt < 2; prompt++) {
            int n = json_numbers_after(&p, "\"ids\"", ids, 64);
            int nl = json_numbers_after(&p, "\"logits\"", want, 64 * nv);
            CHECK(n > 0 && nl == n * nv, "prompt %d: %d ids, %d logits in reference", prompt, n, nl);
            if (n <= 0 || nl != n * nv) break;
            int32_t tok[64];
            for (int i = 0; i < n; i++) tok[i] = (int32_t)ids[i];
            CHECK(test_eval(c, tok, n, 0, true, got, &err) == EMBER_OK, "eval %s", err.msg);
            double maxd = 0;
            for (int i = 0; i < n * nv; i++) maxd = fmax(maxd, fabs(got[i] - want[i]));
            CHECK(maxd <= cfg[k].tol, "KV %s, blocks of %d, prompt %d: logits at all %d positions within %g (max abs diff %.2e)",
                  kv_type_name(cfg[k].t), cfg[k].block, prompt, n, cfg[k].tol, maxd);
            /* One token at a time must give the same last-position logits. */
            for (int i = 0; i < n; i++) test_eval(c, &tok[i], 1, i, false, got, &err);
            maxd = 0;
            for (int j = 0; j < nv; j++) maxd = fmax(maxd, fabs(got[j] - want[(size_t)(n - 1) * nv + j]));
            CHECK(maxd <= cfg[k].tol, "KV %s, blocks of %d, prompt %d: token-by-token eval agrees (max abs diff %.2e)",
                  kv_type_name(cfg[k].t), cfg[k].block, prompt, maxd);
        }
    }
    int32_t t = 1;
    CHECK(test_eval(c, &t, 1, 64, false, got, &err) == EMBER_EINVAL,
          "position past the context is refused: %s", err.msg);
    t = nv;
    CHECK(test_eval(c, &t, 1, 0, false, got, &err) == EMBER_EINVAL,
          "token id outside the vocabulary is refused: %s", err.msg);
    free(ids); free(want); free(got); free(json);
    model_ctx_free(c);
    model_free(m);
    gguf_close(f);
    ember_backend_free(be);
    return CHECK_DONE();
}
