/*
 * kquantbench - matrix-vector products of one 4096x4096 matrix per weight
 * type (Q8_0 and the types of kern_quant.h), one thread, activation
 * preparation included: best time of many repetitions (robust on a busy
 * machine), the weights' GB/s, and the time relative to Q8_0.
 *
 * Usage: kquantbench [ref|avx2|avx512|auto] [repetitions]   (default auto 30)
 * Without an "avx512" main table, avx512 runs the AVX-512 quant table's
 * products directly (activations prepared by the AVX2 table).
 *
 * "kquantbench gemm" prints instead the batched products of each block type
 * at a 110M Llama's shapes (768x768, 2048x768, 768x2048 and the 32000x768
 * output matrix, with the batches 47 and 64 of a teacher-forced replay) as
 * GMAC/s for each fast table, one thread, through kern_matmul as inference
 * calls it (activation preparation not included); `make bench` runs it.
 *        kquantbench gemm [seconds per case]   (default 0.3)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kern/f16.h"
#include "kern/kern.h"
#include "kern/kern_quant.h"

enum { ROWS = 4096, COLS = 4096 };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnext(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* random bytes with moderate half scales where the block keeps them */
static void fill(enum kern_type t, unsigned char *w, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		w[i] = (unsigned char)rnext();
	const kern_qinfo *qi = kern_qinfo_of(t);
	size_t bsz = qi ? qi->bytes : sizeof(kern_q8_0);
	if (t == KERN_BF16) {
		for (size_t i = 0; i < bytes / 2; i++)
			((uint16_t *)w)[i] = (uint16_t)(0x3c00 + rnext() % 0x400);
		return;
	}
	for (size_t o = 0; o + bsz <= bytes; o += bsz) {
		uint16_t d = f32_to_f16((float)(rnext() % 1000) * 1e-5f);
		memcpy(w + (t == KERN_Q6_K ? 208 : 0), &d, 2);
		if (t == KERN_Q4_1 || t == KERN_Q5_1 || t == KERN_Q4_K || t == KERN_Q5_K)
			memcpy(w + o + 2, &d, 2);
		memcpy(w + o + (t == KERN_Q6_K ? 208 : 0), &d, 2);
	}
}

/* "kquantbench gemm": the batched products of the 110M shapes */
static int gemm_table(double secs)
{
	static const int shapes[][2] = {{768, 768}, {2048, 768}, {768, 2048}, {32000, 768}};
	static const int batches[] = {47, 64};
	static const enum kern_type types[] = {KERN_Q4_K, KERN_Q6_K, KERN_Q5_K, KERN_Q4_0,
	                                       KERN_Q5_0, KERN_Q4_1, KERN_Q5_1};
	enum { BMAX = 64 };
	const kern_table *tabs[2] = {kern_avx2(), kern_avx512()};
	printf("kquantbench: batched block-type products, 110M shapes, 1 thread, GMAC/s\n");
	printf("%-5s %-11s %5s %8s %8s\n", "type", "rows x n", "batch", "avx2", "avx512");
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		enum kern_type t = types[ti];
		const kern_qinfo *qi = kern_qinfo_of(t);
		for (int si = 0; si < 4; si++) {
			int rows = shapes[si][0], n = shapes[si][1];
			size_t bytes = (size_t)rows * kern_row_bytes(t, n);
			unsigned char *w = malloc(bytes);
			float *x = malloc(sizeof(float) * BMAX * (size_t)n);
			void *act = malloc(kern_act_bytes(t, n, BMAX));
			float *y = malloc(sizeof(float) * BMAX * (size_t)rows);
			if (!w || !x || !act || !y)
				return 1;
			fill(t, w, bytes);
			for (size_t i = 0; i < (size_t)BMAX * (size_t)n; i++)
				x[i] = (float)((int)(rnext() % 2001) - 1000) * 1e-3f;
			for (int bi = 0; bi < 2; bi++) {
				int batch = batches[bi];
				printf("%-5s %5dx%-5d %5d", qi->name, rows, n, batch);
				for (int k = 0; k < 2; k++) {
					if (!tabs[k]) {
						printf(" %8s", "-");
						continue;
					}
					kern_act_prep(tabs[k], t, x, n, n, batch, act);
					double best = 1e30, start = now_s();
					for (int rep = 0; rep < 3 || now_s() - start < secs;
					     rep++) {
						double t0 = now_s();
						kern_matmul(tabs[k], NULL, t, w, act, y, rows, n,
						            rows, batch);
						double dt = now_s() - t0;
						best = dt < best ? dt : best;
					}
					printf(" %8.1f", (double)rows * n * batch / best * 1e-9);
				}
				printf("\n");
				fflush(stdout);
			}
			free(w);
			free(x);
			free(act);
			free(y);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gemm"))
		return gemm_table(argc > 2 ? atof(argv[2]) : 0.3);
	dai_err e;
	const char *name = argc > 1 ? argv[1] : "auto";
	const kern_table *k = kern_by_name(name, &e);
	const kern_qtable *direct = NULL; /* a quant table called without its main table */
	if (!k && !strcmp(name, "avx512") && (direct = kern_quant_avx512_table()))
		k = kern_by_name("avx2", &e);
	if (!k) {
		fprintf(stderr, "kquantbench: %s\n", e.msg);
		return 2;
	}
	int reps = argc > 2 ? atoi(argv[2]) : 30;
	static const enum kern_type types[] = {KERN_Q8_0, KERN_Q4_0, KERN_Q4_1,
	                                       KERN_Q5_0, KERN_Q5_1, KERN_Q4_K,
	                                       KERN_Q5_K, KERN_Q6_K, KERN_BF16};
	float *x = malloc(sizeof(float) * COLS), *y = malloc(sizeof(float) * ROWS);
	void *act = malloc(kern_act_bytes(KERN_BF16, COLS, 1));
	if (!x || !y || !act)
		return 1;
	for (int i = 0; i < COLS; i++)
		x[i] = (float)((int)(rnext() % 2001) - 1000) * 1e-3f;
	double base = 0;
	printf("%-6s %10s %8s %8s   (%s, best of %d)\n", "type", "us", "GB/s", "vs q8_0",
	       direct ? direct->name : k->name, reps);
	for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
		enum kern_type t = types[ti];
		size_t bytes = (size_t)ROWS * kern_row_bytes(t, COLS);
		unsigned char *w = malloc(bytes);
		if (!w)
			return 1;
		fill(t, w, bytes);
		double best = 1e9;
		for (int r = 0; r < reps; r++) {
			double t0 = now_s();
			kern_act_prep(k, t, x, COLS, COLS, 1, act);
			const kern_qinfo *qi = kern_qinfo_of(t);
			if (direct && qi)
				direct->matmul[qi - kern_qinfo_at(0)](w, COLS / qi->block, act,
				                                      COLS / qi->act_block, y, ROWS,
				                                      COLS, 0, ROWS, 1);
			else
				kern_matmul(k, NULL, t, w, act, y, ROWS, COLS, ROWS, 1);
			double dt = now_s() - t0;
			best = dt < best ? dt : best;
		}
		if (t == KERN_Q8_0)
			base = best;
		const kern_qinfo *qi = kern_qinfo_of(t);
		printf("%-6s %10.1f %8.2f %8.2f\n", qi ? qi->name : "q8_0", best * 1e6,
		       (double)bytes / best * 1e-9, best / base);
		free(w);
	}
	free(x);
	free(y);
	free(act);
	return 0;
}
