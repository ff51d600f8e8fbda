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
#include "tok_test.h"
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

/* 1000 random strings of letters, digits, punctuation, white space, emoji,
 * marks and other scripts (bpe-random.inp), without special tokens. */
Test(tok_bpe, random_strings_match_reference)
{
	static const char *names[] = {"gpt-2", "llama-bpe", "qwen2"};
	for (int v = 0; v < 3; v++) {
		char vocab[128], out[128];
		snprintf(vocab, sizeof vocab, "tests/data/ggml-vocab-%s.gguf", names[v]);
		snprintf(out, sizeof out, "tests/data/bpe-random.%s.out", names[v]);
		cr_assert_eq(check_cases(vocab, "tests/data/bpe-random.inp", out, 0), 1000);
	}
}

/* Hand-checked cases of the GPT-2 vocabulary (ids from its vocab). */
Test(tok_bpe, gpt2_basics)
{
	dai_tok *t = load_vocab("tests/data/ggml-vocab-gpt-2.gguf");
	static const int32_t hello[] = {15496, 995};
	expect_ids(t, "Hello world", 0, hello, 2);
	tok_free(t);
}

/* ------------------------------------------------------ pre-tokenizers */

/* The words of text under pre, joined by '|'. */
static void expect_words(int pre, const char *text, const char *want)
{
	size_t len = strlen(text), *lens, nw;
	uint32_t *cp = malloc((len + 1) * sizeof *cp);
	size_t n = tok_utf8_decode(text, len, cp);
	dai_err e;
	cr_assert_eq(tok_pretok_split(pre, cp, n, &lens, &nw, &e), 0, "%s", e.msg);
	char got[1024];
	size_t o = 0, at = 0;
	for (size_t i = 0; i < nw; i++) {
		if (i)
			got[o++] = '|';
		for (size_t j = at; j < at + lens[i]; j++)
			o += tok_utf8_encode(cp[j], got + o);
		at += lens[i];
	}
	got[o] = 0;
	cr_assert_eq(at, n);
	cr_assert_str_eq(got, want, "pre %d: '%s'", pre, text);
	free(lens);
	free(cp);
}

/* Words as llama.cpp's unicode_regex_split (commit c392e509) cuts them:
 * the four regexes of "default" in turn (std::regex there), Llama 3's and
 * GPT-2's hand-coded splits, Qwen2's regex. */
Test(tok_bpe, pretokenizer_words)
{
	expect_words(TOK_PRE_DEFAULT, "Hello, world!! 123456 x", "Hello|,| world|!!| |123|456| x");
	expect_words(TOK_PRE_LLAMA3, "Hello, world!! 123456 x", "Hello|,| world|!!| |123|456| x");
	expect_words(TOK_PRE_QWEN2, "Hello, world!! 123456 x",
	             "Hello|,| world|!!| |1|2|3|4|5|6| x");
	expect_words(TOK_PRE_GPT2, "Hello, world!! 123456 x", "Hello|,| world|!!| 123456| x");

	const char *s = "a+b=c; $5 ~~ 1234567 \xc2\xbd\xc2\xbd";
	expect_words(TOK_PRE_DEFAULT, s, "a|+|b|=|c|;| |$|5| |~~| |123|456|7| |\xc2\xbd\xc2\xbd");
	expect_words(TOK_PRE_LLAMA3, s, "a|+b|=c|;| $|5| ~~| |123|456|7| |\xc2\xbd\xc2\xbd");
	expect_words(TOK_PRE_QWEN2, s, "a|+b|=c|;| $|5| ~~| |1|2|3|4|5|6|7| |\xc2\xbd|\xc2\xbd");
	expect_words(TOK_PRE_GPT2, s, "a|+|b|=|c|;| $|5| ~~| 1234567| \xc2\xbd\xc2\xbd");

	s = "it's  \n\n I'LL 99 bottles";
	expect_words(TOK_PRE_DEFAULT, s, "it|'|s|  \n\n| I|'|LL| |99| bottles");
	expect_words(TOK_PRE_LLAMA3, s, "it|'s|  \n\n| I|'LL| |99| bottles");
	expect_words(TOK_PRE_QWEN2, s, "it|'s|  \n\n| I|'LL| |9|9| bottles");
	expect_words(TOK_PRE_GPT2, s, "it|'s|  \n\n| I|'|LL| 99| bottles");

	s = "x\xe2\x80\x94y \xc2\xabq\xc2\xbb"; /* x—y «q» */
	expect_words(TOK_PRE_DEFAULT, s, "x|\xe2\x80\x94|y| |\xc2\xab|q|\xc2\xbb");
	expect_words(TOK_PRE_LLAMA3, s, "x|\xe2\x80\x94y| \xc2\xab|q|\xc2\xbb");
	expect_words(TOK_PRE_QWEN2, s, "x|\xe2\x80\x94y| \xc2\xab|q|\xc2\xbb");
	expect_words(TOK_PRE_GPT2, s, "x|\xe2\x80\x94|y| \xc2\xab|q|\xc2\xbb");

	expect_words(TOK_PRE_LLAMA3, "", "");
	expect_words(TOK_PRE_DEFAULT, "", "");
}

