/*
 * chain.h - transactions and calls on an EVM chain over JSON-RPC.
 *
 * chain_open reads the node's chain id (eth_chainId) before anything else
 * and refuses a node on another chain than the one asked for, so nothing is
 * ever signed for or sent to the wrong chain. chain_send sends one
 * transaction and waits for its receipt: signed here as EIP-1559 with a
 * secp256k1 key (nonce from eth_getTransactionCount "pending", fees from
 * the latest base fee and eth_maxPriorityFeePerGas, gas estimated with a
 * fifth more), or by the node for one of its unlocked development accounts
 * (eth_sendTransaction). The hash the node reports must equal the hash
 * computed here. A revert is reported with its reason however the node
 * shows it: an RPC error during estimation or sending (with the revert data
 * or message), or a mined transaction with status 0 (then the reason comes
 * from replaying the call at that block).
 */
#ifndef DAI_CHAIN_H
#define DAI_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "err.h"
#include "rpc.h"
#include "u256.h"

typedef struct chain {
	rpc rpc;
	uint64_t chain_id;
	unsigned wait_ms; /* how long to wait for a receipt (default 60 s) */
} chain;

typedef struct chain_account {
	unsigned char addr[20];
	const unsigned char *sk; /* 32-byte secret key, or NULL: the node signs */
} chain_account;

typedef struct chain_tx {
	const unsigned char *to; /* 20 bytes, or NULL to create a contract */
	u256 value;
	const unsigned char *data;
	size_t data_len;
	uint64_t gas; /* 0: estimate */
} chain_tx;

typedef struct chain_receipt {
	unsigned char hash[32];
	int mined, status; /* status 1: success */
	uint64_t gas_used, block;
	int has_contract;
	unsigned char contract[20];
	char reason[256]; /* why it reverted, when it did */
} chain_receipt;

/* want_chain_id 0 accepts any chain (the id is then in c->chain_id). */
int chain_open(chain *c, const char *url, uint64_t want_chain_id, dai_err *e);
void chain_close(chain *c);

/* Sends tx from an account and waits for it to be mined. Returns 0 when it
 * succeeded; -1 otherwise, with "reverted: REASON" for a revert (rc->reason
 * and, if it was mined, rc->mined, rc->gas_used and rc->hash filled). */
int chain_send(chain *c, const chain_account *from, const chain_tx *tx, chain_receipt *rc,
               dai_err *e);

/* eth_call on the latest block; the return data is appended to out. A
 * revert is -1 with "reverted: REASON". */
int chain_call(chain *c, const unsigned char to[20], const unsigned char *data, size_t n,
               bytebuf *out, dai_err *e);

int chain_balance(chain *c, const unsigned char addr[20], u256 *wei, dai_err *e);

/* Development nodes only (anvil, hardhat, ganache): moves the clock on by
 * seconds and mines a block. */
int chain_dev_advance(chain *c, uint64_t seconds, dai_err *e);

/* "0x" hex text to bytes appended to out (what names it in errors). */
int chain_hex_data(bytebuf *out, const char *s, size_t n, const char *what, dai_err *e);

#endif
