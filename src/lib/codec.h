/*
 * codec.h - text encodings of binary values: strict base64, lowercase hex,
 * base58btc, and the did:key names of Ed25519 public keys.
 *
 * Decoders accept only the canonical spelling of a value (padding, case,
 * trailing bits), so a value has exactly one text form in a document.
 */
#ifndef DAI_CODEC_H
#define DAI_CODEC_H

#include <stddef.h>

#include "err.h"

/* Length of the base64 text (without NUL) for n bytes. */
size_t b64_len(size_t n);

/* Writes the padded standard base64 of in[0..n) plus a NUL into out, which
 * must hold b64_len(n) + 1 bytes. */
void b64_encode(char *out, const unsigned char *in, size_t n);

/* Decodes canonical base64 text of length tn into out (capacity cap), storing
 * the byte count in *n. Returns -1 on bad or non-canonical text. Its time
 * depends on the text (table lookups): for public data. */
int b64_decode(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn);

/* The same for secret bytes (a key's seed), in libsodium's constant-time
 * decoder. */
int b64_decode_secret(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn);

/* Lowercase hex of in[0..n) plus a NUL; out holds 2n+1 bytes. */
void hex_encode(char *out, const unsigned char *in, size_t n);

/* Decodes exactly 2n lowercase hex digits into out[0..n). */
int hex_decode(unsigned char *out, size_t n, const char *text, size_t tn);

/* base58btc (Bitcoin alphabet) of in[0..n) plus a NUL, into out of size cap.
 * Returns -1 when out is too small. */
int b58_encode(char *out, size_t cap, const unsigned char *in, size_t n);

/* Decodes base58btc text; returns -1 on a bad digit or when out is too small. */
int b58_decode(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn);

/* An Ed25519 public key's names: "z6Mk..." (multibase base58btc of the
 * multicodec prefix 0xed 0x01 and the key) and "did:key:z6Mk...". */
#define DAI_SIGNER_MAX 64
#define DAI_DID_MAX 72
void ed25519_signer_name(char out[DAI_SIGNER_MAX], const unsigned char pk[32]);
void ed25519_did(char out[DAI_DID_MAX], const unsigned char pk[32]);

/* Parses a signer name ("z6Mk...") or a did ("did:key:z6Mk...") into the
 * public key; only the canonical spelling is accepted. */
int ed25519_from_signer(unsigned char pk[32], const char *name, size_t len);
int ed25519_from_did(unsigned char pk[32], const char *did, size_t len);

#endif
