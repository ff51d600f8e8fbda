/* libFuzzer harness for the byte-level BPE tokenizer: encode the input
 * with the Llama 3 vocabulary (tests/data/ggml-vocab-llama-bpe.gguf.gz, or
 * the gzip'd or plain GGUF named by DAI_FUZZ_VOCAB; run from the repository
 * root), without and with special-token parsing. Every id must be in range
 * and few enough; decoding (spaces kept) gives back the input with each
 * byte that starts no UTF-8 sequence turned into U+FFFD, i.e. the input
 * itself when it is valid UTF-8, both whole and through the stream, which
 * only ever emits valid UTF-8. Anything else aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gguf.h"
#include "tok.h"
#include "tok_check.h"
#include "tok_pretok.h"

static dai_tok *tok;

static void die(const char *msg)
{
	fprintf(stderr, "fuzz_tok_bpe: %s\n", msg);
	exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *path = getenv("DAI_FUZZ_VOCAB");
	if (!path)
		path = "tests/data/ggml-vocab-llama-bpe.gguf.gz";
	gzFile f = gzopen(path, "rb"); /* reads plain files too */
	if (!f)
		die(path);
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap);
	int k;
	while (buf && (k = gzread(f, buf + n, (unsigned)(cap - n))) > 0)
		if ((n += (size_t)k) == cap)
			buf = realloc(buf, cap *= 2);
	gzclose(f);
	if (!buf)
		die("out of memory");
	gguf_file g;
	dai_err e;
	if (gguf_open_mem(&g, buf, n, path, &e))
		die(e.msg);
	tok = tok_load(&g, &e);
	gguf_close(&g);
	free(buf);
	if (!tok)
		die(e.msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	int n_vocab = tok_n_vocab(tok);
	int valid = valid_utf8(data, size);

	/* what decoding must give: the code points, as UTF-8 again */
	uint32_t *cp = malloc((size + 1) * sizeof *cp);
	char *want = malloc(4 * size + 1);
	if (!cp || !want)
		abort();
	size_t ncp = tok_utf8_decode(text, size, cp), wl = 0;
	for (size_t i = 0; i < ncp; i++)
		wl += tok_utf8_encode(cp[i], want + wl);
	if (valid && (wl != size || memcmp(want, data, size) != 0))
		abort();

	static const int flag_sets[] = {0, TOK_PARSE_SPECIAL};
	for (size_t f = 0; f < 2; f++) {
		int32_t *ids;
		size_t n;
		dai_err e;
		if (tok_encode(tok, text, size, flag_sets[f], &ids, &n, &e))
			abort();
		for (size_t i = 0; i < n; i++)
			if (ids[i] < 0 || ids[i] >= n_vocab)
				abort();
		if (n > wl)
			abort(); /* at most one token per byte of the (repaired) text */
		char *back;
		size_t bl;
		if (tok_decode(tok, ids, n, TOK_UNPARSE_SPECIAL | TOK_KEEP_SPACES, &back, &bl, &e))
			abort();
		if (bl != wl || memcmp(back, want, wl) != 0)
			abort();
		free(back);
		if (tok_decode(tok, ids, n, 0, &back, &bl, &e) || bl > wl)
			abort(); /* the clean-up of spaces only removes */
		free(back);
		size_t sl;
		char *streamed = tok_stream_collect(tok, ids, n, TOK_UNPARSE_SPECIAL, &sl);
		if (valid && (sl != size || memcmp(streamed, text, size) != 0))
			abort();
		free(streamed);
		free(ids);
	}
	free(cp);
	free(want);
	return 0;
}
