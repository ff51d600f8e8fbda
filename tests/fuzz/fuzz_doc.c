/* libFuzzer harness for documents: parse the input as one document and read
 * it as a stream of documents, and check what must hold for every input.
 *
 * One document, when it parses:
 *   - it keeps the input's exact bytes, and its id is the id of those bytes;
 *   - every field lies inside the document, keys are unique (repeat keys of
 *     a known kind aside) and found by doc_get, typed values check;
 *   - parsing its bytes again gives the same kind, version, fields and id;
 *   - building it again field by field gives the same bytes;
 *   - signing it gives a document with the same body that verifies.
 * The stream: every framed document's bytes follow one another in the input,
 * a clean end of input has consumed all of it, and an input that parses as
 * one document is read as exactly that document. Anything else aborts. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc_schema.h"
#include "docio.h"
#include "fsio.h"

#define CHECK(c) ((c) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #c), abort()))

static unsigned char sk[crypto_sign_SECRETKEYBYTES];

static void setup(void)
{
	static int done;
	if (done)
		return;
	CHECK(sodium_init() >= 0);
	unsigned char seed[crypto_sign_SEEDBYTES] = {1, 2, 3};
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	crypto_sign_seed_keypair(pk, sk, seed);
	done = 1;
}

static void same_doc(const dai_doc *a, const dai_doc *b)
{
	char ia[DAI_ID_LEN + 1], ib[DAI_ID_LEN + 1];
	CHECK(a->len == b->len && memcmp(a->raw, b->raw, a->len) == 0);
	CHECK(a->body_len == b->body_len);
	CHECK(strcmp(a->kind, b->kind) == 0 && a->version == b->version);
	CHECK(a->nfields == b->nfields && a->is_signed == b->is_signed);
	for (size_t i = 0; i < a->nfields; i++) {
		CHECK(strcmp(a->fields[i].key, b->fields[i].key) == 0);
		CHECK(a->fields[i].vallen == b->fields[i].vallen);
		CHECK(memcmp(a->fields[i].val, b->fields[i].val, a->fields[i].vallen) == 0);
	}
	doc_id(a, ia);
	doc_id(b, ib);
	CHECK(strcmp(ia, ib) == 0);
}

/* A base64 value decodes to bytes whose encoding is that same text, and
 * the constant-time decoder agrees. */
static void same_b64(const char *v, size_t n)
{
	static unsigned char buf[DAI_LINE_MAX], buf2[DAI_LINE_MAX];
	static char again[DAI_LINE_MAX + 4];
	size_t got, got2;
	CHECK(b64_decode(buf, sizeof buf, &got, v, n) == 0);
	CHECK(b64_decode_secret(buf2, sizeof buf2, &got2, v, n) == 0);
	CHECK(got == got2 && memcmp(buf, buf2, got) == 0);
	b64_encode(again, buf, got);
	CHECK(strlen(again) == n && memcmp(again, v, n) == 0);
}

/* Both decoders give the same answer for any text, valid or not. */
static void decoders_agree(const uint8_t *data, size_t size)
{
	static unsigned char a[DAI_LINE_MAX], b[DAI_LINE_MAX];
	size_t n = size < DAI_LINE_MAX ? size : DAI_LINE_MAX, na = 0, nb = 0;
	int ra = b64_decode(a, sizeof a, &na, (const char *)data, n);
	int rb = b64_decode_secret(b, sizeof b, &nb, (const char *)data, n);
	CHECK(ra == rb);
	CHECK(ra != 0 || (na == nb && memcmp(a, b, na) == 0));
}

/* Rebuilds d's body field by field; an unsigned document comes out the same
 * bytes, a signed one the same body. */
static void rebuild(const dai_doc *d)
{
	dai_docb b;
	dai_doc out;
	dai_err e;
	docb_init(&b, d->kind, d->version);
	for (size_t i = 0; i < d->nfields; i++)
		docb_addn(&b, d->fields[i].key, d->fields[i].val, d->fields[i].vallen);
	if (docb_unsigned(&b, &out, &e) != 0) {
		fprintf(stderr, "rebuild failed: %s\n", e.msg);
		abort();
	}
	CHECK(out.body_len == d->body_len && memcmp(out.raw, d->raw, d->body_len) == 0);
	if (!d->is_signed)
		same_doc(&out, d);
	doc_free(&out);
}

