/*
 * tok_check.h - checks the tokenizer harnesses (and the tokenizer unit
 * tests) share: a strict UTF-8 validator written independently of the
 * library's own, and decoding a whole id sequence through a tok_stream.
 * Header-only (static functions) because each fuzzer links only the library
 * and its own file.
 */
#ifndef DAI_TESTS_TOK_CHECK_H
#define DAI_TESTS_TOK_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

/* Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
static inline int valid_utf8(const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Streams ids through tok and returns the concatenated output (malloc'd);
 * aborts if any step fails or emits invalid UTF-8. */
static inline char *tok_stream_collect(const dai_tok *tok, const int32_t *ids, size_t n, int flags,
                                       size_t *len)
{
	dai_err e;
	tok_stream *s = tok_stream_new(tok, flags, &e);
	size_t cap = 64, o = 0;
	char *all = malloc(cap);
	if (!s || !all)
		abort();
	for (size_t i = 0; i <= n; i++) {
		const char *p;
		size_t pl;
		int rc = i < n ? tok_stream_put(s, ids[i], &p, &pl, &e)
		               : tok_stream_flush(s, &p, &pl, &e);
		if (rc || !valid_utf8(p, pl))
			abort();
		while (o + pl > cap)
			cap *= 2;
		if (!(all = realloc(all, cap)))
			abort();
		memcpy(all + o, p, pl);
		o += pl;
	}
	tok_stream_free(s);
	*len = o;
	return all;
}

#endif
