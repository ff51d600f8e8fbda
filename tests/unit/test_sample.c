/* Unit tests: token sampling. Greedy ties and NaNs, the per-step random
 * number against an independent derivation from its definition, the
 * implementation against a plain transcription of the algorithm in
 * sample.h, distributions (chi-square with a fixed seed), top-k, top-p
 * edges, temperature and parameter checks. */
#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kern/dmath.h"
#include "sample.h"

TestSuite(sample);

static int32_t draw(const dai_sample_params *p, const float *x, int n, uint64_t t)
{
	void *s = malloc(sample_scratch_size(n));
	cr_assert_not_null(s);
	int32_t id = sample_token(p, x, n, t, s);
	free(s);
	return id;
}

/* Counts of n_steps draws (steps 0 .. n_steps-1). */
static void histogram(const dai_sample_params *p, const float *x, int n, int n_steps, int *count)
{
	void *s = malloc(sample_scratch_size(n));
	cr_assert_not_null(s);
	memset(count, 0, (size_t)n * sizeof *count);
	for (int t = 0; t < n_steps; t++) {
		int32_t id = sample_token(p, x, n, (uint64_t)t, s);
		cr_assert(id >= 0 && id < n);
		count[id]++;
	}
	free(s);
}

static double chi_square(const int *count, const double *prob, int n, int total)
{
	double chi = 0;
	for (int i = 0; i < n; i++) {
		double want = prob[i] * total;
		chi += (count[i] - want) * (count[i] - want) / want;
	}
	return chi;
}

/* A reproducible pseudo-random float in [-a, a) for test logits. */
static float noise(uint32_t *st, float a)
{
	*st = *st * 1664525u + 1013904223u;
	return ((float)(*st >> 8) * 0x1p-24f * 2.0f - 1.0f) * a;
}

/* ------------------------------------------------------------------ greedy */

Test(sample, greedy_ties_and_nan)
{
	float a[] = {1, 3, 3, 2};
	cr_assert_eq(sample_greedy(a, 4), 1);
	float b[] = {NAN, 2, NAN, 2, -INFINITY};
	cr_assert_eq(sample_greedy(b, 5), 1);
	float c[] = {NAN, NAN, NAN};
	cr_assert_eq(sample_greedy(c, 3), 0);
	float d[] = {-INFINITY, -INFINITY};
	cr_assert_eq(sample_greedy(d, 2), 0);
	float e[] = {-1, NAN, INFINITY, INFINITY};
	cr_assert_eq(sample_greedy(e, 4), 2);
	float z[] = {-0.0f, 0.0f};
	cr_assert_eq(sample_greedy(z, 2), 0, "-0 == +0: the lower index");

	dai_sample_params g = {0.0f, 0, 1.0f, 7};
	cr_assert_eq(draw(&g, a, 4, 0), 1);
	cr_assert_eq(draw(&g, b, 5, 3), 1);
	cr_assert_eq(draw(&g, c, 3, 3), 0);
	/* with temperature, NaNs are never drawn and all-NaN gives 0 */
	dai_sample_params h = {1.0f, 0, 1.0f, 7};
	float f[] = {NAN, 0, NAN, 0};
	for (uint64_t t = 0; t < 200; t++) {
		int32_t id = draw(&h, f, 4, t);
		cr_assert(id == 1 || id == 3, "drew %d", id);
	}
	cr_assert_eq(draw(&h, c, 3, 0), 0);
	/* infinite logits: the first +inf, as greedy */
	cr_assert_eq(draw(&h, e, 4, 0), 2);
	/* a temperature so small that max / temp overflows is greedy too */
	dai_sample_params tiny = {1e-38f, 0, 1.0f, 7};
	cr_assert_eq(draw(&tiny, a, 4, 5), 1);
}

