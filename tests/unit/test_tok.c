/* Unit tests: the SentencePiece tokenizer against llama.cpp's own ids (the
 * conformance vocabulary and the llama2.c tok512 vocabulary), round trips,
 * byte fallback, special tokens, the streaming UTF-8 decoder and bad
 * vocabularies. Run from the repository root (tests/data/...). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_write.h"
#include "tok.h"
#include "tok_test.h"

#include "fuzz/tok_check.h"

TestSuite(tok);

/* ---------------------------------------------------------------- helpers */

static dai_tok *load_file(const char *path, gguf_file *g)
{
	dai_err e;
	cr_assert_eq(gguf_open(g, path, &e), 0, "%s", e.msg);
	dai_tok *t = tok_load(g, &e);
	cr_assert_not_null(t, "%s", e.msg);
	return t;
}

/* The a_f32 conformance vocabulary; the GGUF is closed again at once, which
 * also checks that the tokenizer keeps no pointer into it. */
static dai_tok *load_a(void)
{
	gguf_file g;
	dai_tok *t = load_file("tests/data/a_f32.gguf", &g);
	gguf_close(&g);
	return t;
}

/* encode (no BOS) then decode gives the text back. */
static void round_trip(const dai_tok *t, const char *text, size_t len)
{
	int32_t *ids;
	size_t n, dl;
	char *back;
	dai_err e;
	cr_assert_eq(tok_encode(t, text, len, 0, &ids, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(tok_decode(t, ids, n, 0, &back, &dl, &e), 0, "%s", e.msg);
	cr_assert(dl == len && memcmp(back, text, len) == 0, "round trip of '%.*s' gave '%.*s'",
	          (int)len, text, (int)dl, back);
	free(back);
	/* with BOS, removed again on decoding: llama.cpp then keeps the space
	 * prefix, so the text comes back with one leading space */
	free(ids);
	cr_assert_eq(tok_encode(t, text, len, TOK_ADD_BOS, &ids, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(ids[0], tok_bos(t));
	cr_assert_eq(tok_decode(t, ids, n, TOK_REMOVE_SPECIAL, &back, &dl, &e), 0, "%s", e.msg);
	cr_assert(dl == len + (len > 0) && (len == 0 || back[0] == ' ') &&
	              memcmp(back + (len > 0), text, len) == 0,
	          "BOS round trip of '%.*s' gave '%.*s'", (int)len, text, (int)dl, back);
	free(back);
	free(ids);
}

/* ------------------------------------------------- llama.cpp's reference */

Test(tok, conformance_vocab_matches_llama_cpp)
{
	dai_tok *t = load_a();
	cr_assert_eq(tok_n_vocab(t), 512);
	cr_assert_eq(tok_bos(t), 1);
	cr_assert_eq(tok_eos(t), 2);
	cr_assert_eq(tok_unk(t), 0);
	cr_assert_eq(tok_default_flags(t), TOK_ADD_BOS);
	static const int32_t cat[] = {1,   399, 336, 325, 327, 437, 338, 337, 336,
	                              417, 436, 331, 335, 327, 270, 436, 330, 327,
	                              340, 327, 439, 485, 417, 419, 487, 272};
	expect_ids(t, "Once upon a time, there was a cat.", tok_default_flags(t), cat,
	           sizeof cat / sizeof *cat);
	static const int32_t once[] = {1,   399, 336, 325, 327, 437, 338,
	                               337, 336, 417, 436, 331, 335, 327};
	expect_ids(t, "Once upon a time", TOK_ADD_BOS, once, sizeof once / sizeof *once);
	/* the same without BOS, and with EOS */
	expect_ids(t, "Once upon a time", 0, once + 1, sizeof once / sizeof *once - 1);
	int32_t with_eos[sizeof once / sizeof *once + 1];
	memcpy(with_eos, once, sizeof once);
	with_eos[sizeof once / sizeof *once] = 2;
	expect_ids(t, "Once upon a time", TOK_ADD_BOS | TOK_ADD_EOS, with_eos,
	           sizeof with_eos / sizeof *with_eos);
	tok_free(t);
}

/* The conformance prompt file holds the same ids. */
Test(tok, conformance_prompt_file)
{
	FILE *f = fopen("tests/data/a_f32.prompt.i32", "rb");
	cr_assert_not_null(f);
	int32_t want[64];
	size_t nw = fread(want, 4, 64, f);
	fclose(f);
	cr_assert_eq(nw, 26);
	dai_tok *t = load_a();
	expect_ids(t, "Once upon a time, there was a cat.", TOK_ADD_BOS, want, nw);
	tok_free(t);
}

/* tok512.bin (llama2.c format) turned into a vocab-only GGUF the way
 * llama.cpp's convert-llama2c-to-ggml does: <unk>, <s>, </s> renamed and
 * typed, byte tokens typed, spaces escaped to U+2581. */
static dai_tok *load_tok512(void)
{
	FILE *f = fopen("tests/data/tok512.bin", "rb");
	cr_assert_not_null(f, "tests/data/tok512.bin");
	int32_t max_len;
	cr_assert_eq(fread(&max_len, 4, 1, f), 1);
	enum { N = 512 };
	static char store[N][64];
	const char *pieces[N];
	float scores[N];
	int32_t types[N];
	for (int i = 0; i < N; i++) {
		int32_t len;
		cr_assert_eq(fread(&scores[i], 4, 1, f), 1);
		cr_assert_eq(fread(&len, 4, 1, f), 1);
		cr_assert(len > 0 && len <= max_len);
		char raw[16];
		cr_assert_eq(fread(raw, 1, (size_t)len, f), (size_t)len);
		size_t o = 0;
		for (int j = 0; j < len; j++) {
			if (raw[j] == ' ') {
				memcpy(store[i] + o, "\xe2\x96\x81", 3);
				o += 3;
			} else {
				store[i][o++] = raw[j];
			}
		}
		store[i][o] = 0;
		types[i] = 1;
		if (i == 0)
			strcpy(store[i], "<unk>"), types[i] = 2;
		else if (i == 1)
			strcpy(store[i], "<s>"), types[i] = 3;
		else if (i == 2)
			strcpy(store[i], "</s>"), types[i] = 3;
		else if (len == 6 && strncmp(raw, "<0x", 3) == 0)
			types[i] = 6;
		pieces[i] = store[i];
	}
	char extra;
	cr_assert_eq(fread(&extra, 1, 1, f), 0, "tok512.bin is longer than 512 entries");
	fclose(f);
	cr_assert_eq(types[3], 6);
	cr_assert_eq(types[258], 6);
	cr_assert_eq(types[259], 1);

	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "general.architecture", "llama");
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", pieces, N);
	gguf_w_arr(&w, "tokenizer.ggml.scores", GGUF_T_F32, scores, N);
	gguf_w_arr(&w, "tokenizer.ggml.token_type", GGUF_T_I32, types, N);
	gguf_w_u32(&w, "tokenizer.ggml.unknown_token_id", 0);
	gguf_w_u32(&w, "tokenizer.ggml.bos_token_id", 1);
	gguf_w_u32(&w, "tokenizer.ggml.eos_token_id", 2);
	gguf_w_u32(&w, "tokenizer.ggml.seperator_token_id", 0xffffffffu);
	gguf_w_u32(&w, "tokenizer.ggml.padding_token_id", 0xffffffffu);
	dai_tok *t = tok_from_writer(&w, "tok512.gguf");
	return t;
}

Test(tok, tok512_matches_llama_cpp)
{
	dai_tok *t = load_tok512();
	cr_assert_eq(tok_n_vocab(t), 512);
	cr_assert_eq(tok_pad(t), -1, "an out-of-range id keeps the default");
	static const int32_t once[] = {1, 403, 407, 261, 378};
	expect_ids(t, "Once upon a time", tok_default_flags(t), once, 5);
	round_trip(t, "Once upon a time, there was a little girl named Lily.", 53);
	round_trip(t, "Zebras? \xc3\xa9t\xc3\xa9! 42", 18);
	tok_free(t);
}

/* --------------------------------------------------------- round trips */

Test(tok, round_trips)
{
	dai_tok *t = load_a();
	static const char *texts[] = {
	    "",
	    "a",
	    "Hello, world!",
	    "The quick brown fox jumps over the lazy dog.",
	    "  two leading spaces",
	    "trailing spaces   ",
	    "many     inner      spaces",
	    " ",
	    "   ",
	    "line one\nline two\n\nline four\n",
	    "\n\n\n",
	    "tabs\tand\r\ncarriage returns",
	    "digits 0123456789 3.14159 1e-10",
	    "caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe4\xb8\xad\xe6\x96\x87",
	    "emoji \xf0\x9f\x98\x80\xf0\x9f\x8e\x89 and \xe2\x9d\xa4\xef\xb8\x8f",
	    "<s> looks special but is text </s>",
	    "{\"json\": [1, 2, 3]}",
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		round_trip(t, texts[i], strlen(texts[i]));
	/* invalid UTF-8 and NUL bytes survive byte for byte */
	static const char bad[] =
	    "x\xff\xfe\x80\x80\x80 y\xc3-\xe2\x82-z\xf0\x9f\x98-\xed\xa0\x80 \0 q\xc0\xaf";
	round_trip(t, bad, sizeof bad - 1);
	/* but a truncated sequence swallows the next bytes as one character
	 * (llama.cpp cuts by the lead byte), and when those are an escaped
	 * space, its U+2581 bytes come back as they are, not as a space */
	int32_t *ids;
	size_t n, dl;
	char *back;
	dai_err e;
	cr_assert_eq(tok_encode(t, "a\xc3 b", 4, 0, &ids, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(tok_decode(t, ids, n, 0, &back, &dl, &e), 0, "%s", e.msg);
	cr_assert(dl == 6 && memcmp(back,
	                            "a\xc3\xe2\x96\x81"
	                            "b",
	                            6) == 0);
	free(back);
	free(ids);
	tok_free(t);
}

Test(tok, byte_fallback)
{
	dai_tok *t = load_a();
	/* U+1F600 is not a piece: " " + its four bytes as <0xF0> <0x9F> <0x98> <0x80> */
	int32_t want[5];
	want[0] = tok_find(t, "\xe2\x96\x81", 3);
	cr_assert_geq(want[0], 0);
	static const char *hex[] = {"<0xF0>", "<0x9F>", "<0x98>", "<0x80>"};
	for (int i = 0; i < 4; i++) {
		want[i + 1] = tok_find(t, hex[i], 6);
		cr_assert_geq(want[i + 1], 0);
		cr_assert_eq(tok_type(t, want[i + 1]), TOK_T_BYTE);
	}
	expect_ids(t, "\xf0\x9f\x98\x80", 0, want, 5);
	/* a piece decodes to its byte */
	size_t len;
	const char *p = tok_piece(t, want[1], 0, &len);
	cr_assert(len == 1 && (unsigned char)p[0] == 0xf0);
	tok_free(t);
}

Test(tok, pieces_and_specials)
{
	dai_tok *t = load_a();
	size_t len;
	const char *p = tok_piece(t, tok_bos(t), 0, &len);
	cr_assert_eq(len, 0, "control tokens decode to nothing");
	p = tok_piece(t, tok_bos(t), TOK_UNPARSE_SPECIAL, &len);
	cr_assert(len == 3 && memcmp(p, "<s>", 3) == 0);
	cr_assert_null(tok_piece(t, 512, 0, &len));
	cr_assert_null(tok_piece(t, -1, 0, &len));
	cr_assert(tok_is_eog(t, tok_eos(t)));
	cr_assert(!tok_is_eog(t, tok_bos(t)));
	cr_assert(!tok_is_eog(t, 600));
	cr_assert_eq(tok_find(t, "no such piece", 13), -1);
	int32_t u = tok_find(t, "\xe2\x96\x81", 3);
	p = tok_piece(t, u, 0, &len);
	cr_assert(len == 1 && p[0] == ' ', "U+2581 decodes to a space");

	/* "<s>" in the text is plain text unless TOK_PARSE_SPECIAL */
	int32_t *ids;
	size_t n;
	dai_err e;
	cr_assert_eq(tok_encode(t, "<s>a", 4, TOK_PARSE_SPECIAL, &ids, &n, &e), 0, "%s", e.msg);
	cr_assert_geq(n, 2);
	cr_assert_eq(ids[0], 1);
	/* after a special token the text gets the space prefix again */
	int32_t *ids2;
	size_t n2;
	cr_assert_eq(tok_encode(t, "a", 1, 0, &ids2, &n2, &e), 0, "%s", e.msg);
	cr_assert(n == n2 + 1 && memcmp(ids + 1, ids2, n2 * sizeof *ids) == 0);
	free(ids);
	free(ids2);
	cr_assert_eq(tok_encode(t, "<s>a", 4, 0, &ids, &n, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < n; i++)
		cr_assert_neq(ids[i], 1);
	free(ids);

	/* decoding: an out-of-range id is an error */
	char *out;
	int32_t bad[] = {5, 512};
	cr_assert_eq(tok_decode(t, bad, 2, 0, &out, &len, &e), -1);
	cr_assert(strstr(e.msg, "out of range"), "%s", e.msg);
	tok_free(t);
}

/* A user-defined piece splits the text even without TOK_PARSE_SPECIAL, as
 * in llama.cpp; the longest special piece wins. */
Test(tok, user_defined_pieces)
{
	static const char *pieces[] = {"<unk>",
	                               "<s>",
	                               "</s>",
	                               "\xe2\x96\x81",
	                               "a",
	                               "b",
	                               "<tool>",
	                               "<tool_call>",
	                               "\xe2\x96\x81"
	                               "a",
	                               "<0x3C>"};
	int32_t types[] = {2, 3, 3, 1, 1, 1, 4, 4, 1, 6};
	float scores[] = {0, 0, 0, -1, -2, -3, 0, 0, -0.5f, 0};
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", pieces, 10);
	gguf_w_arr(&w, "tokenizer.ggml.scores", GGUF_T_F32, scores, 10);
	gguf_w_arr(&w, "tokenizer.ggml.token_type", GGUF_T_I32, types, 10);
	gguf_w_bool(&w, "tokenizer.ggml.add_bos_token", false);
	dai_tok *t = tok_from_writer(&w, "u.gguf");
	cr_assert_eq(tok_default_flags(t), 0);
	/* "a<tool_call>b": ▁a, <tool_call>, ▁ b ... "b" gets a space prefix */
	static const int32_t want[] = {8, 7, 3, 5};
	expect_ids(t, "a<tool_call>b", tok_default_flags(t), want, 4);
	/* unknown characters without byte tokens become <unk>; '<' has one */
	static const int32_t want2[] = {3, 9, 0};
	expect_ids(t, "<z", 0, want2, 3);
	size_t pl;
	const char *p = tok_piece(t, 7, 0, &pl);
	cr_assert(pl == 11 && memcmp(p, "<tool_call>", 11) == 0, "user pieces decode as they are");
	tok_free(t);
}

/* --------------------------------------------------------- streaming */

static void stream_all(const dai_tok *t, const int32_t *ids, size_t n, int flags, char *out,
                       size_t *out_len)
{
	dai_err e;
	tok_stream *s = tok_stream_new(t, flags, &e);
	cr_assert_not_null(s);
	size_t o = 0;
	for (size_t i = 0; i <= n; i++) {
		const char *p;
		size_t len;
		if (i < n)
			cr_assert_eq(tok_stream_put(s, ids[i], &p, &len, &e), 0, "%s", e.msg);
		else
			cr_assert_eq(tok_stream_flush(s, &p, &len, &e), 0, "%s", e.msg);
		cr_assert(valid_utf8(p, len), "step %zu emitted invalid UTF-8", i);
		memcpy(out + o, p, len);
		o += len;
	}
	tok_stream_free(s);
	*out_len = o;
}

Test(tok, stream_multibyte_byte_by_byte)
{
	dai_tok *t = load_a();
	static const char text[] = "caf\xc3\xa9 \xf0\x9f\x98\x80\xe6\x97\xa5 \xe2\x82\xac!";
	int32_t *ids;
	size_t n;
	dai_err e;
	cr_assert_eq(tok_encode(t, text, strlen(text), TOK_ADD_BOS, &ids, &n, &e), 0, "%s", e.msg);
	char out[256];
	size_t len;
	stream_all(t, ids, n, 0, out, &len);
	/* the stream does not strip: the space prefix stays */
	cr_assert(len == strlen(text) + 1 && out[0] == ' ' && memcmp(out + 1, text, len - 1) == 0,
	          "stream gave '%.*s'", (int)len, out);
	/* TOK_STRIP_SPACE drops it when the first token is the text's */
	stream_all(t, ids + 1, n - 1, TOK_STRIP_SPACE, out, &len);
	cr_assert(len == strlen(text) && memcmp(out, text, len) == 0);
	free(ids);

	/* pure byte tokens, one at a time: nothing comes out until a character
	 * is complete */
	tok_stream *s = tok_stream_new(t, 0, &e);
	static const char euro[] = "\xe2\x82\xac";
	const char *p;
	for (int i = 0; i < 3; i++) {
		char hex[7];
		snprintf(hex, sizeof hex, "<0x%02X>", (unsigned char)euro[i]);
		int32_t id = tok_find(t, hex, 6);
		cr_assert_geq(id, 0);
		cr_assert_eq(tok_stream_put(s, id, &p, &len, &e), 0);
		if (i < 2)
			cr_assert_eq(len, 0, "byte %d emitted %zu bytes early", i, len);
		else
			cr_assert(len == 3 && memcmp(p, euro, 3) == 0);
	}
	cr_assert_eq(tok_stream_flush(s, &p, &len, &e), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(tok_stream_put(s, 9999, &p, &len, &e), -1);
	tok_stream_free(s);
	tok_free(t);
}

Test(tok, stream_invalid_bytes)
{
	dai_tok *t = load_a();
	/* an incomplete sequence broken by ASCII, a stray continuation byte, and
	 * an incomplete sequence at the end */
	static const char *bytes[] = {"<0xE2>", "<0x82>", "<0x41>", "<0x80>", "<0xF0>", "<0x9F>"};
	int32_t ids[6];
	for (int i = 0; i < 6; i++) {
		ids[i] = tok_find(t, bytes[i], 6);
		cr_assert_geq(ids[i], 0);
	}
	char out[64];
	size_t len;
	stream_all(t, ids, 6, 0, out, &len);
	static const char want[] = "\xef\xbf\xbd"
	                           "A"
	                           "\xef\xbf\xbd"
	                           "\xef\xbf\xbd";
	cr_assert(len == sizeof want - 1 && memcmp(out, want, len) == 0, "got '%.*s'", (int)len,
	          out);
	tok_free(t);
}

Test(tok, utf8_repair)
{
	struct {
		const char *in, *want;
		int final;
		size_t used;
	} c[] = {
	    {"abc", "abc", 0, 3},
	    {"\xc3\xa9", "\xc3\xa9", 0, 2},
	    {"a\xc3", "a", 0, 1},
	    {"a\xc3", "a\xef\xbf\xbd", 1, 2},
	    {"\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0, 3}, /* overlong */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0, 3}, /* surrogate */
	    {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 0, 4},
	    {"\xf0\x9f\x98", "", 0, 0},
	    {"\xf0\x9f\x98x", "\xef\xbf\xbdx", 0, 4}, /* one U+FFFD for the subpart */
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", 0, 2},
	    {"\xff", "\xef\xbf\xbd", 0, 1},
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		char out[64];
		size_t olen;
		size_t n = strlen(c[i].in);
		size_t used =
		    tok_utf8_repair((const unsigned char *)c[i].in, n, c[i].final, out, &olen);
		cr_assert_eq(used, c[i].used, "case %zu: used %zu", i, used);
		cr_assert(olen == strlen(c[i].want) && memcmp(out, c[i].want, olen) == 0,
		          "case %zu: got '%.*s'", i, (int)olen, out);
	}
}

/* ------------------------------------------------------- bad vocabularies */

Test(tok, bad_vocabularies)
{
	static const char *p3[] = {"<unk>", "<s>", "</s>"};
	static const char *dup[] = {"<unk>", "a", "a"};
	static const char *badbyte[] = {"<unk>", "<s>", "<0xZZ>"};
	float s2[2] = {0, 0};
	int32_t ty[3] = {2, 3, 6};
	gguf_writer w;

	gguf_w_init(&w);
	expect_tok_load_fail(&w, "tokenizer.ggml.model");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "gpt2");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 3);
	expect_tok_load_fail(&w, "tokenizer.ggml.merges: missing");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "t5\x01");
	expect_tok_load_fail(&w, "unsupported tokenizer 't5?'");

	gguf_w_init(&w);
	gguf_w_u32(&w, "tokenizer.ggml.model", 1);
	expect_tok_load_fail(&w, "tokenizer.ggml.model");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	expect_tok_load_fail(&w, "tokenizer.ggml.tokens");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_u32(&w, "tokenizer.ggml.tokens", 3);
	expect_tok_load_fail(&w, "tokenizer.ggml.tokens");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 0);
	expect_tok_load_fail(&w, "tokenizer.ggml.tokens");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 3);
	gguf_w_arr(&w, "tokenizer.ggml.scores", GGUF_T_F32, s2, 2);
	expect_tok_load_fail(&w, "tokenizer.ggml.scores: 2 scores for 3 tokens");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 3);
	gguf_w_arr(&w, "tokenizer.ggml.token_type", GGUF_T_I32, ty, 2);
	expect_tok_load_fail(&w, "tokenizer.ggml.token_type: 2 types for 3 tokens");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 3);
	gguf_w_arr_str(&w, "tokenizer.ggml.scores", p3, 3);
	expect_tok_load_fail(&w, "tokenizer.ggml.scores");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", dup, 3);
	expect_tok_load_fail(&w, "piece 'a' appears twice (ids 1 and 2)");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", badbyte, 3);
	gguf_w_arr(&w, "tokenizer.ggml.token_type", GGUF_T_I32, ty, 3);
	expect_tok_load_fail(&w, "byte token 2 is '<0xZZ>'");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 3);
	gguf_w_str(&w, "tokenizer.ggml.bos_token_id", "1");
	expect_tok_load_fail(&w, "tokenizer.ggml.bos_token_id");

	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p3, 3);
	gguf_w_u32(&w, "tokenizer.ggml.add_bos_token", 1);
	expect_tok_load_fail(&w, "tokenizer.ggml.add_bos_token");
}

