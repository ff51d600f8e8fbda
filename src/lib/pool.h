/*
 * pool.h - a fixed thread pool for data-parallel loops.
 *
 * pool_create starts n-1 worker threads once; pool_run(p, n_tasks, fn, ctx)
 * calls fn(ctx, task, worker) for every task in [0, n_tasks), spread over
 * the workers and the calling thread (worker 0), and returns when all are
 * done. Tasks are handed out dynamically, so which worker runs which task
 * varies from run to run: a task must write only its own outputs (the
 * kernels split matrix products by output rows, so results never depend on
 * the split). `worker` (< pool_threads) lets a task use per-thread scratch.
 *
 * It is built for many short calls (one per matrix product per token):
 * workers spin briefly on a generation counter before sleeping on a
 * condition variable, so back-to-back calls cost microseconds, and an idle
 * pool costs no CPU. A call waits for its tasks, not for its workers: on a
 * machine with more threads than free cores, the threads that get to run
 * do the work, and a descheduled worker holds up at most the one task it
 * took.
 *
 * One pool_run at a time per pool (the pool is not reentrant: do not call
 * pool_run on the same pool from inside a task). No global state.
 */
#ifndef DAI_POOL_H
#define DAI_POOL_H

#include "err.h"

typedef struct pool pool;
typedef void (*pool_fn)(void *ctx, int task, int worker);

/*
 * Creates a pool of n_threads threads in all, the caller included
 * (n_threads <= 0: the number of online CPUs). Returns NULL with e set on
 * failure.
 */
pool *pool_create(int n_threads, dai_err *e);

/* Stops and joins the workers and frees the pool. NULL is a no-op. */
void pool_destroy(pool *p);

/* Threads in the pool, the caller included (1 for a NULL pool). */
int pool_threads(const pool *p);

/* Runs fn over [0, n_tasks) and waits. A NULL pool runs them in order. */
void pool_run(pool *p, int n_tasks, pool_fn fn, void *ctx);

#endif
