/*
 * threadpool.c — persistent workers that pull task indices from an atomic
 * counter. Between jobs a worker spins for a short while on the job counter
 * (decode posts a new job every few microseconds, and a futex wake-up costs
 * more than that), then sleeps on a condition variable. The caller takes
 * tasks too and then waits for the stragglers the same way. Which thread
 * runs a task never changes what the task computes, so output is
 * independent of -t.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* Spin iterations before sleeping: roughly 50-100 microseconds. */
#define SPIN_LIMIT 20000

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __asm__ volatile("pause")
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

struct threadpool {
    int n_threads;
    int spin_limit;              /* 0 when threads outnumber CPUs: spinning would steal them */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;         /* a new job was posted, or shutdown */
    pthread_cond_t done;         /* the last worker finished the job */
    atomic_ulong generation;     /* bumped once per job */
    atomic_int busy;             /* workers still inside the current job */
    atomic_int shutdown;
    threadpool_fn fn;
    void *arg;
    int n_tasks;
    atomic_int next;
};

static void drain(struct threadpool *p) {
    int t;
    while ((t = atomic_fetch_add(&p->next, 1)) < p->n_tasks) p->fn(p->arg, t);
}

/* Wait until the generation moves past `seen` (or shutdown); returns it. */
static unsigned long wait_job(struct threadpool *p, unsigned long seen) {
    for (int i = 0; i < p->spin_limit; i++) {
        unsigned long g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load(&p->shutdown)) return g;
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->generation) == seen && !atomic_load(&p->shutdown))
        pthread_cond_wait(&p->wake, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return atomic_load_explicit(&p->generation, memory_order_acquire);
}

static void *worker(void *vp) {
    struct threadpool *p = vp;
    unsigned long seen = 0;
    for (;;) {
        seen = wait_job(p, seen);
        if (atomic_load(&p->shutdown)) break;
        drain(p);
        if (atomic_fetch_sub(&p->busy, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
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
    pthread_cond_init(&p->done, NULL);
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
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int threadpool_size(const struct threadpool *p) { return p->n_threads; }

void threadpool_run(struct threadpool *p, threadpool_fn fn, void *arg, int n_tasks) {
    if (p->n_threads == 1 || n_tasks <= 1) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->busy, p->n_threads - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    for (int i = 0; i < p->spin_limit && atomic_load(&p->busy) > 0; i++) cpu_relax();
    if (atomic_load(&p->busy) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->busy) > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
