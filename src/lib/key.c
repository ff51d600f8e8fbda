/* key.c - see key.h. */
#include "key.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc_schema.h"
#include "fsio.h"
#include "pass.h"
#include "timefmt.h"

/* Argon2id cost of new key files: libsodium's "interactive" level (64 MiB,
 * 2 passes), cheap enough for a cron job that signs often. Files record
 * their own parameters; on reading we accept up to MEMLIMIT_MAX so a
 * hostile file cannot make us allocate without bound. */
#define KDF_OPS crypto_pwhash_OPSLIMIT_INTERACTIVE
#define KDF_MEM crypto_pwhash_MEMLIMIT_INTERACTIVE
#define OPSLIMIT_MAX 64ULL
#define MEMLIMIT_MAX (1ULL << 30)

static int key_alloc(dai_key *k, dai_err *e)
{
	memset(k, 0, sizeof *k);
	k->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (!k->sk)
		return dai_errf(e, "out of memory for the secret key");
	return 0;
}

void key_free(dai_key *k)
{
	if (k->sk)
		sodium_free(k->sk);
	memset(k, 0, sizeof *k);
}

static int key_from_seed(dai_key *k, const unsigned char *seed, dai_err *e)
{
	if (key_alloc(k, e))
		return -1;
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	ed25519_did(k->did, k->pk);
	return 0;
}

int key_generate(dai_key *k, dai_err *e)
{
	if (key_alloc(k, e))
		return -1;
	crypto_sign_keypair(k->pk, k->sk);
	ed25519_did(k->did, k->pk);
	return 0;
}

/* The AEAD key for pass and the file's salt and costs, in guarded memory. */
static unsigned char *derive(const char *pass, const unsigned char salt[16], unsigned long long ops,
                             unsigned long long mem, dai_err *e)
{
	unsigned char *key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (!key) {
		dai_errf(e, "out of memory for the key derivation");
		return NULL;
	}
	if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, strlen(pass),
	                  salt, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_free(key);
		dai_errf(e, "key derivation failed (out of memory?)");
		return NULL;
	}
	return key;
}

int key_seal(const dai_key *k, const char *comment, const char *pass, dai_doc *out, dai_err *e)
{
	dai_docb b;
	docb_init(&b, "seckey", 1);
	docb_add(&b, "did", k->did);
	if (comment && *comment)
		docb_add(&b, "comment", comment);
	if (!pass) {
		docb_add(&b, "kdf", "none");
		docb_add_b64(&b, "seed", k->sk, crypto_sign_SEEDBYTES);
		return docb_unsigned(&b, out, e);
	}
	unsigned char salt[16], nonce[24], box[48];
	randombytes_buf(salt, sizeof salt);
	randombytes_buf(nonce, sizeof nonce);
	docb_add(&b, "kdf", "argon2id");
	docb_addf(&b, "opslimit", "%llu", (unsigned long long)KDF_OPS);
	docb_addf(&b, "memlimit", "%llu", (unsigned long long)KDF_MEM);
	docb_add_b64(&b, "salt", salt, sizeof salt);
	docb_add_b64(&b, "nonce", nonce, sizeof nonce);
	if (b.failed) {
		*e = b.err;
		docb_free(&b);
		return -1;
	}
	unsigned char *key = derive(pass, salt, KDF_OPS, KDF_MEM, e);
	if (!key) {
		docb_free(&b);
		return -1;
	}
	/* Associated data: every byte so far (the box line comes next). */
	crypto_aead_xchacha20poly1305_ietf_encrypt(box, NULL, k->sk, crypto_sign_SEEDBYTES,
	                                           (unsigned char *)b.buf, b.len, NULL, nonce, key);
	sodium_free(key);
	docb_add_b64(&b, "box", box, sizeof box);
	return docb_unsigned(&b, out, e);
}

void keyfile_free(dai_keyfile *kf)
{
	/* An unencrypted file holds the seed in its text: wipe it. */
	if (kf->doc.raw)
		sodium_memzero(kf->doc.raw, kf->doc.len);
	if (kf->doc.text)
		sodium_memzero(kf->doc.text, kf->doc.len);
	doc_free(&kf->doc);
	sodium_memzero(kf, sizeof *kf);
}

/* Decodes a base64 field of exactly n bytes. */
static int field_bytes(const dai_doc *d, const char *key, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, key) == 0) {
			size_t got;
			return b64_decode_secret(out, n, &got, d->fields[i].val,
			                         d->fields[i].vallen) ||
			               got != n
			           ? -1
			           : 0;
		}
	return -1;
}

