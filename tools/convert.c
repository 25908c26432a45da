/*
 * convert.c — `ember convert DIR OUT.gguf [--type T]`: a Hugging Face
 * directory that ember runs (plain F32/F16/BF16 safetensors, or GPTQ
 * 4/8-bit) written as a GGUF v3 that llama.cpp loads, as its
 * convert_hf_to_gguf.py would write it (read for the facts): the hparams
 * under the architecture's keys, llama.cpp's tensor names, the tokenizer as
 * tokenizer.ggml.*, and the weights in the type --type's mix gives them
 * (quantize_plan.h, through encode.h as `ember quantize` does).
 *
 * Two things differ from the files ember reads: a llama's q and k rows go
 * back from HF's rotate-half order to GGUF's interleaved pairs (qwen2 keeps
 * them: GGUF runs it with neox rope, which is rotate-half), and GPTQ
 * matrices are dequantized to floats before they are encoded. Both happen
 * row by row in the encoder's reader, so nothing is held twice in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli_suggest.h"
#include "encode.h"
#include "gguf.h"
#include "gguf_write.h"
#include "loader.h"
#include "os.h"
#include "quant.h"
#include "quantize_plan.h"
#include "threadpool.h"
#include "tokenizer.h"
#include "tools.h"
#include "weights_hf.h"

static const char usage_text[] =
    "usage: ember convert DIR OUT.gguf [--type T] [--vocab FILE.gguf] [-t N]\n"
    "  DIR            a Hugging Face model directory ember runs (config.json, safetensors,\n"
    "                 tokenizer.json; plain or GPTQ)\n"
    "  --type T       f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k_s q3_k_m q3_k_l\n"
    "                 q4_k_s q4_k_m q5_k_s q5_k_m q6_k (the mixes of ember quantize)\n"
    "                 default f16, as llama.cpp's convert_hf_to_gguf.py\n"
    "  --vocab FILE.gguf  the tokenizer.* metadata of this GGUF instead of DIR's\n"
    "                 tokenizer.json (a directory without one)\n"
    "  -t, --threads N  threads encoding the rows (default: the cores)\n";

struct copts {
    const char *dir, *out, *vocab;
    int threads;
    struct quant_plan plan;
};

static int parse_args(int argc, char **argv, struct copts *o) {
    const char *pos[2], *v;
    int n_pos = 0;
    long t = default_threads();
    o->plan.output_type = o->plan.embd_type = -1;
    o->plan.mix = quant_mix_find("F16");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            return fflush(stdout) ? EXIT_RUNTIME : -1;
        } else if (!strcmp(a, "--type") || !strcmp(a, "--outtype")) {
            if (!(v = args_value(argc, argv, &i))) return EXIT_USAGE;
            if (!(o->plan.mix = quant_mix_find(v)))
                return cli_error("convert: unknown type '%s' (ember convert --help lists them)", v), EXIT_USAGE;
        } else if (!strcmp(a, "--vocab")) {
            if (!(o->vocab = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = args_value(argc, argv, &i)) || !args_int(a, v, 1, 1024, &t)) return EXIT_USAGE;
        } else if (a[0] == '-' && a[1]) return cli_unknown_flag("convert", a, usage_text);
        else if (n_pos == 2) return cli_error("convert: too many arguments (%s)", a), EXIT_USAGE;
        else pos[n_pos++] = a;
    }
    if (n_pos < 2) return cli_error("convert: needs DIR and OUT.gguf (ember convert --help)"), EXIT_USAGE;
    o->dir = pos[0], o->out = pos[1], o->threads = (int)t;
    return 0;
}

/* ------------------------------------------------------------- weights */

/* How the encoder reads one tensor of the directory. */
struct src_rows {
    struct weight_desc d;
    int64_t head_rows; /* rows per head to interleave (llama q/k), 0: as stored */
};

/* The HF row that GGUF's row r holds: HF keeps the first half of each
 * head's pairs, then the second halves (rotate-half); GGUF interleaves them,
 * so its row 2j+t of a head is HF's row t*hd/2+j (convert_hf_to_gguf.py's
 * permute). */
