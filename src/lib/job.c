/* job.c - see job.h. */
#include "job.h"

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "doc_schema.h"
#include "generate.h"
#include "timefmt.h"

static uint64_t get_u64(const dai_doc *d, const char *key)
{
	unsigned long long v = 0;
	const char *s = doc_get(d, key);
	if (s)
		value_uint(s, strlen(s), &v); /* the schema checked it */
	return v;
}

int job_sampling_check(uint64_t temp_milli, uint64_t top_k, uint64_t top_p_milli, dai_err *e)
{
	if (temp_milli > 1000000)
		return dai_errf(e, "temp-milli %llu is over 1000000",
		                (unsigned long long)temp_milli);
	if (top_k > INT32_MAX)
		return dai_errf(e, "top-k %llu is over %d", (unsigned long long)top_k, INT32_MAX);
	if (top_p_milli < 1 || top_p_milli > 1000)
		return dai_errf(e, "top-p-milli %llu is outside [1, 1000]",
		                (unsigned long long)top_p_milli);
	return 0;
}

void job_sample_params(uint64_t seed, uint64_t temp_milli, uint64_t top_k, uint64_t top_p_milli,
                       dai_sample_params *p)
{
	p->temp = (float)temp_milli / 1000.0f;
	p->top_p = (float)top_p_milli / 1000.0f;
	p->top_k = (int32_t)top_k;
	p->seed = seed;
}

int job_terms_read(const dai_doc *job, job_terms *j, dai_err *e)
{
	char did[DAI_DID_MAX];
	memset(j, 0, sizeof *j);
	if (strcmp(job->kind, "job") != 0)
		return dai_errf(e, "a dai-%s is no dai-job", job->kind);
	doc_id(job, j->id);
	if (doc_verify(job, e))
		return dai_errf(e, "dai-job %s: bad signature", j->id);
	ed25519_did(did, job->signer_pk);
	if (strcmp(did, doc_get(job, "buyer")) != 0)
		return dai_errf(e, "dai-job %s: signed by %s, not by its buyer", j->id, did);
	snprintf(j->worker, sizeof j->worker, "%s", doc_get(job, "worker"));
	snprintf(j->buyer, sizeof j->buyer, "%s", doc_get(job, "buyer"));
	snprintf(j->model, sizeof j->model, "%s", doc_get(job, "model"));
	j->max_tokens = get_u64(job, "max-tokens");
	j->seed = get_u64(job, "seed");
	j->temp_milli = get_u64(job, "temp-milli");
	j->top_k = get_u64(job, "top-k");
	j->top_p_milli = get_u64(job, "top-p-milli");
	const char *x = doc_get(job, "expires");
	if (time_parse(x, strlen(x), &j->expires))
		return dai_errf(e, "dai-job %s: bad expiry", j->id);
	if (j->max_tokens > JOB_MAX_TOKENS)
		return dai_errf(e, "dai-job %s: max-tokens %llu is over %d", j->id,
		                (unsigned long long)j->max_tokens, JOB_MAX_TOKENS);
	if (job_sampling_check(j->temp_milli, j->top_k, j->top_p_milli, e))
		return dai_err_prefix(e, "dai-job");
	size_t n;
	const char *p = doc_get(job, "prompt");
	size_t pl = strlen(p);
	j->prompt = malloc(pl / 4 * 3 + 1);
	if (!j->prompt)
		return dai_errf(e, "out of memory");
	if (b64_decode(j->prompt, pl / 4 * 3 + 1, &n, p, pl)) {
		job_terms_free(j);
		return dai_errf(e, "dai-job: bad prompt");
	}
	j->prompt_len = n;
	return 0;
}

void job_terms_free(job_terms *j)
{
	free(j->prompt);
	j->prompt = NULL;
}

int job_prompt_ids(const engine *en, const job_terms *j, int32_t **ids, size_t *n, dai_err *e)
{
	if (tok_encode(en->tok, (const char *)j->prompt, j->prompt_len, tok_default_flags(en->tok),
	               ids, n, e))
		return -1;
	if (*n == 0) {
		free(*ids);
		*ids = NULL;
		return dai_errf(e, "dai-job %s: the prompt has no tokens", j->id);
	}
	return 0;
}

int job_output_text(const dai_tok *tok, const int32_t *ids, size_t n, char **text, size_t *len,
                    dai_err *e)
{
	tok_stream *ts = tok_stream_new(tok, 0, e);
	char *buf = NULL;
	size_t have = 0;
	const char *s;
	size_t sn;
	int rc = -1;
	if (!ts)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		if (i < n ? tok_stream_put(ts, ids[i], &s, &sn, e)
		          : tok_stream_flush(ts, &s, &sn, e))
			goto out;
		char *p = realloc(buf, have + sn + 1);
		if (!p) {
			dai_errf(e, "out of memory");
			goto out;
		}
		buf = p;
		memcpy(buf + have, s, sn);
		have += sn;
	}
	buf[have] = 0;
	*text = buf;
	*len = have;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	tok_stream_free(ts);
	return rc;
}

