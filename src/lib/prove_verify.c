/* prove_verify.c - see prove.h: a receipt's terms and its replay. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "codec.h"
#include "prove_impl.h"
#include "session.h"

void prove_fail(prove_report *r, const char *kind, const char *fmt, ...)
{
	va_list ap;
	r->ok = 0;
	snprintf(r->kind, sizeof r->kind, "%s", kind);
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

static int read_id(const dai_doc *d, const char *key, unsigned char out[32])
{
	const char *v = doc_get(d, key);
	return v && strlen(v) == DAI_ID_LEN ? hex_decode(out, 32, v + 3, 64) : -1;
}

int prove_seq_load(const engine *en, const dai_doc *receipt, const dai_doc *job, prove_seq *q,
                   dai_err *e)
{
	const model *m = &en->model;
	int32_t *prompt = NULL;
	memset(q, 0, sizeof *q);
	if (strcmp(receipt->kind, "receipt") != 0)
		return dai_errf(e, "a dai-%s is no dai-receipt", receipt->kind);
	doc_id(receipt, q->receipt_id);
	if (job_terms_read(job, &q->job, e))
		return -1;
	if (strcmp(doc_get(receipt, "job"), q->job.id) != 0) {
		dai_errf(e, "dai-receipt %s is for job %s, not %s", q->receipt_id,
		         doc_get(receipt, "job"), q->job.id);
		goto fail;
	}
	if (strcmp(doc_get(receipt, "model"), en->model_id) != 0) {
		dai_errf(e, "dai-receipt %s is for model %s, not this pack's %s", q->receipt_id,
		         doc_get(receipt, "model"), en->model_id[0] ? en->model_id : "(none)");
		goto fail;
	}
	if (job_prompt_ids(en, &q->job, &prompt, &q->n_prompt, e))
		goto fail;
	job_sample_params(q->job.seed, q->job.temp_milli, q->job.top_k, q->job.top_p_milli, &q->sp);
	read_id(receipt, "trace-root", q->root);
	q->n_leaves = doc_get_uint(receipt, "trace-leaves");
	q->steps = (uint32_t)m->n_layers + 2;

	/* Output ids: whole int32s in the vocabulary, or ids_ok stays 0. */
	const char *b = doc_get(receipt, "output-ids");
	size_t blen = b ? strlen(b) : 0, nbytes = 0;
	unsigned char *raw = malloc(blen / 4 * 3 + 1);
	if (!raw) {
		dai_errf(e, "out of memory");
		goto fail;
	}
	q->ids_ok = !b || b64_decode(raw, blen / 4 * 3 + 1, &nbytes, b, blen) == 0;
	q->ids_ok = q->ids_ok && nbytes % 4 == 0 && nbytes / 4 <= JOB_MAX_TOKENS;
	q->n_out = q->ids_ok ? nbytes / 4 : 0;
	q->N = q->n_prompt + q->n_out;
	q->seq = malloc(q->N * sizeof(int32_t));
	if (!q->seq) {
		free(raw);
		dai_errf(e, "out of memory");
		goto fail;
	}
	memcpy(q->seq, prompt, q->n_prompt * sizeof(int32_t));
	for (size_t i = 0; i < q->n_out; i++) {
		uint32_t u = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
		             (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
		q->seq[q->n_prompt + i] = (int32_t)u;
		if ((int32_t)u < 0 || (int32_t)u >= m->n_vocab)
			q->ids_ok = 0;
	}
	free(raw);
	free(prompt);
	q->P = q->N - 1;
	return 0;
fail:
	free(prompt);
	prove_seq_free(q);
	return -1;
}

void prove_seq_free(prove_seq *q)
{
	job_terms_free(&q->job);
	free(q->seq);
	q->seq = NULL;
}

int prove_signature(const dai_doc *receipt, prove_report *r)
{
	dai_err e;
	char did[DAI_DID_MAX];
	if (doc_verify(receipt, &e)) {
		prove_fail(r, "signature", "the receipt's signature does not verify: %s", e.msg);
		return 1;
	}
	ed25519_did(did, receipt->signer_pk);
	if (strcmp(did, doc_get(receipt, "worker")) != 0) {
		prove_fail(r, "signature", "the receipt is signed by %s, not by its worker %s", did,
		           doc_get(receipt, "worker"));
		return 1;
	}
	return 0;
}

/* One term of the receipt against the job's value. */
static int term(prove_report *r, const dai_doc *receipt, const char *key, uint64_t want)
{
	uint64_t got = doc_get_uint(receipt, key);
	if (got == want)
		return 0;
	prove_fail(r, "receipt", "%s is %llu, the job asked for %llu", key, (unsigned long long)got,
	           (unsigned long long)want);
	return 1;
}