static int64_t hf_row(const struct src_rows *s, int64_t r) {
    if (!s->head_rows) return r;
    int64_t hd = s->head_rows, k = r % hd;
    return r - k + (k % 2) * (hd / 2) + k / 2;
}

/* GPTQ rows r0 .. r0+n (GGUF's order) into x, dequantized. */
static void read_gptq_rows(const struct src_rows *s, int64_t r0, int64_t n, float *x) {
    struct gptq_matrix m = {.l = s->d.gptq, .n_in = s->d.ne[0], .n_out = s->d.ne[1],
                            .qweight = s->d.parts[0], .scales = s->d.parts[1],
                            .qzeros = s->d.parts[2], .g_idx = s->d.parts[3]};
    float *st = malloc((size_t)m.l.n_groups * sizeof *st);
    int *zt = malloc((size_t)m.l.n_groups * sizeof *zt);
    for (int64_t i = 0; i < n; i++) {
        if (st && zt) gptq_dequant_row(&m, hf_row(s, r0 + i), x + i * m.n_in, st, zt);
        else gptq_dequant_row_ref(&m, hf_row(s, r0 + i), x + i * m.n_in); /* no memory: slower, same */
    }
    free(st);
    free(zt);
}

static void read_rows(const struct encode_tensor *t, int64_t r0, int64_t n, float *x) {
    const struct src_rows *s = t->ctx;
    int64_t ne0 = t->ne[0];
    if (s->d.n_parts) {
        read_gptq_rows(s, r0, n, x);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *src = (const uint8_t *)s->d.data + quant_row_bytes(s->d.type, ne0) * (size_t)hf_row(s, r0 + i);
        if (s->d.type == EMBER_TYPE_F32) memcpy(x + i * ne0, src, (size_t)ne0 * sizeof *x);
        else quant_traits_for(s->d.type)->dequant(src, x + i * ne0, ne0);
    }
}

/* Rows per head when name is a llama's attn_q or attn_k, else 0. */
static int64_t head_rows(const struct weight_source *src, bool llama, const char *name, int64_t rows) {
    size_t n = strlen(name);
    bool q = n > 14 && !strcmp(name + n - 14, ".attn_q.weight"), k = n > 14 && !strcmp(name + n - 14, ".attn_k.weight");
    if (!llama || (!q && !k)) return 0;
    int64_t heads = 0, kv = 0;
    src->ops->get_int(src->impl, "llama.attention.head_count", &heads);
    if (k && src->ops->get_int(src->impl, "llama.attention.head_count_kv", &kv) && kv > 0) heads = kv;
    return heads > 0 && rows % heads == 0 && rows / heads % 2 == 0 ? rows / heads : -1;
}

/* The directory's tensors as the encoder's list (rows[i] says how to read
 * t[i]). */
static int list_tensors(const struct hf_model *h, const struct weight_source *src, struct encode_tensor *t,
                        struct src_rows *rows) {
    const char *a;
    size_t alen;
    bool llama = src->ops->get_str(src->impl, "general.architecture", &a, &alen) && weight_str_is(a, alen, "llama");
    for (int64_t i = 0; i < src->ops->n_tensors(src->impl); i++) {
        const char *hf, *name = hf_tensor_name(h, i, &hf);
        struct src_rows *s = &rows[i];
        src->ops->tensor_at(src->impl, i, &s->d);
        bool gptq = s->d.n_parts > 0;
        t[i] = (struct encode_tensor){.name = name, .name_len = strlen(name), .n_dims = s->d.n_dims,
                                      .n_elems = s->d.n_elems, .type = gptq ? EMBER_TYPE_F32 : s->d.type,
                                      .data = gptq ? NULL : s->d.data, .n_bytes = s->d.n_bytes, .ctx = s};
        memcpy(t[i].ne, s->d.ne, sizeof t[i].ne);
        if (s->d.n_dims == 2) s->head_rows = head_rows(src, llama, name, s->d.ne[1]);
        if (s->head_rows < 0)
            return cli_error("%s: %s has %lld rows, not whole heads of pairs", hf, name, (long long)s->d.ne[1]),
                   EXIT_RUNTIME;
        if (gptq || s->head_rows) t[i].read = read_rows;
    }
    return 0;
}