Test(sample, top_k_1_is_greedy)
{
	enum { N = 1000 };
	static float x[N];
	uint32_t st = 1;
	dai_sample_params p = {1.5f, 1, 0.9f, 0};
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < N; i++)
			x[i] = noise(&st, 4.0f);
		x[(round * 37) % N] = x[(round * 91) % N]; /* sometimes a tie for the top */
		p.seed = (uint64_t)round;
		cr_assert_eq(draw(&p, x, N, (uint64_t)round), sample_greedy(x, N));
	}
}

/* ----------------------------------------------------------- the stream */

/* sample_uniform from its definition, with libsodium's lower-level calls:
 * the streaming BLAKE2b API and the ChaCha20-IETF keystream under the
 * nonce that randombytes_buf_deterministic documents ("LibsodiumDRG"). */
static float uniform_by_definition(uint64_t seed, uint64_t t)
{
	crypto_generichash_state st;
	unsigned char key[32], le[8], b[8];
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)"dai.sample.v1", 13);
	for (int k = 0; k < 8; k++)
		le[k] = (unsigned char)(seed >> (8 * k));
	crypto_generichash_update(&st, le, 8);
	for (int k = 0; k < 8; k++)
		le[k] = (unsigned char)(t >> (8 * k));
	crypto_generichash_update(&st, le, 8);
	crypto_generichash_final(&st, key, 32);
	static const unsigned char nonce[12] = "LibsodiumDRG";
	crypto_stream_chacha20_ietf(b, 8, nonce, key);
	uint32_t hi = 0;
	for (int k = 5; k < 8; k++)
		hi |= (uint32_t)b[k] << (8 * (k - 5));
	return (float)hi / 16777216.0f;
}

Test(sample, uniform_follows_its_definition)
{
	cr_assert(sodium_init() >= 0);
	uint64_t seeds[] = {0, 1, 42, 0xffffffffffffffffull, 0x0123456789abcdefull};
	uint64_t steps[] = {0, 1, 2, 1000, 0xfffffffffffull, 0xffffffffffffffffull};
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++)
		for (size_t j = 0; j < sizeof steps / sizeof *steps; j++) {
			float u = sample_uniform(seeds[i], steps[j]);
			cr_assert(u >= 0.0f && u < 1.0f);
			cr_assert_eq(u, uniform_by_definition(seeds[i], steps[j]),
			             "seed %zu step %zu", i, j);
		}
	/* neighbouring steps and seeds are unrelated numbers */
	cr_assert_neq(sample_uniform(1, 0), sample_uniform(1, 1));
	cr_assert_neq(sample_uniform(1, 0), sample_uniform(2, 0));
	/* mean of many draws near 1/2 */
	double sum = 0;
	for (uint64_t t = 0; t < 20000; t++)
		sum += sample_uniform(9, t);
	cr_assert(fabs(sum / 20000 - 0.5) < 0.01, "mean %f", sum / 20000);
}

Test(sample, same_seed_same_tokens_different_seed_differs)
{
	enum { N = 64, STEPS = 200 };
	float x[N];
	uint32_t st = 5;
	for (int i = 0; i < N; i++)
		x[i] = noise(&st, 1.0f);
	dai_sample_params p = {1.0f, 0, 1.0f, 1234};
	int32_t a[STEPS], b[STEPS], c[STEPS];
	for (int t = 0; t < STEPS; t++)
		a[t] = draw(&p, x, N, (uint64_t)t);
	/* backwards: no step depends on another */
	for (int t = STEPS - 1; t >= 0; t--)
		b[t] = draw(&p, x, N, (uint64_t)t);
	cr_assert_arr_eq(a, b, sizeof a);
	p.seed = 1235;
	int same = 0;
	for (int t = 0; t < STEPS; t++) {
		c[t] = draw(&p, x, N, (uint64_t)t);
		same += c[t] == a[t];
	}
	/* 64 near-uniform tokens: about 3 of 200 agree by chance */
	cr_assert(same < 30, "%d of %d tokens agree across seeds", same, STEPS);
}

/* ------------------------------------------------ against the definition */

