/*
 * kernbench - kernel micro-benchmark: 4096x4096 matrix-vector products for
 * F32, F16 and Q8_0 weights, reference vs AVX2, printed as GB/s of weights
 * streamed; then a batched product (GFLOP/s) and the thread pool's per-call * overhead. "cold
 * cache" first reads 256 MiB so that the weights come from DRAM, as they do for a real model; the
 * other figure may be helped by a large last-level cache (the Q8_0 matrix is 17.8 MB).
 *
 * "kernbench q8" prints instead the batched Q8_0 products of a 110M Llama
 * (768x768, 2048x768, 768x2048 and the 32000x768 output matrix, with the
 * batches 47 and 64 of a teacher-forced replay) as GMAC/s for each fast
 * table, through kern_matmul as inference calls it; `make bench` runs it.
 *
 * Build: make build/rel/kernbench
 * Usage: kernbench [threads] [seconds per case]
 *        kernbench q8 [threads] [seconds per case]
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

/* the batched Q8_0 table of "kernbench q8" */
static int q8_table(int threads, double secs)
{
	static const int shapes[][2] = {{768, 768}, {2048, 768}, {768, 2048}, {32000, 768}};
	static const int batches[] = {47, 64};
	enum { NSHAPE = 4, NBATCH = 2, BMAX = 64 };
	const kern_table *tabs[2] = {kern_avx2(), kern_avx512()};
	dai_err e;
	pool *p = threads > 1 ? pool_create(threads, &e) : NULL;
	if (threads > 1 && !p) {
		fprintf(stderr, "kernbench: %s\n", e.msg);
		return 1;
	}
	printf("kernbench: batched Q8_0, 110M shapes, %d thread(s), GMAC/s\n", threads);
	printf("%-11s %5s %8s %8s\n", "rows x n", "batch", "avx2", "avx512");
	uint64_t s = 88172645463325252u;
	for (int si = 0; si < NSHAPE; si++) {
		int rows = shapes[si][0], n = shapes[si][1], nb = n / 32;
		kern_q8_0 *w = malloc(sizeof(kern_q8_0) * (size_t)rows * (size_t)nb);
		float *x = malloc(sizeof(float) * BMAX * (size_t)n);
		void *act = malloc(kern_act_bytes(KERN_Q8_0, n, BMAX));
		float *y = malloc(sizeof(float) * BMAX * (size_t)rows);
		if (!w || !x || !act || !y)
			return 1;
		for (size_t i = 0; i < (size_t)rows * (size_t)nb; i++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			w[i].d = f32_to_f16((float)(s >> 44) * 0x1p-26f + 0x1p-12f);
			for (int j = 0; j < 32; j++)
				w[i].q[j] = (int8_t)(s >> (j % 8 * 8)) ^ (int8_t)j;
		}
		for (size_t i = 0; i < (size_t)BMAX * (size_t)n; i++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			x[i] = (float)((int64_t)(s >> 40) - (1 << 23)) * 0x1p-23f;
		}
		for (int bi = 0; bi < NBATCH; bi++) {
			int batch = batches[bi];
			printf("%5dx%-5d %5d", rows, n, batch);
			for (int k = 0; k < 2; k++) {
				if (!tabs[k]) {
					printf(" %8s", "-");
					continue;
				}
				kern_act_prep(tabs[k], KERN_Q8_0, x, n, n, batch, act);
				double best = 1e30, start = now_s();
				for (int rep = 0; rep < 3 || now_s() - start < secs; rep++) {
					double t0 = now_s();
					kern_matmul(tabs[k], p, KERN_Q8_0, w, act, y, rows, n, rows,
					            batch);
					double dt = now_s() - t0;
					best = dt < best ? dt : best;
				}
				printf(" %8.1f", (double)rows * n * batch / best * 1e-9);
			}
			printf("\n");
		}
		free(w);
		free(x);
		free(act);
		free(y);
	}
	if (p)
		pool_destroy(p);
	return 0;
}

static void nop(void *ctx, int task, int worker)
{
	(void)ctx;
	(void)task;
	(void)worker;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "q8"))
		return q8_table(argc > 2 ? atoi(argv[2]) : 1, argc > 3 ? atof(argv[3]) : 0.3);
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
