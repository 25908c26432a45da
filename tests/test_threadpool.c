/*
 * test_threadpool.c — every task runs exactly once per job, for many jobs
 * in a row (the spin/sleep hand-over between jobs is where races would
 * hide), for 1..4 threads; and sleeping workers wake for a later job.
 */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "threadpool.h"

#define N_TASKS 257

static atomic_int hits[N_TASKS];

static void task(void *arg, int t) {
    (void)arg;
    atomic_fetch_add(&hits[t], 1);
}

int main(void) {
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
        threadpool_free(p);
    }
    return CHECK_DONE();
}
