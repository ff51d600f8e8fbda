/*
 * keccak.h - Keccak-256, the hash of Ethereum (original Keccak padding 0x01,
 * not the 0x06 of FIPS 202 SHA3-256): transaction hashes, addresses,
 * function selectors and signed-message digests.
 */
#ifndef DAI_KECCAK_H
#define DAI_KECCAK_H

#include <stddef.h>
#include <stdint.h>

/* An incremental Keccak-256 state (rate 136 bytes). */
typedef struct keccak_ctx {
	uint64_t s[25];
	size_t pos; /* bytes absorbed into the current block */
} keccak_ctx;

void keccak256_init(keccak_ctx *c);
void keccak256_update(keccak_ctx *c, const void *data, size_t n);
void keccak256_final(keccak_ctx *c, unsigned char out[32]);

/* One-shot hash of data[0..n). */
void keccak256(unsigned char out[32], const void *data, size_t n);

#endif
