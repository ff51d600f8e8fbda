/* Unit tests: the byte-level BPE tokenizer against token ids that the
 * Hugging Face tokenizers gave for llama.cpp's vocabulary test files
 * (tests/data/ggml-vocab-*.gguf with .inp and .out, see
 * tests/data/README.md), round trips, special tokens, invalid UTF-8, the
 * pre-tokenizer splits and bad vocabularies. Run from the repository root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gguf.h"
#include "gguf_write.h"
#include "tok.h"
#include "tok_pretok.h"
#include "unicode_tab.h"

TestSuite(tok_bpe);

/* ---------------------------------------------------------------- helpers */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t k;
	while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Loads the vocabulary of path, which tests/data keeps gzip'd as
 * path.gz (the GGUF files are mostly text and shrink to a third). */
/* The first occurrence of the string pat in s[0..n), or NULL. */
static char *find(char *s, size_t n, const char *pat)
{
	size_t pl = strlen(pat);
	for (size_t i = 0; i + pl <= n; i++)
		if (memcmp(s + i, pat, pl) == 0)
			return s + i;
	return NULL;
}

static dai_tok *load_vocab(const char *path)
{
	char gz[256];
	snprintf(gz, sizeof gz, "%s.gz", path);
	gzFile f = gzopen(gz, "rb");
	cr_assert_not_null(f, "%s", gz);
	size_t cap = 1 << 20, n = 0;
	unsigned char *buf = malloc(cap);
	int k;
	while ((k = gzread(f, buf + n, (unsigned)(cap - n))) > 0) {
		n += (size_t)k;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	cr_assert_eq(k, 0, "%s: gzip data is damaged", gz);
	gzclose(f);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, n, path, &e), 0, "%s", e.msg);
	dai_tok *t = tok_load(&g, &e);
	cr_assert_not_null(t, "%s", e.msg);
	gguf_close(&g); /* the tokenizer keeps no pointer into the file */
	free(buf);
	return t;
}

static void encode(const dai_tok *t, const char *text, size_t len, int flags, int32_t **ids,
                   size_t *n)
{
	dai_err e;
	cr_assert_eq(tok_encode(t, text, len, flags, ids, n, &e), 0, "%s", e.msg);
}