/* Text that no piece or byte token covers, in a vocabulary without an
 * unknown token, is an error, not a crash; so is BOS without a BOS id. */
Test(tok, encode_errors)
{
	static const char *p[] = {"x", "y"};
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p, 2);
	gguf_w_bool(&w, "tokenizer.ggml.add_space_prefix", false);
	dai_tok *t = tok_from_writer(&w, "p.gguf");
	dai_err e;
	cr_assert_eq(tok_bos(t), 1, "default BOS 1 is in range");
	cr_assert_eq(tok_eos(t), -1, "default EOS 2 is out of range");
	int32_t *ids;
	size_t n;
	/* unk defaults to 0 here ("x"): every unknown byte becomes it */
	cr_assert_eq(tok_encode(t, "xzy", 3, 0, &ids, &n, &e), 0, "%s", e.msg);
	cr_assert(n == 3 && ids[0] == 0 && ids[1] == 0 && ids[2] == 1);
	free(ids);
	cr_assert_eq(tok_encode(t, "x", 1, TOK_ADD_EOS, &ids, &n, &e), -1);
	cr_assert(strstr(e.msg, "no EOS"), "%s", e.msg);
	tok_free(t);
}

/* ------------------------------------------- an independent slow encoder */

/* The SentencePiece merge written the naive way (as llama2.c's encode does
 * it): repeatedly merge the adjacent pair whose concatenation is the piece
 * with the highest score, the leftmost among equals, until no pair is a
 * piece; then pieces or bytes. No space prefix or special tokens: the
 * input is already escaped. O(n^2), for comparison only. */