typedef struct {
	float v;
	int32_t i;
} ref_cand;

static int ref_cmp(const void *pa, const void *pb)
{
	const ref_cand *a = pa, *b = pb;
	if (a->v > b->v)
		return -1;
	if (a->v < b->v)
		return 1;
	return (a->i > b->i) - (a->i < b->i);
}

/* Step 1 as written: the lowest index of the largest non-NaN value. */
static int32_t ref_greedy(const float *x, int n)
{
	int32_t best = -1;
	for (int i = 0; i < n; i++)
		if (x[i] == x[i] && (best < 0 || x[i] > x[best]))
			best = i;
	return best < 0 ? 0 : best;
}

/* sample.h's algorithm, transcribed step by step without shortcuts. */
static int32_t ref_sample(const dai_sample_params *p, const float *x, int n, uint64_t t)
{
	if (p->temp == 0.0f || p->top_k == 1)
		return ref_greedy(x, n);
	ref_cand *s = malloc((size_t)n * sizeof *s);
	float *c = malloc((size_t)n * sizeof *c);
	int nc = 0;
	for (int i = 0; i < n; i++)
		if (x[i] == x[i])
			s[nc++] = (ref_cand){x[i], i};
	int32_t out = 0;
	if (nc == 0)
		goto done;
	qsort(s, (size_t)nc, sizeof *s, ref_cmp);
	int K = p->top_k > 0 && p->top_k < nc ? p->top_k : nc;
	float y0 = s[0].v / p->temp;
	out = s[0].i;
	if (!isfinite(y0))
		goto done;
	for (int j = 0; j < K; j++) {
		float e = dm_expf(s[j].v / p->temp - y0);
		c[j] = j ? c[j - 1] + e : e;
	}
	int M = K;
	if (p->top_p < 1.0f) {
		float thr = p->top_p * c[K - 1];
		for (M = 1; M < K && !(c[M - 1] >= thr); M++)
			;
	}
	float r = sample_uniform(p->seed, t) * c[M - 1];
	for (int j = 0; j < M; j++)
		if (r < c[j]) {
			out = s[j].i;
			break;
		}
done:
	free(s);
	free(c);
	return out;
}

/* Logits of one round of the comparison: wide ones (many weights
 * underflow), narrow ones, or few distinct values (many ties, also for the
 * top); a few NaNs, -inf, +-0 and a copied value. */
static void round_logits(float *x, int n, int round, uint32_t *st)
{
	float span = round % 3 == 0 ? 80.0f : 8.0f;
	for (int i = 0; i < n; i++) {
		x[i] = noise(st, span);
		if (round % 3 == 2)
			x[i] = floorf(x[i]); /* 16 distinct values */
	}
	x[(round * 13) % n] = NAN;
	x[(round * 17 + 5) % n] = -INFINITY;
	x[(round * 19 + 7) % n] = x[(round * 23 + 11) % n];
	x[(round * 29 + 3) % n] = round % 2 ? -0.0f : 0.0f;
	if (round % 5 == 4) /* a NaN-heavy row: NaNs at the start, too */
		for (int i = 0; i < n; i += 1 + i % 7)
			x[i] = NAN;
}

