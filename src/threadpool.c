/*
 * threadpool.c — persistent workers that pull task indices from an atomic
 * counter.
 *
 * The caller never waits for a worker to show up: it takes tasks itself and
 * waits only until every task has *finished*. A worker that wakes late (the
 * machine is busy, or it was asleep) finds nothing left to claim and goes
 * back to waiting, so one descheduled thread cannot stall decode. Between
 * jobs a worker spins briefly on the job counter (decode posts a job every
 * few microseconds) and then sleeps on a condition variable.
 *
 * Claims are safe across jobs: the claim counter packs the job's sequence
 * number, its task count and the next index into one 64-bit word, so a late
 * claim either lands on a real task of the job it names (whose fields, in a
 * slot of their own, cannot change before that task is done) or finds the
 * index past the count and claims nothing. Which thread runs a task never
 * changes what it computes, so output is independent of -t.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_LIMIT 20000   /* spins before sleeping: roughly 50-100 us */
#define IDX_BITS 20        /* claim word: [sequence:24][n_tasks:20][index:20] */
#define IDX_MASK ((1ull << IDX_BITS) - 1)
#define MAX_TASKS ((int)IDX_MASK)

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __asm__ volatile("pause")
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

struct threadpool {
    int n_threads;
    int spin_limit;              /* 0 when threads outnumber CPUs */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;         /* a new job was posted, or shutdown */
    pthread_cond_t done_cv;      /* the last task of a job finished */
    atomic_ulong generation;     /* bumped once per job */
    atomic_int sleepers;         /* workers blocked on `wake` */
    atomic_int caller_sleeping;  /* the caller is blocked on done_cv */
    atomic_int shutdown;
    struct job {
        threadpool_fn fn;
        void *arg;
    } slot[2];                   /* job s lives in slot[s & 1] */
    unsigned long seq;           /* the caller's job counter */
    atomic_ullong claim;         /* see IDX_BITS */
    atomic_int done;             /* tasks of the current job finished */
};

/* Claim and run tasks until none are left. Returns after the last claim. */
static void drain(struct threadpool *p, int is_worker) {
    for (;;) {
        unsigned long long v = atomic_fetch_add_explicit(&p->claim, 1, memory_order_acquire);
        int idx = (int)(v & IDX_MASK), n = (int)((v >> IDX_BITS) & IDX_MASK);
        if (idx >= n) return;
        const struct job *j = &p->slot[(v >> (2 * IDX_BITS)) & 1];
        j->fn(j->arg, idx);
        int d = atomic_fetch_add(&p->done, 1) + 1;
        if (is_worker && d == n && atomic_load(&p->caller_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

/* Wait until the generation moves past `seen` (or shutdown); returns it. */
static unsigned long wait_job(struct threadpool *p, unsigned long seen) {
    for (int i = 0; i < p->spin_limit; i++) {
        unsigned long g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load(&p->shutdown)) return g;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while (atomic_load(&p->generation) == seen && !atomic_load(&p->shutdown))
        pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return atomic_load_explicit(&p->generation, memory_order_acquire);
}

static void *worker(void *vp) {
    struct threadpool *p = vp;
    unsigned long seen = 0;
    for (;;) {
        seen = wait_job(p, seen);
        if (atomic_load(&p->shutdown)) break;
        drain(p, 1);
    }
    return NULL;
}

struct threadpool *threadpool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    struct threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->n_threads = 1;
    p->spin_limit = n_threads <= sysconf(_SC_NPROCESSORS_ONLN) ? SPIN_LIMIT : 0;
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            threadpool_free(p);
            return NULL;
        }
        p->n_threads++;
    }
    return p;
}

void threadpool_free(struct threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->shutdown, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done_cv);
    free(p->threads);
    free(p);
}

int threadpool_size(const struct threadpool *p) { return p->n_threads; }

void threadpool_run(struct threadpool *p, threadpool_fn fn, void *arg, int n_tasks) {
    if (p->n_threads == 1 || n_tasks <= 1) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t);
        return;
    }
    if (n_tasks > MAX_TASKS) { /* never in practice: split rather than overflow */
        for (int t = 0; t < n_tasks; t++) fn(arg, t);
        return;
    }
    unsigned long long s = ++p->seq & 0xffffff;
    p->slot[s & 1] = (struct job){fn, arg};
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->claim, (s << (2 * IDX_BITS)) | ((unsigned long long)n_tasks << IDX_BITS),
                          memory_order_release);
    atomic_fetch_add(&p->generation, 1); /* seq_cst: pairs with the sleepers check */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    drain(p, 0);
    for (int i = 0; i < p->spin_limit && atomic_load(&p->done) < n_tasks; i++) cpu_relax();
    if (atomic_load(&p->done) < n_tasks) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_sleeping, 1);
        while (atomic_load(&p->done) < n_tasks) pthread_cond_wait(&p->done_cv, &p->mu);
        atomic_store(&p->caller_sleeping, 0);
        pthread_mutex_unlock(&p->mu);
    }
}