static size_t naive_encode(const dai_tok *t, const char *s, size_t len, int32_t *out)
{
	size_t start[512], n = 0, no = 0;
	size_t ln[512];
	for (size_t off = 0; off < len; n++) {
		unsigned char c = (unsigned char)s[off];
		size_t cl = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (cl > len - off)
			cl = len - off;
		start[n] = off, ln[n] = cl;
		off += cl;
	}
	for (;;) {
		size_t best = SIZE_MAX;
		float best_score = 0;
		for (size_t i = 0; i + 1 < n; i++) {
			int32_t id = tok_find(t, s + start[i], ln[i] + ln[i + 1]);
			if (id >= 0 && (best == SIZE_MAX || tok_score(t, id) > best_score))
				best = i, best_score = tok_score(t, id);
		}
		if (best == SIZE_MAX)
			break;
		ln[best] += ln[best + 1];
		memmove(start + best + 1, start + best + 2, (n - best - 2) * sizeof *start);
		memmove(ln + best + 1, ln + best + 2, (n - best - 2) * sizeof *ln);
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		int32_t id = tok_find(t, s + start[i], ln[i]);
		if (id >= 0) {
			out[no++] = id;
			continue;
		}
		for (size_t j = 0; j < ln[i]; j++) {
			char hex[7];
			snprintf(hex, sizeof hex, "<0x%02X>", (unsigned char)s[start[i] + j]);
			out[no++] = tok_find(t, hex, 6);
		}
	}
	return no;
}