Test(tok_bpe, pretokenizer_names)
{
	cr_assert_eq(tok_pre_from_name("llama-bpe", 9), TOK_PRE_LLAMA3);
	cr_assert_eq(tok_pre_from_name("qwen2", 5), TOK_PRE_QWEN2);
	cr_assert_eq(tok_pre_from_name("gpt-2", 5), TOK_PRE_GPT2);
	cr_assert_eq(tok_pre_from_name("default", 7), TOK_PRE_DEFAULT);
	cr_assert_eq(tok_pre_from_name("qwen", 4), -1);
	cr_assert_eq(tok_pre_from_name("qwen2x", 6), -1);
}

/* The class table: a few code points of each class, the white-space set,
 * and the Unicode 15.1 additions that llama.cpp's tables have. */
Test(tok_bpe, unicode_classes)
{
	cr_assert_str_eq(uni_version, "15.0.0");
	cr_assert_eq(uni_class('A'), UNI_LETTER);
	cr_assert_eq(uni_class(0x4e2d), UNI_LETTER);  /* 中 */
	cr_assert_eq(uni_class(0x2ebf0), UNI_LETTER); /* CJK Extension I (15.1) */
	cr_assert_eq(uni_class(0x31ef), UNI_SYMBOL);  /* 15.1 */
	cr_assert_eq(uni_class('7'), UNI_NUMBER);
	cr_assert_eq(uni_class(0xbd), UNI_NUMBER);   /* ½ */
	cr_assert_eq(uni_class(0x2167), UNI_NUMBER); /* Ⅷ */
	cr_assert_eq(uni_class(','), UNI_PUNCT);
	cr_assert_eq(uni_class(0x2014), UNI_PUNCT); /* — */
	cr_assert_eq(uni_class('$'), UNI_SYMBOL);
	cr_assert_eq(uni_class(0x1f600), UNI_SYMBOL); /* 😀 */
	cr_assert_eq(uni_class(0x301), UNI_MARK);
	cr_assert_eq(uni_class(' '), UNI_SEPARATOR);
	cr_assert_eq(uni_class(0x3000), UNI_SEPARATOR);
	cr_assert_eq(uni_class(0), UNI_CONTROL);
	cr_assert_eq(uni_class(0xe000), UNI_CONTROL); /* private use */
	cr_assert_eq(uni_class(0x378), UNI_UNASSIGNED);
	cr_assert_eq(uni_class(0x10ffff), UNI_UNASSIGNED);
	cr_assert_eq(uni_class(0x110000), UNI_UNASSIGNED);
	cr_assert(uni_is_space('\t') && uni_is_space('\r') && uni_is_space(0x85));
	cr_assert(uni_is_space(0xa0) && uni_is_space(0x2028) && uni_is_space(0x3000));
	cr_assert(!uni_is_space(0x1c) && !uni_is_space(0x200b) && !uni_is_space('x'));
	for (unsigned i = 1; i < uni_n_ranges; i++)
		cr_assert_gt(uni_ranges[i].start, uni_ranges[i - 1].start);
	cr_assert_eq(uni_ranges[0].start, 0);
}

