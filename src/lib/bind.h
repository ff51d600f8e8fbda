/*
 * bind.h - dai-bind documents: the proof that a dai identity and a chain
 * account belong together. The identity's Ed25519 key signs the document;
 * the account's secp256k1 key signs "dai-bind <did> <address>" as an
 * EIP-191 personal message (chain-sig), so neither side can be claimed by
 * someone holding only the other. A buyer escrows for the address that the
 * job's worker bound.
 */
#ifndef DAI_BIND_H
#define DAI_BIND_H

#include "doc.h"
#include "key.h"

/* The dai-bind of k and the chain account derived from it (chainkey.h). */
int bind_make(const dai_key *k, dai_doc *out, dai_err *e);

/* Checks both signatures of a dai-bind and gives its did and address. */
int bind_check(const dai_doc *d, char did[DAI_DID_MAX], unsigned char addr[20], dai_err *e);

#endif