int job_addressed(const job_terms *j, const char *worker, const char *model_id, long long now,
                  dai_err *e)
{
	char t[DAI_TIME_LEN + 1];
	if (strcmp(j->worker, worker) != 0)
		return dai_errf(e, "dai-job %s is for worker %s, not %s", j->id, j->worker, worker);
	if (strcmp(j->model, model_id) != 0)
		return dai_errf(e, "dai-job %s is for model %s, not %s", j->id, j->model, model_id);
	if (j->expires <= now) {
		time_format(t, j->expires);
		return dai_errf(e, "dai-job %s expired at %s", j->id, t);
	}
	return 0;
}

static int id_digest(const char *id, unsigned char out[32])
{
	return hex_decode(out, 32, id + 3, 64);
}

int job_run(const engine *en, const dai_key *k, const dai_doc *job, const job_run_opts *o,
            dai_doc *receipt, dai_trace *trace, dai_err *e)
{
	const model *m = &en->model;
	job_terms j;
	int32_t *prompt = NULL, *out = NULL;
	size_t n_prompt = 0, text_len = 0;
	char *text = NULL;
	int n_out = 0, rc = -1;
	session *s = NULL;

	memset(trace, 0, sizeof *trace);
	if (job_terms_read(job, &j, e))
		return -1;
	if (job_prompt_ids(en, &j, &prompt, &n_prompt, e))
		goto out;
	if ((uint64_t)n_prompt + j.max_tokens > (uint64_t)m->n_ctx_train) {
		dai_errf(
		    e, "dai-job %s: %zu prompt tokens + %llu to generate exceed the context of %d",
		    j.id, n_prompt, (unsigned long long)j.max_tokens, m->n_ctx_train);
		goto out;
	}
	session_params sp = {.n_ctx = (int)(n_prompt + j.max_tokens),
	                     .n_threads = o ? o->n_threads : 0,
	                     .n_batch = o ? o->n_batch : 0};
	s = session_new(m, &sp, e);
	if (!s)
		goto out;
	uint64_t room = n_prompt + j.max_tokens - 1;
	if (trace_init(trace, (uint32_t)m->n_layers, (uint32_t)m->dim, room ? room : 1, e))
		goto out;
	id_digest(j.id, trace->job);
	id_digest(en->model_id, trace->model);
	gen_opts go = {
	    .n_predict = (int)j.max_tokens, .stop_at_eog = 1, .tok = en->tok, .trace = trace};
	job_sample_params(j.seed, j.temp_milli, j.top_k, j.top_p_milli, &go.sample);
	gen_stats st;
	if (generate(s, prompt, (int)n_prompt, &go, &out, &n_out, &st, e))
		goto out;
	if (job_output_text(en->tok, out, (size_t)n_out, &text, &text_len, e))
		goto out;

	unsigned char root[MERKLE_HASH];
	char root_hex[2 * MERKLE_HASH + 1], t[DAI_TIME_LEN + 1];
	trace_root(trace, root);
	hex_encode(root_hex, root, sizeof root);
	time_format(t, time_now());
	dai_docb b;
	docb_init(&b, "receipt", 1);
	docb_add(&b, "job", j.id);
	docb_add(&b, "model", en->model_id);
	docb_add(&b, "worker", k->did);
	docb_add(&b, "buyer", j.buyer);
	docb_addf(&b, "tokens-in", "%zu", n_prompt);
	docb_addf(&b, "tokens-out", "%d", n_out);
	if (text_len) /* an end-of-text token alone decodes to nothing */
		docb_add_b64(&b, "output", text, text_len);
	if (n_out)
		docb_add_b64(&b, "output-ids", out, (size_t)n_out * sizeof(int32_t));
	docb_addf(&b, "seed", "%llu", (unsigned long long)j.seed);
	docb_addf(&b, "temp-milli", "%llu", (unsigned long long)j.temp_milli);
	docb_addf(&b, "top-k", "%llu", (unsigned long long)j.top_k);
	docb_addf(&b, "top-p-milli", "%llu", (unsigned long long)j.top_p_milli);
	docb_addf(&b, "trace-root", "b2:%s", root_hex);
	docb_addf(&b, "trace-leaves", "%llu", (unsigned long long)trace_n_leaves(trace));
	docb_add(&b, "time", t);
	rc = docb_sign(&b, receipt, k->sk, e);
out:
	if (rc)
		trace_free(trace);
	session_free(s);
	free(text);
	free(out);
	free(prompt);
	job_terms_free(&j);
	return rc;
}
