/*
 * rlp.h - Recursive Length Prefix encoding (Ethereum yellow paper, appendix
 * B), enough to build transactions: byte strings, integers as their minimal
 * big-endian bytes (zero is the empty string), and nested lists.
 *
 *   size_t l = rlp_list_begin(&b);
 *   rlp_put_u64(&b, nonce); rlp_put_bytes(&b, to, 20); ...
 *   rlp_list_end(&b, l);
 */
#ifndef DAI_RLP_H
#define DAI_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "u256.h"

void rlp_put_bytes(bytebuf *b, const void *data, size_t n);
void rlp_put_u64(bytebuf *b, uint64_t v);
void rlp_put_u256(bytebuf *b, const u256 *v);

/* Starts a list; returns the offset to pass to rlp_list_end, which puts the
 * list header in front of everything written since. */
size_t rlp_list_begin(const bytebuf *b);
void rlp_list_end(bytebuf *b, size_t start);

#endif
