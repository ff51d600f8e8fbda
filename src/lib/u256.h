/*
 * u256.h - unsigned 256-bit integers for chain amounts (wei), nonces and
 * contract words: decimal and hex text, 32-byte big-endian words, checked
 * addition, subtraction and multiplication by a small factor.
 *
 * Text forms are strict: decimal without sign, spaces or leading zeros
 * (except "0"); hex as "0x" and at least one digit, any case (JSON-RPC
 * quantities). A value that does not fit 256 bits is refused, never wrapped.
 */
#ifndef DAI_U256_H
#define DAI_U256_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct u256 {
	uint64_t w[4]; /* little-endian limbs: w[0] is the least significant */
} u256;

/* Longest decimal text (78 digits) plus a NUL, and "0x" + 64 digits + NUL. */
#define U256_DEC_MAX 79
#define U256_HEX_MAX 67

u256 u256_from_u64(uint64_t v);
int u256_is_zero(const u256 *a);
int u256_cmp(const u256 *a, const u256 *b);
/* 1 and the value in *v when a fits 64 bits, else 0. */
int u256_to_u64(const u256 *a, uint64_t *v);

/* r = a + b, r = a - b, r = a * m; each returns -1 (r untouched) on
 * overflow or, for sub, when b > a. */
int u256_add(u256 *r, const u256 *a, const u256 *b);
int u256_sub(u256 *r, const u256 *a, const u256 *b);
int u256_mul_u64(u256 *r, const u256 *a, uint64_t m);

/* Big-endian 32-byte word (the ABI and RLP byte order). */
void u256_to_be(unsigned char out[32], const u256 *a);
void u256_from_be(u256 *a, const unsigned char in[32]);

/* Decimal text of n bytes; what names the value in the error. */
int u256_parse_dec(u256 *a, const char *s, size_t n, const char *what, dai_err *e);
void u256_format_dec(char out[U256_DEC_MAX], const u256 *a);

/* "0x..." quantity: no leading zeros unless the value is 0 ("0x0"), the
 * JSON-RPC rule; u256_parse_hex also accepts leading zeros when loose. */
int u256_parse_hex(u256 *a, const char *s, size_t n, int loose, const char *what, dai_err *e);
void u256_format_hex(char out[U256_HEX_MAX], const u256 *a);

#endif
