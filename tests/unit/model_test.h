/*
 * model_test.h - helpers the model unit suites (test_model.c, test_arch.c,
 * test_conformance.c, test_prove.c) share: the argmax of a logits row, a
 * fixture of tests/data of a known size, greedy generation one token per
 * eval, and a session hook that records every residual vector.
 * Header-only: static inline functions using Criterion's asserts.
 */
#ifndef DAI_TESTS_MODEL_TEST_H
#define DAI_TESTS_MODEL_TEST_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fsio.h"
#include "model.h"
#include "session.h"

/* The index of the largest of x[0..n-1], the first one on ties. */
static inline int argmax(const float *x, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

/* tests/data/<c>.<ext>, which must be want bytes long; free it. */
static inline void *read_fixture(const char *c, const char *ext, size_t want)
{
	char path[256];
	snprintf(path, sizeof path, "tests/data/%s.%s", c, ext);
	char *data;
	size_t len;
	dai_err e;
	cr_assert_eq(file_read_all(path, 1u << 24, &data, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(len, want, "%s: %zu bytes, expected %zu", path, len, want);
	return data;
}

/* Greedy generation of n_gen tokens after the prompt, one token per eval;
 * returns the ids (prompt first) and the logits row of every step. */
static inline void generate(const model *m, const int32_t *prompt, int np, int n_gen, int threads,
                            int32_t *ids, float *rows)
{
	dai_err e;
	session_params sp = {.n_ctx = np + n_gen + 1, .n_threads = threads};
	session *s = session_new(m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	memcpy(ids, prompt, sizeof(int32_t) * np);
	cr_assert_eq(session_eval(s, prompt, np, rows, SESSION_LOGITS_LAST, &e), 0, "%s", e.msg);
	for (int i = 0; i < n_gen; i++) {
		ids[np + i] = argmax(rows + (size_t)i * m->n_vocab, m->n_vocab);
		cr_assert_eq(session_eval(s, &ids[np + i], 1, rows + (size_t)(i + 1) * m->n_vocab,
		                          SESSION_LOGITS_LAST, &e),
		             0, "%s", e.msg);
	}
	session_free(s);
}

/* Every residual vector a session hands its hook (set v to hold positions
 * x (n_layers + 1) x dim floats; pass the struct as the hook's context). */
struct rec {
	int n_layers, dim;
	float *v; /* [pos][layer 0..L][dim] */
};

static inline void rec_hook(void *ctx, int pos0, int n, int layer, const float *x, int dim)
{
	struct rec *r = ctx;
	for (int i = 0; i < n; i++)
		memcpy(r->v + ((size_t)(pos0 + i) * (r->n_layers + 1) + layer) * dim,
		       x + (size_t)i * dim, sizeof(float) * dim);
}

#endif
