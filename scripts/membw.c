/*
 * membw.c — how fast this machine can stream memory into the cores: a
 * STREAM-like read-bandwidth probe, the ceiling token generation runs
 * against (every weight is read once per token).
 *
 * Measures: for 1..T threads, each thread sums its own contiguous slice of
 * one large buffer (1 GiB by default, far beyond the caches); the threads
 * start together on a barrier and the pass ends when the last one is done.
 * Reports bytes read / wall time of the best of R passes, in GB/s (1e9),
 * the better of a plain loop and one with software prefetch (sum_words).
 * Inputs: none but the flags. Output, on stdout, one line per thread count:
 *     threads GB/s
 * (lines starting with '#' are comments). How to run:
 *     cc -O3 -march=native -pthread -o membw scripts/membw.c
 *     ./membw [-s MIB (1024)] [-t MAX_THREADS (online CPUs)] [-r REPS (5)]
 * scripts/bench-vs-llamacpp.sh builds and runs it. A loaded machine reads
 * low: other processes share the same memory bus.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

struct probe {
    const uint64_t *buf;
    size_t n_words;            /* whole buffer, in uint64 */
    int n_threads, reps;
    size_t ahead;              /* sum_words' prefetch distance, 0: none */
    pthread_barrier_t start, done;
    volatile uint64_t sink;    /* keeps the sums alive */
};

struct worker {
    struct probe *p;
    int id;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sum n words with eight independent chains so the loads, not the adds,
 * set the pace (and the compiler can vectorize it). With `ahead`, each
 * 64-byte line is also prefetched that many bytes in advance, as ember's
 * decode kernels do: on some machines one core's hardware prefetcher alone
 * reads far below what the memory delivers (a Zen 4 VM: 13 against 20 GB/s
 * for a decode kernel), so the plain loop would understate the ceiling. */
static uint64_t sum_words(const uint64_t *w, size_t n, size_t ahead) {
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (ahead) __builtin_prefetch((const char *)(w + i) + ahead, 0, 3);
        a0 += w[i + 0];
        a1 += w[i + 1];
        a2 += w[i + 2];
        a3 += w[i + 3];
        a4 += w[i + 4];
        a5 += w[i + 5];
        a6 += w[i + 6];
        a7 += w[i + 7];
    }
    for (; i < n; i++) a0 += w[i];
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct probe *p = w->p;
    size_t per = p->n_words / (size_t)p->n_threads;
    size_t lo = per * (size_t)w->id;
    size_t hi = w->id == p->n_threads - 1 ? p->n_words : lo + per;
    for (int r = 0; r < p->reps; r++) {
        pthread_barrier_wait(&p->start);
        uint64_t s = sum_words(p->buf + lo, hi - lo, p->ahead);
        p->sink += s; /* a racy store is fine: it only has to exist */
        pthread_barrier_wait(&p->done);
    }
    return NULL;
}

/* Best GB/s over p->reps passes with p->n_threads threads; -1 on failure. */
static double measure(struct probe *p) {
    pthread_t th[MAX_THREADS];
    struct worker ws[MAX_THREADS];
    if (pthread_barrier_init(&p->start, NULL, (unsigned)p->n_threads + 1) ||
        pthread_barrier_init(&p->done, NULL, (unsigned)p->n_threads + 1))
        return -1;
    int started = 0;
    for (; started < p->n_threads; started++) {
        ws[started] = (struct worker){p, started};
        if (pthread_create(&th[started], NULL, worker_main, &ws[started])) break;
    }
    if (started < p->n_threads) {
        fprintf(stderr, "membw: cannot start %d threads\n", p->n_threads);
        exit(1);
    }
    double best = 1e30;
    for (int r = 0; r < p->reps; r++) {
        pthread_barrier_wait(&p->start);
        double t0 = now_s();
        pthread_barrier_wait(&p->done);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&p->start);
    pthread_barrier_destroy(&p->done);
    return (double)p->n_words * sizeof(uint64_t) / best / 1e9;
}

static long flag_value(int argc, char **argv, int *i, long lo, long hi) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "membw: %s needs a value\n", argv[*i]);
        exit(2);
    }
    char *end;
    long v = strtol(argv[++*i], &end, 10);
    if (*end || end == argv[*i] || v < lo || v > hi) {
        fprintf(stderr, "membw: %s expects an integer in [%ld, %ld]\n", argv[*i - 1], lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    long mib = 1024, max_t = sysconf(_SC_NPROCESSORS_ONLN), reps = 5;
    if (max_t < 1) max_t = 1;
    if (max_t > MAX_THREADS) max_t = MAX_THREADS;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s")) mib = flag_value(argc, argv, &i, 1, 1L << 20);
        else if (!strcmp(argv[i], "-t")) max_t = flag_value(argc, argv, &i, 1, MAX_THREADS);
        else if (!strcmp(argv[i], "-r")) reps = flag_value(argc, argv, &i, 1, 1000);
        else {
            fprintf(stderr, "usage: membw [-s MIB] [-t MAX_THREADS] [-r REPS]\n");
            return 2;
        }
    }
    size_t bytes = (size_t)mib << 20;
    uint64_t *buf = aligned_alloc(4096, bytes);
    if (!buf) {
        fprintf(stderr, "membw: cannot allocate %ld MiB\n", mib);
        return 1;
    }
    /* Touch every page so the passes measure DRAM, not page faults. */
    for (size_t i = 0; i < bytes / sizeof *buf; i++) buf[i] = i;
    struct probe p = {.buf = buf, .n_words = bytes / sizeof *buf, .reps = (int)reps};
    printf("# membw: read bandwidth, %ld MiB buffer, best of %ld passes, the better of a\n"
           "# plain loop and one prefetching 4 KiB ahead (GB/s of each in the comment)\n", mib, reps);
    printf("# threads GB/s\n");
    for (int t = 1; t <= max_t; t++) {
        p.n_threads = t;
        p.ahead = 0;
        double plain = measure(&p);
        p.ahead = 4096;
        double pf = measure(&p);
        if (plain < 0 || pf < 0) {
            fprintf(stderr, "membw: barrier setup failed\n");
            return 1;
        }
        printf("%d %.2f # plain %.2f, prefetched %.2f\n", t, plain > pf ? plain : pf, plain, pf);
        fflush(stdout);
    }
    free(buf);
    return 0;
}