static void expect_ids(const dai_tok *t, const char *text, int flags, const int32_t *want,
                       size_t n_want)
{
	int32_t *ids;
	size_t n;
	encode(t, text, strlen(text), flags, &ids, &n);
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

/* decode(encode(text)) == text, spaces kept as they are */
static void expect_round_trip(const dai_tok *t, const char *text, size_t len, int flags)
{
	int32_t *ids;
	size_t n, dl;
	char *dec;
	dai_err e;
	encode(t, text, len, flags, &ids, &n);
	int dflags = TOK_KEEP_SPACES | (flags & TOK_PARSE_SPECIAL ? TOK_UNPARSE_SPECIAL : 0);
	cr_assert_eq(tok_decode(t, ids, n, dflags, &dec, &dl, &e), 0, "%s", e.msg);
	cr_assert(dl == len && memcmp(dec, text, len) == 0, "'%.*s' came back as '%s'", (int)len,
	          text, dec);
	free(dec);
	free(ids);
}

/* Runs every input of inp_path (inputs separated by a line
 * "__ggml_vocab_test__") through tok_encode with flags, as llama.cpp's
 * test-tokenizer-0 does (there without special tokens), and compares with
 * the ids on the matching line of out_path; then decodes them again.
 * Returns the number of cases. */
static size_t check_cases(const char *vocab, const char *inp_path, const char *out_path, int flags)
{
	static const char sep[] = "\n__ggml_vocab_test__\n";
	size_t inl, outl;
	char *inp = slurp(inp_path, &inl);
	char *out = slurp(out_path, &outl);
	dai_tok *t = load_vocab(vocab);

	size_t cases = 0;
	char *pos = inp, *end = inp + inl, *line = out;
	while (pos < end) {
		char *next = find(pos, (size_t)(end - pos), sep); /* inputs may hold NULs */
		size_t len = next ? (size_t)(next - pos) : (size_t)(end - pos);
		char *eol = strchr(line, '\n');
		cr_assert_not_null(eol, "%s: more inputs than outputs", vocab);
		*eol = 0;

		int32_t want[1024];
		size_t n_want = 0;
		for (char *p = line; *p;) {
			char *q;
			long v = strtol(p, &q, 10);
			if (q == p)
				break;
			cr_assert_lt(n_want, 1024);
			want[n_want++] = (int32_t)v;
			p = q;
		}
		int32_t *ids;
		size_t n;
		encode(t, pos, len, flags, &ids, &n);
		char got[8192] = "";
		size_t o = 0;
		for (size_t i = 0; i < n && o < sizeof got - 16; i++)
			o += (size_t)snprintf(got + o, sizeof got - o, " %d", ids[i]);
		cr_assert_eq(n, n_want, "%s case %zu '%.*s': %zu ids, want %zu\n got:%s\nwant:%s",
		             vocab, cases, (int)len, pos, n, n_want, got, line);
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(ids[i], want[i], "%s case %zu '%.*s'\n got:%s\nwant:%s", vocab,
			             cases, (int)len, pos, got, line);
		free(ids);
		expect_round_trip(t, pos, len, flags);
		cases++;
		line = eol + 1;
		pos = next ? next + strlen(sep) : end;
	}
	cr_assert_eq(*line, 0, "%s: more outputs than inputs", vocab);
	tok_free(t);
	free(inp);
	free(out);
	return cases;
}

static size_t check_reference(const char *vocab)
{
	char inp[256], out[256];
	snprintf(inp, sizeof inp, "%s.inp", vocab);
	snprintf(out, sizeof out, "%s.out", vocab);
	return check_cases(vocab, inp, out, 0);
}

/* ------------------------------------------------- reference token ids */

Test(tok_bpe, gpt2_matches_hf_tokenizers)
{
	cr_assert_eq(check_reference("tests/data/ggml-vocab-gpt-2.gguf"), 46);
}

Test(tok_bpe, llama3_matches_hf_tokenizers)
{
	cr_assert_eq(check_reference("tests/data/ggml-vocab-llama-bpe.gguf"), 46);
}

Test(tok_bpe, qwen2_matches_hf_tokenizers)
{
	cr_assert_eq(check_reference("tests/data/ggml-vocab-qwen2.gguf"), 46);
}

/* The tricky inputs of bpe-extra.inp (special tokens, white space, digits,
 * contractions, emoji, scripts, controls), with special tokens parsed. */
Test(tok_bpe, gpt2_extra_cases)
{
	cr_assert_eq(check_cases("tests/data/ggml-vocab-gpt-2.gguf", "tests/data/bpe-extra.inp",
	                         "tests/data/bpe-extra.gpt-2.out", TOK_PARSE_SPECIAL),
	             21);
}

Test(tok_bpe, llama3_extra_cases)
{
	cr_assert_eq(check_cases("tests/data/ggml-vocab-llama-bpe.gguf", "tests/data/bpe-extra.inp",
	                         "tests/data/bpe-extra.llama-bpe.out", TOK_PARSE_SPECIAL),
	             21);
}

Test(tok_bpe, qwen2_extra_cases)
{
	cr_assert_eq(check_cases("tests/data/ggml-vocab-qwen2.gguf", "tests/data/bpe-extra.inp",
	                         "tests/data/bpe-extra.qwen2.out", TOK_PARSE_SPECIAL),
	             21);
}

/* Hand-checked cases of the GPT-2 vocabulary (ids from its vocab). */
Test(tok_bpe, gpt2_basics)
{
	dai_tok *t = load_vocab("tests/data/ggml-vocab-gpt-2.gguf");
	static const int32_t hello[] = {15496, 995};
	expect_ids(t, "Hello world", 0, hello, 2);
	tok_free(t);
}
