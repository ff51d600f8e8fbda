/* session.c - see session.h: KV cache, batched forward pass, attention over the pool. */
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "rope.h"
#include "kern/dmath.h"
#include "kern/kern_gelu.h"
#include "kern/kern_quant.h"

enum { ATTN_TOKENS = 8 }; /* tokens of a step whose scores one attention task computes */

struct session {
	const model *m;
	const kern_table *k;
	pool *pool;
	int own_pool;
	int n_ctx, n_batch, pos;
	int q_dim, kv_dim, wmax; /* wmax: the widest activation row (dim or ffn) */
	float attn_scale;

	float *kc, *vc; /* [layer][n_ctx][kv_dim] */

	/* scratch for one step of at most n_batch tokens */
	float *x;          /* residual, n_batch x dim */
	float *h;          /* matmul input rows (normed x or swiglu), n_batch x wmax */
	float *q, *att;    /* n_batch x q_dim */
	float *gate, *up;  /* n_batch x ffn */
	float *tmp;        /* n_batch x dim: block outputs before the residual add */
	float *act_f16;    /* h rounded to half, n_batch x wmax */
	kern_q8_0 *act_q8; /* h quantized, n_batch x wmax/32 blocks */
	void *act_kq[4];   /* h prepared for the kern_quant.h types, by enum kern_act */
	float *rope_cs;    /* per token of the step: head_dim/2 cos then head_dim/2 sin */
	float *scores;     /* per pool thread: ATTN_TOKENS x n_ctx attention weights */

	session_hook hook;
	void *hook_ctx;
};

/* ---------------------------------------------------------------- creation */

static void *alloc_floats(size_t a, size_t b, int *oom)
{
	size_t n;
	if (__builtin_mul_overflow(a, b, &n) || __builtin_mul_overflow(n, sizeof(float), &n)) {
		*oom = 1;
		return NULL;
	}
	void *p = bigbuf_alloc(n);
	if (!p)
		*oom = 1;
	return p;
}

session *session_new(const model *m, const session_params *p, dai_err *e)
{
	session_params def = {0};
	if (!p)
		p = &def;
	if (p->n_ctx < 0 || p->n_ctx > MODEL_DIM_MAX)
		return dai_errf(e, "context size %d is out of range [1, %d]", p->n_ctx,
		                MODEL_DIM_MAX),
		       NULL;
	if (p->n_batch < 0 || p->n_batch > 65536)
		return dai_errf(e, "batch size %d is out of range [1, 65536]", p->n_batch), NULL;
	const kern_table *k = p->kern ? p->kern : kern_select(e);
	if (!k)
		return NULL;
	session *s = calloc(1, sizeof *s);
	if (!s)
		return dai_errf(e, "out of memory"), NULL;
	s->m = m;
	s->k = k;
	s->n_ctx = p->n_ctx ? p->n_ctx : m->n_ctx_train;
	s->n_batch = p->n_batch ? p->n_batch : SESSION_DEFAULT_BATCH;
	if (s->n_batch > s->n_ctx) /* a step never holds more tokens than the cache */
		s->n_batch = s->n_ctx;
	s->q_dim = m->n_heads * m->head_dim;
	s->kv_dim = m->n_kv_heads * m->head_dim;
	s->wmax = m->dim > m->ffn_dim ? m->dim : m->ffn_dim;
	s->wmax = s->wmax > s->q_dim ? s->wmax : s->q_dim;
	s->attn_scale = 1.0f / sqrtf((float)m->head_dim);
	if (p->pool) {
		s->pool = p->pool;
	} else if (p->n_threads != 1) {
		s->pool = pool_create(p->n_threads, e);
		if (!s->pool) {
			free(s);
			return NULL;
		}
		s->own_pool = 1;
	}

	int oom = 0;
	size_t nb = (size_t)s->n_batch, cache = (size_t)m->n_layers * (size_t)s->n_ctx;
	s->kc = alloc_floats(cache, (size_t)s->kv_dim, &oom);
	s->vc = alloc_floats(cache, (size_t)s->kv_dim, &oom);
	s->x = alloc_floats(nb, (size_t)m->dim, &oom);
	s->h = alloc_floats(nb, (size_t)s->wmax, &oom);
	s->q = alloc_floats(nb, (size_t)s->q_dim, &oom);
	s->att = alloc_floats(nb, (size_t)s->q_dim, &oom);
	s->gate = alloc_floats(nb, (size_t)m->ffn_dim, &oom);
	s->up = alloc_floats(nb, (size_t)m->ffn_dim, &oom);
	s->tmp = alloc_floats(nb, (size_t)m->dim, &oom);
	s->act_f16 = alloc_floats(nb, (size_t)s->wmax, &oom);
	s->act_q8 = alloc_floats(nb, (size_t)s->wmax, &oom); /* more than the blocks need */
	for (int i = 0; i < 4; i++) /* every activation type takes at most 4 bytes a value */
		s->act_kq[i] = alloc_floats(nb, (size_t)s->wmax, &oom);
	s->rope_cs = alloc_floats(nb, (size_t)m->head_dim, &oom);
	s->scores =
	    alloc_floats((size_t)pool_threads(s->pool) * ATTN_TOKENS, (size_t)s->n_ctx, &oom);
	if (oom) {
		int n_ctx = s->n_ctx;
		session_free(s);
		return dai_errf(e, "out of memory for a context of %d tokens", n_ctx), NULL;
	}
	return s;
}

