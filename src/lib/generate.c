/* generate.c - see generate.h. */
#include "generate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Appends rows of logits to the caller's buffer. */
static int keep_logits(const gen_opts *o, const float *rows, size_t n, int n_vocab, dai_err *e)
{
	size_t have = *o->logits_rows, row = (size_t)n_vocab;
	float *p = realloc(*o->logits, (have + n) * row * sizeof(float));
	if (!p)
		return dai_errf(e, "out of memory for %zu rows of logits", have + n);
	memcpy(p + have * row, rows, n * row * sizeof(float));
	*o->logits = p;
	*o->logits_rows = have + n;
	return 0;
}

int generate(session *s, const int32_t *prompt, int n_prompt, const gen_opts *o, int32_t **out,
             int *n_out, gen_stats *st, dai_err *e)
{
	const model *m = session_model(s);
	size_t V = (size_t)m->n_vocab;
	int want_all = o->logits != NULL;
	float *logits = NULL;
	void *scratch = NULL;
	int32_t *ids = NULL;
	int n = 0, rc = -1;

	memset(st, 0, sizeof *st);
	*out = NULL;
	*n_out = 0;
	if (n_prompt < 1)
		return dai_errf(e, "the prompt is empty");
	if (o->n_predict < 0)
		return dai_errf(e, "negative token count");
	if (sample_params_check(&o->sample, e))
		return -1;
	if (o->logits) {
		*o->logits = NULL;
		*o->logits_rows = 0;
	}
	logits = malloc((want_all ? (size_t)n_prompt : 1) * V * sizeof(float));
	scratch = malloc(sample_scratch_size(m->n_vocab));
	ids = malloc(sizeof(int32_t) * (size_t)(o->n_predict > 0 ? o->n_predict : 1));
	if (!logits || !scratch || !ids) {
		dai_errf(e, "out of memory");
		goto out;
	}
	if (o->trace)
		session_set_hook(s, trace_hook, o->trace);

	double t0 = now_s();
	if (session_eval(s, prompt, n_prompt, logits,
	                 want_all ? SESSION_LOGITS_ALL : SESSION_LOGITS_LAST, e))
		goto out;
	double t1 = now_s();
	st->prompt_s = t1 - t0;
	st->n_prompt = n_prompt;
	if (want_all) {
		/* With nothing to generate every prompt row is kept; otherwise
		 * the last one moves to the front for sampling. */
		if (keep_logits(o, logits, (size_t)n_prompt, m->n_vocab, e))
			goto out;
		memmove(logits, logits + (size_t)(n_prompt - 1) * V, V * sizeof(float));
	}
	for (int k = 0; k < o->n_predict; k++) {
		int32_t id = sample_token(&o->sample, logits, m->n_vocab, (uint64_t)k, scratch);
		ids[n++] = id;
		if (k == 0)
			st->first_s = now_s() - t0;
		if (o->on_token)
			o->on_token(o->ctx, id);
		if (k + 1 == o->n_predict || (o->stop_at_eog && tok_is_eog(o->tok, id)))
			break;
		if (session_eval(s, &id, 1, logits, SESSION_LOGITS_LAST, e))
			goto out;
		if (want_all && keep_logits(o, logits, 1, m->n_vocab, e))
			goto out;
	}
	st->gen_s = now_s() - t1;
	st->n_gen = n;
	if (o->trace) {
		/* P = N - 1 positions; each one's last leaf is the next token. */
		uint64_t P = (uint64_t)n_prompt + (uint64_t)n - 1;
		if (P > o->trace->n_positions) {
			dai_errf(e, "the trace has room for %llu positions, not %llu",
			         (unsigned long long)o->trace->n_positions, (unsigned long long)P);
			goto out;
		}
		o->trace->n_positions = P;
		for (uint64_t p = 0; p < P; p++) {
			uint64_t q = p + 1;
			trace_set_token(o->trace, p,
			                q < (uint64_t)n_prompt ? prompt[q]
			                                       : ids[q - (uint64_t)n_prompt]);
		}
	}
	*out = ids;
	*n_out = n;
	ids = NULL;
	rc = 0;
out:
	if (o->trace)
		session_set_hook(s, NULL, NULL);
	if (rc && o->logits) {
		free(*o->logits);
		*o->logits = NULL;
		*o->logits_rows = 0;
	}
	free(logits);
	free(scratch);
	free(ids);
	return rc;
}