int prove_terms(const engine *en, const dai_doc *receipt, const prove_seq *q, prove_report *r,
                dai_err *e)
{
	const job_terms *j = &q->job;
	if (prove_signature(receipt, r))
		return 1;
	static const char *const names[] = {"worker", "buyer"};
	const char *want[] = {j->worker, j->buyer};
	for (int i = 0; i < 2; i++)
		if (strcmp(doc_get(receipt, names[i]), want[i]) != 0) {
			prove_fail(r, "receipt", "%s is %s, the job names %s", names[i],
			           doc_get(receipt, names[i]), want[i]);
			return 1;
		}
	if (strcmp(doc_get(receipt, "model"), j->model) != 0) {
		prove_fail(r, "receipt", "model is %s, the job names %s", doc_get(receipt, "model"),
		           j->model);
		return 1;
	}
	if (term(r, receipt, "seed", j->seed) || term(r, receipt, "temp-milli", j->temp_milli) ||
	    term(r, receipt, "top-k", j->top_k) ||
	    term(r, receipt, "top-p-milli", j->top_p_milli) ||
	    term(r, receipt, "tokens-in", q->n_prompt))
		return 1;
	if (!q->ids_ok) {
		prove_fail(r, "receipt", "output-ids are not whole token ids in the vocabulary");
		return 1;
	}
	if (term(r, receipt, "tokens-out", q->n_out))
		return 1;
	if (q->n_out > j->max_tokens) {
		prove_fail(r, "receipt", "%zu output tokens, the job allows %llu", q->n_out,
		           (unsigned long long)j->max_tokens);
		return 1;
	}
	for (size_t i = 0; i + 1 < q->n_out; i++)
		if (tok_is_eog(en->tok, q->seq[q->n_prompt + i])) {
			prove_fail(r, "receipt",
			           "output token %zu ends the generation, yet %zu more follow", i,
			           q->n_out - 1 - i);
			return 1;
		}
	if (q->n_out < j->max_tokens && (q->n_out == 0 || !tok_is_eog(en->tok, q->seq[q->N - 1]))) {
		prove_fail(r, "receipt",
		           "the output stops after %zu of %llu tokens without an end of generation",
		           q->n_out, (unsigned long long)j->max_tokens);
		return 1;
	}
	if (q->N < 1 || term(r, receipt, "trace-leaves", q->P * q->steps))
		return 1;

	/* The output text is the text of the ids. */
	char *text;
	size_t tlen, got = 0;
	if (job_output_text(en->tok, q->seq + q->n_prompt, q->n_out, &text, &tlen, e))
		return -1;
	const char *b = doc_get(receipt, "output");
	size_t blen = b ? strlen(b) : 0;
	unsigned char *raw = malloc(blen / 4 * 3 + 1);
	int bad = !raw || (b && b64_decode(raw, blen / 4 * 3 + 1, &got, b, blen)) || got != tlen ||
	          (tlen && memcmp(raw, text, tlen) != 0);
	free(raw);
	free(text);
	if (bad) {
		prove_fail(r, "receipt", "output is not the text of output-ids");
		return 1;
	}
	return 0;
}

#define REPLAY_LOGIT_ROWS 64 /* output positions whose logits are held at once */

int prove_replay(const engine *en, const prove_seq *q, const prove_opts *o, dai_trace *tr,
                 int64_t *bad_k, dai_err *e)
{
	const model *m = &en->model;
	size_t V = (size_t)m->n_vocab;
	float *logits = NULL;
	void *scratch = NULL;
	int rc = -1;
	*bad_k = -1;
	if (trace_init(tr, (uint32_t)m->n_layers, (uint32_t)m->dim, q->P, e))
		return -1;
	unsigned char rid[32];
	hex_decode(tr->job, 32, q->job.id + 3, 64);
	hex_decode(rid, 32, en->model_id + 3, 64);
	memcpy(tr->model, rid, 32);
	if (q->P == 0)
		return 0;
	session_params sp = {.n_ctx = (int)q->N,
	                     .n_threads = o ? o->n_threads : 0,
	                     .n_batch = o && o->n_batch ? o->n_batch : PROVE_DEFAULT_BATCH};
	session *s = session_new(m, &sp, e);
	if (!s)
		goto out;
	logits = bigbuf_alloc(REPLAY_LOGIT_ROWS * V * sizeof(float));
	scratch = malloc(sample_scratch_size(m->n_vocab));
	if (!logits || !scratch) {
		dai_errf(e, "out of memory");
		goto out;
	}
	session_set_hook(s, trace_hook, tr);
	/* The prompt up to its last token needs no logits; from there each
	 * position's logits give the next output token. */
	size_t first = q->n_out ? q->n_prompt - 1 : q->P;
	if (first && session_eval(s, q->seq, (int)first, NULL, SESSION_LOGITS_NONE, e))
		goto out;
	for (size_t p = first; p < q->P;) {
		size_t n = q->P - p < REPLAY_LOGIT_ROWS ? q->P - p : REPLAY_LOGIT_ROWS;
		if (session_eval(s, q->seq + p, (int)n, logits, SESSION_LOGITS_ALL, e))
			goto out;
		for (size_t i = 0; i < n && *bad_k < 0; i++) {
			uint64_t k = p + i + 1 - q->n_prompt;
			int32_t want = sample_token(&q->sp, logits + i * V, m->n_vocab, k, scratch);
			if (want != q->seq[p + i + 1])
				*bad_k = (int64_t)k;
		}
		p += n;
	}
	/* The sampled output token is not evaluated: its logits come from the
	 * position before, so the last one is checked with the rest above. */
	for (uint64_t p = 0; p < q->P; p++)
		trace_set_token(tr, p, q->seq[p + 1]);
	rc = 0;
out:
	session_free(s);
	bigbuf_free(logits);
	free(scratch);
	if (rc)
		trace_free(tr);
	return rc;
}

