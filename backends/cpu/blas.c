/*
 * blas.c — the CPU backend's optional route for wide F32/F16 products
 * through OpenBLAS's cblas_sgemm (`make BLAS=1`, which defines EMBER_BLAS
 * and links -lopenblas). Every other build compiles the stubs at the end,
 * so ops.c and cpu_backend.c call the same functions in every build and
 * no other file has an #if on it.
 *
 * Shape of the work: ember's pool splits the output rows of each matrix
 * into fixed bands, as ops.c does for its own kernels; a task converts its
 * band of an F16 matrix to F32 in its thread's scratch (an F32 matrix is
 * read where it is mapped) and runs one single-threaded sgemm of the whole
 * batch against it. So the BLAS work runs on exactly ember's -t threads,
 * OpenBLAS is told to start none of its own (its idle workers spin after
 * each call and would take cores from ember's pool: oversubscription), no
 * F32 copy of a model is kept, and each output value comes from one sgemm
 * of a fixed shape whatever the thread count.
 *
 * Sections: the BLAS build (thread setup, the band task, the entry point),
 * then the stubs.
 */
#include "cpu_impl.h"

/* Rows of weights per task: a 256-row F32 panel of a 4864-wide matrix is
 * 5 MB, which the conversion writes once while sgemm reuses it for every
 * input row; wider bands would only cut sgemm's per-call packing of the
 * inputs (a 256th of its work). Not tuned further. */
#define BLAS_BAND 256

#if EMBER_BLAS

#include <cblas.h>
#include <pthread.h>
#include <string.h>

/* ------------------------------------------------------ the BLAS build */

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* OpenBLAS's thread count is global to the process: one, for good, since
 * ember's pool is what runs BLAS tasks in parallel. */
static void blas_single_thread(void) { openblas_set_num_threads(1); }

bool cpu_blas_built(void) { return true; }

/* OpenBLAS picks its kernels by CPU model when it loads, and a release
 * older than the CPU falls back to its SSE3 ones (0.3.21, Debian 12's, runs
 * "Prescott" kernels on an Emerald Rapids Xeon: pp128 at half the speed of
 * ember's own). An x86 set of ember's means AVX2 and FMA, so sgemm is used
 * there only when OpenBLAS runs one of its cores with AVX2 kernels;
 * OPENBLAS_CORETYPE=Haswell (or a newer core the CPU has) picks one. */
static const char *const blas_x86_cores[] = {"Haswell", "Zen", "Excavator", "SkylakeX",
                                              "Cooperlake", "SapphireRapids"};

bool cpu_blas_usable(enum cpu_isa isa, const char **core) {
    *core = openblas_get_corename();
    if (isa == CPU_ISA_SCALAR) return false;
    if (isa != CPU_ISA_AVX2 && isa != CPU_ISA_AVX512) return true;
    for (size_t i = 0; i < sizeof blas_x86_cores / sizeof blas_x86_cores[0]; i++)
        if (!strcmp(*core, blas_x86_cores[i])) return true;
    return false;
}

void cpu_blas_setup(void) { pthread_once(&blas_once, blas_single_thread); }

/* The matrices of one cpu_matmul call; task t is a band of the first
 * matrix k with t < first[k + 1]. */
struct blas_job {
    const struct cpu_ctx *c;
    const float *x;
    int n;
    float *const *out;
    const struct tensor *const *w;
    int64_t first[BACKEND_MATMUL_MAX + 1];
};

/* Rows r0..r0+rows of w as F32: the mapping itself for F32, else
 * converted into the running thread's scratch (cpu_blas_matmul made each
 * thread's room for a band before the job started). */
static const float *band_f32(const struct cpu_ctx *c, const struct tensor *w, int64_t r0,
                             int64_t rows) {
    const uint8_t *src = (const uint8_t *)w->part[0] + (size_t)r0 * w->row_bytes;
    if (w->type == EMBER_TYPE_F32) return (const float *)(const void *)src;
    float *dst = (float *)(void *)c->pack[threadpool_worker()].data;
    c->k->type[w->type].dequant(src, dst, rows * w->n_in);
    return dst;
}

/* out[i][r] = x[i] . w[r] for the band's rows r and every input row i;
 * out's rows are n_out apart. */
static void blas_band(const struct cpu_ctx *c, const struct tensor *w, float *out,
                      const float *x, int n, int64_t r0, int64_t rows) {
    int k = (int)w->n_in;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, (int)rows, k, 1.0f, x, k,
                band_f32(c, w, r0, rows), k, 0.0f, out + r0, (int)w->n_out);
}

static void blas_task(void *arg, int task) {
    const struct blas_job *j = arg;
    int k = 0;
    while (task >= j->first[k + 1]) k++;
    int64_t r0 = (int64_t)(task - j->first[k]) * BLAS_BAND;
    int64_t rows = j->w[k]->n_out - r0 < BLAS_BAND ? j->w[k]->n_out - r0 : BLAS_BAND;
    blas_band(j->c, j->w[k], j->out[k], j->x, j->n, r0, rows);
}

/* Whether this call goes through sgemm: BLAS on in the context, a batch
 * of at least CPU_BLAS_MIN_ROWS rows, every matrix F32 or F16 of the same
 * width (x is one input for all), sizes that fit sgemm's int. */
static bool blas_takes(const struct cpu_ctx *c, int n_mats, const struct tensor *const w[],
                       int n) {
    if (!c->blas || n < CPU_BLAS_MIN_ROWS || n_mats < 1 || n_mats > BACKEND_MATMUL_MAX)
        return false;
    for (int k = 0; k < n_mats; k++) {
        if (w[k]->type != EMBER_TYPE_F32 && w[k]->type != EMBER_TYPE_F16) return false;
        if (w[k]->n_in != w[0]->n_in || w[k]->n_in > INT32_MAX || w[k]->n_out > INT32_MAX)
            return false;
    }
    return true;
}

bool cpu_blas_matmul(struct cpu_ctx *c, int n_mats, float *const out[],
                     const struct tensor *const w[], const float *x, int n) {
    if (!blas_takes(c, n_mats, w, n)) return false;
    /* Room for a converted band in every thread, made here so a task never
     * fails; without it the call goes to ember's kernels instead. */
    bool any_f16 = false;
    for (int k = 0; k < n_mats; k++) any_f16 |= w[k]->type == EMBER_TYPE_F16;
    size_t need = (size_t)BLAS_BAND * (size_t)w[0]->n_in * sizeof(float);
    for (int t = 0; any_f16 && t < c->n_pack; t++)
        if (!cpu_scratch_reserve(&c->pack[t], need)) return false;
    struct blas_job j = {.c = c, .x = x, .n = n, .out = out, .w = w, .first = {0}};
    for (int k = 0; k < n_mats; k++)
        j.first[k + 1] = j.first[k] + (w[k]->n_out + BLAS_BAND - 1) / BLAS_BAND;
    threadpool_run(c->pool, blas_task, &j, (int)j.first[n_mats]);
    return true;
}

#else

/* ---------------------------------------------------------- the stubs */

bool cpu_blas_built(void) { return false; }

bool cpu_blas_usable(enum cpu_isa isa, const char **core) {
    (void)isa;
    *core = "";
    return false;
}

void cpu_blas_setup(void) {}

bool cpu_blas_matmul(struct cpu_ctx *c, int n_mats, float *const out[],
                     const struct tensor *const w[], const float *x, int n) {
    (void)c, (void)n_mats, (void)out, (void)w, (void)x, (void)n;
    return false;
}

#endif