Test(tok, matches_naive_merge_on_random_text)
{
	dai_tok *vocabs[2] = {load_a(), load_tok512()};
	static const char *parts[] = {"the",
	                              "a",
	                              "Once",
	                              "upon",
	                              "time",
	                              " ",
	                              "  ",
	                              "e",
	                              "th",
	                              "in",
	                              "an",
	                              "\n",
	                              ",",
	                              ".",
	                              "ly",
	                              "Lily",
	                              "\xc3\xa9",
	                              "\xe2\x82\xac",
	                              "\xf0\x9f\x98\x80",
	                              "zz",
	                              "x",
	                              "qu",
	                              "!",
	                              "0"};
	uint32_t st = 12345;
	for (int v = 0; v < 2; v++) {
		const dai_tok *t = vocabs[v];
		for (int round = 0; round < 400; round++) {
			char text[200];
			size_t len = 0;
			int words = 1 + round % 25;
			for (int w = 0; w < words; w++) {
				st = st * 1664525u + 1013904223u;
				const char *p = parts[(st >> 16) % (sizeof parts / sizeof *parts)];
				size_t pl = strlen(p);
				if (len + pl >= 60)
					break;
				memcpy(text + len, p, pl);
				len += pl;
			}
			/* what tok_encode sees after the prefix and escape */
			char esc[200 * 3 + 3];
			size_t el = 0;
			for (size_t i = 0; i <= len; i++) {
				if (i == 0 || text[i - 1] == ' ') {
					memcpy(esc + el, "\xe2\x96\x81", 3);
					el += 3;
				}
				if (i < len && text[i] != ' ')
					esc[el++] = text[i];
			}
			int32_t want[600];
			size_t nw = naive_encode(t, esc, el, want);
			int32_t *ids;
			size_t n;
			dai_err e;
			cr_assert_eq(tok_encode(t, text, len, 0, &ids, &n, &e), 0, "%s", e.msg);
			cr_assert_eq(n, nw, "vocab %d '%.*s': %zu ids, naive %zu", v, (int)len,
			             text, n, nw);
			cr_assert_arr_eq(ids, want, n * sizeof *ids, "vocab %d '%.*s'", v, (int)len,
			                 text);
			free(ids);
		}
		tok_free(vocabs[v]);
	}
}

