/*
 * sample.c - token sampling as sample.h defines it, step by step.
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kern/dmath.h"
#include "sample.h"

typedef struct {
	float v;
	int32_t i;
} cand;

/* The total order of step 2: larger value first, then lower index. */
static int cand_before(const cand *a, const cand *b)
{
	return a->v > b->v || (a->v == b->v && a->i < b->i);
}

static int cand_cmp(const void *pa, const void *pb)
{
	const cand *a = pa, *b = pb;
	return cand_before(a, b) ? -1 : cand_before(b, a) ? 1 : 0;
}

int sample_params_check(const dai_sample_params *p, dai_err *e)
{
	if (!(p->temp >= 0.0f) || isinf(p->temp))
		return dai_errf(e, "temperature %g: must be finite and >= 0", (double)p->temp);
	if (p->top_k < 0)
		return dai_errf(e, "top-k %d: must be >= 0 (0: off)", (int)p->top_k);
	if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
		return dai_errf(e, "top-p %g: must be in (0, 1] (1: off)", (double)p->top_p);
	return 0;
}

size_t sample_scratch_size(int n_vocab)
{
	/* two candidate arrays (the radix sort's ping-pong) and the cumulative
	 * weights */
	return n_vocab > 0 ? (size_t)n_vocab * (2 * sizeof(cand) + sizeof(float)) : 0;
}

int32_t sample_greedy(const float *logits, int n_vocab)
{
	int32_t best = -1;
	for (int i = 0; i < n_vocab; i++) {
		float v = logits[i];
		if (v != v)
			continue;
		if (best < 0 || v > logits[best])
			best = i;
	}
	return best < 0 ? 0 : best;
}

float sample_uniform(uint64_t seed, uint64_t t)
{
	unsigned char msg[sizeof SAMPLE_DOMAIN - 1 + 16];
	unsigned char key[randombytes_SEEDBYTES];
	unsigned char b[8];
	size_t d = sizeof SAMPLE_DOMAIN - 1;
	memcpy(msg, SAMPLE_DOMAIN, d);
	for (int k = 0; k < 8; k++) {
		msg[d + k] = (unsigned char)(seed >> (8 * k));
		msg[d + 8 + k] = (unsigned char)(t >> (8 * k));
	}
	_Static_assert(randombytes_SEEDBYTES == 32, "a 32-byte ChaCha20 key");
	/* sodium_init is idempotent and thread-safe; it picks the fastest
	 * implementations, which give the same bytes as the reference ones */
	if (sodium_init() < 0)
		abort(); /* libsodium cannot run at all: nothing sensible to return */
	crypto_generichash(key, sizeof key, msg, sizeof msg, NULL, 0);
	randombytes_buf_deterministic(b, sizeof b, key);
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v |= (uint64_t)b[k] << (8 * k);
	return (float)(v >> 40) * 0x1p-24f;
}

/* The sort key of step 2 as an unsigned number, ascending in the order:
 * larger values give smaller keys (-0 and +0 the same key). */
static uint32_t cand_key(float v)
{
	uint32_t u;
	if (v == 0.0f)
		v = 0.0f;
	memcpy(&u, &v, sizeof u);
	u = (u & 0x80000000u) ? ~u : (u ^ 0x80000000u); /* ascending with v */
	return ~u;
}

/* Sorts c[0..n) by step 2's order. Small sets by qsort; large ones by a
 * stable three-pass LSD radix sort on the value key, which keeps equal
 * values in the order they come in: ascending index, as c is filled. tmp
 * holds n candidates. Returns the sorted array (c or tmp). */
static cand *sort_cands(cand *c, cand *tmp, size_t n, int index_order)
{
	if (n <= 64 || !index_order) {
		qsort(c, n, sizeof *c, cand_cmp);
		return c;
	}
	static const int shift[3] = {0, 11, 22};
	for (int pass = 0; pass < 3; pass++) {
		size_t count[2048] = {0};
		for (size_t i = 0; i < n; i++)
			count[(cand_key(c[i].v) >> shift[pass]) & 2047]++;
		size_t pos = 0;
		for (size_t b = 0; b < 2048; b++) {
			size_t k = count[b];
			count[b] = pos;
			pos += k;
		}
		for (size_t i = 0; i < n; i++)
			tmp[count[(cand_key(c[i].v) >> shift[pass]) & 2047]++] = c[i];
		cand *sw = c;
		c = tmp;
		tmp = sw;
	}
	return c;
}

/* Keeps the k best of c[0..n) (by cand_before) in c[0..k), unordered, with
 * a min-heap of the k best seen so far: O(n log k). */
static size_t select_top(cand *c, size_t n, size_t k)
{
	/* heap order: the worst of the kept ones at the root */
	for (size_t i = 0; i < n; i++) {
		cand x = c[i];
		size_t pos;
		if (i < k) {
			pos = i;
			while (pos > 0 && cand_before(&c[(pos - 1) / 2], &x)) {
				c[pos] = c[(pos - 1) / 2];
				pos = (pos - 1) / 2;
			}
			c[pos] = x;
			continue;
		}
		if (!cand_before(&x, &c[0]))
			continue;
		pos = 0;
		for (;;) {
			size_t ch = 2 * pos + 1;
			if (ch >= k)
				break;
			if (ch + 1 < k && cand_before(&c[ch], &c[ch + 1]))
				ch++;
			if (!cand_before(&x, &c[ch]))
				break;
			c[pos] = c[ch];
			pos = ch;
		}
		c[pos] = x;
	}
	return n < k ? n : k;
}

int32_t sample_token(const dai_sample_params *p, const float *logits, int n_vocab, uint64_t t,
                     void *scratch)
{
	if (n_vocab < 1 || sample_params_check(p, NULL))
		return -1;
	if (p->temp == 0.0f || p->top_k == 1)
		return sample_greedy(logits, n_vocab);

	/* step 4 needs y[0] = max / temp; y[j] - y[0] <= -104 gives weight 0
	 * (dm_expf clamps there and exp(-104) rounds to 0), and such candidates
	 * are the last ones in the order, so they are dropped before sorting */
	int32_t top = sample_greedy(logits, n_vocab);
	float xmax = logits[top];
	if (xmax != xmax)
		return 0; /* every logit is NaN */
	float y0 = xmax / p->temp;
	if (!isfinite(y0))
		return top;
	cand *c = scratch, *tmp = c + n_vocab;
	float *cum = (float *)(tmp + n_vocab);
	size_t n = 0;
	for (int i = 0; i < n_vocab; i++) {
		float v = logits[i];
		if (v != v || !(v / p->temp - y0 > DM_EXP_LO))
			continue;
		c[n++] = (cand){v, i};
	}
	/* n >= 1: the maximum itself has y - y0 = 0 */

	size_t k = n;
	int index_order = 1; /* c is in ascending index order */
	if (p->top_k > 0 && (size_t)p->top_k < n) {
		k = select_top(c, n, (size_t)p->top_k);
		index_order = 0;
	}
	c = sort_cands(c, tmp, k, index_order);

	float acc = 0.0f;
	for (size_t j = 0; j < k; j++) {
		float y = c[j].v / p->temp;
		acc = acc + dm_expf(y - y0);
		cum[j] = acc;
	}
	size_t m = k;
	if (p->top_p < 1.0f) {
		float thr = p->top_p * cum[k - 1];
		for (m = 1; m < k && !(cum[m - 1] >= thr); m++)
			;
	}
	float r = sample_uniform(p->seed, t) * cum[m - 1];
	for (size_t j = 0; j < m; j++)
		if (r < cum[j])
			return c[j].i;
	return c[0].i;
}