void session_free(session *s)
{
	if (!s)
		return;
	if (s->own_pool)
		pool_destroy(s->pool);
	bigbuf_free(s->kc);
	bigbuf_free(s->vc);
	bigbuf_free(s->x);
	bigbuf_free(s->h);
	bigbuf_free(s->q);
	bigbuf_free(s->att);
	bigbuf_free(s->gate);
	bigbuf_free(s->up);
	bigbuf_free(s->tmp);
	bigbuf_free(s->act_f16);
	bigbuf_free(s->act_q8);
	for (int i = 0; i < 4; i++)
		bigbuf_free(s->act_kq[i]);
	bigbuf_free(s->rope_cs);
	bigbuf_free(s->scores);
	free(s);
}

int session_pos(const session *s)
{
	return s->pos;
}

int session_n_ctx(const session *s)
{
	return s->n_ctx;
}

const model *session_model(const session *s)
{
	return s->m;
}

const kern_table *session_kern(const session *s)
{
	return s->k;
}

int session_rewind(session *s, int pos, dai_err *e)
{
	if (pos < 0 || pos > s->pos)
		return dai_errf(e, "cannot rewind to position %d (the cache holds %d tokens)", pos,
		                s->pos);
	s->pos = pos; /* entries past pos are overwritten before they are read again */
	return 0;
}

void session_reset(session *s)
{
	s->pos = 0;
}

void session_set_hook(session *s, session_hook fn, void *ctx)
{
	s->hook = fn;
	s->hook_ctx = ctx;
}

/* ---------------------------------------------------------------- pieces */

/*
 * Prepared activations of the rows in h (nb rows of n, packed) for each
 * weight type, made at most once per type: q, k and v (and gate and up)
 * usually share a type and so one preparation.
 */
struct acts {
	const float *h;
	int n, nb;
	int have_f16, have_q8;
	int have_kq[4];
};

static const void *act_for(session *s, struct acts *a, enum kern_type t)
{
	switch (t) {
	case KERN_F16:
		if (!a->have_f16)
			kern_act_prep(s->k, t, a->h, a->n, a->n, a->nb, s->act_f16);
		a->have_f16 = 1;
		return s->act_f16;
	case KERN_Q8_0:
		if (!a->have_q8)
			kern_act_prep(s->k, t, a->h, a->n, a->n, a->nb, s->act_q8);
		a->have_q8 = 1;
		return s->act_q8;
	default:
		break;
	}
	const kern_qinfo *qi = kern_qinfo_of(t);
	if (!qi)
		return a->h; /* F32 weights take the rows as they are */
	if (!a->have_kq[qi->act])
		kern_act_prep(s->k, t, a->h, a->n, a->n, a->nb, s->act_kq[qi->act]);
	a->have_kq[qi->act] = 1;
	return s->act_kq[qi->act];
}

/*
 * Several matrix products on the same input rows (q, k, v; gate, up) as one
 * pool job, so that a token pays one synchronisation instead of three. Each
 * matrix is cut into row chunks as kern_matmul cuts it; every output is
 * still one canonical dot, so the split changes nothing.
 */
enum { MM_MAX = 3 };
struct mm_part {
	const model_matrix *w;
	const void *act;
	float *y;
	int ldy, chunk, first_task;
};
struct mm_job {
	const kern_table *k;
	struct mm_part part[MM_MAX];
	int n_parts, nb;
};

