/*
 * cpu_impl.h — private to the CPU backend: its instance and context
 * structs, and the ops that cpu_backend.c puts in its ops table (ops.c:
 * the forward-pass ops; blas.c: the OpenBLAS route of a BLAS=1 build).
 */
#ifndef EMBER_CPU_IMPL_H
#define EMBER_CPU_IMPL_H

#include "backend.h"
#include "cpu_kernels.h"
#include "threadpool.h"

struct cpu_backend {
    struct ember_backend base;
    const struct cpu_kernels *k; /* this instance's kernel set */
    bool no_pack;                /* batches read rows unpacked (for measuring) */
    /* the test device "cpu-dev" (tests only): host memory that the
     * framework must reach through the device calls, and the budget its
     * memory() reports; test_memory 0: the host CPU */
    uint64_t test_memory;
    struct kv_mem kv_mem;
    bool blas;                   /* wide F32/F16 products go to cblas_sgemm (blas.c) */
    char device[64];             /* what device() reports: the set, OpenBLAS's part */
};

/* One thread's buffer for the band it packs (ops.c), grown on first need. */
struct pack_scratch {
    uint8_t *data;
    size_t cap;
};

struct cpu_ctx {
    struct backend_ctx base;
    const struct cpu_kernels *k;
    struct threadpool *pool;
    void *vec;          /* activations converted for the dot: max_rows rows */
    size_t vec_cap;
    int max_rows;
    int max_pos;
    float *attn_tmp;    /* attention scratch per pool thread (attention.c) */
    size_t attn_tmp_floats;
    struct pack_scratch *pack; /* per pool thread: a band of weights packed for a batch */
    int n_pack;
    bool no_pack;              /* the backend's switch */
    bool rows_exact;           /* set_rows_exact's switch */
    void **allocs;             /* ctx_alloc's blocks, freed with the context */
    int n_allocs;
    bool blas;                 /* the backend's: cpu_blas_matmul may take a call */
};

struct backend_buffer {
    void *data;
    size_t bytes;
};

static inline struct cpu_ctx *cpu_ctx_of(struct backend_ctx *c) { return (struct cpu_ctx *)c; }

/* cpu_backend.c: host buffers (os_alloc_large), NULL on out of memory */
struct backend_buffer *cpu_buffer_alloc(struct ember_backend *be, size_t bytes);
void cpu_buffer_free(struct backend_buffer *b);

/* ops.c */
/* ps's buffer grown to at least need bytes (64-byte aligned; what it held
 * is lost), or NULL on out of memory (ps then holds nothing). */
void *cpu_scratch_reserve(struct pack_scratch *ps, size_t need);
enum ember_status cpu_ctx_new(struct ember_backend *be, const struct backend_ctx_params *p,
                              struct backend_ctx **out, struct ember_err *err);
void cpu_ctx_free(struct backend_ctx *c);
/* set_rows_exact: each row of a matmul through the one-row kernel */
void cpu_set_rows_exact(struct backend_ctx *c, bool on);
void cpu_matmul(struct backend_ctx *c, int n_mats, float *const out[],
                const struct tensor *const w[], const float *x, int n);
void cpu_get_rows(struct backend_ctx *c, float *out, const struct tensor *w, const int32_t *rows,
                  int n);
void cpu_rmsnorm(struct backend_ctx *c, float *out, const float *x, const struct tensor *w,
                 int n, int width, float eps);
void cpu_rope(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
              const int32_t *pos, const struct rope_params *rp);
/* attention.c */
size_t cpu_attention_tmp_floats(int head_dim, int kv_block, int max_pos);
void cpu_attention(struct backend_ctx *c, const struct attn_args *a);
void cpu_softmax(struct backend_ctx *c, float *x, int n);
void cpu_silu_mul(struct backend_ctx *c, float *g, const float *u, int n);
void cpu_gelu_mul(struct backend_ctx *c, float *g, const float *u, int n);
void cpu_scale(struct backend_ctx *c, float *x, float s, int n);
void cpu_gather(struct backend_ctx *c, float *out, const float *x, const int32_t *rows, int n,
                int width);
void cpu_scatter_add(struct backend_ctx *c, float *x, const float *y, const int32_t *rows,
                     const float *w, int n, int width);
void cpu_add(struct backend_ctx *c, float *x, const float *y, int n, int width);
void cpu_add_bias(struct backend_ctx *c, float *x, const struct tensor *b, int n, int width);
void *cpu_ctx_alloc(struct backend_ctx *c, size_t bytes);
void cpu_store_kv(struct backend_ctx *c, const struct kv_view *kv, const float *k, const float *v,
                  const int32_t *pos, const int32_t *seq, int n, int n_head_kv, int head_dim);

/* blas.c: cblas_sgemm for F32/F16 products of batches of at least
 * CPU_BLAS_MIN_ROWS rows, in a BLAS=1 build; the others' stubs say no. */
#define CPU_BLAS_MIN_ROWS 32
/* whether this binary was built with BLAS=1 */
bool cpu_blas_built(void);
/* whether sgemm should serve kernel set isa: never for scalar (the
 * oracle), on x86 only while OpenBLAS runs AVX2-level kernels; *core:
 * OpenBLAS's kernel choice ("SkylakeX"; "" without BLAS) */
bool cpu_blas_usable(enum cpu_isa isa, const char **core);
/* once per process before the first call: OpenBLAS runs single-threaded
 * inside ember's pool */
void cpu_blas_setup(void);
/* out[k] = w[k] x as cpu_matmul, through sgemm: true when it took the
 * call, false (nothing done) when ember's kernels should (BLAS off, too
 * few rows, another type, no scratch) */
bool cpu_blas_matmul(struct cpu_ctx *c, int n_mats, float *const out[],
                     const struct tensor *const w[], const float *x, int n);

#endif
