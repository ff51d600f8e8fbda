/*
 * generate.h - running a prompt and generating tokens on a session: the loop
 * dai-infer runs, with the outputs tests and proofs need.
 *
 * The prompt is evaluated in one session_eval call (the session cuts it into
 * steps of its n_batch); then, for step k = 0, 1, ...: a token is sampled
 * from the last logits with sample_token(params, logits, n_vocab, k), and,
 * unless it is the last one wanted, evaluated. Generation stops after
 * n_predict tokens, or after an end-of-generation token (tok_is_eog) when
 * stop_at_eog is set; the stopping token is part of the output.
 *
 * Positions: the sequence s = prompt + output has N tokens and positions
 * 0 .. N-2 are evaluated (the last token is sampled, never evaluated), so
 * logits and trace cover N - 1 positions, the logits of position p being
 * what predicts s[p + 1]. With no output at all (n_predict 0) the whole
 * prompt is evaluated and P = n_prompt.
 */
#ifndef DAI_GENERATE_H
#define DAI_GENERATE_H

#include <stdint.h>

#include "err.h"
#include "sample.h"
#include "session.h"
#include "tok.h"
#include "trace.h"

typedef struct gen_opts {
	int n_predict; /* tokens to generate at most */
	dai_sample_params sample;
	int stop_at_eog; /* needs tok */
	const dai_tok *tok;
	/* Called with each generated token as soon as it is chosen. */
	void (*on_token)(void *ctx, int32_t id);
	void *ctx;
	/* When set, every evaluated position's logits are appended (rows of
	 * n_vocab floats, malloc'd; free *logits). */
	float **logits;
	size_t *logits_rows;
	/* When set, filled with the leaves of every evaluated position: it
	 * must have been made by trace_init with room for n_prompt +
	 * n_predict - 1 positions (at least 1) of this model's shape, and on
	 * return its n_positions is the count used. */
	dai_trace *trace;
} gen_opts;

typedef struct gen_stats {
	int n_prompt, n_gen;
	double prompt_s; /* evaluating the prompt */
	double gen_s;    /* from the end of the prompt to the last token */
	double first_s;  /* from the start to the first generated token */
} gen_stats;

/* Runs prompt[0..n_prompt) (n_prompt >= 1) on s, which must be at position
 * 0, and generates. *out (malloc'd, may be NULL when *n_out is 0) gets the
 * generated ids. */
int generate(session *s, const int32_t *prompt, int n_prompt, const gen_opts *o, int32_t **out,
             int *n_out, gen_stats *st, dai_err *e);

#endif