static void mm_task(void *ctx, int task, int worker)
{
	(void)worker;
	const struct mm_job *j = ctx;
	int i = j->n_parts - 1;
	while (task < j->part[i].first_task)
		i--;
	const struct mm_part *p = &j->part[i];
	const model_matrix *w = p->w;
	int r0 = (task - p->first_task) * p->chunk;
	int r1 = r0 + p->chunk < w->rows ? r0 + p->chunk : w->rows;
	switch (w->type) {
	case KERN_Q8_0: {
		int nb = w->n / KERN_QK8_0;
		j->k->matmul_q8_0(w->data, nb, p->act, nb, p->y, p->ldy, w->n, r0, r1, j->nb);
		break;
	}
	case KERN_F16:
		j->k->matmul_f16(w->data, w->n, p->act, w->n, p->y, p->ldy, w->n, r0, r1, j->nb);
		break;
	default:
		kern_matmul_rows(j->k, w->type, w->data, p->act, p->y, p->ldy, w->n, r0, r1, j->nb);
		break;
	}
}

/* y[i] (row stride ldy[i]) = w[i] times the nb rows of a, for i < count */
static void matmuls(session *s, struct acts *a, int count, const model_matrix *const *w,
                    float *const *y, const int *ldy)
{
	struct mm_job j = {.k = s->k, .n_parts = count, .nb = a->nb};
	int nt = pool_threads(s->pool), tasks = 0;
	for (int i = 0; i < count; i++) {
		/* about four tasks per thread, even chunks of at least 16 rows (as
		 * kern_matmul); one thread takes the whole matrix at once, since
		 * every task prepares the activations anew (the Q8_0 product
		 * transposes them) */
		int rows = w[i]->rows;
		int chunk = (rows + 4 * nt - 1) / (4 * nt);
		chunk = nt == 1 ? rows : chunk < 16 ? 16 : chunk + (chunk & 1);
		j.part[i] =
		    (struct mm_part){w[i], act_for(s, a, w[i]->type), y[i], ldy[i], chunk, tasks};
		tasks += (rows + chunk - 1) / chunk;
	}
	pool_run(s->pool, tasks, mm_task, &j);
}

static void matmul(session *s, struct acts *a, const model_matrix *w, float *y, int ldy)
{
	matmuls(s, a, 1, &w, &y, &ldy);
}

static void embed_row(session *s, const model_matrix *t, int32_t id, float *x)
{
	size_t n = (size_t)t->n;
	switch (t->type) {
	case KERN_F16:
		s->k->f16_to_f32((const uint16_t *)t->data + (size_t)id * n, x, t->n);
		break;
	case KERN_Q8_0:
		s->k->dequant_q8_0((const kern_q8_0 *)t->data + (size_t)id * (n / KERN_QK8_0), x,
		                   t->n);
		break;
	default:
		kern_dequant_row(s->k, t->type, t->data, id, t->n, x);
		break;
	}
}

/* x = token_embd[id], exactly (F16 and Q8_0 rows dequantize exactly),
 * times the model's embedding scale when it has one (gemma) */
static void embed(session *s, int32_t id, float *x)
{
	const model_matrix *t = &s->m->tok_embd;
	embed_row(s, t, id, x);
	if (s->m->embd_scale != 0.0f)
		s->k->scale(x, s->m->embd_scale, x, t->n);
}

struct hook_job {
	const session *s;
	int pos0, nb, layer;
};

static void hook_task(void *ctx, int task, int worker)
{
	const struct hook_job *j = ctx;
	const session *s = j->s;
	int dim = s->m->dim, t0 = task * SESSION_HOOK_RUN;
	int n = j->nb - t0 < SESSION_HOOK_RUN ? j->nb - t0 : SESSION_HOOK_RUN;
	(void)worker;
	s->hook(s->hook_ctx, j->pos0 + t0, n, j->layer, s->x + (size_t)t0 * dim, dim);
}

/* The hook for every token of a step after one layer. A trace hashes each
 * vector (about a microsecond apiece), which on one thread would hold up
 * every other thread of a batched step, so runs of tokens go to the pool. */
static void call_hook(session *s, int pos0, int nb, int layer)
{
	if (!s->hook)
		return;
	struct hook_job j = {s, pos0, nb, layer};
	int runs = (nb + SESSION_HOOK_RUN - 1) / SESSION_HOOK_RUN;
	if (runs == 1)
		hook_task(&j, 0, 0);
	else
		pool_run(s->pool, runs, hook_task, &j);
}

/* ---------------------------------------------------------------- attention */

struct attn_job {
	session *s;
	const float *kc, *vc; /* this layer's cache */
	int pos0, nb, group;  /* group: query heads per kv head */
};

