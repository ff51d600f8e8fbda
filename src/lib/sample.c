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

/* The largest non-NaN value of x[0..n), -inf when there is none. A max
 * needs no order, so 16 running maxima (a loop the compiler vectorises)
 * give the same value as one; "v > m ? v : m" keeps m when v is NaN. */
static float max_value(const float *x, int n)
{
	float m[16];
	for (int j = 0; j < 16; j++)
		m[j] = -INFINITY;
	int i = 0;
	for (; i + 16 <= n; i += 16)
		for (int j = 0; j < 16; j++)
			m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
	for (; i < n; i++)
		m[0] = x[i] > m[0] ? x[i] : m[0];
	for (int j = 1; j < 16; j++)
		m[0] = m[j] > m[0] ? m[j] : m[0];
	return m[0];
}

int32_t sample_greedy(const float *logits, int n_vocab)
{
	/* the first index holding the largest value (-0 == +0); an all-NaN
	 * row has no -inf either, and gives 0 */
	float m = max_value(logits, n_vocab);
	for (int i = 0; i < n_vocab; i++)
		if (logits[i] == m)
			return i;
	return 0;
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

/* A min-heap of candidates by step 2's order: the worst kept one at the
 * root. */
static void heap_push(cand *h, size_t n, cand x)
{
	size_t pos = n;
	while (pos > 0 && cand_before(&h[(pos - 1) / 2], &x)) {
		h[pos] = h[(pos - 1) / 2];
		pos = (pos - 1) / 2;
	}
	h[pos] = x;
}

static void heap_replace_root(cand *h, size_t n, cand x)
{
	size_t pos = 0;
	for (;;) {
		size_t ch = 2 * pos + 1;
		if (ch >= n)
			break;
		if (ch + 1 < n && cand_before(&h[ch], &h[ch + 1]))
			ch++;
		if (!cand_before(&x, &h[ch]))
			break;
		h[pos] = h[ch];
		pos = ch;
	}
	h[pos] = x;
}

/* Keeps the k best of c[0..n) (by cand_before) in c[0..k), unordered: O(n log k). */
static size_t select_top(cand *c, size_t n, size_t k)
{
	for (size_t i = 0; i < n; i++) {
		if (i < k)
			heap_push(c, i, c[i]);
		else if (cand_before(&c[i], &c[0]))
			heap_replace_root(c, k, c[i]);
	}
	return n < k ? n : k;
}

/*
 * The k best non-NaN logits (by step 2's order) into c[0..), unordered;
 * returns how many (fewer than k only when fewer are not NaN). Once k are
 * held, a logit enters only if it beats the worst of them, and since the
 * logits come in ascending index order, only a strictly larger value does:
 * blocks of 16 with none larger than that value are passed over at once.
 */
static size_t top_logits(const float *x, int n, size_t k, cand *c)
{
	size_t held = 0;
	int i = 0;
	for (; i < n && held < k; i++)
		if (x[i] == x[i])
			heap_push(c, held++, (cand){x[i], i});
	if (held < k)
		return held;
	float worst = c[0].v;
	while (i < n) {
		int end = n - i < 16 ? n : i + 16;
		if (end - i == 16) {
			int any = 0;
			for (int j = 0; j < 16; j++)
				any |= x[i + j] > worst;
			if (!any) {
				i = end;
				continue;
			}
		}
		for (; i < end; i++)
			if (x[i] > worst) {
				heap_replace_root(c, k, (cand){x[i], i});
				worst = c[0].v;
			}
	}
	return held;
}

/* top-k at most this large takes the k best straight from the logits */
#define SAMPLE_TOP_DIRECT 1024

int32_t sample_token(const dai_sample_params *p, const float *logits, int n_vocab, uint64_t t,
                     void *scratch)
{
	if (n_vocab < 1 || sample_params_check(p, NULL))
		return -1;
	if (p->temp == 0.0f || p->top_k == 1)
		return sample_greedy(logits, n_vocab);

	cand *c = scratch, *tmp = c + n_vocab;
	float *cum = (float *)(tmp + n_vocab);
	size_t k;
	float y0;
	if (p->top_k > 0 && p->top_k <= SAMPLE_TOP_DIRECT) {
		/* steps 2-3 at once: the top_k best, sorted. Step 4's cut of
		 * weights that underflow (below) keeps a prefix of them, since
		 * v / temp - y0 grows with v. */
		k = top_logits(logits, n_vocab, (size_t)p->top_k, c);
		if (k == 0)
			return 0; /* every logit is NaN */
		qsort(c, k, sizeof *c, cand_cmp);
		y0 = c[0].v / p->temp;
		if (!isfinite(y0))
			return c[0].i;
		while (k > 1 && !(c[k - 1].v / p->temp - y0 > DM_EXP_LO))
			k--;
	} else {
		/* step 4 needs y[0] = max / temp; y[j] - y[0] <= -104 gives
		 * weight 0 (dm_expf clamps there and exp(-104) rounds to 0),
		 * and such candidates are the last ones in the order, so they
		 * are dropped before sorting */
		int32_t top = sample_greedy(logits, n_vocab);
		float xmax = logits[top];
		if (xmax != xmax)
			return 0; /* every logit is NaN */
		y0 = xmax / p->temp;
		if (!isfinite(y0))
			return top;
		size_t n = 0;
		for (int i = 0; i < n_vocab; i++) {
			float v = logits[i];
			if (v != v || !(v / p->temp - y0 > DM_EXP_LO))
				continue;
			c[n++] = (cand){v, i};
		}
		/* n >= 1: the maximum itself has y - y0 = 0 */
		k = n;
		int index_order = 1; /* c is in ascending index order */
		if (p->top_k > 0 && (size_t)p->top_k < n) {
			k = select_top(c, n, (size_t)p->top_k);
			index_order = 0;
		}
		c = sort_cands(c, tmp, k, index_order);
	}

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
