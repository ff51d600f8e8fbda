/*
 * blake2b.h - BLAKE2b (RFC 7693), for hashing bulk data: pack members, the
 * pack cache, trace leaves and Merkle nodes.
 *
 * The digests are those of libsodium's crypto_generichash (which is BLAKE2b
 * too), bit for bit, for every input, key and output length; the tests
 * compare the two. It exists for speed: a plain C compression function with
 * the rounds unrolled hashes faster here than the libraries at hand, and a
 * pack's verification is bound by it. Everything secret (key derivation,
 * sealing, signatures) stays with libsodium, which also wipes its state.
 *
 * The streaming calls have the shape of crypto_generichash's:
 *
 *   blake2b_state st;
 *   blake2b_init(&st, key, keylen, outlen);   key may be NULL (keylen 0)
 *   blake2b_update(&st, data, len);           any number of times
 *   blake2b_final(&st, out, outlen);          the outlen given to init
 *
 * outlen is 1..64 bytes, keylen 0..64. A different output length is not a
 * truncation: the length is a parameter of the hash (RFC 7693, 2.5).
 */
#ifndef DAI_BLAKE2B_H
#define DAI_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2B_BLOCK 128
#define BLAKE2B_OUT_MAX 64
#define BLAKE2B_KEY_MAX 64

typedef struct blake2b_state {
	uint64_t h[8];                    /* the chained state */
	uint64_t t[2];                    /* bytes hashed so far (128-bit counter) */
	unsigned char buf[BLAKE2B_BLOCK]; /* input not yet compressed */
	size_t buf_len;                   /* 0..BLAKE2B_BLOCK */
	size_t out_len;                   /* the digest length, 1..64 */
} blake2b_state;

/* Starts a hash of outlen bytes, keyed when keylen > 0. -1 (and nothing
 * done) when outlen or keylen is out of range, or key is NULL with
 * keylen > 0. */
int blake2b_init(blake2b_state *s, const void *key, size_t keylen, size_t outlen);

/* Adds len bytes (in may be NULL when len is 0). */
void blake2b_update(blake2b_state *s, const void *in, size_t len);

/* Writes the digest (outlen must be the length given to blake2b_init;
 * -1 and nothing written otherwise). The state is spent afterwards. */
int blake2b_final(blake2b_state *s, unsigned char *out, size_t outlen);

/* One call: the digest of in[0..len) with an optional key. -1 on bad
 * lengths, as blake2b_init. */
int blake2b(unsigned char *out, size_t outlen, const void *in, size_t len, const void *key,
            size_t keylen);

/* The unkeyed 32-byte digest (BLAKE2b-256), the one dai uses everywhere. */
void blake2b_256(unsigned char out[32], const void *in, size_t len);

#endif