/*
 * One head for up to ATTN_TOKENS tokens of the step: for each token t,
 * scores over positions lo .. pos0+t, softmax, weighted V sum. lo is 0, or
 * with a sliding window of n_swa the first position the window holds
 * (llama.cpp masks key p for the token at pos when pos - p >= n_swa; a
 * masked score adds exactly 0 to its softmax).
 *
 * The scores of all the tokens come from one matrix product of the cached
 * keys by the tokens' queries: each is the canonical dot of item 1 of
 * kern.h, the same bits as one dot at a time, but the product's register
 * tiles load each key once for several tokens. It covers the positions
 * from the first token's lo to the last token's own position; a token uses
 * only its own range (the cache holds every key of the step already).
 */
static void attn_task(void *ctx, int task, int worker)
{
	const struct attn_job *j = ctx;
	const session *s = j->s;
	const kern_table *k = s->k;
	int n_heads = s->m->n_heads, hd = s->m->head_dim, n_swa = s->m->n_swa;
	int h = task % n_heads, t0 = task / n_heads * ATTN_TOKENS;
	int t1 = t0 + ATTN_TOKENS < j->nb ? t0 + ATTN_TOKENS : j->nb;
	int kvh = h / j->group, T0 = j->pos0 + t0 + 1, T1 = j->pos0 + t1;
	int lo0 = n_swa > 0 && T0 > n_swa ? T0 - n_swa : 0;
	size_t ld = (size_t)s->n_ctx;
	float *scores = s->scores + (size_t)worker * ATTN_TOKENS * ld;
	k->matmul_f32(j->kc + (size_t)kvh * hd, s->kv_dim,
	              s->q + (size_t)t0 * s->q_dim + (size_t)h * hd, s->q_dim, scores, s->n_ctx, hd,
	              lo0, T1, t1 - t0);
	int lo[ATTN_TOKENS], len[ATTN_TOKENS];
	for (int t = t0; t < t1; t++) {
		int T = j->pos0 + t + 1, i = t - t0;
		lo[i] = n_swa > 0 && T > n_swa ? T - n_swa : 0;
		len[i] = T - lo[i];
		k->scale(scores + (size_t)i * ld + lo[i], s->attn_scale,
		         scores + (size_t)i * ld + lo[i], len[i]);
	}
	/* softmax in a loop of its own: reading a row right after its last
	 * (masked, partial) store waits for that store (measured: a third of
	 * the time of scale and softmax) */
	for (int i = 0; i < t1 - t0; i++)
		k->softmax(scores + (size_t)i * ld + lo[i], scores + (size_t)i * ld + lo[i],
		           len[i]);
	/* the weighted V sums, one call for the tokens that start at the same
	 * position (all of them unless a sliding window has moved): it loads
	 * each V row once for all of them */
	for (int a = 0; a < t1 - t0;) {
		int b = a + 1;
		while (b < t1 - t0 && lo[b] == lo[a])
			b++;
		k->wsum_batch(scores + (size_t)a * ld + lo[a], s->n_ctx, len + a, b - a,
		              j->vc + (size_t)lo[a] * s->kv_dim + (size_t)kvh * hd, s->kv_dim,
		              s->att + (size_t)(t0 + a) * s->q_dim + (size_t)h * hd, s->q_dim, hd);
		a = b;
	}
}

/* ---------------------------------------------------------------- one step */

/* rows of n (stride ld) += b, for nb rows; nothing when b is NULL */
static void add_bias(session *s, const float *b, float *y, int ld, int nb, int n)
{
	for (int t = 0; b && t < nb; t++)
		s->k->add(y + (size_t)t * ld, b, y + (size_t)t * ld, n);
}

/*
 * After the q, k, v products of a step's nb tokens: the biases (as llama.cpp
 * adds them, after the product), then RoPE on q and k (rope.h: the model's
 * pairing and angles). q may be NULL: keys and values only.
 */
static void qkv_finish(session *s, const model_layer *L, float *q, float *kc, float *vc, int nb)
{
	const model *m = s->m;
	int hd = m->head_dim;
	if (q)
		add_bias(s, L->bq, q, s->q_dim, nb, s->q_dim);
	add_bias(s, L->bk, kc, s->kv_dim, nb, s->kv_dim);
	add_bias(s, L->bv, vc, s->kv_dim, nb, s->kv_dim);
	for (int t = 0; t < nb; t++) {
		const float *cs = s->rope_cs + (size_t)t * hd;
		if (q)
			rope_apply(s->k, m, q + (size_t)t * s->q_dim, m->n_heads, cs, cs + hd / 2);
		rope_apply(s->k, m, kc + (size_t)t * s->kv_dim, m->n_kv_heads, cs, cs + hd / 2);
	}
}

