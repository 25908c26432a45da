/*
 * threadpool.h — a persistent pool of worker threads.
 *
 * Created once, reused for every operation: a job is split into n_tasks
 * independent pieces and each piece runs on exactly one thread, so results
 * never depend on the thread count (no shared reductions).
 */
#ifndef EMBER_THREADPOOL_H
#define EMBER_THREADPOOL_H

struct threadpool;

/* fn(arg, task) is called once for every task in [0, n_tasks). */
typedef void (*threadpool_fn)(void *arg, int task);

/* n_threads counts the caller, which works too; 1 means no extra threads.
 * Returns NULL on allocation or thread-creation failure. */
struct threadpool *threadpool_new(int n_threads);
void threadpool_free(struct threadpool *p);
int threadpool_size(const struct threadpool *p);

/* Run all tasks and return when every one has finished. */
void threadpool_run(struct threadpool *p, threadpool_fn fn, void *arg, int n_tasks);

/* Inside a task: the index in [0, threadpool_size) of the thread running
 * it (0 is the caller of threadpool_run), so a task can use scratch of its
 * thread's own. Outside a task: 0. */
int threadpool_worker(void);

#endif
