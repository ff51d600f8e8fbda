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
#include "tok_check.h"

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

static int has_u2581(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (p[i] == 0xe2 && p[i + 1] == 0x96 && p[i + 2] == 0x81)
			return 1;
	return 0;
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
		char *streamed =
		    tok_stream_collect(tok, ids, n, TOK_UNPARSE_SPECIAL | TOK_STRIP_SPACE, &sl);
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
