/* libFuzzer harness for the tokenizer: encode the input with the
 * conformance vocabulary (tests/data/a_f32.gguf, or the file named by
 * DAI_FUZZ_VOCAB; run from the repository root), with and without BOS and
 * special-token parsing. Every id must be in range; for valid UTF-8 without
 * U+2581 (which encodes like a space), decoding gives the input back, both
 * whole and through the stream; the stream and tok_utf8_repair only ever
 * emit valid UTF-8. Anything else aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tok.h"

static dai_tok *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *path = getenv("DAI_FUZZ_VOCAB");
	if (!path)
		path = "tests/data/a_f32.gguf";
	gguf_file g;
	dai_err e;
	if (gguf_open(&g, path, &e)) {
		fprintf(stderr, "fuzz_tok: %s\n", e.msg);
		exit(1);
	}
	tok = tok_load(&g, &e);
	gguf_close(&g);
	if (!tok) {
		fprintf(stderr, "fuzz_tok: %s\n", e.msg);
		exit(1);
	}
	return 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
static int valid_utf8(const unsigned char *p, size_t n)
{
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

static int has_u2581(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (p[i] == 0xe2 && p[i + 1] == 0x96 && p[i + 2] == 0x81)
			return 1;
	return 0;
}

/* Streams ids and returns the concatenated output (malloc'd). */
static char *stream(const int32_t *ids, size_t n, int flags, size_t *len)
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
		if (rc || !valid_utf8((const unsigned char *)p, pl))
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	int n_vocab = tok_n_vocab(tok);
	int plain = valid_utf8(data, size) && !has_u2581(data, size);
	static const int flag_sets[] = {0, TOK_ADD_BOS | TOK_ADD_EOS, TOK_PARSE_SPECIAL};
	for (size_t f = 0; f < sizeof flag_sets / sizeof *flag_sets; f++) {
		int32_t *ids;
		size_t n;
		dai_err e;
		if (tok_encode(tok, text, size, flag_sets[f], &ids, &n, &e))
			abort(); /* this vocabulary covers every byte */
		for (size_t i = 0; i < n; i++)
			if (ids[i] < 0 || ids[i] >= n_vocab)
				abort();
		if (n > 3 * size + 5)
			abort(); /* at most one token per escaped byte, BOS and EOS */
		char *back;
		size_t bl;
		if (tok_decode(tok, ids, n, TOK_UNPARSE_SPECIAL, &back, &bl, &e))
			abort();
		if (f == 0 && plain && (bl != size || memcmp(back, text, size) != 0))
			abort();
		free(back);
		size_t sl;
		char *streamed = stream(ids, n, TOK_UNPARSE_SPECIAL | TOK_STRIP_SPACE, &sl);
		if (f == 0 && plain && (sl != size || memcmp(streamed, text, size) != 0))
			abort();
		free(streamed);
		free(ids);
	}
	/* the repair on its own */
	char *out = malloc(3 * size + 1);
	size_t ol;
	if (!out || tok_utf8_repair(data, size, 1, out, &ol) != size ||
	    !valid_utf8((const unsigned char *)out, ol))
		abort();
	if (valid_utf8(data, size) && (ol != size || memcmp(out, data, size) != 0))
		abort();
	free(out);
	return 0;
}
