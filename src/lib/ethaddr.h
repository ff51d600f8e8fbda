/*
 * ethaddr.h - Ethereum account addresses: the last 20 bytes of the
 * Keccak-256 of an uncompressed secp256k1 public key (without its 0x04
 * prefix), written as "0x" and 40 hex digits with the EIP-55 mixed-case
 * checksum.
 */
#ifndef DAI_ETHADDR_H
#define DAI_ETHADDR_H

#include <stddef.h>

#include "err.h"

#define ETH_ADDR_TEXT 43 /* "0x" + 40 digits + NUL */

/* The address of the 64-byte public key x || y. */
void eth_address_of_pubkey(unsigned char addr[20], const unsigned char pub[64]);

/* The EIP-55 checksummed text of addr. */
void eth_address_format(char out[ETH_ADDR_TEXT], const unsigned char addr[20]);

/* Parses "0x" + 40 hex digits: all lowercase, all uppercase, or mixed case
 * only when it is the right EIP-55 checksum (a mistyped address is caught). */
int eth_address_parse(unsigned char addr[20], const char *s, size_t n, const char *what,
                      dai_err *e);

#endif
