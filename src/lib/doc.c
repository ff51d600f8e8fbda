/* doc.c - see doc.h. */
#include "doc.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc_schema.h"

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min, cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* NULL when v[0..n) obeys the rules for every value. */
static const char *value_generic(const char *v, size_t n)
{
	const unsigned char *s = (const unsigned char *)v;
	if (n == 0)
		return "empty value";
	if (s[0] == ' ' || s[n - 1] == ' ')
		return "value has a leading or trailing space";
	for (size_t i = 0; i < n;) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return s[i] == '\r' ? "carriage return (CRLF line ending?)"
			                    : "control character in value";
		size_t k = utf8_seq(s + i, n - i);
		if (!k)
			return "invalid UTF-8 in value";
		i += k;
	}
	return NULL;
}

static int is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

void doc_free(dai_doc *d)
{
	if (!d)
		return;
	free(d->raw);
	free(d->text);
	free(d->fields);
	memset(d, 0, sizeof *d);
}

/* Formats "<name>: line N: <why>" into e and evaluates to -1. */
#define PERR(...)                                                                                  \
	(snprintf(why, sizeof why, __VA_ARGS__), dai_errf(e, "%s: line %lu: %s", name, line, why))

/* Checks the fields of a known kind against its schema. */
static int check_schema(dai_doc *d, const dai_schema *s, const unsigned long *lines,
                        const char *name, dai_err *e)
{
	char why[200];
	unsigned long line = lines[0];
	if (d->version != s->version) {
		return PERR("dai-%s version %u is not supported (this dai reads version %u)",
		            d->kind, d->version, s->version);
	}
	size_t next = 0; /* schema index the next new key may take */
	size_t last = (size_t)-1;
	unsigned char seen[64] = {0};
	for (size_t i = 0; i < d->nfields; i++) {
		const dai_field *f = &d->fields[i];
		line = lines[i + 1];
		size_t j;
		if (last != (size_t)-1 && strcmp(f->key, s->fields[last].key) == 0) {
			if (!(s->fields[last].flags & F_REPEAT))
				return PERR("duplicate key '%s'", f->key);
			j = last;
		} else {
			for (j = 0; j < s->nfields; j++)
				if (strcmp(s->fields[j].key, f->key) == 0)
					break;
			if (j == s->nfields)
				return PERR("unknown key '%s' in dai-%s", f->key, d->kind);
			if (seen[j])
				return PERR("duplicate key '%s'", f->key);
			if (j < next)
				return PERR("key '%s' out of order (it comes before '%s')", f->key,
				            s->fields[last].key);
			for (size_t k = next; k < j; k++)
				if (!(s->fields[k].flags & F_OPT))
					return PERR("missing key '%s' before '%s'",
					            s->fields[k].key, f->key);
			seen[j] = 1;
			next = j + 1;
			last = j;
		}
		const char *bad = value_check(s->fields[j].type, f->val, f->vallen);
		if (bad)
			return PERR("key '%s': %s", f->key, bad);
	}
	line = lines[d->nfields + 1];
	for (size_t k = next; k < s->nfields; k++)
		if (!(s->fields[k].flags & F_OPT))
			return PERR("missing key '%s' in dai-%s", s->fields[k].key, d->kind);
	return 0;
}

static int parse_header(dai_doc *d, char *p, size_t n, const char *name, unsigned long line,
                        dai_err *e)
{
	char why[200];
	if (n < 4 || memcmp(p, "dai-", 4) != 0)
		return PERR("not a dai document (first line must be 'dai-<kind> <version>')");
	char *sp = memchr(p, ' ', n);
	if (!sp)
		return PERR("first line has no version");
	size_t kl = (size_t)(sp - p) - 4;
	if (kl == 0 || kl > DAI_KIND_MAX)
		return PERR("document kind must be 1 to %u characters", DAI_KIND_MAX);
	if (!(p[4] >= 'a' && p[4] <= 'z'))
		return PERR("document kind must start with a letter a-z");
	for (size_t i = 0; i < kl; i++)
		if (!is_key_char(p[4 + i]))
			return PERR("document kind has a character outside [a-z0-9-]");
	memcpy(d->kind, p + 4, kl);
	d->kind[kl] = 0;
	const char *v = sp + 1;
	size_t vl = n - (size_t)(v - p);
	unsigned long long ver;
	if (value_uint(v, vl, &ver) != 0 || ver == 0 || ver > 65535)
		return PERR("bad version in first line (expected a number 1..65535)");
	d->version = (unsigned)ver;
	return 0;
}

