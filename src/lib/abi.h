/*
 * abi.h - the Solidity contract ABI, as much as the escrow contract uses:
 * function selectors, static words (uint256, uint64, bool, address,
 * bytes32), dynamic bytes, arrays of addresses and arrays of bytes; reading
 * words and bytes back out of return data, and the revert reasons
 * Error(string) and Panic(uint256).
 *
 *   abi_enc a; abi_enc_init(&a, "claim(bytes32,bytes32,uint256)", 3);
 *   abi_bytes32(&a, job); abi_bytes32(&a, receipt); abi_u256(&a, &price);
 *   abi_enc_finish(&a, &calldata, e);
 *
 * Arguments go in order; a dynamic one puts its offset in the head and its
 * data in the tail. Without a signature (NULL) no selector is written: the
 * constructor arguments appended to a contract's bytecode.
 */
#ifndef DAI_ABI_H
#define DAI_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "err.h"
#include "u256.h"

void abi_selector(unsigned char out[4], const char *signature);

typedef struct abi_enc {
	unsigned char sel[4];
	int has_sel;
	size_t n_slots, next; /* head words and the next to fill */
	bytebuf head, tail;
} abi_enc;

void abi_enc_init(abi_enc *a, const char *signature, size_t n_args);
void abi_word(abi_enc *a, const unsigned char w[32]);
void abi_u256(abi_enc *a, const u256 *v);
void abi_u64(abi_enc *a, uint64_t v);
void abi_address(abi_enc *a, const unsigned char addr[20]);
void abi_bytes32(abi_enc *a, const unsigned char b[32]);
void abi_bytes(abi_enc *a, const void *data, size_t n);
void abi_address_array(abi_enc *a, const unsigned char (*addrs)[20], size_t n);
void abi_bytes_array(abi_enc *a, const unsigned char *const *items, const size_t *lens, size_t n);
/* Appends the call data to out and frees the encoder; -1 when an argument
 * count did not match the init or memory ran out. */
int abi_enc_finish(abi_enc *a, bytebuf *out, dai_err *e);

/* Word i of return data (32 bytes at 32 i). */
int abi_get_word(const unsigned char *data, size_t n, size_t i, unsigned char w[32], dai_err *e);
int abi_get_u256(const unsigned char *data, size_t n, size_t i, u256 *v, dai_err *e);
/* An address word must have 12 zero bytes in front. */
int abi_get_address(const unsigned char *data, size_t n, size_t i, unsigned char addr[20],
                    dai_err *e);
/* The dynamic bytes (or string) whose offset is in word i; points into data. */
int abi_get_bytes(const unsigned char *data, size_t n, size_t i, const unsigned char **p,
                  size_t *len, dai_err *e);

/* Writes a readable revert reason for revert data: the Error(string)
 * message (non-printable bytes as '?'), "panic 0x11" for Panic(uint256),
 * "no reason given" for empty data, else "revert data 0x...". */
void abi_revert_reason(char *out, size_t cap, const unsigned char *data, size_t n);

#endif