static void check_one(const uint8_t *data, size_t size, const dai_doc *d)
{
	char id[DAI_ID_LEN + 1], id2[DAI_ID_LEN + 1];
	dai_doc again, s;
	dai_err e;
	CHECK(d->len == size && memcmp(d->raw, data, size) == 0);
	doc_id(d, id);
	doc_id_bytes((const char *)data, size, id2);
	CHECK(strcmp(id, id2) == 0 && strlen(id) == DAI_ID_LEN && memcmp(id, "b2:", 3) == 0);
	CHECK(d->body_len < d->len && memcmp(d->raw + d->body_len, "sig ", 4) == 0);
	CHECK(d->raw[d->len - 1] == '\n' && memchr(d->raw, '\r', d->len) == NULL);
	CHECK(d->nfields <= DAI_FIELDS_MAX);
	const dai_schema *sch = schema_find(d->kind);
	for (size_t i = 0; i < d->nfields; i++) {
		const dai_field *f = &d->fields[i];
		CHECK(f->key >= d->text && f->val + f->vallen <= d->text + d->body_len);
		CHECK(f->val[-1] == 0 && f->val[f->vallen] == 0); /* separators became NUL */
		const char *v = doc_get(d, f->key);
		size_t first = 0;
		while (strcmp(d->fields[first].key, f->key) != 0)
			first++;
		CHECK(v == d->fields[first].val);
		if (first != i) { /* only a repeat key of a known kind may come twice */
			CHECK(sch != NULL && first + 1 <= i);
			for (size_t j = first; j <= i; j++)
				CHECK(strcmp(d->fields[j].key, f->key) == 0);
		}
		if (sch) {
			size_t j = 0;
			while (j < sch->nfields && strcmp(sch->fields[j].key, f->key) != 0)
				j++;
			CHECK(j < sch->nfields);
			CHECK(value_check(sch->fields[j].type, f->val, f->vallen) == NULL);
			if (sch->fields[j].type == V_B64 || sch->fields[j].type == V_B64_SECRET)
				same_b64(f->val, f->vallen);
		}
	}
	if (sch)
		CHECK(d->version == sch->version);
	if (d->is_signed) { /* the sig line has one spelling */
		char signer[DAI_SIGNER_MAX], sig64[128], line[256];
		ed25519_signer_name(signer, d->signer_pk);
		b64_encode(sig64, d->sig, DAI_SIG_LEN);
		int n = snprintf(line, sizeof line, "sig %s %s\n", signer, sig64);
		CHECK(strcmp(signer, d->signer) == 0);
		CHECK((size_t)n == d->len - d->body_len &&
		      memcmp(line, d->raw + d->body_len, n) == 0);
	}

	CHECK(doc_parse(&again, d->raw, d->len, "again", 1, &e) == 0);
	same_doc(d, &again);
	doc_free(&again);

	rebuild(d);

	if (doc_sign(d, &s, sk, &e) != 0) {
		/* Only a body too close to the size limit may fail to take a signature. */
		CHECK(d->body_len + 200 > DAI_DOC_MAX);
		return;
	}
	CHECK(s.body_len == d->body_len && memcmp(s.raw, d->raw, d->body_len) == 0);
	CHECK(s.is_signed && doc_verify(&s, &e) == 0);
	doc_free(&s);
}

/* Reads data as a stream through a file descriptor. Returns how many
 * documents parsed. */
static size_t check_stream(const uint8_t *data, size_t size, const dai_doc *whole)
{
	static FILE *tmp;
	if (!tmp)
		CHECK((tmp = tmpfile()) != NULL);
	int fd = fileno(tmp);
	CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
	CHECK(write_all(fd, data, size) == 0 && lseek(fd, 0, SEEK_SET) == 0);

	dai_reader r;
	dai_err e;
	CHECK(reader_init(&r, fd, "fuzz", &e) == 0);
	size_t off = 0, ok = 0, framed = 0;
	int st;
	for (;;) {
		dai_doc d;
		st = reader_next(&r, &d, &e);
		if (st == DOC_EOF || st == DOC_FATAL)
			break;
		size_t len;
		const char *raw = reader_raw(&r, &len);
		CHECK(len > 0 && off + len <= size && memcmp(raw, data + off, len) == 0);
		CHECK(raw[len - 1] == '\n');
		framed++;
		if (st == DOC_OK) {
			CHECK(d.len == len && memcmp(d.raw, raw, len) == 0);
			ok++;
			doc_free(&d);
		}
		off += len;
	}
	if (st == DOC_EOF)
		CHECK(off == size);
	if (whole) {
		CHECK(st == DOC_EOF && framed == 1 && ok == 1);
	}
	reader_free(&r);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	decoders_agree(data, size);
	dai_doc d;
	dai_err e;
	int parsed = doc_parse(&d, (const char *)data, size, "fuzz", 1, &e) == 0;
	if (parsed)
		check_one(data, size, &d);
	else
		CHECK(e.msg[0] != 0 && strchr(e.msg, '\n') == NULL);
	check_stream(data, size, parsed ? &d : NULL);
	if (parsed)
		doc_free(&d);
	return 0;
}
