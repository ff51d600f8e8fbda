/* pool.c - see pool.h. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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

struct pool {
	int n;         /* threads in all, the caller included */
	pthread_t *th; /* n-1 workers */
	int n_started; /* workers actually started */
	pthread_mutex_t mu;
	pthread_cond_t cv_work; /* gen changed or stop */
	pthread_cond_t cv_done; /* pending reached 0 */

	/* the current job, written before gen is bumped */
	pool_fn fn;
	void *ctx;
	int n_tasks;

	atomic_uint gen;    /* job generation */
	atomic_int next;    /* next task index to hand out */
	atomic_int pending; /* workers not yet done with this generation */
	atomic_int stop;
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

static void run_tasks(pool *p, int worker)
{
	for (;;) {
		int i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
		if (i >= p->n_tasks)
			break;
		p->fn(p->ctx, i, worker);
	}
}

/* Waits until gen differs from seen (or stop) and returns the new gen. */
static unsigned wait_work(pool *p, unsigned seen)
{
	for (int s = 0; s < POOL_SPIN; s++) {
		unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
		if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed))
			return g;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	unsigned g;
	while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
	       !atomic_load_explicit(&p->stop, memory_order_relaxed))
		pthread_cond_wait(&p->cv_work, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return g;
}

static void *worker_main(void *arg)
{
	struct worker_arg wa = *(struct worker_arg *)arg;
	free(arg);
	pool *p = wa.p;
	unsigned seen = 0;
	for (;;) {
		seen = wait_work(p, seen);
		if (atomic_load_explicit(&p->stop, memory_order_acquire))
			return NULL;
		run_tasks(p, wa.id);
		if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
			/* last one out wakes the caller, under the lock: no lost wakeup */
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->cv_done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

static void wait_done(pool *p)
{
	for (int s = 0; s < POOL_SPIN; s++) {
		if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
			return;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
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
	atomic_init(&p->gen, 0);
	atomic_init(&p->next, 0);
	atomic_init(&p->pending, 0);
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
	p->fn = fn;
	p->ctx = ctx;
	p->n_tasks = n_tasks;
	atomic_store_explicit(&p->next, 0, memory_order_relaxed);
	atomic_store_explicit(&p->pending, p->n_started, memory_order_relaxed);
	/* the release on gen publishes the job; the lock pairs with sleepers */
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	run_tasks(p, 0);
	wait_done(p);
}
