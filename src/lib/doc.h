/*
 * doc.h - dai documents: the one text format every tool reads and writes.
 *
 *   dai-<kind> <version>
 *   <key> <value>            (key [a-z0-9-]+, one space, value without newline)
 *   ...
 *   sig <signer> <signature> (or "sig -" while unsigned)
 *
 * The signature is Ed25519 over every byte before the sig line; the signer
 * is the key's multibase name (z6Mk...). A document's id is "b2:" + hex
 * BLAKE2b-256 of all its bytes, signature included. There is one canonical
 * form: LF only, no duplicate keys, printable UTF-8 values with no leading or
 * trailing space, and for the kinds in doc_schema.h a fixed key order and
 * typed values. Limits: a line of at most DAI_LINE_MAX bytes, a document of
 * at most DAI_DOC_MAX bytes and DAI_FIELDS_MAX fields.
 *
 * Parsing keeps the exact bytes, so a tool passes on documents it does not
 * consume byte for byte.
 */
#ifndef DAI_DOC_H
#define DAI_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "err.h"

#define DAI_LINE_MAX (64u * 1024u)	  /* bytes in one line, newline excluded */
#define DAI_DOC_MAX (16u * 1024u * 1024u) /* bytes in one document */
#define DAI_FIELDS_MAX 256		  /* key/value lines in one document */
#define DAI_KIND_MAX 32			  /* bytes in a kind name */
#define DAI_ID_LEN 67			  /* "b2:" + 64 hex digits */
#define DAI_SIG_LEN 64			  /* Ed25519 signature bytes */

typedef struct dai_field {
	const char *key; /* NUL-terminated, points into the document */
	const char *val;
	size_t vallen;
} dai_field;

typedef struct dai_doc {
	char *raw;	 /* the exact bytes, sig line included (owned) */
	size_t len;	 /* bytes in raw */
	size_t body_len; /* bytes covered by the signature */
	char kind[DAI_KIND_MAX + 1]; /* "receipt" for "dai-receipt" */
	unsigned version;
	size_t nfields;
	dai_field *fields;		   /* owned */
	int is_signed;			   /* 0 for "sig -" */
	char signer[DAI_SIGNER_MAX];	   /* z6Mk... when signed */
	unsigned char sig[DAI_SIG_LEN];	   /* when signed */
	unsigned char signer_pk[32];	   /* when signed */
	char *text;			   /* owned: raw with separators replaced by NUL */
} dai_doc;

/* Parses exactly one document from buf[0..len) (a copy is kept). name and
 * first_line place errors: "<name>: line N: problem". Checks the canonical
 * form and, for known kinds, the schema; it does not check the signature. */
int doc_parse(dai_doc *d, const char *buf, size_t len, const char *name, unsigned long first_line,
	      dai_err *e);

void doc_free(dai_doc *d);

/* The value of key, or NULL; *len gets its length when len is not NULL. */
const char *doc_get(const dai_doc *d, const char *key);

/* The value of key as an unsigned integer, for a field that the document's
 * schema has checked as one (V_UINT); 0 when the field is absent. */
uint64_t doc_get_uint(const dai_doc *d, const char *key);

/* The document's id: "b2:" + 64 hex digits, NUL-terminated. */
void doc_id(const dai_doc *d, char out[DAI_ID_LEN + 1]);
void doc_id_bytes(const char *raw, size_t len, char out[DAI_ID_LEN + 1]);

/* Checks the signature against the signer named in the document. Returns 0
 * when it is valid, -1 (with the reason) when unsigned or bad. */
int doc_verify(const dai_doc *d, dai_err *e);

/*
 * Building a document. Values are checked as they are added; doc_build_*
 * produce a parsed, canonical document or fail. Typical use:
 *
 *   dai_docb b; docb_init(&b, "key", 1);
 *   docb_add(&b, "did", did); docb_addf(&b, "tokens-in", "%u", n);
 *   docb_sign(&b, &d, sk, e)  or  docb_unsigned(&b, &d, e)
 */
typedef struct dai_docb {
	char *buf;
	size_t len, cap;
	int failed; /* an add failed; the message is in err */
	dai_err err;
} dai_docb;

void docb_init(dai_docb *b, const char *kind, unsigned version);
void docb_add(dai_docb *b, const char *key, const char *val);
void docb_addn(dai_docb *b, const char *key, const char *val, size_t n);
void docb_addf(dai_docb *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void docb_add_b64(dai_docb *b, const char *key, const void *data, size_t n);
void docb_free(dai_docb *b);

/* Finish as an unsigned document (ends in "sig -"). */
int docb_unsigned(dai_docb *b, dai_doc *out, dai_err *e);

/* Finish and sign with an Ed25519 secret key (64 bytes, libsodium layout). */
int docb_sign(dai_docb *b, dai_doc *out, const unsigned char *sk, dai_err *e);

/* Signs an unsigned document ("sig -") or re-signs a signed one, producing a
 * new parsed document. */
int doc_sign(const dai_doc *in, dai_doc *out, const unsigned char *sk, dai_err *e);

#endif