/*
 * The normed rows of the step's nb tokens times wk and wv, straight into
 * layer l's cache, and with_q times wq into s->q; then biases and RoPE.
 * Without q it is all that later tokens' attention reads of these tokens,
 * and the cache holds the same bits either way (the same rows).
 */
static void qkv_step(session *s, int l, int pos0, int nb, int with_q)
{
	const model *m = s->m;
	const model_layer *L = &m->layers[l];
	int dim = m->dim;
	size_t cache_off = ((size_t)l * s->n_ctx + (size_t)pos0) * s->kv_dim;
	float *kc = s->kc + cache_off, *vc = s->vc + cache_off;
	for (int t = 0; t < nb; t++)
		s->k->rmsnorm(s->x + (size_t)t * dim, L->attn_norm, s->h + (size_t)t * dim, dim,
		              m->rms_eps);
	struct acts a = {.h = s->h, .n = dim, .nb = nb};
	const model_matrix *w[3] = {&L->wq, &L->wk, &L->wv};
	float *out[3] = {s->q, kc, vc};
	int ld[3] = {s->q_dim, s->kv_dim, s->kv_dim};
	int first = with_q ? 0 : 1;
	matmuls(s, &a, 3 - first, w + first, out + first, ld + first);
	qkv_finish(s, L, with_q ? s->q : NULL, kc, vc, nb);
}

static void layer_step(session *s, int l, int pos0, int nb)
{
	const model *m = s->m;
	const model_layer *L = &m->layers[l];
	const kern_table *k = s->k;
	int dim = m->dim, ffn = m->ffn_dim;

	/* attention block: q, and k, v straight into the cache */
	qkv_step(s, l, pos0, nb, 1);
	struct attn_job j = {s,
	                     s->kc + (size_t)l * s->n_ctx * s->kv_dim,
	                     s->vc + (size_t)l * s->n_ctx * s->kv_dim,
	                     pos0,
	                     nb,
	                     m->n_heads / m->n_kv_heads};
	pool_run(s->pool, (nb + ATTN_TOKENS - 1) / ATTN_TOKENS * m->n_heads, attn_task, &j);
	struct acts ao = {.h = s->att, .n = s->q_dim, .nb = nb};
	matmul(s, &ao, &L->wo, s->tmp, dim);
	add_bias(s, L->bo, s->tmp, dim, nb, dim);
	k->add(s->x, s->tmp, s->x, nb * dim);

	/* feed-forward block */
	for (int t = 0; t < nb; t++)
		k->rmsnorm(s->x + (size_t)t * dim, L->ffn_norm, s->h + (size_t)t * dim, dim,
		           m->rms_eps);
	struct acts af = {.h = s->h, .n = dim, .nb = nb};
	const model_matrix *gu[2] = {&L->gate, &L->up};
	float *gu_out[2] = {s->gate, s->up};
	int gu_ld[2] = {ffn, ffn};
	matmuls(s, &af, 2, gu, gu_out, gu_ld);
	if (m->ffn_gelu)
		kern_geglu(k, s->gate, s->up, s->h, nb * ffn);
	else
		k->swiglu(s->gate, s->up, s->h, nb * ffn);
	struct acts ad = {.h = s->h, .n = ffn, .nb = nb};
	matmul(s, &ad, &L->down, s->tmp, dim);
	k->add(s->x, s->tmp, s->x, nb * dim);
}

/* logits of step rows [r0, r0+cnt) into out (cnt x n_vocab) */
static void output_step(session *s, int r0, int cnt, float *out)
{
	const model *m = s->m;
	int dim = m->dim;
	for (int t = 0; t < cnt; t++)
		s->k->rmsnorm(s->x + (size_t)(r0 + t) * dim, m->output_norm, s->h + (size_t)t * dim,
		              dim, m->rms_eps);
	struct acts a = {.h = s->h, .n = dim, .nb = cnt};
	matmul(s, &a, &m->output, out, m->n_vocab);
}

/* RoPE angles of a step's nb tokens at positions pos0 .. pos0+nb-1 */
static void rope_rows(session *s, int pos0, int nb)
{
	int hd = s->m->head_dim;
	for (int t = 0; t < nb; t++) {
		float *cs = s->rope_cs + (size_t)t * hd;
		rope_table(s->m, pos0 + t, cs, cs + hd / 2);
	}
}

