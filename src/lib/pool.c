/* pool.c - see pool.h. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Spin iterations before a waiting thread goes to sleep. A pause is some
 * tens of cycles, so this is some tens of microseconds: long enough to
 * bridge the gap between two matrix products of one token, short enough
 * not to burn a core when the pool is idle.
 */
#define POOL_SPIN 20000

/*
 * Tasks are claimed from one 64-bit word: the job's generation in the high
 * half, the number of tasks still unclaimed in the low half. A worker takes
 * a task of generation g only by moving (g, left) to (g, left - 1) with
 * left > 0, so a worker that wakes late, after its job was finished and
 * maybe the next one written, can never run a task of a job it did not
 * read (a finished job has nothing left; a new one has a new generation).
 * The caller waits for the tasks to be done, not for every worker to show
 * up: on a loaded machine a worker that is not scheduled in time simply
 * gets no task, and the threads that run do all the work (waiting for a
 * descheduled worker used to cost a scheduler tick, milliseconds, per
 * matrix product).
 */
#define CLAIM(gen, left) ((uint64_t)(gen) << 32 | (uint32_t)(left))
#define CLAIM_GEN(c) ((uint32_t)((c) >> 32))
#define CLAIM_LEFT(c) ((uint32_t)(c))

struct pool {
	int n;         /* threads in all, the caller included */
	pthread_t *th; /* n-1 workers */
	int n_started; /* workers actually started */
	pthread_mutex_t mu;
	pthread_cond_t cv_work; /* a new generation, or stop */
	pthread_cond_t cv_done; /* every task of the job done */

	/* The current job, written before its generation is published. Atomic
	 * because a late worker may read them while the next job is written
	 * (it then never uses what it read: its claim fails). */
	_Atomic(pool_fn) fn;
	_Atomic(void *) ctx;
	atomic_int n_tasks;

	_Atomic uint64_t claim; /* CLAIM(generation, tasks unclaimed) */
	atomic_int running;     /* tasks of this generation not yet finished */
	atomic_int stop;
	/*
	 * Who sleeps, so that a call takes the lock only to wake a sleeper (a
	 * lock held by a descheduled thread stalls whoever wants it next). The
	 * sleeper announces itself, then checks; the waker publishes, then
	 * checks for sleepers; both sequentially consistent, so at least one
	 * of them sees the other.
	 */
	atomic_int sleepers;      /* workers on cv_work */
	atomic_int caller_asleep; /* the caller on cv_done */
	uint32_t gen;             /* the caller's: the generation last published */
};

struct worker_arg {
	pool *p;
	int id;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/*
 * Runs tasks of generation gen while any is unclaimed. fn, ctx and n are
 * read before the claim; they can only be gen's when the claim succeeds,
 * since the caller writes the next job only after this job's last task is
 * done. The thread that finishes the last task wakes the caller.
 */
static void run_tasks(pool *p, uint32_t gen, int worker)
{
	pool_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
	void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
	int n = atomic_load_explicit(&p->n_tasks, memory_order_relaxed);
	uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
	for (;;) {
		if (CLAIM_GEN(c) != gen || CLAIM_LEFT(c) == 0)
			return;
		if (!atomic_compare_exchange_weak_explicit(
		        &p->claim, &c, c - 1, memory_order_acquire, memory_order_acquire))
			continue;
		fn(ctx, n - (int)CLAIM_LEFT(c), worker);
		if (atomic_fetch_sub(&p->running, 1) == 1 && worker != 0 &&
		    atomic_load(&p->caller_asleep)) {
			/* under the lock: the caller cannot miss the wakeup */
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->cv_done);
			pthread_mutex_unlock(&p->mu);
		}
		c = atomic_load_explicit(&p->claim, memory_order_acquire);
	}
}