Test(sample, matches_the_written_algorithm)
{
	cr_assert_eq(dm_expf(DM_EXP_LO), 0.0f, "the shortcut relies on exp(-104) == 0");
	enum { N = 3000 };
	static float x[N];
	uint32_t st = 99;
	static const float temps[] = {0.05f, 0.3f, 0.8f, 1.0f, 2.5f};
	static const int32_t ks[] = {0, 2, 3, 17, 40, 1024, 1025, 2999, 5000};
	static const float ps[] = {1.0f, 0.95f, 0.5f, 0.01f};
	enum { NT = 5, NK = 9, NP = 4, ROUNDS = 45 };
	int checked = 0;
	for (int round = 0; round < ROUNDS; round++) {
		round_logits(x, N, round, &st);
		int32_t g = sample_greedy(x, N);
		cr_assert_eq(g, ref_greedy(x, N), "round %d: greedy %d", round, g);
		for (size_t a = 0; a < NT; a++)
			for (size_t b = 0; b < NK; b++)
				for (size_t c = 0; c < NP; c++) {
					dai_sample_params p = {temps[a], ks[b], ps[c],
					                       (uint64_t)round * 7 + a};
					uint64_t t = (uint64_t)(round * 100 + b * 10 + c);
					int32_t want = ref_sample(&p, x, N, t),
					        got = draw(&p, x, N, t);
					cr_assert_eq(got, want,
					             "round %d temp %g k %d p %g: %d, want %d",
					             round, (double)p.temp, p.top_k,
					             (double)p.top_p, got, want);
					checked++;
				}
	}
	cr_assert_eq(checked, ROUNDS * NT * NK * NP);
}

/* Short rows (below one block of 16, and tails) and rows where fewer than
 * top_k logits are not NaN. */
Test(sample, short_rows_and_few_candidates)
{
	float x[40];
	uint32_t st = 3;
	for (int n = 1; n <= 40; n++)
		for (int round = 0; round < 12; round++) {
			for (int i = 0; i < n; i++)
				x[i] = round % 4 == 3 && i % 3
				           ? NAN
				           : noise(&st, round % 2 ? 50.0f : 3.0f);
			if (round % 6 == 5)
				for (int i = 0; i < n; i++)
					x[i] = NAN;
			cr_assert_eq(sample_greedy(x, n), ref_greedy(x, n), "n %d round %d", n,
			             round);
			for (int k = 0; k <= n + 1; k++) {
				dai_sample_params p = {0.7f, k, round % 3 ? 0.9f : 1.0f,
				                       (uint64_t)n};
				uint64_t t = (uint64_t)(n * 100 + round * 10 + k);
				cr_assert_eq(draw(&p, x, n, t), ref_sample(&p, x, n, t),
				             "n %d round %d k %d", n, round, k);
			}
		}
}

/* ------------------------------------------------------- distributions */

Test(sample, distribution_chi_square)
{
	/* p = 0.1, 0.2, 0.3, 0.4 at temp 1 */
	double prob[4] = {0.1, 0.2, 0.3, 0.4};
	float x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (float)log(prob[i]);
	int count[4];
	dai_sample_params p = {1.0f, 0, 1.0f, 2024};
	histogram(&p, x, 4, 40000, count);
	double chi = chi_square(count, prob, 4, 40000);
	/* 3 degrees of freedom: P(chi2 > 20) is about 2e-4; the seed is fixed */
	cr_assert(chi < 20.0, "chi-square %f: %d %d %d %d", chi, count[0], count[1], count[2],
	          count[3]);
	/* and a wrong distribution is rejected by the same bound */
	double wrong[4] = {0.25, 0.25, 0.25, 0.25};
	cr_assert(chi_square(count, wrong, 4, 40000) > 20.0);

	/* temperature 0.5 squares the probabilities: 1, 4, 9, 16 over 30 */
	double sq[4] = {1.0 / 30, 4.0 / 30, 9.0 / 30, 16.0 / 30};
	p.temp = 0.5f;
	histogram(&p, x, 4, 40000, count);
	chi = chi_square(count, sq, 4, 40000);
	cr_assert(chi < 20.0, "temp 0.5: chi-square %f", chi);
	cr_assert(chi_square(count, prob, 4, 40000) > 20.0);

	/* a high temperature flattens it */
	double flat[4] = {0.25, 0.25, 0.25, 0.25};
	p.temp = 1000.0f;
	histogram(&p, x, 4, 40000, count);
	chi = chi_square(count, flat, 4, 40000);
	cr_assert(chi < 20.0, "temp 1000: chi-square %f", chi);
}

