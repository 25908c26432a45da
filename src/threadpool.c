/*
 * threadpool.c — persistent workers that pull task indices from an atomic
 * counter. Workers sleep on a condition variable between jobs; the caller
 * takes tasks too and then waits for the stragglers. Which thread runs a task
 * never changes what the task computes, so output is independent of -t.
 */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct threadpool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* a new job was posted, or shutdown */
    pthread_cond_t done;      /* the last worker finished the job */
    unsigned long generation; /* bumped once per job */
    int busy;                 /* workers still inside the current job */
    int shutdown;
    threadpool_fn fn;
    void *arg;
    int n_tasks;
    atomic_int next;
};

static void drain(struct threadpool *p) {
    int t;
    while ((t = atomic_fetch_add(&p->next, 1)) < p->n_tasks) p->fn(p->arg, t);
}

static void *worker(void *vp) {
    struct threadpool *p = vp;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->shutdown) pthread_cond_wait(&p->wake, &p->mu);
        if (p->shutdown) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
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
    p->shutdown = 1;
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
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    p->busy = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
