/*
 * test_threadpool.c — every task runs exactly once per job, for many jobs
 * in a row (the spin/sleep hand-over between jobs is where races would
 * hide), for 1..4 threads; sleeping workers wake for a later job; and a
 * thread stuck in a task of its own range does not hold up the rest of that
 * range: the others steal it; threadpool_worker names the running thread
 * (in range, never two tasks at once under one index: per-thread scratch
 * relies on it).
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "threadpool.h"

#define N_TASKS 257

static atomic_int hits[N_TASKS];

static void task(void *arg, int t) {
    (void)arg;
    atomic_fetch_add(&hits[t], 1);
}

/* Task 0, the first of the caller's range, waits until the last task of
 * that range has run: only a thief can run it meanwhile. */
struct steal_job {
    int n;
    atomic_int ran[64];
    atomic_int timed_out;
};

static void steal_task(void *arg, int t) {
    struct steal_job *j = arg;
    if (t == 0) {
        struct timespec pause = {0, 1000000};
        int waited = 0;
        while (!atomic_load(&j->ran[j->n / 2 - 1]) && waited++ < 10000) nanosleep(&pause, NULL);
        if (!atomic_load(&j->ran[j->n / 2 - 1])) atomic_store(&j->timed_out, 1);
    }
    atomic_fetch_add(&j->ran[t], 1);
}

/* Each task claims its thread's index for a moment: a second task holding
 * the same index meanwhile, or an index out of range, is an error. */
struct worker_job {
    int n_threads;
    atomic_int busy[8], clashes, out_of_range;
};

static void worker_task(void *arg, int t) {
    struct worker_job *j = arg;
    (void)t;
    int id = threadpool_worker();
    if (id < 0 || id >= j->n_threads) {
        atomic_fetch_add(&j->out_of_range, 1);
        return;
    }
    if (atomic_exchange(&j->busy[id], 1)) atomic_fetch_add(&j->clashes, 1);
    for (volatile int spin = 0; spin < 10000; spin++) {
    }
    atomic_store(&j->busy[id], 0);
}

int main(void) {
    CHECK(threadpool_worker() == 0, "threadpool_worker outside a task is 0");
    for (int threads = 1; threads <= 4; threads++) {
        struct threadpool *p = threadpool_new(threads);
        CHECK(p && threadpool_size(p) == threads, "pool of %d threads", threads);
        if (!p) continue;
        int bad = 0;
        for (int job = 0; job < 500; job++) {
            int n = 1 + job % N_TASKS;
            for (int i = 0; i < N_TASKS; i++) atomic_store(&hits[i], 0);
            threadpool_run(p, task, NULL, n);
            for (int i = 0; i < N_TASKS; i++)
                if (atomic_load(&hits[i]) != (i < n)) bad++;
        }
        CHECK(bad == 0, "%d threads: 500 jobs, every task exactly once (%d wrong)", threads, bad);
        usleep(200000); /* let the workers fall asleep */
        for (int i = 0; i < N_TASKS; i++) atomic_store(&hits[i], 0);
        threadpool_run(p, task, NULL, N_TASKS);
        bad = 0;
        for (int i = 0; i < N_TASKS; i++) bad += atomic_load(&hits[i]) != 1;
        CHECK(bad == 0, "%d threads: sleeping workers wake for a new job", threads);
        if (threads == 2) {
            static struct steal_job sj;
            sj.n = 64;
            for (int i = 0; i < 64; i++) atomic_store(&sj.ran[i], 0);
            threadpool_run(p, steal_task, &sj, sj.n);
            bad = 0;
            for (int i = 0; i < sj.n; i++) bad += atomic_load(&sj.ran[i]) != 1;
            CHECK(bad == 0 && !atomic_load(&sj.timed_out),
                  "2 threads: a blocked task's range is finished by the other thread (%d wrong%s)",
                  bad, atomic_load(&sj.timed_out) ? ", timed out" : "");
        }
        static struct worker_job wj;
        memset(&wj, 0, sizeof wj);
        wj.n_threads = threads;
        for (int job = 0; job < 50; job++) threadpool_run(p, worker_task, &wj, 64);
        CHECK(!atomic_load(&wj.clashes) && !atomic_load(&wj.out_of_range),
              "%d threads: threadpool_worker in [0, %d), one task at a time per index "
              "(%d clashes, %d out of range)",
              threads, threads, atomic_load(&wj.clashes), atomic_load(&wj.out_of_range));
        threadpool_free(p);
    }
    return CHECK_DONE();
}