/* Equal scores: the leftmost pair merges first. */
Test(tok, merge_ties_go_left)
{
	static const char *p[] = {"<unk>", "a", "b", "c", "aa", "ab", "bc"};
	float sc[] = {0, -5, -5, -5, -1, -1, -1};
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p, 7);
	gguf_w_arr(&w, "tokenizer.ggml.scores", GGUF_T_F32, sc, 7);
	gguf_w_bool(&w, "tokenizer.ggml.add_space_prefix", false);
	dai_tok *t = tok_from_writer(&w, "ties.gguf");
	static const int32_t aaa[] = {4, 1}, abc[] = {5, 3}, aabc[] = {4, 6}, aaaa[] = {4, 4};
	expect_ids(t, "aaa", 0, aaa, 2);
	expect_ids(t, "abc", 0, abc, 2);
	expect_ids(t, "aabc", 0, aabc, 2);
	expect_ids(t, "aaaa", 0, aaaa, 2);
	tok_free(t);
}

/* Special ids of any integer type; out-of-range ones (-1, 0xffffffff) keep
 * the default. */
Test(tok, special_ids)
{
	static const char *p[] = {"<unk>", "<s>", "</s>", "x", "<|im_end|>"};
	int32_t ty[] = {2, 3, 3, 1, 4};
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "tokenizer.ggml.model", "llama");
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", p, 5);
	gguf_w_arr(&w, "tokenizer.ggml.token_type", GGUF_T_I32, ty, 5);
	gguf_w_i32(&w, "tokenizer.ggml.padding_token_id", -1);
	gguf_w_u64(&w, "tokenizer.ggml.unknown_token_id", 0xffffffffffffffffull);
	gguf_w_u8(&w, "tokenizer.ggml.eos_token_id", 3);
	gguf_w_i64(&w, "tokenizer.ggml.bos_token_id", 2);
	gguf_w_bool(&w, "tokenizer.ggml.add_eos_token", true);
	dai_tok *t = tok_from_writer(&w, "ids.gguf");
	dai_err e;
	size_t len;
	cr_assert_eq(tok_pad(t), -1);
	cr_assert_eq(tok_unk(t), 0);
	cr_assert_eq(tok_eos(t), 3);
	cr_assert_eq(tok_bos(t), 2);
	cr_assert_eq(tok_default_flags(t), TOK_ADD_BOS | TOK_ADD_EOS);
	/* EOS and the <|im_end|> piece end generation; the latter is now a
	 * control token (llama.cpp's override), so plain text does not split
	 * on it */
	cr_assert(tok_is_eog(t, 3) && tok_is_eog(t, 4) && !tok_is_eog(t, 2));
	cr_assert_eq(tok_type(t, 4), TOK_T_CONTROL);
	size_t pl;
	tok_piece(t, 4, 0, &pl);
	cr_assert_eq(pl, 0);
	/* TOK_REMOVE_SPECIAL drops the leading BOS and trailing EOS */
	int32_t *ids;
	size_t n;
	cr_assert_eq(tok_encode(t, "x", 1, tok_default_flags(t), &ids, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 6, "BOS, the three bytes of U+2581 as unk, x, EOS: %zu", n);
	cr_assert(ids[0] == 2 && ids[n - 1] == 3);
	char *out;
	cr_assert_eq(
	    tok_decode(t, ids, n, TOK_REMOVE_SPECIAL | TOK_UNPARSE_SPECIAL, &out, &len, &e), 0);
	/* the space prefix became <unk>s (no byte tokens), which read "<unk>"
	 * when unparsed */
	cr_assert(strcmp(out, "<unk><unk><unk>x") == 0, "'%s'", out);
	free(out);
	cr_assert_eq(tok_decode(t, ids, n, TOK_UNPARSE_SPECIAL, &out, &len, &e), 0);
	cr_assert(strcmp(out, "</s><unk><unk><unk>xx") == 0, "'%s'", out);
	free(out);
	free(ids);
	tok_free(t);
}
