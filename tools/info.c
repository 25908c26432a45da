/*
 * info.c — `ember info -m FILE`: the metadata (long arrays summarised) and
 * the tensor table of a GGUF file, with totals. Only the GGUF layer is
 * needed, so it works on files whose architecture ember cannot run. For a
 * Hugging Face directory: config.json as the GGUF metadata it becomes and
 * the tensors ember uses, under both names. `--cpu`: the CPU's features
 * and kernel set; `--devices`: every backend's devices (what --device takes).
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli_suggest.h"
#include "tools.h"
#include "cpu_features.h"
#include "gguf.h"
#include "loader.h"
#include "os.h"
#include "quant.h"
#include "tool_options.h"

#define ARRAY_SHOWN 8  /* elements printed before "..." */
#define STR_SHOWN 60   /* bytes of a string printed before "..." */

static const char *vtype_name(enum gguf_vtype t) {
    static const char *const names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                        "bool", "str", "arr", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* Print a file string escaped, cut at max bytes. */
static void print_str(struct gguf_str s, uint64_t max) {
    putchar('"');
    for (uint64_t i = 0; i < s.len && i < max; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch == '\n') fputs("\\n", stdout);
        else if (ch < 0x20 || ch == 0x7f) printf("\\x%02x", ch);
        else putchar(ch);
    }
    putchar('"');
    if (s.len > max) printf("...(%llu bytes)", (unsigned long long)s.len);
}

static void print_scalar(const struct gguf_file *f, int64_t i) {
    enum gguf_vtype t = gguf_kv_type(f, i);
    int64_t iv;
    double dv;
    if (t == GGUF_STR) print_str(gguf_kv_str(f, i), STR_SHOWN * 4);
    else if (t == GGUF_BOOL) printf("%s", gguf_kv_i64(f, i, &iv) && iv ? "true" : "false");
    else if (t == GGUF_F32 || t == GGUF_F64) printf("%g", gguf_kv_f64(f, i, &dv) ? dv : 0.0);
    else if (gguf_kv_i64(f, i, &iv)) printf("%lld", (long long)iv);
    else if (gguf_kv_f64(f, i, &dv)) printf("%.0f", dv); /* u64 above INT64_MAX */
}

static void print_array(const struct gguf_file *f, int64_t i) {
    enum gguf_vtype et = gguf_arr_type(f, i);
    uint64_t n = gguf_arr_len(f, i);
    printf("[%s x %llu] [", vtype_name(et), (unsigned long long)n);
    for (uint64_t j = 0; j < n && j < ARRAY_SHOWN; j++) {
        if (j) fputs(", ", stdout);
        if (et == GGUF_STR) print_str(gguf_arr_str(f, i, j), STR_SHOWN);
        else if (et == GGUF_F32 || et == GGUF_F64) printf("%g", gguf_arr_f64(f, i, j));
        else printf("%lld", (long long)gguf_arr_i64(f, i, j));
    }
    printf("%s]", n > ARRAY_SHOWN ? ", ..." : "");
}

static void print_tensors(const struct gguf_file *f) {
    uint64_t total_bytes = 0, total_elems = 0;
    printf("\ntensors: %lld\n", (long long)gguf_n_tensors(f));
    printf("  %-40s %-6s %-28s %12s\n", "name", "type", "shape", "bytes");
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const struct gguf_tensor *t = gguf_tensor(f, i);
        char shape[64];
        int k = snprintf(shape, sizeof shape, "[");
        for (int d = 0; d < t->n_dims; d++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%lld", d ? ", " : "",
                          (long long)t->ne[d]);
        snprintf(shape + k, sizeof shape - (size_t)k, "]");
        printf("  %-40.*s %-6s %-28s %12llu\n", (int)t->name.len, t->name.p,
               quant_type_name(t->type), shape, (unsigned long long)t->n_bytes);
        total_bytes += t->n_bytes;
        total_elems += t->n_elems;
    }
    printf("total: %llu parameters, %llu bytes (%.2f MiB), %.2f bits per weight\n",
           (unsigned long long)total_elems, (unsigned long long)total_bytes,
           (double)total_bytes / 1048576.0,
           total_elems ? 8.0 * (double)total_bytes / (double)total_elems : 0.0);
}

/* A Hugging Face directory (opened through the loader, so config.json must
 * name an architecture ember knows). */
