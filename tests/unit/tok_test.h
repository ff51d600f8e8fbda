/*
 * tok_test.h - checks the tokenizer unit suites (test_tok.c, test_tok_bpe.c)
 * share. Header-only: static inline functions using Criterion's asserts.
 */
#ifndef DAI_TESTS_TOK_TEST_H
#define DAI_TESTS_TOK_TEST_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_write.h"
#include "tok.h"

/* Encodes text with flags and expects exactly the n_want ids want. */
static inline void expect_ids(const dai_tok *t, const char *text, int flags, const int32_t *want,
                              size_t n_want)
{
	int32_t *ids;
	size_t n;
	dai_err e;
	cr_assert_eq(tok_encode(t, text, strlen(text), flags, &ids, &n, &e), 0, "%s", e.msg);
	char got[4096] = "";
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof got - 16; i++)
		o += (size_t)snprintf(got + o, sizeof got - o, " %d", ids[i]);
	cr_assert_eq(n, n_want, "'%s': %zu ids, want %zu:%s", text, n, n_want, got);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(ids[i], want[i], "'%s': id %zu is %d, want %d:%s", text, i, ids[i],
		             want[i], got);
	free(ids);
}

/* Finishes w as a GGUF called name and loads its vocabulary, which must
 * load. Frees w; the tokenizer keeps nothing of the file. */
static inline dai_tok *tok_from_writer(gguf_writer *w, const char *name)
{
	unsigned char *buf;
	size_t len;
	dai_err e = {{0}};
	cr_assert_eq(gguf_w_finish(w, &buf, &len, &e), 0, "%s", e.msg);
	gguf_w_free(w);
	gguf_file g;
	cr_assert_eq(gguf_open_mem(&g, buf, len, name, &e), 0, "%s", e.msg);
	dai_tok *t = tok_load(&g, &e);
	cr_assert_not_null(t, "%s", e.msg);
	gguf_close(&g);
	free(buf);
	return t;
}

/* Finishes w as "v.gguf" and expects tok_load to refuse it with one line
 * that contains want and names the file. Frees w. */
static inline void expect_tok_load_fail(gguf_writer *w, const char *want)
{
	unsigned char *buf;
	size_t len;
	dai_err e = {{0}};
	cr_assert_eq(gguf_w_finish(w, &buf, &len, &e), 0, "%s", e.msg);
	gguf_w_free(w);
	gguf_file g;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "v.gguf", &e), 0, "%s", e.msg);
	dai_tok *t = tok_load(&g, &e);
	cr_assert_null(t, "loaded, but expected '%s'", want);
	cr_assert(strstr(e.msg, want), "error '%s' does not contain '%s'", e.msg, want);
	cr_assert(strstr(e.msg, "v.gguf"), "error '%s' does not name the file", e.msg);
	cr_assert_null(strchr(e.msg, '\n'));
	gguf_close(&g);
	free(buf);
}

#endif