static int parse_sig(dai_doc *d, char *p, size_t n, const char *name, unsigned long line,
                     dai_err *e)
{
	char why[200];
	if (n == 5 && memcmp(p, "sig -", 5) == 0) {
		d->is_signed = 0;
		return 0;
	}
	char *signer = p + 4;
	char *sp = memchr(signer, ' ', n - 4);
	if (!sp)
		return PERR("sig line must be 'sig <signer> <signature>' or 'sig -'");
	size_t sl = (size_t)(sp - signer);
	if (sl >= DAI_SIGNER_MAX || ed25519_from_signer(d->signer_pk, signer, sl) != 0)
		return PERR("sig line: signer is not an Ed25519 multibase key (z6Mk...)");
	memcpy(d->signer, signer, sl);
	d->signer[sl] = 0;
	const char *sig = sp + 1;
	size_t sigl = n - (size_t)(sig - p);
	size_t got = 0;
	if (b64_decode(d->sig, sizeof d->sig, &got, sig, sigl) != 0 || got != DAI_SIG_LEN)
		return PERR("sig line: signature is not 64 bytes of canonical base64");
	d->is_signed = 1;
	return 0;
}

int doc_parse(dai_doc *d, const char *buf, size_t len, const char *name, unsigned long first_line,
              dai_err *e)
{
	char why[200];
	unsigned long line = first_line;
	memset(d, 0, sizeof *d);
	if (len == 0)
		return PERR("empty document");
	if (len > DAI_DOC_MAX)
		return PERR("document longer than %u bytes", DAI_DOC_MAX);
	d->raw = malloc(len);
	d->text = malloc(len);
	d->fields = malloc(sizeof(dai_field) * DAI_FIELDS_MAX);
	unsigned long *lines = malloc(sizeof(unsigned long) * (DAI_FIELDS_MAX + 2));
	if (!d->raw || !d->text || !d->fields || !lines) {
		free(lines);
		doc_free(d);
		return PERR("out of memory");
	}
	memcpy(d->raw, buf, len);
	memcpy(d->text, buf, len);
	d->len = len;

	int rc = -1, have_sig = 0;
	size_t off = 0;
	for (unsigned long ln = 0; off < len; ln++, line++) {
		char *p = d->text + off;
		char *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;
		if (!nl) {
			PERR("truncated document: last line has no newline");
			goto out;
		}
		if (n > DAI_LINE_MAX) {
			PERR("line longer than %u bytes", DAI_LINE_MAX);
			goto out;
		}
		if (memchr(p, '\r', n)) {
			PERR("carriage return (CRLF line ending?)");
			goto out;
		}
		if (have_sig) {
			PERR("data after the sig line");
			goto out;
		}
		*nl = 0;
		if (ln == 0) {
			if (parse_header(d, p, n, name, line, e))
				goto out;
			lines[0] = line;
		} else if (n >= 3 && memcmp(p, "sig", 3) == 0 && (n == 3 || p[3] == ' ')) {
			if (n == 3) {
				PERR("sig line must be 'sig <signer> <signature>' or 'sig -'");
				goto out;
			}
			d->body_len = off;
			if (parse_sig(d, p, n, name, line, e))
				goto out;
			have_sig = 1;
			lines[d->nfields + 1] = line;
		} else {
			char *sp = memchr(p, ' ', n);
			size_t kl = sp ? (size_t)(sp - p) : n;
			if (kl == 0 || kl > 64) {
				PERR("key must be 1 to 64 characters");
				goto out;
			}
			for (size_t i = 0; i < kl; i++)
				if (!is_key_char(p[i])) {
					PERR("key has a character outside [a-z0-9-]");
					goto out;
				}
			if (!sp) {
				PERR("key '%.*s' has no value", (int)kl, p);
				goto out;
			}
			*sp = 0;
			const char *bad = value_generic(sp + 1, n - kl - 1);
			if (bad) {
				PERR("key '%s': %s", p, bad);
				goto out;
			}
			if (d->nfields == DAI_FIELDS_MAX) {
				PERR("more than %u fields", DAI_FIELDS_MAX);
				goto out;
			}
			lines[d->nfields + 1] = line;
			d->fields[d->nfields++] = (dai_field){p, sp + 1, n - kl - 1};
		}
		off += n + 1;
	}
	if (!have_sig) {
		line--;
		PERR("truncated document: no sig line");
		goto out;
	}
	const dai_schema *s = schema_find(d->kind);
	if (s) {
		if (check_schema(d, s, lines, name, e))
			goto out;
	} else {
		for (size_t i = 0; i < d->nfields; i++)
			for (size_t j = 0; j < i; j++)
				if (strcmp(d->fields[i].key, d->fields[j].key) == 0) {
					line = lines[i + 1];
					PERR("duplicate key '%s'", d->fields[i].key);
					goto out;
				}
	}
	rc = 0;
out:
	if (rc)
		doc_free(d);
	free(lines);
	return rc;
}

const char *doc_get(const dai_doc *d, const char *key)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, key) == 0)
			return d->fields[i].val;
	return NULL;
}

