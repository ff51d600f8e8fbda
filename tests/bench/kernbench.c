/*
 * kernbench - kernel micro-benchmark: 4096x4096 matrix-vector products for
 * F32, F16 and Q8_0 weights, reference vs AVX2, printed as GB/s of weights
 * streamed; then a batched product (GFLOP/s) and the thread pool's per-call * overhead. "cold
 * cache" first reads 256 MiB so that the weights come from DRAM, as they do for a real model; the
 * other figure may be helped by a large last-level cache (the Q8_0 matrix is 17.8 MB).
 *
 * Build: make build/rel/kernbench
 * Usage: kernbench [threads] [seconds per case]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kern/f16.h"
#include "kern/kern.h"
#include "pool.h"

enum { ROWS = 4096, COLS = 4096, BATCH = 16 };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct mats {
	float *w32;
	uint16_t *w16;
	kern_q8_0 *wq;
	float *x;
	void *act;
	float *y;
};

static const void *weights(const struct mats *m, enum kern_type t)
{
	return t == KERN_F32   ? (const void *)m->w32
	       : t == KERN_F16 ? (const void *)m->w16
	                       : (const void *)m->wq;
}

static size_t weight_bytes(enum kern_type t)
{
	return t == KERN_F32   ? (size_t)ROWS * COLS * 4
	       : t == KERN_F16 ? (size_t)ROWS * COLS * 2
	                       : (size_t)ROWS * (COLS / 32) * sizeof(kern_q8_0);
}

/* reads a buffer larger than the last-level cache, so weights come from DRAM */
enum { EVICT_FLOATS = 64 << 20 };
static volatile float evict_sink;

static void evict(const float *buf)
{
	float s = 0;
	for (size_t i = 0; i < EVICT_FLOATS; i += 16)
		s += buf[i];
	evict_sink = s;
}

/* best time of repeated runs for about `secs` seconds (at least 2 runs) */
static double best_time(const kern_table *k, pool *p, enum kern_type t, const struct mats *m,
                        int batch, double secs, const float *evict_buf)
{
	double best = 1e30, start = now_s();
	for (int rep = 0; rep < 2 || now_s() - start < secs; rep++) {
		if (evict_buf)
			evict(evict_buf);
		double t0 = now_s();
		kern_act_prep(k, t, m->x, COLS, COLS, batch, m->act);
		kern_matmul(k, p, t, weights(m, t), m->act, m->y, ROWS, COLS, ROWS, batch);
		double dt = now_s() - t0;
		best = dt < best ? dt : best;
	}
	return best;
}

static void nop(void *ctx, int task, int worker)
{
	(void)ctx;
	(void)task;
	(void)worker;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	double secs = argc > 2 ? atof(argv[2]) : 0.5;
	struct mats m;
	m.w32 = malloc(sizeof(float) * ROWS * COLS);
	m.w16 = malloc(sizeof(uint16_t) * ROWS * COLS);
	m.wq = malloc(sizeof(kern_q8_0) * ROWS * (COLS / 32));
	m.x = malloc(sizeof(float) * BATCH * COLS);
	m.act = malloc(kern_act_bytes(KERN_F32, COLS, BATCH));
	m.y = malloc(sizeof(float) * BATCH * ROWS);
	float *ev = calloc(EVICT_FLOATS, sizeof(float));
	if (!m.w32 || !m.w16 || !m.wq || !m.x || !m.act || !m.y || !ev)
		return 1;
	uint64_t s = 88172645463325252u;
	for (size_t i = 0; i < (size_t)ROWS * COLS; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		m.w32[i] = (float)((int64_t)(s >> 40) - (1 << 23)) * 0x1p-23f;
	}
	for (size_t i = 0; i < (size_t)BATCH * COLS; i++)
		m.x[i] = m.w32[i * 7 % ((size_t)ROWS * COLS)];
	const kern_table *ref = kern_ref();
	ref->f32_to_f16(m.w32, m.w16, ROWS * COLS);
	for (int r = 0; r < ROWS; r++)
		ref->quantize_q8_0(m.w32 + (size_t)r * COLS, m.wq + (size_t)r * (COLS / 32), COLS);

	dai_err e;
	pool *p = threads > 1 ? pool_create(threads, &e) : NULL;
	if (threads > 1 && !p) {
		fprintf(stderr, "kernbench: %s\n", e.msg);
		return 1;
	}
	const kern_table *tabs[2] = {ref, kern_avx2()};
	const char *tn[3] = {"F32", "F16", "Q8_0"};
	enum kern_type ts[3] = {KERN_F32, KERN_F16, KERN_Q8_0};
	printf("kernbench: %dx%d, %d thread(s)\n", ROWS, COLS, threads);
	for (int k = 0; k < 2; k++) {
		if (!tabs[k]) {
			printf("avx2: not supported on this CPU\n");
			continue;
		}
		for (int t = 0; t < 3; t++) {
			double sec = k ? secs : secs / 5;
			double dt = best_time(tabs[k], p, ts[t], &m, 1, sec, NULL);
			double dc = best_time(tabs[k], p, ts[t], &m, 1, sec, ev);
			printf("%-4s %-5s matvec   %8.3f ms  %7.2f GB/s   cold cache %7.2f GB/s\n",
			       tabs[k]->name, tn[t], dt * 1e3,
			       (double)weight_bytes(ts[t]) / dt * 1e-9,
			       (double)weight_bytes(ts[t]) / dc * 1e-9);
		}
		if (!k)
			continue;
		for (int t = 0; t < 3; t++) {
			double dt = best_time(tabs[k], p, ts[t], &m, BATCH, secs, NULL);
			printf("%-4s %-5s batch %-2d %8.3f ms  %7.2f GFLOP/s\n", tabs[k]->name,
			       tn[t], BATCH, dt * 1e3, 2.0 * ROWS * COLS * BATCH / dt * 1e-9);
		}
	}
	if (p) {
		enum { CALLS = 20000 };
		double t0 = now_s();
		for (int i = 0; i < CALLS; i++)
			pool_run(p, 4 * threads, nop, NULL);
		printf("pool_run overhead: %.2f us per call\n", (now_s() - t0) / CALLS * 1e6);
		pool_destroy(p);
	}
	free(m.w32);
	free(m.w16);
	free(m.wq);
	free(m.x);
	free(m.act);
	free(m.y);
	free(ev);
	return 0;
}