/* ------------------------------------------------------- invalid UTF-8 */

static void expect_same_ids(const dai_tok *t, const char *a, size_t al, const char *b)
{
	int32_t *x, *y;
	size_t nx, ny;
	encode(t, a, al, 0, &x, &nx);
	encode(t, b, strlen(b), 0, &y, &ny);
	cr_assert_eq(nx, ny, "'%s': %zu ids, want %zu", b, nx, ny);
	cr_assert_eq(memcmp(x, y, nx * sizeof *x), 0, "'%s'", b);
	free(x);
	free(y);
}

/* Bytes that start no valid sequence become U+FFFD each, as llama.cpp's
 * unicode_cpts_from_utf8 does; the reference ids of U+FFFD itself are in
 * bpe-extra. Overlong forms and surrogates pass as the code point they
 * spell. */
Test(tok_bpe, invalid_utf8)
{
	static const char *vocabs[] = {"tests/data/ggml-vocab-gpt-2.gguf",
	                               "tests/data/ggml-vocab-llama-bpe.gguf",
	                               "tests/data/ggml-vocab-qwen2.gguf"};
#define R "\xef\xbf\xbd"
	for (size_t v = 0; v < 3; v++) {
		dai_tok *t = load_vocab(vocabs[v]);
		expect_same_ids(t,
		                "a\xff"
		                "b",
		                3, "a" R "b");
		expect_same_ids(t, "\xc3(", 2, R "(");
		expect_same_ids(t, "x\xe2\x82 y", 5, "x" R R " y");
		expect_same_ids(t, "ok \xf0\x9f\x98", 6, "ok " R R R);
		expect_same_ids(t, "\x80\x80 z", 4, R R " z");
		expect_same_ids(t, "\xf5\x80\x80\x80", 4, R R R R); /* above U+10FFFF */
		expect_same_ids(t, "\xf8\xfe", 2, R R);
		/* the overlong NUL is the NUL, which strlen cannot spell */
		int32_t *x, *y;
		size_t nx, ny;
		encode(t,
		       "a\xc0\x80"
		       "b",
		       4, 0, &x, &nx);
		encode(t, "a\0b", 3, 0, &y, &ny);
		cr_assert(nx == ny && memcmp(x, y, nx * sizeof *x) == 0);
		free(x);
		free(y);
		/* a lone surrogate keeps its three bytes: byte tokens round-trip */
		expect_round_trip(t, "s\xed\xa0\x80t", 5, 0);
		tok_free(t);
	}
#undef R
}

/* ------------------------------------------- metadata, decoding, stream */

Test(tok_bpe, llama3_specials_and_flags)
{
	dai_tok *t = load_vocab("tests/data/ggml-vocab-llama-bpe.gguf");
	cr_assert_eq(tok_n_vocab(t), 128256);
	cr_assert_eq(tok_bos(t), 128000);
	cr_assert_eq(tok_eos(t), 128001);
	cr_assert_eq(tok_unk(t), -1);
	cr_assert_eq(tok_add_bos(t), 1); /* llama-bpe adds BOS unless the file says otherwise */
	cr_assert_eq(tok_add_space_prefix(t), 0);
	cr_assert_eq(tok_default_flags(t), TOK_ADD_BOS);
	cr_assert(tok_is_eog(t, 128001) && tok_is_eog(t, 128009)); /* <|eot_id|> */
	cr_assert(!tok_is_eog(t, 128000) && !tok_is_eog(t, 9906));
	cr_assert_eq(tok_type(t, 128009), TOK_T_CONTROL);

	static const int32_t hello[] = {128000, 9906, 1917};
	expect_ids(t, "Hello world", TOK_ADD_BOS, hello, 3);
	/* without TOK_PARSE_SPECIAL the text of a control token is text */
	int32_t *ids;
	size_t n;
	encode(t, "<|eot_id|>", 10, 0, &ids, &n);
	cr_assert_gt(n, 1);
	free(ids);
	static const int32_t eot[] = {128009};
	expect_ids(t, "<|eot_id|>", TOK_PARSE_SPECIAL, eot, 1);

	size_t pl;
	const char *p = tok_piece(t, 1917, 0, &pl); /* "Ġworld" */
	cr_assert(pl == 6 && memcmp(p, " world", 6) == 0);
	tok_piece(t, 128009, 0, &pl);
	cr_assert_eq(pl, 0);
	p = tok_piece(t, 128009, TOK_UNPARSE_SPECIAL, &pl);
	cr_assert(pl == 10 && memcmp(p, "<|eot_id|>", 10) == 0);
	cr_assert_null(tok_piece(t, 128256, 0, &pl));
	tok_free(t);
}

