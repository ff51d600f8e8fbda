/*
 * chainkey.h - the chain account of a dai identity.
 *
 * A dai secret key file (key.h: the Ed25519 seed, sealed under the
 * passphrase with Argon2id and XChaCha20-Poly1305) is also the key of one
 * chain account: its secp256k1 secret is BLAKE2b-256 of the seed, keyed
 * with the domain "dai chain secp256k1 v1" (a one-byte counter follows in
 * the message, moved on in the negligible case the hash is not a valid
 * secret). The chain key is as well protected as the identity, needs no
 * second file, and the identity's owner alone can act for its address.
 */
#ifndef DAI_CHAINKEY_H
#define DAI_CHAINKEY_H

#include "err.h"
#include "key.h"

/* sk: 32 bytes the caller keeps in guarded memory (sodium_malloc). */
int chainkey_derive(const dai_key *k, unsigned char *sk, unsigned char addr[20], dai_err *e);

#endif
