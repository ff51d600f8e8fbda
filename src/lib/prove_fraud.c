/* prove_fraud.c - see prove.h: building dai-fraud documents (challenge) and
 * dai-verdict documents. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "b64lines.h"
#include "codec.h"
#include "prove_impl.h"
#include "session.h"
#include "timefmt.h"

void prove_add_b64_lines(dai_docb *b, const char *key, const void *data, size_t n)
{
	docb_add_b64_lines(b, key, data, n);
}

int prove_get_b64_lines(const dai_doc *d, const char *key, size_t max, unsigned char **out,
                        size_t *n, dai_err *e)
{
	return doc_get_b64_lines(d, key, max, out, n, e);
}

/* Appends n bytes to a growing buffer. */
typedef struct buf {
	unsigned char *p;
	size_t len, cap;
	int oom;
} buf;

static void put(buf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* A leaf's audit path: u8 length, then the hashes. */
static void put_path(buf *b, const dai_trace *t, uint64_t index)
{
	unsigned char path[MERKLE_PATH_MAX][MERKLE_HASH];
	int n = merkle_path(t->leaves, trace_n_leaves(t), index, path);
	unsigned char len = (unsigned char)n;
	put(b, &len, 1);
	put(b, path, (size_t)n * MERKLE_HASH);
}

/* Captures the residuals of one layer for positions 0..t. */
struct capture {
	float *rows;
	int layer, last, dim;
};

static void capture_hook(void *ctx, int pos0, int n, int layer, const float *x, int dim)
{
	struct capture *c = ctx;
	for (int i = 0; i < n && layer == c->layer && pos0 + i <= c->last; i++)
		memcpy(c->rows + (size_t)(pos0 + i) * (size_t)dim, x + (size_t)i * (size_t)dim,
		       (size_t)dim * sizeof(float));
}

/* The proof of step (t, j) against the worker's trace: its leaf and path,
 * then the inputs (recomputed by replaying tokens 0..t) with theirs. */
static int step_proof(const engine *en, const prove_seq *q, const dai_trace *wt, uint64_t t,
                      uint32_t j, const prove_opts *o, buf *out, dai_err *e)
{
	const model *m = &en->model;
	uint32_t L = (uint32_t)m->n_layers;
	size_t dim = (size_t)m->dim;
	put(out, trace_leaf(wt, t, j), MERKLE_HASH);
	put_path(out, wt, t * q->steps + j);
	if (j == 0)
		return 0;
	struct capture c = {NULL, (int)j - 1, (int)t, m->dim};
	c.rows = malloc((t + 1) * dim * sizeof(float));
	if (!c.rows)
		return dai_errf(e, "out of memory");
	session_params sp = {.n_ctx = (int)(t + 1),
	                     .n_threads = o ? o->n_threads : 0,
	                     .n_batch = o && o->n_batch ? o->n_batch : PROVE_DEFAULT_BATCH};
	session *s = session_new(m, &sp, e);
	if (!s || (session_set_hook(s, capture_hook, &c),
	           session_eval(s, q->seq, (int)(t + 1), NULL, SESSION_LOGITS_NONE, e))) {
		session_free(s);
		free(c.rows);
		return -1;
	}
	session_free(s);
	uint64_t i0 = j == L + 1 ? t : 0; /* the head reads (t, L) alone */
	for (uint64_t i = i0; i <= t; i++) {
		put(out, c.rows + i * dim, dim * sizeof(float));
		put_path(out, wt, i * q->steps + j - 1);
	}
	free(c.rows);
	return 0;
}

static int add_fraud_fields(dai_docb *b, const dai_doc *receipt, const dai_doc *job,
                            const prove_seq *q, const prove_report *r)
{
	char t[DAI_TIME_LEN + 1];
	docb_add(b, "job", q->job.id);
	docb_add(b, "receipt", q->receipt_id);
	docb_add(b, "model", doc_get(receipt, "model"));
	docb_add(b, "worker", doc_get(receipt, "worker"));
	docb_add(b, "kind", r->kind);
	docb_add(b, "reason", r->reason);
	if (r->has_leaf) {
		docb_addf(b, "position", "%llu", (unsigned long long)r->position);
		docb_addf(b, "step", "%u", r->step);
	}
	prove_add_b64_lines(b, "receipt-doc", receipt->raw, receipt->len);
	prove_add_b64_lines(b, "job-doc", job->raw, job->len);
	(void)t;
	return 0;
}

int prove_challenge(const engine *en, const dai_doc *receipt, const dai_doc *job,
                    const dai_trace *trace, const dai_key *k, const prove_opts *o, dai_doc *fraud,
                    prove_report *r, dai_err *e)
{
	prove_seq q;
	dai_trace mine = {0};
	buf proof = {0};
	int64_t bad_k = -1;
	int rc = -1;
	memset(r, 0, sizeof *r);
	r->ok = 1;
	if (prove_seq_load(en, receipt, job, &q, e))
		return -1;
	int forced = o && o->at_leaf;
	int t = forced ? 0 : prove_terms(en, receipt, &q, r, e);
	if (t < 0)
		goto out;
	if (forced) {
		if (prove_trace_matches(en, &q, trace, r)) {
			dai_errf(e, "the trace does not fit the receipt: %s", r->reason);
			goto out;
		}
		if (o->at_position >= q.P || o->at_step >= q.steps) {
			dai_errf(e, "leaf (%llu, %u) is outside the trace",
			         (unsigned long long)o->at_position, o->at_step);
			goto out;
		}
		prove_fail(r, "step", "chosen leaf");
		r->has_leaf = 1;
		r->position = o->at_position;
		r->step = o->at_step;
		if (step_proof(en, &q, trace, r->position, r->step, o, &proof, e))
			goto out;
	} else if (t == 0) {
		if (prove_replay(en, &q, o, &mine, &bad_k, e))
			goto out;
		unsigned char root[MERKLE_HASH];
		trace_root(&mine, root);
		if (bad_k < 0 && memcmp(root, q.root, MERKLE_HASH) == 0) {
			dai_errf(e, "dai-receipt %s is valid: there is no fraud to prove",
			         q.receipt_id);
			goto out;
		}
		if (prove_trace_matches(en, &q, trace, r) == 0) {
			uint64_t n = trace_n_leaves(&mine);
			uint64_t first = prove_first_diff(trace->leaves, mine.leaves, n);
			if (bad_k >= 0) {
				uint64_t leaf =
				    (q.n_prompt - 1 + (uint64_t)bad_k) * q.steps + q.steps - 1;
				first = leaf < first ? leaf : first;
			}
			r->ok = 0;
			r->has_leaf = 1;
			r->position = first / q.steps;
			r->step = (uint32_t)(first % q.steps);
			snprintf(r->kind, sizeof r->kind, "step");
			snprintf(r->reason, sizeof r->reason, "%s",
			         r->step == 0             ? "embedding"
			         : r->step == q.steps - 1 ? "next token"
			                                  : "layer");
			if (r->step > 0 && r->step < q.steps - 1)
				snprintf(r->reason, sizeof r->reason, "layer %u", r->step - 1);
			if (step_proof(en, &q, trace, r->position, r->step, o, &proof, e))
				goto out;
		}
		/* else: kind replay, reason from prove_trace_matches */
	}

	dai_docb b;
	char tm[DAI_TIME_LEN + 1];
	docb_init(&b, "fraud", 1);
	add_fraud_fields(&b, receipt, job, &q, r);
	if (proof.len) {
		uLongf zlen = compressBound(proof.len);
		unsigned char *z = proof.oom ? NULL : malloc(zlen);
		if (!z || compress2(z, &zlen, proof.p, proof.len, 9) != Z_OK) {
			free(z);
			docb_free(&b);
			dai_errf(e, "out of memory for the proof");
			goto out;
		}
		prove_add_b64_lines(&b, "proof", z, zlen);
		free(z);
	}
	time_format(tm, time_now());
	docb_add(&b, "time", tm);
	rc = docb_sign(&b, fraud, k->sk, e);
out:
	free(proof.p);
	trace_free(&mine);
	prove_seq_free(&q);
	return rc;
}

int prove_fraud_model(const dai_doc *fraud, char out[DAI_ID_LEN + 1], dai_err *e)
{
	if (strcmp(fraud->kind, "fraud") != 0)
		return dai_errf(e, "a dai-%s is no dai-fraud", fraud->kind);
	snprintf(out, DAI_ID_LEN + 1, "%s", doc_get(fraud, "model"));
	return 0;
}

int prove_verdict(const dai_doc *subject, const prove_report *r, const dai_key *k, dai_doc *out,
                  dai_err *e)
{
	char id[DAI_ID_LEN + 1], tm[DAI_TIME_LEN + 1];
	int is_fraud = strcmp(subject->kind, "fraud") == 0;
	dai_docb b;
	doc_id(subject, id);
	docb_init(&b, "verdict", 1);
	docb_add(&b, "job", doc_get(subject, "job"));
	docb_add(&b, "receipt", is_fraud ? doc_get(subject, "receipt") : id);
	if (is_fraud)
		docb_add(&b, "fraud", id);
	docb_add(&b, "model", doc_get(subject, "model"));
	docb_add(&b, "worker", doc_get(subject, "worker"));
	docb_add(&b, "result",
	         is_fraud ? (r->ok ? "not-proven" : "proven") : (r->ok ? "valid" : "invalid"));
	if (!r->ok || is_fraud) {
		docb_add(&b, "kind", r->kind[0] ? r->kind : "none");
		if (r->reason[0])
			docb_add(&b, "reason", r->reason);
	}
	if (r->has_leaf) {
		docb_addf(&b, "position", "%llu", (unsigned long long)r->position);
		docb_addf(&b, "step", "%u", r->step);
	}
	time_format(tm, time_now());
	docb_add(&b, "time", tm);
	return k ? docb_sign(&b, out, k->sk, e) : docb_unsigned(&b, out, e);
}
