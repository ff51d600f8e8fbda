/* libFuzzer harness for loading a vocabulary: parse the input as a GGUF
 * file and, when it opens, load its tokenizer; when that succeeds, encode
 * and decode a fixed text and stream the ids. Every id must be in range
 * and nothing may crash, whatever the metadata says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gguf_file g;
	dai_err e;
	if (gguf_open_mem(&g, data, size, "fuzz.gguf", &e))
		return 0;
	dai_tok *t = tok_load(&g, &e);
	gguf_close(&g); /* the tokenizer must not point into the file */
	if (!t)
		return 0;
	static const char text[] = "Once upon a time, <s> caf\xc3\xa9 \xf0\x9f\x98\x80 \xff\n";
	int n_vocab = tok_n_vocab(t);
	static const int flag_sets[] = {0, TOK_ADD_BOS | TOK_ADD_EOS | TOK_PARSE_SPECIAL};
	for (size_t f = 0; f < 2; f++) {
		int32_t *ids;
		size_t n;
		if (tok_encode(t, text, sizeof text - 1, flag_sets[f], &ids, &n, &e))
			continue; /* no BOS/EOS id, or a byte without any token */
		for (size_t i = 0; i < n; i++)
			if (ids[i] < 0 || ids[i] >= n_vocab)
				abort();
		char *out;
		size_t len;
		if (tok_decode(t, ids, n, TOK_REMOVE_SPECIAL | TOK_UNPARSE_SPECIAL, &out, &len, &e))
			abort();
		free(out);
		tok_stream *s = tok_stream_new(t, TOK_STRIP_SPACE, &e);
		if (!s)
			abort();
		const char *p;
		for (size_t i = 0; i < n; i++)
			if (tok_stream_put(s, ids[i], &p, &len, &e))
				abort();
		if (tok_stream_flush(s, &p, &len, &e))
			abort();
		tok_stream_free(s);
		free(ids);
	}
	for (int32_t id = 0; id < n_vocab && id < 64; id++) {
		size_t len;
		if (!tok_piece(t, id, TOK_UNPARSE_SPECIAL, &len))
			abort();
		tok_is_eog(t, id);
	}
	tok_free(t);
	return 0;
}