Test(sample, top_k_keeps_the_k_best)
{
	float x[] = {1, 5, 2, 4, 3, 4};
	int count[6];
	dai_sample_params p = {1.0f, 3, 1.0f, 11};
	histogram(&p, x, 6, 3000, count);
	/* the three best are 1 (5), 3 and 5 (4 each) */
	cr_assert(count[0] == 0 && count[2] == 0 && count[4] == 0);
	cr_assert(count[1] > 0 && count[3] > 0 && count[5] > 0);
	/* k = 2 with a tie at the cut: the lower index of the tied pair */
	p.top_k = 2;
	histogram(&p, x, 6, 3000, count);
	cr_assert(count[1] > 0 && count[3] > 0 && count[5] == 0);
	/* k larger than the vocabulary is no cut */
	p.top_k = 100;
	histogram(&p, x, 6, 3000, count);
	for (int i = 0; i < 6; i++)
		cr_assert_gt(count[i], 0);
}

Test(sample, top_p_edges)
{
	/* four equal logits: weights 1, cumulative 1 2 3 4 exactly */
	float x[4] = {0, 0, 0, 0};
	int count[4];
	dai_sample_params p = {1.0f, 0, 0.5f, 3};
	/* top_p * 4 = 2 = c[1]: exactly two tokens, the lower indices */
	histogram(&p, x, 4, 4000, count);
	cr_assert(count[0] > 0 && count[1] > 0 && count[2] == 0 && count[3] == 0, "%d %d %d %d",
	          count[0], count[1], count[2], count[3]);
	/* just above 0.5: three */
	p.top_p = nextafterf(0.5f, 1.0f);
	histogram(&p, x, 4, 4000, count);
	cr_assert(count[2] > 0 && count[3] == 0);
	/* 0.25 * 4 = 1 = c[0]: one token */
	p.top_p = 0.25f;
	histogram(&p, x, 4, 1000, count);
	cr_assert_eq(count[0], 1000);
	/* a tiny top_p still keeps one */
	p.top_p = 1e-30f;
	histogram(&p, x, 4, 1000, count);
	cr_assert_eq(count[0], 1000);
	/* 1 is off: all four, about equally */
	p.top_p = 1.0f;
	histogram(&p, x, 4, 8000, count);
	double flat[4] = {0.25, 0.25, 0.25, 0.25};
	cr_assert(chi_square(count, flat, 4, 8000) < 20.0);
	/* top-p after top-k: k = 3, p = 0.5 of 3 -> c[1] = 2 >= 1.5 */
	p.top_k = 3;
	p.top_p = 0.5f;
	histogram(&p, x, 4, 4000, count);
	cr_assert(count[0] > 0 && count[1] > 0 && count[2] == 0 && count[3] == 0);
}

Test(sample, params_check)
{
	dai_err e;
	dai_sample_params ok = {0.8f, 40, 0.95f, 1};
	cr_assert_eq(sample_params_check(&ok, &e), 0);
	dai_sample_params bad[] = {
	    {-0.1f, 0, 1.0f, 0}, {NAN, 0, 1.0f, 0},  {INFINITY, 0, 1.0f, 0}, {1.0f, -1, 1.0f, 0},
	    {1.0f, 0, 0.0f, 0},  {1.0f, 0, 1.5f, 0}, {1.0f, 0, NAN, 0},      {1.0f, 0, -1.0f, 0},
	};
	static const char *what[] = {"temperature", "temperature", "temperature", "top-k",
	                             "top-p",       "top-p",       "top-p",       "top-p"};
	float x[3] = {1, 2, 3};
	void *s = malloc(sample_scratch_size(3));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(sample_params_check(&bad[i], &e), -1, "case %zu", i);
		cr_assert(strstr(e.msg, what[i]), "case %zu: %s", i, e.msg);
		cr_assert_eq(sample_token(&bad[i], x, 3, 0, s), -1);
	}
	cr_assert_eq(sample_token(&ok, x, 0, 0, s), -1);
	free(s);
}