static void step(session *s, const int32_t *tokens, int nb, float *logits, int all)
{
	const model *m = s->m;
	int pos0 = s->pos;
	rope_rows(s, pos0, nb);
	for (int t = 0; t < nb; t++)
		embed(s, tokens[t], s->x + (size_t)t * m->dim);
	call_hook(s, pos0, nb, 0);
	for (int l = 0; l < m->n_layers; l++) {
		layer_step(s, l, pos0, nb);
		call_hook(s, pos0, nb, l + 1);
	}
	if (logits && all)
		output_step(s, 0, nb, logits);
	else if (logits)
		output_step(s, nb - 1, 1, logits);
	s->pos += nb;
}

int session_eval(session *s, const int32_t *tokens, int n, float *logits, enum session_logits which,
                 dai_err *e)
{
	const model *m = s->m;
	if (n < 1)
		return dai_errf(e, "no tokens to evaluate");
	if (which != SESSION_LOGITS_NONE && !logits)
		return dai_errf(e, "no buffer for the logits");
	if (n > s->n_ctx - s->pos)
		return dai_errf(e,
		                "context overflow: %d tokens at position %d exceed the context of "
		                "%d",
		                n, s->pos, s->n_ctx);
	for (int i = 0; i < n; i++)
		if (tokens[i] < 0 || tokens[i] >= m->n_vocab)
			return dai_errf(e,
			                "token %d (at index %d) is outside the vocabulary [0, %d)",
			                (int)tokens[i], i, m->n_vocab);
	for (int done = 0; done < n;) {
		int nb = n - done < s->n_batch ? n - done : s->n_batch;
		float *out = NULL;
		int all = which == SESSION_LOGITS_ALL;
		if (all)
			out = logits + (size_t)done * m->n_vocab;
		else if (which == SESSION_LOGITS_LAST && done + nb == n)
			out = logits;
		step(s, tokens + done, nb, out, all);
		done += nb;
	}
	return 0;
}

/* ---------------------------------------------------------------- pieces, one at a time */

int session_embed(session *s, int32_t id, float *x, dai_err *e)
{
	if (id < 0 || id >= s->m->n_vocab)
		return dai_errf(e, "token %d is outside the vocabulary [0, %d)", (int)id,
		                s->m->n_vocab);
	embed(s, id, x);
	return 0;
}

/* A layer index and a token count the one-layer entry points can take. */
static int layer_args(const session *s, int l, int n, dai_err *e)
{
	if (l < 0 || l >= s->m->n_layers)
		return dai_errf(e, "layer %d is outside [0, %d)", l, s->m->n_layers);
	if (n < 1 || n > s->n_ctx)
		return dai_errf(e, "%d tokens do not fit a context of %d", n, s->n_ctx);
	return 0;
}

int session_layer(session *s, int l, const float *x, int n, float *out, dai_err *e)
{
	const model *m = s->m;
	size_t dim = (size_t)m->dim;
	if (layer_args(s, l, n, e))
		return -1;
	for (int done = 0; done < n;) {
		int nb = n - done < s->n_batch ? n - done : s->n_batch;
		rope_rows(s, done, nb);
		memcpy(s->x, x + (size_t)done * dim, (size_t)nb * dim * sizeof(float));
		layer_step(s, l, done, nb);
		memcpy(out + (size_t)done * dim, s->x, (size_t)nb * dim * sizeof(float));
		done += nb;
	}
	return 0;
}

int session_layer_last(session *s, int l, const float *x, int n, float *out, dai_err *e)
{
	const model *m = s->m;
	size_t dim = (size_t)m->dim;
	if (layer_args(s, l, n, e))
		return -1;
	for (int done = 0; done < n;) {
		int last = done == n - 1;
		int nb = last ? 1 : (n - 1 - done < s->n_batch ? n - 1 - done : s->n_batch);
		rope_rows(s, done, nb);
		memcpy(s->x, x + (size_t)done * dim, (size_t)nb * dim * sizeof(float));
		if (last)
			layer_step(s, l, done, 1);
		else
			qkv_step(s, l, done, nb, 0);
		done += nb;
	}
	memcpy(out, s->x, dim * sizeof(float));
	return 0;
}

void session_head(session *s, const float *x, float *logits)
{
	memcpy(s->x, x, (size_t)s->m->dim * sizeof(float));
	output_step(s, 0, 1, logits);
}
