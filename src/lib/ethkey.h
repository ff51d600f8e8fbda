/*
 * ethkey.h - secp256k1 keys for a chain account (libsecp256k1 with its
 * recovery module): the address of a secret key, recoverable signatures of
 * 32-byte digests (low s, as Ethereum requires), recovery of the signer's
 * address, and EIP-191 personal messages ("\x19Ethereum Signed Message:\n"
 * + decimal length + message), the form the escrow contract checks with
 * ecrecover.
 */
#ifndef DAI_ETHKEY_H
#define DAI_ETHKEY_H

#include <stddef.h>

#include "err.h"

/* A recoverable signature: r, s big-endian and the recovery id 0 or 1. */
typedef struct eth_sig {
	unsigned char r[32], s[32];
	int recid;
} eth_sig;

/* Checks that sk is a valid secret key and gives its address. */
int ethkey_address(unsigned char addr[20], const unsigned char sk[32], dai_err *e);

/* Deterministic (RFC 6979) signature of a digest. */
int ethkey_sign(eth_sig *sig, const unsigned char sk[32], const unsigned char digest[32],
                dai_err *e);

/* The address whose key made sig over digest. */
int ethkey_recover(unsigned char addr[20], const eth_sig *sig, const unsigned char digest[32],
                   dai_err *e);

/* The EIP-191 (version 0x45) digest of a message. */
void eth_personal_digest(unsigned char digest[32], const void *msg, size_t n);

/* The 65-byte r || s || v form with v = 27 + recid (personal_sign, ecrecover). */
void eth_sig_to_rsv(unsigned char out[65], const eth_sig *sig);
int eth_sig_from_rsv(eth_sig *sig, const unsigned char in[65], dai_err *e);

#endif
