/* Unit tests: secret key files (seal, open, tampering, wrong passphrase)
 * and public key documents. */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}
TestSuite(key, .init = setup);

static void sealed(dai_key *k, dai_doc *d, const char *pass)
{
	dai_err e;
	cr_assert_eq(key_generate(k, &e), 0);
	cr_assert_eq(key_seal(k, "test key", pass, d, &e), 0, "%s", e.msg);
}

Test(key, encrypted_round_trip)
{
	dai_key k, k2;
	dai_doc d;
	dai_keyfile kf;
	dai_err e;
	sealed(&k, &d, "correct horse");
	cr_assert_eq(keyfile_parse(&kf, d.raw, d.len, "k", &e), 0, "%s", e.msg);
	cr_assert(kf.encrypted);
	cr_assert_eq(keyfile_open(&kf, "correct horse", &k2, "k", &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(k.sk, k2.sk, 64), 0);
	cr_assert_str_eq(k.did, k2.did);
	key_free(&k2);
	cr_assert_eq(keyfile_open(&kf, "correct horsf", &k2, "k", &e), -1);
	cr_assert(strstr(e.msg, "wrong passphrase"), "%s", e.msg);
	/* Neither the raw seed nor its base64 is in the file. */
	char b64[64];
	b64_encode(b64, k.sk, 32);
	cr_assert_null(memmem(d.raw, d.len, k.sk, 32));
	cr_assert_null(memmem(d.raw, d.len, b64, 40));
	keyfile_free(&kf);
	doc_free(&d);
	key_free(&k);
}

Test(key, plain_round_trip)
{
	dai_key k, k2;
	dai_doc d;
	dai_keyfile kf;
	dai_err e;
	sealed(&k, &d, NULL);
	cr_assert_eq(keyfile_parse(&kf, d.raw, d.len, "k", &e), 0, "%s", e.msg);
	cr_assert_eq(kf.encrypted, 0);
	cr_assert_eq(keyfile_open(&kf, NULL, &k2, "k", &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(k.sk, k2.sk, 64), 0);
	key_free(&k2);
	keyfile_free(&kf);
	doc_free(&d);
	key_free(&k);
}

/* A copy of the document with the first occurrence of from replaced by to. */
static char *edit(const dai_doc *d, const char *from, const char *to)
{
	char *s = strndup(d->raw, d->len);
	char *at = strstr(s, from);
	cr_assert_not_null(at, "no '%s'", from);
	char *out = malloc(d->len + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	free(s);
	return out;
}

Test(key, tampering_is_caught)
{
	dai_key k, k2;
	dai_doc d;
	dai_keyfile kf;
	dai_err e;
	sealed(&k, &d, "pw");
	/* The comment is associated data: changing it breaks the seal. */
	char *s = edit(&d, "comment test key", "comment test kez");
	cr_assert_eq(keyfile_parse(&kf, s, strlen(s), "k", &e), 0, "%s", e.msg);
	cr_assert_eq(keyfile_open(&kf, "pw", &k2, "k", &e), -1);
	keyfile_free(&kf);
	free(s);
	/* Costs out of range are refused before any work. */
	s = edit(&d, "memlimit 67108864", "memlimit 99999999999");
	cr_assert_eq(keyfile_parse(&kf, s, strlen(s), "k", &e), -1);
	cr_assert(strstr(e.msg, "out of range"), "%s", e.msg);
	free(s);
	doc_free(&d);
	key_free(&k);
}

Test(key, structure_rejections)
{
	const char *did = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
	char buf[1024];
	dai_keyfile kf;
	dai_err e;
	snprintf(buf, sizeof buf, "dai-seckey 1\ndid %s\nkdf argon2id\nopslimit 2\nsig -\n", did);
	cr_assert_eq(keyfile_parse(&kf, buf, strlen(buf), "k", &e), -1);
	cr_assert(strstr(e.msg, "needs opslimit"), "%s", e.msg);
	snprintf(buf, sizeof buf, "dai-seckey 1\ndid %s\nkdf scrypt\nsig -\n", did);
	cr_assert_eq(keyfile_parse(&kf, buf, strlen(buf), "k", &e), -1);
	cr_assert(strstr(e.msg, "unknown kdf"), "%s", e.msg);
	snprintf(buf, sizeof buf, "dai-seckey 1\ndid %s\nkdf none\nseed AAAA\nsig -\n", did);
	cr_assert_eq(keyfile_parse(&kf, buf, strlen(buf), "k", &e), -1);
	cr_assert(strstr(e.msg, "32-byte seed"), "%s", e.msg);
	snprintf(buf, sizeof buf, "dai-key 1\ndid %s\ntime 2026-01-01T00:00:00Z\nsig -\n", did);
	cr_assert_eq(keyfile_parse(&kf, buf, strlen(buf), "k", &e), -1);
	cr_assert(strstr(e.msg, "not a secret key file"), "%s", e.msg);
	/* A seed that does not belong to the did. */
	snprintf(buf, sizeof buf,
		 "dai-seckey 1\ndid %s\nkdf none\nseed AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		 "sig -\n",
		 did);
	cr_assert_eq(keyfile_parse(&kf, buf, strlen(buf), "k", &e), 0, "%s", e.msg);
	dai_key k;
	cr_assert_eq(keyfile_open(&kf, NULL, &k, "k", &e), -1);
	cr_assert(strstr(e.msg, "does not match"), "%s", e.msg);
	keyfile_free(&kf);
}

Test(key, public_document)
{
	dai_key k;
	dai_doc d;
	dai_err e;
	cr_assert_eq(key_generate(&k, &e), 0);
	cr_assert_eq(key_public_doc(&k, "worker 1", &d, &e), 0, "%s", e.msg);
	cr_assert_str_eq(d.kind, "key");
	cr_assert_str_eq(doc_get(&d, "did"), k.did);
	cr_assert_eq(doc_verify(&d, &e), 0);
	cr_assert_eq(memcmp(d.signer_pk, k.pk, 32), 0);
	doc_free(&d);
	key_free(&k);
}