int keyfile_parse(dai_keyfile *kf, const char *buf, size_t len, const char *name, dai_err *e)
{
	memset(kf, 0, sizeof *kf);
	if (doc_parse(&kf->doc, buf, len, name, 1, e) != 0)
		return -1;
	dai_doc *d = &kf->doc;
	if (strcmp(d->kind, "seckey") != 0) {
		dai_errf(e, "%s: not a secret key file (a dai-%s document)", name, d->kind);
		goto fail;
	}
	if (d->is_signed) {
		dai_errf(e, "%s: a secret key file is never signed", name);
		goto fail;
	}
	const char *did = doc_get(d, "did");
	ed25519_from_did(kf->pk, did, strlen(did));
	const char *kdf = doc_get(d, "kdf");
	int has_params = doc_get(d, "opslimit") || doc_get(d, "memlimit") || doc_get(d, "salt") ||
	                 doc_get(d, "nonce") || doc_get(d, "box");
	if (strcmp(kdf, "none") == 0) {
		unsigned char seed[32];
		if (has_params || field_bytes(d, "seed", seed, 32)) {
			dai_errf(e, "%s: kdf none needs exactly a 32-byte seed", name);
			goto fail;
		}
		sodium_memzero(seed, sizeof seed);
		return 0;
	}
	if (strcmp(kdf, "argon2id") != 0) {
		dai_errf(e, "%s: unknown kdf '%s'", name, kdf);
		goto fail;
	}
	kf->encrypted = 1;
	const char *ops = doc_get(d, "opslimit"), *mem = doc_get(d, "memlimit");
	if (!ops || !mem || doc_get(d, "seed") ||
	    value_uint(ops, strlen(ops), &kf->opslimit) != 0 ||
	    value_uint(mem, strlen(mem), &kf->memlimit) != 0 ||
	    field_bytes(d, "salt", kf->salt, 16) || field_bytes(d, "nonce", kf->nonce, 24) ||
	    field_bytes(d, "box", kf->box, 48)) {
		dai_errf(e,
		         "%s: kdf argon2id needs opslimit, memlimit, a 16-byte salt, a 24-byte "
		         "nonce and a 48-byte box",
		         name);
		goto fail;
	}
	if (kf->opslimit < crypto_pwhash_OPSLIMIT_MIN || kf->opslimit > OPSLIMIT_MAX ||
	    kf->memlimit < crypto_pwhash_MEMLIMIT_MIN || kf->memlimit > MEMLIMIT_MAX) {
		dai_errf(e,
		         "%s: argon2id costs out of range (opslimit 1..%llu, memlimit up to %llu)",
		         name, OPSLIMIT_MAX, MEMLIMIT_MAX);
		goto fail;
	}
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, "box") == 0)
			kf->ad_len = (size_t)(d->fields[i].key - d->text);
	return 0;
fail:
	keyfile_free(kf);
	return -1;
}

int keyfile_open(const dai_keyfile *kf, const char *pass, dai_key *k, const char *name, dai_err *e)
{
	unsigned char *seed = sodium_malloc(crypto_sign_SEEDBYTES);
	if (!seed)
		return dai_errf(e, "out of memory for the secret key");
	int rc = -1;
	if (!kf->encrypted) {
		field_bytes(&kf->doc, "seed", seed, crypto_sign_SEEDBYTES);
	} else {
		unsigned char *key = derive(pass, kf->salt, kf->opslimit, kf->memlimit, e);
		if (!key)
			goto out;
		int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
		    seed, NULL, NULL, kf->box, sizeof kf->box, (const unsigned char *)kf->doc.raw,
		    kf->ad_len, kf->nonce, key);
		sodium_free(key);
		if (bad) {
			dai_errf(e, "%s: wrong passphrase (or the key file was altered)", name);
			goto out;
		}
	}
	if (key_from_seed(k, seed, e))
		goto out;
	if (sodium_memcmp(k->pk, kf->pk, 32) != 0) {
		key_free(k);
		dai_errf(e, "%s: the did in the key file does not match its secret key", name);
		goto out;
	}
	rc = 0;
out:
	sodium_free(seed);
	return rc;
}

int key_load(dai_key *k, const char *path, dai_err *e)
{
	char *buf;
	size_t len;
	dai_keyfile kf;
	if (file_read_all(path, DAI_KEYFILE_MAX, &buf, &len, e))
		return -1;
	int rc = keyfile_parse(&kf, buf, len, path, e);
	sodium_memzero(buf, len);
	free(buf);
	if (rc)
		return -1;
	char *pass = NULL;
	if (kf.encrypted) {
		char prompt[512];
		snprintf(prompt, sizeof prompt, "Passphrase for %s: ", path);
		pass = pass_get("DAI_PASSPHRASE", prompt, 0, e);
		if (!pass) {
			keyfile_free(&kf);
			return -1;
		}
	}
	rc = keyfile_open(&kf, pass, k, path, e);
	pass_free(pass);
	keyfile_free(&kf);
	return rc;
}

int key_public_doc(const dai_key *k, const char *comment, dai_doc *out, dai_err *e)
{
	char now[DAI_TIME_LEN + 1];
	time_format(now, time_now());
	dai_docb b;
	docb_init(&b, "key", 1);
	docb_add(&b, "did", k->did);
	if (comment && *comment)
		docb_add(&b, "comment", comment);
	docb_add(&b, "time", now);
	return docb_sign(&b, out, k->sk, e);
}