/* Waits for a generation other than seen (or stop) and returns it. */
static uint32_t wait_work(pool *p, uint32_t seen)
{
	for (int s = 0; s < POOL_SPIN; s++) {
		uint32_t g = CLAIM_GEN(atomic_load_explicit(&p->claim, memory_order_acquire));
		if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed))
			return g;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->sleepers, 1);
	uint32_t g;
	while ((g = CLAIM_GEN(atomic_load(&p->claim))) == seen &&
	       !atomic_load_explicit(&p->stop, memory_order_relaxed))
		pthread_cond_wait(&p->cv_work, &p->mu);
	atomic_fetch_sub(&p->sleepers, 1);
	pthread_mutex_unlock(&p->mu);
	return g;
}

static void *worker_main(void *arg)
{
	struct worker_arg wa = *(struct worker_arg *)arg;
	free(arg);
	pool *p = wa.p;
	uint32_t seen = 0;
	for (;;) {
		seen = wait_work(p, seen);
		if (atomic_load_explicit(&p->stop, memory_order_acquire))
			return NULL;
		run_tasks(p, seen, wa.id);
	}
}

static void wait_done(pool *p)
{
	for (int s = 0; s < POOL_SPIN; s++) {
		if (atomic_load_explicit(&p->running, memory_order_acquire) == 0)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->caller_asleep, 1);
	while (atomic_load(&p->running) != 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	atomic_store(&p->caller_asleep, 0);
	pthread_mutex_unlock(&p->mu);
}

static void stop_workers(pool *p)
{
	pthread_mutex_lock(&p->mu);
	atomic_store_explicit(&p->stop, 1, memory_order_release);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n_started; i++)
		pthread_join(p->th[i], NULL);
}

pool *pool_create(int n_threads, dai_err *e)
{
	if (n_threads <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = c > 0 ? (int)(c < 1024 ? c : 1024) : 1;
	}
	pool *p = calloc(1, sizeof *p);
	if (!p) {
		dai_errf(e, "thread pool: out of memory");
		return NULL;
	}
	p->n = n_threads;
	p->th = calloc((size_t)n_threads, sizeof *p->th);
	if (!p->th) {
		free(p);
		dai_errf(e, "thread pool: out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	atomic_init(&p->fn, NULL);
	atomic_init(&p->ctx, NULL);
	atomic_init(&p->n_tasks, 0);
	atomic_init(&p->claim, CLAIM(0, 0));
	atomic_init(&p->running, 0);
	atomic_init(&p->sleepers, 0);
	atomic_init(&p->caller_asleep, 0);
	atomic_init(&p->stop, 0);
	for (int i = 0; i < n_threads - 1; i++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		int rc = ENOMEM;
		if (wa) {
			wa->p = p;
			wa->id = i + 1;
			rc = pthread_create(&p->th[i], NULL, worker_main, wa);
		}
		if (rc != 0) {
			free(wa);
			dai_errf(e, "thread pool: cannot start thread %d of %d: %s", i + 2,
			         n_threads, strerror(rc));
			pool_destroy(p);
			return NULL;
		}
		p->n_started++;
	}
	return p;
}

void pool_destroy(pool *p)
{
	if (!p)
		return;
	stop_workers(p);
	pthread_cond_destroy(&p->cv_done);
	pthread_cond_destroy(&p->cv_work);
	pthread_mutex_destroy(&p->mu);
	free(p->th);
	free(p);
}

int pool_threads(const pool *p)
{
	return p ? p->n : 1;
}

void pool_run(pool *p, int n_tasks, pool_fn fn, void *ctx)
{
	if (n_tasks <= 0)
		return;
	if (!p || p->n_started == 0 || n_tasks == 1) {
		for (int i = 0; i < n_tasks; i++)
			fn(ctx, i, 0);
		return;
	}
	atomic_store_explicit(&p->fn, fn, memory_order_relaxed);
	atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&p->n_tasks, n_tasks, memory_order_relaxed);
	atomic_store_explicit(&p->running, n_tasks, memory_order_relaxed);
	/* the store publishes the job; the lock pairs with sleeping workers */
	p->gen++;
	atomic_store(&p->claim, CLAIM(p->gen, n_tasks));
	if (atomic_load(&p->sleepers) > 0) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->cv_work);
		pthread_mutex_unlock(&p->mu);
	}
	run_tasks(p, p->gen, 0);
	wait_done(p);
}
