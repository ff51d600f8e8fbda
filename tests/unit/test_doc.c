/* Unit tests: the document format (parse, build, sign, verify, id, canonical
 * form) and the stream reader. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docio.h"

static unsigned char sk[64], pk[32], sk2[64], pk2[32];

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	unsigned char seed[32] = {1}, seed2[32] = {2};
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_seed_keypair(pk2, sk2, seed2);
}
TestSuite(doc, .init = setup);

static int parse(dai_doc *d, const char *s, dai_err *e)
{
	return doc_parse(d, s, strlen(s), "t", 1, e);
}

/* The text must be rejected with a message containing want. */
static void reject(const char *text, const char *want)
{
	dai_doc d;
	dai_err e = {{0}};
	int rc = parse(&d, text, &e);
	cr_assert_eq(rc, -1, "accepted: %.200s", text);
	cr_assert(strstr(e.msg, want), "message '%s' lacks '%s'", e.msg, want);
}

static void accept(const char *text)
{
	dai_doc d;
	dai_err e;
	cr_assert_eq(parse(&d, text, &e), 0, "rejected (%s): %.200s", e.msg, text);
	doc_free(&d);
}

/* A signed document built from fields, as text (caller frees). */
static char *signed_text(const char *kind, const char **kv, size_t n)
{
	dai_docb b;
	dai_doc d;
	dai_err e;
	docb_init(&b, kind, 1);
	for (size_t i = 0; i < n; i += 2)
		docb_add(&b, kv[i], kv[i + 1]);
	cr_assert_eq(docb_sign(&b, &d, sk, &e), 0, "%s", e.msg);
	char *s = strndup(d.raw, d.len);
	doc_free(&d);
	return s;
}