Test(tok_bpe, qwen2_and_gpt2_specials)
{
	dai_tok *t = load_vocab("tests/data/ggml-vocab-qwen2.gguf");
	cr_assert_eq(tok_add_bos(t), 0);
	cr_assert_eq(tok_default_flags(t), 0);
	int32_t im_end = tok_find(t, "<|im_end|>", 10);
	cr_assert_geq(im_end, 0);
	cr_assert(tok_is_eog(t, im_end) && tok_is_eog(t, tok_eos(t)));
	/* <think> is an added token that is not special: user-defined, split out
	 * of the text even without TOK_PARSE_SPECIAL */
	int32_t think = tok_find(t, "<think>", 7);
	cr_assert_eq(tok_type(t, think), TOK_T_USER_DEFINED);
	int32_t *ids;
	size_t n;
	encode(t, "a<think>b", 9, 0, &ids, &n);
	cr_assert(n == 3 && ids[1] == think);
	free(ids);
	tok_free(t);

	t = load_vocab("tests/data/ggml-vocab-gpt-2.gguf");
	cr_assert_eq(tok_n_vocab(t), 50257);
	cr_assert_eq(tok_add_bos(t), 0);
	cr_assert(tok_is_eog(t, 50256)); /* <|endoftext|> */
	tok_free(t);
}

/* tok_decode does llama.cpp's clean-up of spaces for the vocabularies that
 * ask for it (GPT-2, Llama 3; not Qwen2); TOK_KEEP_SPACES skips it. */
Test(tok_bpe, decode_clean_spaces)
{
	static const char text[] = "Hi , you ! I 'm here . It ' s ' ok' 're";
	static const char clean[] =
	    "Hi, you! I'm here. It's'ok''re"; /* as llama.cpp's three passes give it */
	const char *vocabs[] = {"tests/data/ggml-vocab-llama-bpe.gguf",
	                        "tests/data/ggml-vocab-qwen2.gguf"};
	for (int v = 0; v < 2; v++) {
		dai_tok *t = load_vocab(vocabs[v]);
		int32_t *ids;
		size_t n, dl;
		char *dec;
		dai_err e;
		encode(t, text, strlen(text), 0, &ids, &n);
		cr_assert_eq(tok_decode(t, ids, n, 0, &dec, &dl, &e), 0, "%s", e.msg);
		cr_assert_str_eq(dec, v == 0 ? clean : text);
		free(dec);
		cr_assert_eq(tok_decode(t, ids, n, TOK_KEEP_SPACES, &dec, &dl, &e), 0, "%s", e.msg);
		cr_assert_str_eq(dec, text);
		free(dec);
		free(ids);
		tok_free(t);
	}
}

/* The stream hands back whole UTF-8 characters even where one character's
 * bytes are spread over several tokens (emoji, CJK in byte-level BPE). */