int key_read_did(const char *what, char did[DAI_DID_MAX], dai_err *e)
{
	unsigned char pk[32];
	size_t wl = strlen(what);
	if (wl > 8 && memcmp(what, "did:key:", 8) == 0) {
		if (wl >= DAI_DID_MAX || ed25519_from_did(pk, what, wl) != 0)
			return dai_errf(e, "%s: not an Ed25519 did:key", what);
		memcpy(did, what, wl + 1);
		return 0;
	}
	char *buf;
	size_t len;
	dai_doc d;
	if (file_read_all(what, DAI_KEYFILE_MAX, &buf, &len, e))
		return -1;
	int rc = doc_parse(&d, buf, len, what, 1, e);
	sodium_memzero(buf, len);
	free(buf);
	if (rc)
		return -1;
	const char *v = doc_get(&d, "did");
	if (strcmp(d.kind, "key") == 0) {
		char signer_did[DAI_DID_MAX];
		if (doc_verify(&d, e) != 0) {
			dai_err_prefix(e, what);
			goto fail;
		}
		ed25519_did(signer_did, d.signer_pk);
		if (strcmp(signer_did, v) != 0) {
			dai_errf(e, "%s: public key document is not signed by its own key", what);
			goto fail;
		}
	} else if (strcmp(d.kind, "seckey") != 0) {
		dai_errf(e, "%s: not a key (a dai-%s document)", what, d.kind);
		goto fail;
	}
	snprintf(did, DAI_DID_MAX, "%s", v);
	doc_free(&d);
	return 0;
fail:
	doc_free(&d);
	return -1;
}

int key_create_files(const char *name, const char *comment, int encrypt, dai_key *out, dai_err *e)
{
	char kpath[4096], ppath[4096];
	if (snprintf(kpath, sizeof kpath, "%s.key", name) >= (int)sizeof kpath ||
	    snprintf(ppath, sizeof ppath, "%s.pub", name) >= (int)sizeof ppath)
		return dai_errf(e, "%s: name too long", name);
	if (access(kpath, F_OK) == 0)
		return dai_errf(e, "%s: already exists, not overwriting", kpath);
	if (access(ppath, F_OK) == 0)
		return dai_errf(e, "%s: already exists, not overwriting", ppath);
	char *pass = NULL;
	if (encrypt) {
		pass = pass_get("DAI_PASSPHRASE", "Passphrase for the new key: ", 1, e);
		if (!pass)
			return -1;
	}
	dai_key k;
	dai_doc sec = {0}, pub = {0};
	int rc = -1;
	if (key_generate(&k, e))
		goto out;
	if (key_seal(&k, comment, pass, &sec, e) || key_public_doc(&k, comment, &pub, e))
		goto out;
	if (file_write_atomic(kpath, sec.raw, sec.len, 0600, FSIO_NOCLOBBER, e))
		goto out;
	if (file_write_atomic(ppath, pub.raw, pub.len, 0644, FSIO_NOCLOBBER, e)) {
		unlink(kpath); /* we made it a moment ago: leave no half pair */
		goto out;
	}
	*out = k;
	k.sk = NULL; /* now the caller's */
	rc = 0;
out:
	if (sec.raw)
		sodium_memzero(sec.raw, sec.len);
	if (sec.text)
		sodium_memzero(sec.text, sec.len);
	doc_free(&sec);
	doc_free(&pub);
	key_free(&k);
	pass_free(pass);
	return rc;
}

int key_change_passphrase(const char *path, int encrypt, dai_err *e)
{
	dai_key k;
	if (key_load(&k, path, e))
		return -1;
	/* Keep the comment of the old file. */
	char *buf = NULL, *comment = NULL;
	size_t len;
	dai_doc old = {0}, sec = {0};
	char *pass = NULL;
	int rc = -1;
	if (file_read_all(path, DAI_KEYFILE_MAX, &buf, &len, e) ||
	    doc_parse(&old, buf, len, path, 1, e))
		goto out;
	const char *c = doc_get(&old, "comment");
	comment = c ? strdup(c) : NULL;
	if (encrypt) {
		pass = pass_get("DAI_NEW_PASSPHRASE", "New passphrase: ", 1, e);
		if (!pass)
			goto out;
	}
	if (key_seal(&k, comment, pass, &sec, e) ||
	    file_write_atomic(path, sec.raw, sec.len, 0600, 0, e))
		goto out;
	rc = 0;
out:
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	if (old.raw) {
		sodium_memzero(old.raw, old.len);
		sodium_memzero(old.text, old.len);
	}
	if (sec.raw) {
		sodium_memzero(sec.raw, sec.len);
		sodium_memzero(sec.text, sec.len);
	}
	doc_free(&old);
	doc_free(&sec);
	free(comment);
	pass_free(pass);
	key_free(&k);
	return rc;
}