void doc_id_bytes(const char *raw, size_t len, char out[DAI_ID_LEN + 1])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)raw, len, NULL, 0);
	memcpy(out, "b2:", 3);
	hex_encode(out + 3, h, sizeof h);
}

void doc_id(const dai_doc *d, char out[DAI_ID_LEN + 1])
{
	doc_id_bytes(d->raw, d->len, out);
}

int doc_verify(const dai_doc *d, dai_err *e)
{
	if (!d->is_signed)
		return dai_errf(e, "unsigned (sig -)");
	if (crypto_sign_verify_detached(d->sig, (const unsigned char *)d->raw, d->body_len,
	                                d->signer_pk) != 0)
		return dai_errf(e, "bad signature");
	return 0;
}

/* ---- building ---- */

static void docb_put(dai_docb *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > DAI_DOC_MAX) {
		b->failed = 1;
		dai_errf(&b->err, "document would be longer than %u bytes", DAI_DOC_MAX);
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *nb = realloc(b->buf, cap);
		if (!nb) {
			b->failed = 1;
			dai_errf(&b->err, "out of memory");
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

void docb_init(dai_docb *b, const char *kind, unsigned version)
{
	char head[DAI_KIND_MAX + 32];
	memset(b, 0, sizeof *b);
	int n = snprintf(head, sizeof head, "dai-%s %u\n", kind, version);
	docb_put(b, head, (size_t)n);
}

void docb_addn(dai_docb *b, const char *key, const char *val, size_t n)
{
	if (b->failed)
		return;
	const char *bad = value_generic(val, n);
	/* The same line limit the parser applies: key, space and value. */
	if (bad || n > DAI_LINE_MAX || strlen(key) + 1 + n > DAI_LINE_MAX) {
		b->failed = 1;
		dai_errf(&b->err, "key '%s': %s", key, bad ? bad : "value too long for one line");
		return;
	}
	docb_put(b, key, strlen(key));
	docb_put(b, " ", 1);
	docb_put(b, val, n);
	docb_put(b, "\n", 1);
}

void docb_add(dai_docb *b, const char *key, const char *val)
{
	docb_addn(b, key, val, strlen(val));
}

void docb_addf(dai_docb *b, const char *key, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->failed = 1;
		dai_errf(&b->err, "key '%s': formatted value too long", key);
		return;
	}
	docb_addn(b, key, tmp, (size_t)n);
}

void docb_add_b64(dai_docb *b, const char *key, const void *data, size_t n)
{
	if (b->failed)
		return;
	char *t = malloc(b64_len(n) + 1);
	if (!t) {
		b->failed = 1;
		dai_errf(&b->err, "out of memory");
		return;
	}
	b64_encode(t, data, n);
	docb_addn(b, key, t, b64_len(n));
	free(t);
}

void docb_free(dai_docb *b)
{
	free(b->buf);
	memset(b, 0, sizeof *b);
}

static int docb_finish(dai_docb *b, dai_doc *out, const char *sigline, dai_err *e)
{
	docb_put(b, sigline, strlen(sigline));
	if (b->failed) {
		*e = b->err;
		docb_free(b);
		return -1;
	}
	int rc = doc_parse(out, b->buf, b->len, "new document", 1, e);
	docb_free(b);
	return rc;
}

int docb_unsigned(dai_docb *b, dai_doc *out, dai_err *e)
{
	return docb_finish(b, out, "sig -\n", e);
}

/* "sig <signer> <base64>\n" for body under sk. */
static void make_sigline(char *out, size_t cap, const void *body, size_t n, const unsigned char *sk)
{
	unsigned char sig[DAI_SIG_LEN];
	char signer[DAI_SIGNER_MAX], sig64[128];
	crypto_sign_detached(sig, NULL, body, n, sk);
	ed25519_signer_name(signer, sk + 32); /* libsodium keeps the public key in sk[32..64) */
	b64_encode(sig64, sig, sizeof sig);
	snprintf(out, cap, "sig %s %s\n", signer, sig64);
}

int docb_sign(dai_docb *b, dai_doc *out, const unsigned char *sk, dai_err *e)
{
	char sigline[256];
	if (b->failed) {
		*e = b->err;
		docb_free(b);
		return -1;
	}
	make_sigline(sigline, sizeof sigline, b->buf, b->len, sk);
	return docb_finish(b, out, sigline, e);
}

int doc_sign(const dai_doc *in, dai_doc *out, const unsigned char *sk, dai_err *e)
{
	char sigline[256];
	make_sigline(sigline, sizeof sigline, in->raw, in->body_len, sk);
	size_t sl = strlen(sigline);
	char *buf = malloc(in->body_len + sl);
	if (!buf)
		return dai_errf(e, "out of memory");
	memcpy(buf, in->raw, in->body_len);
	memcpy(buf + in->body_len, sigline, sl);
	int rc = doc_parse(out, buf, in->body_len + sl, "signed document", 1, e);
	free(buf);
	return rc;
}
