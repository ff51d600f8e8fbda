/*
 * ethtx.h - EIP-1559 (type 2) transactions: the signing payload
 * 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to,
 * value, data, accessList]), its Keccak-256 digest, and the signed raw form
 * with yParity, r, s appended, whose Keccak-256 is the transaction hash.
 * Access lists are always empty here.
 */
#ifndef DAI_ETHTX_H
#define DAI_ETHTX_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "err.h"
#include "ethkey.h"
#include "u256.h"

typedef struct eth_tx {
	uint64_t chain_id, nonce, gas;
	u256 max_priority_fee, max_fee, value; /* wei per gas; wei */
	int has_to;                            /* 0: contract creation */
	unsigned char to[20];
	const unsigned char *data;
	size_t data_len;
} eth_tx;

/* The digest that the sender signs. */
int ethtx_digest(const eth_tx *tx, unsigned char digest[32], dai_err *e);

/* Signs tx with sk: raw receives the bytes for eth_sendRawTransaction and
 * hash the transaction hash. */
int ethtx_sign(const eth_tx *tx, const unsigned char sk[32], bytebuf *raw, unsigned char hash[32],
               dai_err *e);

#endif