Test(tok_bpe, stream_whole_characters)
{
	static const char text[] = "h\xc3\xa9llo \xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd "
	                           "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\xaa\x9a\xb2";
	dai_tok *t = load_vocab("tests/data/ggml-vocab-gpt-2.gguf");
	int32_t *ids;
	size_t n;
	dai_err e;
	encode(t, text, strlen(text), 0, &ids, &n);
	tok_stream *s = tok_stream_new(t, 0, &e);
	cr_assert_not_null(s);
	char got[256];
	size_t o = 0;
	int split = 0;
	for (size_t i = 0; i < n; i++) {
		size_t pl, len;
		const char *out;
		tok_piece(t, ids[i], 0, &pl);
		cr_assert_eq(tok_stream_put(s, ids[i], &out, &len, &e), 0, "%s", e.msg);
		split |= len != pl; /* some token ended inside a character */
		memcpy(got + o, out, len);
		o += len;
	}
	const char *out;
	size_t len;
	cr_assert_eq(tok_stream_flush(s, &out, &len, &e), 0);
	cr_assert_eq(len, 0);
	cr_assert(split, "no token ended inside a character: the test proves nothing");
	cr_assert(o == strlen(text) && memcmp(got, text, o) == 0);
	tok_stream_free(s);
	free(ids);
	tok_free(t);
}

/* ------------------------------------------------------- bad vocabularies */

static void bpe_base(gguf_writer *w)
{
	static const char *toks[] = {"a", "b", "ab", "\xc4\xa0"};
	gguf_w_init(w);
	gguf_w_str(w, "tokenizer.ggml.model", "gpt2");
	gguf_w_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
}

Test(tok_bpe, bad_vocabularies)
{
	static const char *merges[] = {"a b"};
	gguf_writer w;

	bpe_base(&w);
	expect_tok_load_fail(&w, "tokenizer.ggml.merges: missing");

	bpe_base(&w);
	gguf_w_u32(&w, "tokenizer.ggml.merges", 1);
	expect_tok_load_fail(&w, "tokenizer.ggml.merges");

	bpe_base(&w);
	gguf_w_arr_str(&w, "tokenizer.ggml.merges", merges, 1);
	gguf_w_str(&w, "tokenizer.ggml.pre", "tekken\x01");
	expect_tok_load_fail(&w, "unsupported pre-tokenizer 'tekken?'");

	bpe_base(&w);
	gguf_w_arr_str(&w, "tokenizer.ggml.merges", merges, 1);
	gguf_w_u32(&w, "tokenizer.ggml.pre", 3);
	expect_tok_load_fail(&w, "tokenizer.ggml.pre");
}

/* A tiny vocabulary: merges apply by rank, odd merge lines are harmless,
 * and a symbol that is no piece falls back to its one-byte pieces. */
Test(tok_bpe, tiny_vocabulary)
{
	static const char *toks[] = {"a", "b", "ab", "\xc4\xa0", "c", "<|x|>"};
	static const char *merges[] = {"a b", "nospace", "", "b ", "a b"};
	int32_t types[] = {1, 1, 1, 1, 1, 3};
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "gpt2");
	gguf_w_str(&w, "tokenizer.ggml.pre", "gpt-2");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", toks, 6);
	gguf_w_arr(&w, "tokenizer.ggml.token_type", GGUF_T_I32, types, 6);
	gguf_w_arr_str(&w, "tokenizer.ggml.merges", merges, 5);
	dai_tok *t = tok_from_writer(&w, "tiny.gguf");
	cr_assert_eq(tok_bos(t), -1); /* default 11 is outside the vocabulary */
	static const int32_t abab[] = {2, 2};
	expect_ids(t, "abab", 0, abab, 2);
	/* " ab": "Ġ" does not merge with "ab"; "x" is no piece and has no byte
	 * piece, so it is dropped as in llama.cpp */
	static const int32_t sp[] = {3, 2, 4};
	expect_ids(t, " abxc", 0, sp, 3);
	static const int32_t special[] = {0, 5, 1};
	expect_ids(t, "a<|x|>b", TOK_PARSE_SPECIAL, special, 3);
	tok_free(t);
}