/* ------------------------------------------------------------ metadata */

/* config.json's keys as hf_open translated them (the hparams, rope
 * scaling, general.*), each under its GGUF type; the tokenizer's keys come
 * from the vocabulary instead, hf.* are ember's own. */
static enum ember_status model_meta(const struct hf_model *h, const struct weight_source *src, int ftype,
                                    struct gguf_writer *w, struct ember_err *err) {
    char val[64], key[96];
    const char *k, *s, *a = NULL;
    size_t len, alen = 0;
    int64_t iv;
    float fv;
    for (int i = 0; (k = hf_meta_at(h, i, val, sizeof val)); i++) {
        enum ember_status st = EMBER_OK;
        if (!strncmp(k, "hf.", 3) || !strncmp(k, "tokenizer.", 10)) continue;
        if (src->ops->get_str(src->impl, k, &s, &len)) st = gguf_writer_str(w, k, s, len, err);
        else if (src->ops->get_int(src->impl, k, &iv)) st = gguf_writer_u32(w, k, (uint32_t)iv, err);
        else if (src->ops->get_float(src->impl, k, &fv)) st = gguf_writer_f32(w, k, fv, err);
        if (st) return st;
    }
    /* rope.dimension_count: the head size (convert_hf_to_gguf.py writes it
     * for llama; qwen2 files carry it too) */
    src->ops->get_str(src->impl, "general.architecture", &a, &alen);
    int64_t hd = 0, embd = 0, heads = 0;
    snprintf(key, sizeof key, "%.*s.attention.key_length", (int)alen, a);
    if (!src->ops->get_int(src->impl, key, &hd)) {
        snprintf(key, sizeof key, "%.*s.embedding_length", (int)alen, a);
        src->ops->get_int(src->impl, key, &embd);
        snprintf(key, sizeof key, "%.*s.attention.head_count", (int)alen, a);
        src->ops->get_int(src->impl, key, &heads);
        hd = heads > 0 ? embd / heads : 0;
    }
    snprintf(key, sizeof key, "%.*s.rope.dimension_count", (int)alen, a);
    if (gguf_writer_u32(w, key, (uint32_t)hd, err) || gguf_writer_u32(w, "general.file_type", (uint32_t)ftype, err) ||
        gguf_writer_u32(w, "general.quantization_version", 2, err))
        return err->status;
    return EMBER_OK;
}