Test(doc, build_parse_round_trip)
{
	const char *kv[] = {"job", "b2:9f1c0000000000000000000000000000000000000000000000000000000000aa",
			    "tokens-in", "12", "output", "SGVsbG8=", "note", "ünïcødé ok"};
	char *s = signed_text("example", kv, 8);
	dai_doc d;
	dai_err e;
	cr_assert_eq(parse(&d, s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(d.kind, "example");
	cr_assert_eq(d.version, 1);
	cr_assert_eq(d.nfields, 4);
	cr_assert_str_eq(doc_get(&d, "tokens-in"), "12");
	cr_assert_str_eq(doc_get(&d, "note"), "ünïcødé ok");
	cr_assert_null(doc_get(&d, "missing"));
	cr_assert_eq(d.len, strlen(s));
	cr_assert_eq(memcmp(d.raw, s, d.len), 0, "raw bytes kept exactly");
	cr_assert(d.is_signed);
	cr_assert_eq(doc_verify(&d, &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(d.signer_pk, pk, 32), 0);
	/* The signature covers exactly the bytes before the sig line. */
	cr_assert_eq(strncmp(d.raw + d.body_len, "sig z6Mk", 8), 0);
	/* The id is BLAKE2b-256 of every byte. */
	unsigned char h[32];
	char hex[65], id[DAI_ID_LEN + 1];
	crypto_generichash(h, 32, (const unsigned char *)s, strlen(s), NULL, 0);
	hex_encode(hex, h, 32);
	doc_id(&d, id);
	cr_assert_eq(strncmp(id, "b2:", 3), 0);
	cr_assert_str_eq(id + 3, hex);
	doc_free(&d);
	free(s);
}

Test(doc, unsigned_then_signed)
{
	dai_doc d, s;
	dai_err e;
	cr_assert_eq(parse(&d, "dai-note 1\ntext hi\nsig -\n", &e), 0);
	cr_assert_eq(d.is_signed, 0);
	cr_assert_eq(doc_verify(&d, &e), -1);
	cr_assert(strstr(e.msg, "unsigned"));
	cr_assert_eq(doc_sign(&d, &s, sk, &e), 0, "%s", e.msg);
	cr_assert_eq(s.body_len, d.body_len);
	cr_assert_eq(memcmp(s.raw, d.raw, d.body_len), 0);
	cr_assert_eq(doc_verify(&s, &e), 0);
	doc_free(&d);
	doc_free(&s);
}

Test(doc, every_flipped_byte_fails)
{
	const char *kv[] = {"text", "hello world", "n", "42"};
	char *s = signed_text("note", kv, 4);
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			s[i] ^= (char)(1 << bit);
			dai_doc d;
			dai_err e;
			int parsed = parse(&d, s, &e) == 0;
			int ok = parsed && doc_verify(&d, &e) == 0;
			if (parsed)
				doc_free(&d);
			cr_assert(!ok, "flip of bit %d at byte %zu still verifies", bit, i);
			s[i] ^= (char)(1 << bit);
		}
	}
	free(s);
}

Test(doc, wrong_key)
{
	/* A signature by sk2 presented under the name of pk. */
	const char *kv[] = {"text", "x"};
	char *s = signed_text("note", kv, 2);
	dai_doc d, d2;
	dai_err e;
	cr_assert_eq(parse(&d, s, &e), 0);
	cr_assert_eq(doc_sign(&d, &d2, sk2, &e), 0);
	char signer1[DAI_SIGNER_MAX];
	ed25519_signer_name(signer1, pk);
	/* Replace the signer name in d2 with pk's: same length. */
	char *t = strndup(d2.raw, d2.len);
	char *at = strstr(t, "sig z");
	memcpy(at + 4, signer1, strlen(signer1));
	dai_doc d3;
	cr_assert_eq(parse(&d3, t, &e), 0, "%s", e.msg);
	cr_assert_eq(doc_verify(&d3, &e), -1);
	cr_assert(strstr(e.msg, "bad signature"));
	doc_free(&d);
	doc_free(&d2);
	doc_free(&d3);
	free(t);
	free(s);
}

Test(doc, canonical_rejections)
{
	accept("dai-note 1\ntext hi\nsig -\n");
	reject("dai-note 1\r\ntext hi\nsig -\n", "carriage return");
	reject("dai-note 1\ntext hi\r\nsig -\n", "carriage return");
	reject("dai-note 1\ntext hi\ntext ho\nsig -\n", "duplicate key 'text'");
	reject("dai-note 1\ntext hi\nsig -", "no newline");
	reject("dai-note 1\ntext hi\n", "no sig line");
	reject("", "empty document");
	reject("dai-note 1\ntext hi\nsig -\ndai-note 1\n", "data after the sig line");
	reject("dai-note 1\ntext  hi\nsig -\n", "leading or trailing space");
	reject("dai-note 1\ntext hi \nsig -\n", "leading or trailing space");
	reject("dai-note 1\ntext \nsig -\n", "empty value");
	reject("dai-note 1\ntext\nsig -\n", "has no value");
	reject("dai-note 1\nText hi\nsig -\n", "outside [a-z0-9-]");
	reject("dai-note 1\nte_xt hi\nsig -\n", "outside [a-z0-9-]");
	reject("dai-note 1\ntext a\tb\nsig -\n", "control character");
	reject("dai-note 1\ntext \xc3\x28\nsig -\n", "invalid UTF-8");
	reject("dai-note 1\ntext \xc0\xaf\nsig -\n", "invalid UTF-8"); /* overlong */
	reject("dai-note 1\ntext \xed\xa0\x80\nsig -\n", "invalid UTF-8"); /* surrogate */
	reject("dai-note 01\ntext hi\nsig -\n", "bad version");
	reject("dai-note 0\ntext hi\nsig -\n", "bad version");
	reject("dai-note\ntext hi\nsig -\n", "no version");
	reject("dai-Note 1\ntext hi\nsig -\n", "must start with a letter");
	reject("note 1\ntext hi\nsig -\n", "not a dai document");
	reject("dai-note 1\ntext hi\nsig\n", "sig line");
	reject("dai-note 1\ntext hi\nsig zzz\n", "sig line");
	reject("dai-note 1\ntext hi\nsig z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw AAAA\n",
	       "signature is not 64 bytes");
}

Test(doc, schema_rejections)
{
	const char *did = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
	char buf[512];
	snprintf(buf, sizeof buf, "dai-key 1\ndid %s\ntime 2026-11-24T12:00:00Z\nsig -\n", did);
	accept(buf);
	snprintf(buf, sizeof buf, "dai-key 1\ntime 2026-11-24T12:00:00Z\ndid %s\nsig -\n", did);
	reject(buf, "missing key 'did' before 'time'");
	snprintf(buf, sizeof buf,
		 "dai-key 1\ndid %s\ntime 2026-11-24T12:00:00Z\ncomment x\nsig -\n", did);
	reject(buf, "key 'comment' out of order");
	snprintf(buf, sizeof buf, "dai-key 1\ndid %s\ndid %s\ntime 2026-11-24T12:00:00Z\nsig -\n",
		 did, did);
	reject(buf, "duplicate key 'did'");
	snprintf(buf, sizeof buf, "dai-key 1\ndid %s\nsig -\n", did);
	reject(buf, "missing key 'time'");
	snprintf(buf, sizeof buf, "dai-key 1\ncomment x\ntime 2026-11-24T12:00:00Z\nsig -\n");
	reject(buf, "missing key 'did'");
	snprintf(buf, sizeof buf, "dai-key 1\ndid %s\nfoo x\ntime 2026-11-24T12:00:00Z\nsig -\n",
		 did);
	reject(buf, "unknown key 'foo'");
	snprintf(buf, sizeof buf, "dai-key 1\ndid %s\ntime 2026-02-30T12:00:00Z\nsig -\n", did);
	reject(buf, "expected a time");
	snprintf(buf, sizeof buf, "dai-key 1\ndid %sX\ntime 2026-11-24T12:00:00Z\nsig -\n", did);
	reject(buf, "expected an Ed25519 did:key");
	snprintf(buf, sizeof buf, "dai-key 2\ndid %s\ntime 2026-11-24T12:00:00Z\nsig -\n", did);
	reject(buf, "version 2 is not supported");
	snprintf(buf, sizeof buf,
		 "dai-seckey 1\ndid %s\nkdf none\nseed AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		 "sig -\n",
		 did);
	accept(buf);
	snprintf(buf, sizeof buf,
		 "dai-seckey 1\ndid %s\nkdf none\nseed AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"
		 "sig -\n",
		 did);
	reject(buf, "canonical base64");
	snprintf(buf, sizeof buf, "dai-seckey 1\ndid %s\nkdf NONE\nsig -\n", did);
	reject(buf, "expected a word");
	snprintf(buf, sizeof buf, "dai-seckey 1\ndid %s\nkdf none\nopslimit 01\nsig -\n", did);
	reject(buf, "unsigned decimal");
	snprintf(buf, sizeof buf,
		 "dai-seckey 1\ndid %s\nkdf none\nopslimit 18446744073709551616\nsig -\n", did);
	reject(buf, "unsigned decimal");
}

/* A document of nfields fields, each value vlen bytes long. */
static char *big_doc(size_t nfields, size_t vlen)
{
	size_t cap = 64 + nfields * (vlen + 16);
	char *s = malloc(cap), *p = s;
	p += sprintf(p, "dai-note 1\n");
	for (size_t i = 0; i < nfields; i++) {
		p += sprintf(p, "k%zu ", i);
		memset(p, 'a', vlen);
		p += vlen;
		*p++ = '\n';
	}
	p += sprintf(p, "sig -\n");
	*p = 0;
	return s;
}

Test(doc, limits)
{
	char *s = big_doc(256, 8);
	accept(s);
	free(s);
	s = big_doc(257, 8);
	reject(s, "more than 256 fields");
	free(s);
	s = big_doc(1, DAI_LINE_MAX - 3); /* "k0 " + value = exactly the limit */
	accept(s);
	free(s);
	s = big_doc(1, DAI_LINE_MAX - 2);
	reject(s, "line longer than");
	free(s);
	s = big_doc(256, DAI_LINE_MAX - 5); /* 256 lines of up to 64 KiB + 1: over 16 MiB */
	reject(s, "document longer than");
	free(s);
}

/* A file descriptor reading text (from an unlinked temporary file). */
static int pipe_of(const char *text, size_t n)
{
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	fflush(f);
	int fd = dup(fileno(f));
	fclose(f);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

Test(doc, stream_reader)
{
	const char *kv[] = {"text", "one"};
	char *a = signed_text("note", kv, 2);
	const char *bad = "dai-note 1\ntext x\ntext y\nsig -\n";
	const char *c = "dai-other 7\nzz 1\nsig -\n";
	char all[2048];
	snprintf(all, sizeof all, "%s%s%s", a, bad, c);
	dai_reader r;
	dai_err e;
	dai_doc d;
	cr_assert_eq(reader_init(&r, pipe_of(all, strlen(all)), "<pipe>", &e), 0);
	cr_assert_eq(reader_next(&r, &d, &e), DOC_OK, "%s", e.msg);
	cr_assert_eq(d.len, strlen(a));
	cr_assert_eq(memcmp(d.raw, a, d.len), 0, "passed through byte for byte");
	doc_free(&d);
	cr_assert_eq(reader_next(&r, &d, &e), DOC_BAD);
	cr_assert(strstr(e.msg, "<pipe>: line 6: duplicate key"), "%s", e.msg);
	size_t n;
	reader_raw(&r, &n);
	cr_assert_eq(n, strlen(bad));
	cr_assert_eq(reader_next(&r, &d, &e), DOC_OK, "%s", e.msg);
	cr_assert_str_eq(d.kind, "other");
	cr_assert_eq(d.version, 7);
	doc_free(&d);
	cr_assert_eq(reader_next(&r, &d, &e), DOC_EOF);
	reader_free(&r);

	/* Input ending inside a document is fatal. */
	cr_assert_eq(reader_init(&r, pipe_of(a, strlen(a) - 10), "<pipe>", &e), 0);
	cr_assert_eq(reader_next(&r, &d, &e), DOC_FATAL);
	cr_assert(strstr(e.msg, "input ends inside a document"), "%s", e.msg);
	reader_free(&r);
	free(a);
}

Test(doc, stream_line_too_long)
{
	char *s = big_doc(1, DAI_LINE_MAX + 100);
	dai_reader r;
	dai_err e;
	dai_doc d;
	cr_assert_eq(reader_init(&r, pipe_of(s, strlen(s)), "<pipe>", &e), 0);
	cr_assert_eq(reader_next(&r, &d, &e), DOC_FATAL);
	cr_assert(strstr(e.msg, "line 2: line longer than"), "%s", e.msg);
	reader_free(&r);
	free(s);
}

Test(doc, builder_refuses_bad_values)
{
	dai_docb b;
	dai_doc d;
	dai_err e;
	docb_init(&b, "note", 1);
	docb_add(&b, "text", "two\nlines");
	cr_assert_eq(docb_unsigned(&b, &d, &e), -1);
	cr_assert(strstr(e.msg, "control character"), "%s", e.msg);
	docb_init(&b, "note", 1);
	docb_add(&b, "BAD", "x");
	cr_assert_eq(docb_unsigned(&b, &d, &e), -1);
}
