/*
 * attnbench - the attention kernels of one layer of a small Llama, as the
 * session runs them: 12 heads of 64, a cache of 176 positions. "verify"
 * evaluates the positions in steps of 128 tokens (the replay's batch),
 * "decode" one token at a time. For each, the time of the scores (the
 * keys times the queries, matmul_f32), of scale and softmax, and of the
 * weighted V sums (wsum_batch), per layer, best of the repetitions, with
 * the table kern_select picks (DAI_KERNELS chooses another).
 *
 * Build: make build/rel/attnbench
 * Usage: attnbench [repetitions [verify|decode]]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kern/kern.h"

enum { HEADS = 12, HD = 64, KV = HEADS * HD, POS = 176, STEP = 128, GROUP = 8 };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static float *noise(size_t n, unsigned *seed)
{
	float *x = malloc(n * sizeof(float));
	if (!x) {
		fprintf(stderr, "attnbench: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 1103515245u + 12345u;
		x[i] = (float)((*seed >> 8) & 0xffff) / 32768.0f - 1.0f;
	}
	return x;
}

struct data {
	const kern_table *k;
	float *kc, *vc, *q, *att, *scores;
};

/* the part of attention that `part` names (0 scores, 1 scale and softmax,
 * 2 weighted sums) for the tokens at pos0 .. pos0+nb-1, every head */
static void attend(const struct data *d, int pos0, int nb, int part)
{
	const kern_table *k = d->k;
	for (int t0 = 0; t0 < nb; t0 += GROUP) {
		int t1 = t0 + GROUP < nb ? t0 + GROUP : nb;
		for (int h = 0; h < HEADS; h++) {
			float *sc = d->scores + (size_t)h * GROUP * POS;
			if (part == 0)
				k->matmul_f32(d->kc + h * HD, KV, d->q + (size_t)t0 * KV + h * HD,
				              KV, sc, POS, HD, 0, pos0 + t1, t1 - t0);
			int T[GROUP];
			for (int t = t0; t < t1; t++) {
				T[t - t0] = pos0 + t + 1;
				if (part == 1)
					k->scale(sc + (size_t)(t - t0) * POS, 0.125f,
					         sc + (size_t)(t - t0) * POS, T[t - t0]);
			}
			for (int t = t0; t < t1 && part == 1; t++)
				k->softmax(sc + (size_t)(t - t0) * POS, sc + (size_t)(t - t0) * POS,
				           T[t - t0]);
			if (part == 2)
				k->wsum_batch(sc, POS, T, t1 - t0, d->vc + h * HD, KV,
				              d->att + (size_t)t0 * KV + h * HD, KV, HD);
		}
	}
}

/* best time of `reps` runs of one part over the positions in steps of `step` */
static double best_of(const struct data *d, int step, int part, int reps)
{
	double best = 1e9;
	for (int r = 0; r < reps; r++) {
		double t = now_s();
		for (int p = 0; p < POS; p += step)
			attend(d, p, POS - p < step ? POS - p : step, part);
		t = now_s() - t;
		best = t < best ? t : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 20;
	const char *only = argc > 2 ? argv[2] : NULL;
	dai_err e;
	unsigned seed = 1;
	struct data d;
	d.k = kern_select(&e);
	if (!d.k) {
		fprintf(stderr, "attnbench: %s\n", e.msg);
		return 1;
	}
	d.kc = noise((size_t)POS * KV, &seed);
	d.vc = noise((size_t)POS * KV, &seed);
	d.q = noise((size_t)POS * KV, &seed);
	d.att = noise((size_t)POS * KV, &seed);
	d.scores = noise((size_t)HEADS * GROUP * POS, &seed);
	/* softmax-like weights for the sums when scores are not computed first */
	for (int p = 0; p < POS; p += STEP)
		for (int part = 0; part < 2; part++)
			attend(&d, p, POS - p < STEP ? POS - p : STEP, part);
	printf("attnbench: %s, %d heads of %d, %d positions, ms per layer\n", d.k->name, HEADS, HD,
	       POS);
	const char *name[3] = {"scores", "softmax", "wsum"};
	for (int mode = 0; mode < 2; mode++) {
		int step = mode ? 1 : STEP;
		double sum = 0;
		if (only && strcmp(only, mode ? "decode" : "verify"))
			continue;
		printf("%-7s", mode ? "decode" : "verify");
		for (int part = 0; part < 3; part++) {
			double t = best_of(&d, step, part, reps);
			sum += t;
			printf(" %s=%.4f", name[part], t * 1e3);
		}
		printf(" total=%.4f\n", sum * 1e3);
	}
	free(d.kc);
	free(d.vc);
	free(d.q);
	free(d.att);
	free(d.scores);
	return 0;
}