uint64_t prove_first_diff(const unsigned char *a, const unsigned char *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (memcmp(a + i * MERKLE_HASH, b + i * MERKLE_HASH, MERKLE_HASH) != 0)
			return i;
	return n;
}

int prove_trace_matches(const engine *en, const prove_seq *q, const dai_trace *t, prove_report *r)
{
	unsigned char root[MERKLE_HASH], job[32], model[32];
	hex_decode(job, 32, q->job.id + 3, 64);
	hex_decode(model, 32, en->model_id + 3, 64);
	if (!t) {
		prove_fail(r, "replay", "no trace of the worker's");
		return -1;
	}
	if (t->n_layers != (uint32_t)en->model.n_layers || t->dim != (uint32_t)en->model.dim) {
		prove_fail(r, "replay", "the trace is of %u layers of %u, not the model's %d of %d",
		           t->n_layers, t->dim, en->model.n_layers, en->model.dim);
		return -1;
	}
	if (memcmp(t->job, job, 32) != 0 || memcmp(t->model, model, 32) != 0) {
		prove_fail(r, "replay", "the trace is of another job or model");
		return -1;
	}
	if (trace_n_leaves(t) != q->n_leaves) {
		prove_fail(r, "replay", "the trace has %llu leaves, the receipt %llu",
		           (unsigned long long)trace_n_leaves(t), (unsigned long long)q->n_leaves);
		return -1;
	}
	trace_root(t, root);
	if (memcmp(root, q->root, MERKLE_HASH) != 0) {
		prove_fail(r, "replay", "the trace does not hash to the receipt's trace root");
		return -1;
	}
	return 0;
}

int prove_verify(const engine *en, const dai_doc *receipt, const dai_doc *job,
                 const dai_trace *trace, const prove_opts *o, prove_report *r, dai_err *e)
{
	prove_seq q;
	dai_trace mine;
	int64_t bad_k;
	memset(r, 0, sizeof *r);
	r->ok = 1;
	if (prove_seq_load(en, receipt, job, &q, e))
		return -1;
	int t = prove_terms(en, receipt, &q, r, e);
	if (t) {
		prove_seq_free(&q);
		return t < 0 ? -1 : 0;
	}
	if (prove_replay(en, &q, o, &mine, &bad_k, e)) {
		prove_seq_free(&q);
		return -1;
	}
	unsigned char root[MERKLE_HASH];
	trace_root(&mine, root);
	uint64_t n = trace_n_leaves(&mine), first = n;
	prove_report tr = {0};
	int have_trace = trace && prove_trace_matches(en, &q, trace, &tr) == 0;
	if (have_trace)
		first = prove_first_diff(trace->leaves, mine.leaves, n);
	if (bad_k >= 0) {
		uint64_t leaf = (q.n_prompt - 1 + (uint64_t)bad_k) * q.steps + q.steps - 1;
		if (leaf < first)
			first = leaf;
		prove_fail(r, "replay", "output token %lld is not the one the sampler draws",
		           (long long)bad_k);
	} else if (memcmp(root, q.root, MERKLE_HASH) != 0) {
		prove_fail(r, "replay", "the replay's trace root differs from the receipt's%s%s",
		           trace && !have_trace ? "; " : "", trace && !have_trace ? tr.reason : "");
	}
	if (!r->ok && have_trace && first < n) {
		r->has_leaf = 1;
		r->position = first / q.steps;
		r->step = (uint32_t)(first % q.steps);
	}
	trace_free(&mine);
	prove_seq_free(&q);
	return 0;
}
