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
		char *streamed = stream(ids, n, TOK_UNPARSE_SPECIAL, &sl);
		if (valid && (sl != size || memcmp(streamed, text, size) != 0))
			abort();
		free(streamed);
		free(ids);
	}
	free(cp);
	free(want);
	return 0;
}