static int print_hf(const char *path) {
    struct loaded l;
    int rc = loader_open_files(path, NULL, false, &l);
    if (rc) return rc;
    printf("directory: %s\nHugging Face model, %d safetensors file(s), %llu bytes\n", path,
           hf_n_files(l.hf), (unsigned long long)hf_file_bytes(l.hf));
    char val[96];
    const char *key;
    printf("\nmetadata (from config.json and friends, as GGUF keys):\n");
    for (int i = 0; (key = hf_meta_at(l.hf, i, val, sizeof val)); i++)
        printf("  %-44s = %s\n", key, val);
    uint64_t total_bytes = 0, total_elems = 0;
    int64_t n = l.src.ops->n_tensors(l.src.impl);
    printf("\ntensors: %lld\n", (long long)n);
    printf("  %-28s %-44s %-6s %-16s %12s\n", "name", "file name", "type", "shape", "bytes");
    for (int64_t i = 0; i < n; i++) {
        struct weight_desc d;
        const char *hf_name, *name = hf_tensor_name(l.hf, i, &hf_name);
        l.src.ops->tensor_at(l.src.impl, i, &d);
        char shape[64];
        int k = snprintf(shape, sizeof shape, "[");
        for (int j = 0; j < d.n_dims; j++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%lld", j ? ", " : "",
                          (long long)d.ne[j]);
        snprintf(shape + k, sizeof shape - (size_t)k, "]");
        printf("  %-28s %-44s %-6s %-16s %12llu\n", name, hf_name, quant_type_name(d.type), shape,
               (unsigned long long)d.n_bytes);
        total_bytes += d.n_bytes;
        total_elems += d.n_elems;
    }
    printf("total: %llu parameters, %llu bytes (%.2f MiB)\n", (unsigned long long)total_elems,
           (unsigned long long)total_bytes, (double)total_bytes / 1048576.0);
    loader_close(&l);
    out_write("", 0);
    return 0;
}

/* --cpu: what was detected and which kernel set runs. */
static int print_cpu(void) {
    struct ember_err err = {0};
    struct ember_options eo;
    struct ember_backend *be;
    tool_options_init(&eo);
    if (ember_backend_new(&eo, &be, &err)) return loader_report(&err);
    const struct cpu_features *f = cpu_features();
    const struct { const char *name; bool on; } flags[] = {
        {"avx2", f->avx2}, {"fma", f->fma}, {"f16c", f->f16c}, {"avx512f", f->avx512f},
        {"avx512bw", f->avx512bw}, {"avx512vl", f->avx512vl}, {"avx512vnni", f->avx512vnni},
        {"avx512bf16", f->avx512bf16}, {"os_avx512", f->os_avx512}, {"neon", f->neon},
        {"dotprod", f->dotprod}, {"i8mm", f->i8mm}, {"fp16", f->fp16},
    };
    printf("cpu: %s\n", f->name[0] ? f->name : "unknown");
    fputs("detected:", stdout);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (flags[i].on) printf(" %s", flags[i].name);
    fputs("\nsupported sets:", stdout);
    for (int i = 0; i < CPU_ISA_COUNT; i++)
        if (cpu_isa_supported((enum cpu_isa)i)) printf(" %s", cpu_isa_name((enum cpu_isa)i));
    printf("\nchosen: %s\n", be->ops->device(be));
    out_write("", 0);
    ember_backend_free(be);
    return 0;
}

/* --devices: every backend's devices, as --device names them. */
static int print_devices(void) {
    struct ember_options eo;
    struct ember_device d[32];
    tool_options_init(&eo);
    int n = ember_devices(&eo, d, 32);
    printf("%-8s %-12s %-40s %s\n", "backend", "device", "description", "memory");
    for (int i = 0; i < n; i++) {
        char mem[32] = "-";
        if (d[i].dev.memory) snprintf(mem, sizeof mem, "%.0f MiB", (double)d[i].dev.memory / 1048576.0);
        printf("%-8s %-12s %-40s %s\n", d[i].backend, d[i].dev.name, d[i].dev.description, mem);
    }
    printf("built in: %s\n", ember_backend_list());
    out_write("", 0);
    return 0;
}

int tool_info(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cpu")) {
            return print_cpu();
        } else if (!strcmp(argv[i], "--devices")) {
            return print_devices();
        } else if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) {
            if (!(path = args_value(argc, argv, &i))) return EXIT_USAGE;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            puts("usage: ember info -m FILE|DIR | ember info --cpu | ember info --devices");
            return 0;
        } else {
            return cli_unknown_flag("info", argv[i], "-m --model --cpu --help");
        }
    }
    if (!path) {
        cli_error("ember info needs a model: -m FILE");
        return EXIT_USAGE;
    }
    if (os_path_kind(path) == OS_PATH_DIR) return print_hf(path);
    struct ember_err err = {0};
    struct gguf_file *f;
    if (gguf_open(path, &f, &err)) return loader_report(&err);
    printf("file: %s\nGGUF version %u, %llu bytes, alignment %llu, data at offset %llu\n",
           path, gguf_version(f), (unsigned long long)gguf_file_size(f),
           (unsigned long long)gguf_alignment(f), (unsigned long long)gguf_data_offset(f));
    printf("\nmetadata: %lld keys\n", (long long)gguf_n_kv(f));
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        struct gguf_str k = gguf_key(f, i);
        enum gguf_vtype t = gguf_kv_type(f, i);
        printf("  %-44.*s %-4s = ", (int)(k.len > 200 ? 200 : k.len), k.p, vtype_name(t));
        if (t == GGUF_ARR) print_array(f, i);
        else print_scalar(f, i);
        putchar('\n');
    }
    print_tensors(f);
    gguf_close(f);
    out_write("", 0); /* surface a write error (e.g. a full disk) */
    return 0;
}