/* The id of token text p[0..n) among the sorted indices, or -1. */
static int64_t find_token(const struct tokenizer_spec *sp, const uint32_t *sorted, const char *p, size_t n) {
    uint64_t lo = 0, hi = sp->n_vocab;
    while (lo < hi) {
        uint64_t mid = (lo + hi) / 2;
        const struct tok_bytes *t = &sp->tokens[sorted[mid]];
        int c = memcmp(t->p, p, t->len < n ? t->len : n);
        if (!c) c = (t->len > n) - (t->len < n);
        if (!c) return sorted[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static const struct tokenizer_spec *sort_spec;

static int by_text(const void *a, const void *b) {
    const struct tok_bytes *x = &sort_spec->tokens[*(const uint32_t *)a], *y = &sort_spec->tokens[*(const uint32_t *)b];
    int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* SentencePiece scores that make llama.cpp's merging (highest score of the
 * merged piece first, leftmost on ties) take the merges in their rank order,
 * as Hugging Face's BPE does: the piece the merge of rank r makes scores -r.
 * (LlamaHfVocab writes -1000 for every token, which merges in another
 * order.) Pieces no merge makes score below all of them. */
static float *merge_scores(const struct tokenizer_spec *sp) {
    float *sc = malloc(sp->n_vocab * sizeof *sc + 1); /* + 1: never malloc(0) */
    uint32_t *sorted = malloc(sp->n_vocab * sizeof *sorted + 1);
    if (!sc || !sorted) return free(sc), free(sorted), NULL;
    for (uint64_t i = 0; i < sp->n_vocab; i++) sc[i] = -(float)sp->n_merges - 1, sorted[i] = (uint32_t)i;
    sort_spec = sp;
    qsort(sorted, sp->n_vocab, sizeof *sorted, by_text);
    char buf[1024];
    for (uint64_t r = sp->n_merges; r-- > 0;) { /* lowest rank last: it wins */
        const struct tok_bytes *m = &sp->merges[r];
        const char *space = memchr(m->p, ' ', m->len);
        if (!space || m->len > sizeof buf) continue;
        size_t l0 = (size_t)(space - m->p), l1 = m->len - l0 - 1;
        memcpy(buf, m->p, l0);
        memcpy(buf + l0, space + 1, l1);
        int64_t id = find_token(sp, sorted, buf, l0 + l1);
        if (id >= 0) sc[id] = -(float)r;
    }
    free(sorted);
    return sc;
}

static const char *const special_keys[TOK_N_SPECIAL] = {
    [TOK_BOS] = "tokenizer.ggml.bos_token_id",         [TOK_EOS] = "tokenizer.ggml.eos_token_id",
    [TOK_EOT] = "tokenizer.ggml.eot_token_id",         [TOK_EOM] = "tokenizer.ggml.eom_token_id",
    [TOK_UNK] = "tokenizer.ggml.unknown_token_id",     [TOK_SEP] = "tokenizer.ggml.seperator_token_id",
    [TOK_PAD] = "tokenizer.ggml.padding_token_id",     [TOK_FIM_PRE] = "tokenizer.ggml.fim_pre_token_id",
    [TOK_FIM_SUF] = "tokenizer.ggml.fim_suf_token_id", [TOK_FIM_MID] = "tokenizer.ggml.fim_mid_token_id",
    [TOK_FIM_PAD] = "tokenizer.ggml.fim_pad_token_id", [TOK_FIM_REP] = "tokenizer.ggml.fim_rep_token_id",
    [TOK_FIM_SEP] = "tokenizer.ggml.fim_sep_token_id",
};

/* The padding id: config.json's pad_token_id, else the id of
 * tokenizer_config.json's pad_token text; -1 when neither names one (the
 * tokenizer itself has no use for it, llama.cpp's converter writes it). */
static int64_t pad_id(const struct weight_source *src, const struct tokenizer_spec *sp) {
    int64_t id = -1;
    const char *s;
    size_t len;
    if (src->ops->get_int(src->impl, "tokenizer.ggml.padding_token_id", &id)) return id;
    if (!src->ops->get_str(src->impl, "hf.pad_token", &s, &len)) return -1;
    for (uint64_t i = 0; i < sp->n_vocab; i++)
        if (sp->tokens[i].len == len && !memcmp(sp->tokens[i].p, s, len)) return (int64_t)i;
    return -1;
}

/* Special ids and flags the vocabulary sets (absent ones keep llama.cpp's
 * defaults, which ember shares). */
static enum ember_status vocab_ids(const struct tokenizer_spec *sp, int64_t pad, struct gguf_writer *w,
                                   struct ember_err *err) {
    for (int i = 0; i < TOK_N_SPECIAL; i++) {
        int64_t id = i == TOK_PAD && sp->special[i] < 0 ? pad : sp->special[i];
        if (id >= 0 && (uint64_t)id < sp->n_vocab && gguf_writer_u32(w, special_keys[i], (uint32_t)id, err))
            return err->status;
    }
    static const struct { enum tok_flag f; const char *key; } flags[] = {
        {TOKF_ADD_BOS, "tokenizer.ggml.add_bos_token"},
        {TOKF_ADD_EOS, "tokenizer.ggml.add_eos_token"},
        {TOKF_ADD_SPACE_PREFIX, "tokenizer.ggml.add_space_prefix"},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (sp->flags[flags[i].f] >= 0 && gguf_writer_bool(w, flags[i].key, sp->flags[flags[i].f] == 1, err))
            return err->status;
    return EMBER_OK;
}

/* Token types as tokenizer.json gave them, but a SentencePiece vocabulary's
 * unknown token UNKNOWN (2), as SentencePiece models and llama.cpp's
 * converter of them mark it (tokenizer.json lists it as a special, control,
 * token). */
static enum ember_status token_types(const struct tokenizer_spec *sp, bool spm, struct gguf_writer *w,
                                     struct ember_err *err) {
    int32_t *ty = malloc(sp->n_vocab * sizeof *ty + 1); /* + 1: never malloc(0) */
    if (!ty) return ember_fail(err, EMBER_ENOMEM, "out of memory");
    memcpy(ty, sp->types, sp->n_vocab * sizeof *ty);
    int64_t unk = sp->special[TOK_UNK];
    if (spm && unk >= 0 && (uint64_t)unk < sp->n_vocab) ty[unk] = 2;
    enum ember_status st = gguf_writer_arr(w, "tokenizer.ggml.token_type", GGUF_I32, ty, sp->n_vocab, err);
    free(ty);
    return st;
}

/* The vocabulary as tokenizer.ggml.* (model, pre, tokens, scores for
 * SentencePiece, token types, merges, special ids, flags). */
static enum ember_status vocab_meta(const struct tokenizer_spec *sp, int64_t pad, struct gguf_writer *w,
                                    struct ember_err *err) {
    bool spm = weight_str_is(sp->model.p, sp->model.len, "llama");
    if (gguf_writer_str(w, "tokenizer.ggml.model", sp->model.p, sp->model.len, err)) return err->status;
    if (sp->pre.p && gguf_writer_str(w, "tokenizer.ggml.pre", sp->pre.p, sp->pre.len, err)) return err->status;
    enum ember_status st = EMBER_OK;
    struct gguf_str *s = malloc((sp->n_vocab > sp->n_merges ? sp->n_vocab : sp->n_merges) * sizeof *s + 1);
    float *scores = spm && !sp->scores ? merge_scores(sp) : NULL;
    if (!s || (spm && !sp->scores && !scores)) st = ember_fail(err, EMBER_ENOMEM, "out of memory");
    for (uint64_t i = 0; !st && i < sp->n_vocab; i++) s[i] = (struct gguf_str){sp->tokens[i].p, sp->tokens[i].len};
    if (!st) st = gguf_writer_arr_str(w, "tokenizer.ggml.tokens", s, sp->n_vocab, err);
    if (!st && spm)
        st = gguf_writer_arr(w, "tokenizer.ggml.scores", GGUF_F32, sp->scores ? sp->scores : scores, sp->n_vocab, err);
    if (!st && sp->types) st = token_types(sp, spm, w, err);
    for (uint64_t i = 0; !st && i < sp->n_merges; i++) s[i] = (struct gguf_str){sp->merges[i].p, sp->merges[i].len};
    if (!st && sp->n_merges) st = gguf_writer_arr_str(w, "tokenizer.ggml.merges", s, sp->n_merges, err);
    if (!st) st = vocab_ids(sp, pad, w, err);
    free(s);
    free(scores);
    return st;
}

/* ----------------------------------------------------------------- run */

/* Where the tokenizer comes from: DIR's tokenizer.json or --vocab's GGUF. */
struct vocab {
    struct tokenizer_hf_vocab *hf;
    struct gguf_file *file;
};

/* --vocab's tokenizer.* pairs, as they are. */
static enum ember_status copy_vocab(const struct gguf_file *v, struct gguf_writer *w, struct ember_err *err) {
    for (int64_t i = 0; i < gguf_n_kv(v); i++) {
        struct gguf_str k = gguf_key(v, i);
        if (k.len > 10 && !memcmp(k.p, "tokenizer.", 10) && gguf_writer_raw(w, gguf_kv_raw(v, i), err))
            return err->status;
    }
    return EMBER_OK;
}

/* The model's keys, then the vocabulary's (DIR's or --vocab's), then DIR's
 * chat template unless --vocab had one. */
static int write_meta(const struct copts *o, const struct loaded *l, const struct vocab *v, struct gguf_writer *w,
                      struct ember_err *err) {
    const char *ct;
    size_t len;
    enum ember_status st = model_meta(l->hf, &l->src, o->plan.mix->ftype, w, err);
    if (!st && v->file) st = copy_vocab(v->file, w, err);
    else if (!st && v->hf) st = vocab_meta(tokenizer_hf_spec(v->hf), pad_id(&l->src, tokenizer_hf_spec(v->hf)), w, err);
    bool have_ct = v->file && gguf_find_key(v->file, "tokenizer.chat_template") >= 0;
    if (!st && !have_ct && loader_meta_str(l, "tokenizer.chat_template", &ct, &len))
        st = gguf_writer_str(w, "tokenizer.chat_template", ct, len, err);
    return st ? (cli_error("%s", err->msg), EXIT_RUNTIME) : 0;
}

static int run(struct copts *o, const struct loaded *l, const struct vocab *v, struct gguf_writer *w,
               struct threadpool *pool, struct ember_err *err) {
    int64_t n = l->src.ops->n_tensors(l->src.impl);
    struct encode_job j = {.tool = "convert", .in = o->dir, .out = o->out, .plan = &o->plan, .n = n};
    struct src_rows *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
    j.t = calloc((size_t)(n ? n : 1), sizeof *j.t);
    int rc = !rows || !j.t ? (cli_error("out of memory"), EXIT_RUNTIME) : list_tensors(l->hf, &l->src, j.t, rows);
    encode_plan_model(&o->plan, &l->src);
    if (!rc) rc = encode_plan(&j, w, err);
    if (!rc) rc = write_meta(o, l, v, w, err);
    if (!rc) rc = encode_write(&j, w, pool, err);
    free(j.t);
    free(rows);
    return rc;
}

/* The directory loaded as `ember run` loads it, tokenizer included (every
 * hparam and tensor shape checked, the vocabulary built and its size
 * matched to the embedding's: what ember cannot run it does not write),
 * then the vocabulary again as data to write out. */
static int open_dir(const struct copts *o, struct loaded *l, struct vocab *v) {
    if (os_path_kind(o->dir) != OS_PATH_DIR)
        return cli_error("%s: %s (ember convert reads a Hugging Face model directory)", o->dir,
                         os_path_kind(o->dir) == OS_PATH_NONE ? "no such directory" : "not a directory"),
               EXIT_RUNTIME;
    struct ember_options eo = {.vocab = o->vocab};
    int rc = loader_open(o->dir, &eo, true, l);
    if (rc) return rc;
    struct ember_err err = {0};
    if (o->vocab) return gguf_open(o->vocab, &v->file, &err) ? loader_report(&err) : 0;
    return loader_hf_vocab(o->dir, l, &v->hf);
}

int tool_convert(int argc, char **argv) {
    struct copts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    struct loaded l = {0};
    struct vocab v = {0};
    struct gguf_writer *w = NULL;
    struct threadpool *pool = NULL;
    struct ember_err err = {0};
    rc = open_dir(&o, &l, &v);
    if (!rc && gguf_writer_new(&w, &err)) rc = (cli_error("%s", err.msg), EXIT_RUNTIME);
    if (!rc && !(pool = threadpool_new(o.threads))) rc = (cli_error("cannot start %d threads", o.threads), EXIT_RUNTIME);
    if (!rc) rc = run(&o, &l, &v, w, pool, &err);
    threadpool_free(pool);
    gguf_writer_free(w);
    tokenizer_hf_vocab_free(v.hf);
    gguf_close(v.file);
    loader_close(&l);
    return rc;
}
