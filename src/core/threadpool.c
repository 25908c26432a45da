/*
 * threadpool.c — persistent workers; each job's tasks are split into one
 * contiguous range per thread, with stealing.
 *
 * Thread k owns tasks [k*n/T, (k+1)*n/T) and runs them front to back, so
 * in a matrix product each thread streams one long stretch of weights (the
 * hardware prefetchers follow it across bands) and claims from a counter
 * on its own cache line. A thread whose range is done steals from the back
 * of the others', so a late or descheduled thread cannot stall a job: the
 * caller never waits for a worker to show up, only for every task to have
 * finished. Between jobs a worker spins briefly on the job counter (decode
 * posts a job every few microseconds) and then sleeps on a condition
 * variable.
 *
 * Claims are safe across jobs: each range is one 64-bit word packing the
 * job's sequence number, the range's end and its next index, so a late
 * claim either lands on a real task of the job it names (whose fields, in
 * a slot of their own, cannot change before that task is done) or finds
 * the range empty and claims nothing. The owner takes the front with one
 * fetch-add, a thief the back with a compare-and-swap of the same word, so
 * every index is handed out once. Which thread runs a task never changes
 * what it computes, so output is independent of -t.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_LIMIT 20000   /* spins before sleeping: roughly 50-100 us */
#define IDX_BITS 20        /* range word: [sequence:24][end:20][next:20] */
#define IDX_MASK ((1ull << IDX_BITS) - 1)
/* below the field's limit: each thread's last failed fetch-add on its own
 * range may carry `next` past `end`, once per job */
#define MAX_TASKS ((int)IDX_MASK - 1024)

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __asm__ volatile("pause")
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* One thread's range of the current job, alone on its cache line. */
struct range {
    _Alignas(64) atomic_ullong word;
};

struct worker_arg {
    struct threadpool *p;
    int id;
};

struct threadpool {
    int n_threads;
    int spin_limit;              /* 0 when threads outnumber CPUs */
    pthread_t *threads;
    struct worker_arg *args;
    struct range *ranges;        /* one per thread; the caller's is 0 */
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
        int n_tasks;
    } slot[2];                   /* job s lives in slot[s & 1] */
    unsigned long seq;           /* the caller's job counter */
    atomic_int done;             /* tasks of the current job finished */
};

static unsigned long long range_word(unsigned long long seq, int end, int next) {
    return seq << (2 * IDX_BITS) | (unsigned long long)end << IDX_BITS | (unsigned long long)next;
}

/* A task of range r: its front for the owner, its back for a thief.
 * Returns the task index (and the word it came from) or -1 if empty. */
static int claim(struct range *r, bool owner, unsigned long long *from) {
    unsigned long long v;
    int next, end;
    if (owner) {
        v = atomic_fetch_add_explicit(&r->word, 1, memory_order_acquire);
        next = (int)(v & IDX_MASK), end = (int)((v >> IDX_BITS) & IDX_MASK);
        *from = v;
        return next < end ? next : -1;
    }
    v = atomic_load_explicit(&r->word, memory_order_acquire);
    do {
        next = (int)(v & IDX_MASK), end = (int)((v >> IDX_BITS) & IDX_MASK);
        if (next >= end) return -1;
    } while (!atomic_compare_exchange_weak_explicit(&r->word, &v, v - (1ull << IDX_BITS),
                                                    memory_order_acquire, memory_order_acquire));
    *from = v;
    return end - 1;
}

/* Tasks finished by one thread, counted into `done` once. The count is of
 * one job only: while it is unposted that job cannot finish, so no later
 * job can start before it lands. n_tasks was read before that point: once
 * the count lands, the job's slot may be reused. */
static void finish(struct threadpool *p, int n_tasks, int count, int is_worker) {
    if (!count) return;
    int d = atomic_fetch_add(&p->done, count) + count;
    if (is_worker && d == n_tasks && atomic_load(&p->caller_sleeping)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* The pool index of the thread running a task (threadpool_worker). */
static _Thread_local int worker_id;

int threadpool_worker(void) { return worker_id; }

/* Run thread `id`'s own range, then steal from the others' until every
 * range is empty. */
static void drain(struct threadpool *p, int id) {
    int count = 0, n_tasks = 0, outer = worker_id; /* a pool run from another's task */
    worker_id = id;
    for (int k = 0; k < p->n_threads; k++) {
        int victim = (id + k) % p->n_threads;
        unsigned long long from;
        int t;
        while ((t = claim(&p->ranges[victim], k == 0, &from)) >= 0) {
            const struct job *j = &p->slot[(from >> (2 * IDX_BITS)) & 1];
            n_tasks = j->n_tasks;
            j->fn(j->arg, t);
            count++;
        }
    }
    worker_id = outer;
    finish(p, n_tasks, count, id != 0);
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
    const struct worker_arg *a = vp;
    struct threadpool *p = a->p;
    unsigned long seen = 0;
    for (;;) {
        seen = wait_job(p, seen);
        if (atomic_load(&p->shutdown)) break;
        drain(p, a->id);
    }
    return NULL;
}

struct threadpool *threadpool_new(int n_threads) {
    if (n_threads < 1) n_threads = 1;
    struct threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    p->args = calloc((size_t)n_threads, sizeof *p->args);
    p->ranges = aligned_alloc(_Alignof(struct range), (size_t)n_threads * sizeof *p->ranges);
    if (!p->threads || !p->args || !p->ranges) {
        free(p->threads);
        free(p->args);
        free(p->ranges);
        free(p);
        return NULL;
    }
    for (int i = 0; i < n_threads; i++) atomic_init(&p->ranges[i].word, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->n_threads = 1;
    p->spin_limit = n_threads <= sysconf(_SC_NPROCESSORS_ONLN) ? SPIN_LIMIT : 0;
    for (int i = 1; i < n_threads; i++) {
        p->args[i] = (struct worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, worker, &p->args[i]) != 0) {
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
    free(p->args);
    free(p->ranges);
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
    p->slot[s & 1] = (struct job){fn, arg, n_tasks};
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    for (int k = 0; k < p->n_threads; k++) {
        int lo = (int)((long long)n_tasks * k / p->n_threads);
        int hi = (int)((long long)n_tasks * (k + 1) / p->n_threads);
        atomic_store_explicit(&p->ranges[k].word, range_word(s, hi, lo), memory_order_release);
    }
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
