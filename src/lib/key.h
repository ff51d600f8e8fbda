/*
 * key.h - Ed25519 identities: secret key files and public key documents.
 *
 * A secret key file is a dai-seckey document. Its seed is sealed with
 * XChaCha20-Poly1305 under a key derived from the passphrase by Argon2id;
 * the document's bytes before the box line (did, comment, KDF parameters,
 * salt, nonce) are the associated data, so none of them can be changed
 * without the passphrase. An unencrypted file ("kdf none") holds the seed in
 * the clear and is made only on request. The did is stored in the clear so
 * the public name can be read without the passphrase.
 *
 * A public key file is a dai-key document signed by the key itself.
 * In memory the secret key lives in guarded, locked memory (sodium_malloc)
 * and is wiped by key_free.
 */
#ifndef DAI_KEY_H
#define DAI_KEY_H

#include "codec.h"
#include "doc.h"
#include "err.h"

#define DAI_KEYFILE_MAX (64 * 1024)

typedef struct dai_key {
	unsigned char *sk; /* 64 bytes, libsodium layout: seed then public key */
	unsigned char pk[32];
	char did[DAI_DID_MAX];
} dai_key;

/* A parsed, checked secret key file (nothing decrypted yet). */
typedef struct dai_keyfile {
	dai_doc doc;
	int encrypted;
	unsigned long long opslimit, memlimit;
	unsigned char salt[16], nonce[24], box[48];
	unsigned char pk[32]; /* from the did */
	size_t ad_len;	      /* bytes of doc.raw before the box line */
} dai_keyfile;

int key_generate(dai_key *k, dai_err *e);
void key_free(dai_key *k);

/* Builds the secret key file document: sealed under pass, or in the clear
 * when pass is NULL. */
int key_seal(const dai_key *k, const char *comment, const char *pass, dai_doc *out, dai_err *e);

/* Parses and checks a secret key file (name places errors). */
int keyfile_parse(dai_keyfile *kf, const char *buf, size_t len, const char *name, dai_err *e);
void keyfile_free(dai_keyfile *kf);

/* Opens a parsed key file with pass (ignored when unencrypted). A wrong
 * passphrase is "wrong passphrase". */
int keyfile_open(const dai_keyfile *kf, const char *pass, dai_key *k, const char *name,
		 dai_err *e);

/* Loads a secret key from path, asking for the passphrase when needed. */
int key_load(dai_key *k, const char *path, dai_err *e);

/* The signed public key document (dai-key) for k. */
int key_public_doc(const dai_key *k, const char *comment, dai_doc *out, dai_err *e);

/* A public did from "did:key:...", a .pub (checked self-signature) or a
 * .key file (no passphrase needed). */
int key_read_did(const char *what, char did[DAI_DID_MAX], dai_err *e);



/* Creates NAME.key and NAME.pub, refusing to overwrite either, and gives
 * the new key (out, for the caller to key_free). With encrypt, the
 * passphrase is asked (twice on a terminal). */
int key_create_files(const char *name, const char *comment, int encrypt, dai_key *out,
		     dai_err *e);

/* Rewrites a secret key file under a new passphrase (asked twice, or from
 * DAI_NEW_PASSPHRASE), or unencrypted when encrypt is 0. */
int key_change_passphrase(const char *path, int encrypt, dai_err *e);

#endif
