/* codec.c - see codec.h. Hex comes from libsodium, as does the base64
 * decoder for secrets; base64 and base58 are ours. */
#include "codec.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

size_t b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Table-driven: documents carry megabytes of base64 (proofs, embedded
 * documents), which libsodium's constant-time codec turns at a quarter of
 * the speed. Secrets go through b64_decode_secret. */
void b64_encode(char *out, const unsigned char *in, size_t n)
{
	size_t i = 0;
	for (; i + 3 <= n; i += 3, out += 4) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[0] = b64_alphabet[v >> 18];
		out[1] = b64_alphabet[(v >> 12) & 63];
		out[2] = b64_alphabet[(v >> 6) & 63];
		out[3] = b64_alphabet[v & 63];
	}
	if (n - i) {
		uint32_t v = (uint32_t)in[i] << 16 | (n - i == 2 ? (uint32_t)in[i + 1] << 8 : 0);
		out[0] = b64_alphabet[v >> 18];
		out[1] = b64_alphabet[(v >> 12) & 63];
		out[2] = n - i == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
		out[3] = '=';
		out += 4;
	}
	*out = 0;
}

/* 0..63 for a base64 character, 64 for '=', 255 for anything else */
static unsigned char b64_value[256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_table(void)
{
	memset(b64_value, 255, sizeof b64_value);
	for (int i = 0; i < 64; i++)
		b64_value[(unsigned char)b64_alphabet[i]] = (unsigned char)i;
	b64_value['='] = 64;
}

int b64_decode(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn)
{
	pthread_once(&b64_once, b64_table);
	if (tn % 4 != 0)
		return -1;
	const unsigned char *t = (const unsigned char *)text;
	size_t groups = tn / 4, got = 0;
	/* whole groups: any character outside the alphabet ('=' included)
	 * sets a bit above the 24 of the value */
	for (size_t g = 0; g + 1 < groups; g++, t += 4) {
		uint32_t a = b64_value[t[0]], b = b64_value[t[1]], c = b64_value[t[2]],
		         d = b64_value[t[3]];
		if ((a | b | c | d) > 63 || got + 3 > cap)
			return -1;
		uint32_t v = a << 18 | b << 12 | c << 6 | d;
		out[got] = (unsigned char)(v >> 16);
		out[got + 1] = (unsigned char)(v >> 8);
		out[got + 2] = (unsigned char)v;
		got += 3;
	}
	if (groups) {
		/* the last group: "xxxx", "xxx=" or "xx==", with zero unused bits */
		uint32_t a = b64_value[t[0]], b = b64_value[t[1]], c = b64_value[t[2]],
		         d = b64_value[t[3]];
		size_t k = d != 64 ? 3 : c != 64 ? 2 : 1;
		if (a > 63 || b > 63 || (k >= 2 && c > 63) || (k == 3 && d > 63) ||
		    (k == 1 && c != 64) || got + k > cap)
			return -1;
		uint32_t v = a << 18 | b << 12 | (k >= 2 ? c << 6 : 0) | (k == 3 ? d : 0);
		if ((k == 1 && (v & 0xffff)) || (k == 2 && (v & 0xff)))
			return -1;
		for (size_t i = 0; i < k; i++)
			out[got + i] = (unsigned char)(v >> (16 - 8 * i));
		got += k;
	}
	*n = got;
	return 0;
}

int b64_decode_secret(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn)
{
	const char *end = NULL;
	size_t got = 0;
	if (tn % 4 != 0)
		return -1;
	/* libsodium's decoder looks at fewer than 8 bits of a character in
	 * places (it takes 0xaf for '/'), so check the alphabet first: every
	 * text has one spelling. */
	for (size_t i = 0; i < tn; i++) {
		char c = text[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || (c == '=' && i + 2 >= tn)))
			return -1;
	}
	if (sodium_base642bin(out, cap, text, tn, NULL, &got, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	if (end != text + tn)
		return -1;
	/* Reject non-zero trailing bits: re-encode and compare. */
	char tail[8];
	size_t last = got % 3 ? got % 3 : (got ? 3 : 0);
	if (last) {
		b64_encode(tail, out + got - last, last);
		if (memcmp(tail, text + tn - 4, 4) != 0)
			return -1;
	}
	*n = got;
	return 0;
}

void hex_encode(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int hex_decode(unsigned char *out, size_t n, const char *text, size_t tn)
{
	if (tn != 2 * n)
		return -1;
	for (size_t i = 0; i < tn; i++) {
		char c = text[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	size_t got = 0;
	if (sodium_hex2bin(out, n, text, tn, NULL, &got, NULL) != 0 || got != n)
		return -1;
	return 0;
}

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int b58_encode(char *out, size_t cap, const unsigned char *in, size_t n)
{
	/* Big-number base conversion; inputs here are tens of bytes. */
	unsigned char digits[256];
	size_t nd = 0, zeros = 0;
	if (n > 180)
		return -1;
	while (zeros < n && in[zeros] == 0)
		zeros++;
	for (size_t i = zeros; i < n; i++) {
		unsigned carry = in[i];
		for (size_t j = 0; j < nd; j++) {
			carry += (unsigned)digits[j] << 8;
			digits[j] = carry % 58;
			carry /= 58;
		}
		while (carry) {
			digits[nd++] = carry % 58;
			carry /= 58;
		}
	}
	if (zeros + nd + 1 > cap)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < zeros; i++)
		out[o++] = '1';
	for (size_t j = nd; j-- > 0;)
		out[o++] = B58[digits[j]];
	out[o] = 0;
	return 0;
}

int b58_decode(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn)
{
	unsigned char bytes[256];
	size_t nb = 0, zeros = 0;
	if (tn > 240)
		return -1;
	while (zeros < tn && text[zeros] == '1')
		zeros++;
	for (size_t i = zeros; i < tn; i++) {
		const char *p = memchr(B58, text[i], 58);
		if (!p || text[i] == 0)
			return -1;
		unsigned carry = (unsigned)(p - B58);
		for (size_t j = 0; j < nb; j++) {
			carry += (unsigned)bytes[j] * 58;
			bytes[j] = carry & 0xff;
			carry >>= 8;
		}
		while (carry) {
			bytes[nb++] = carry & 0xff;
			carry >>= 8;
		}
	}
	if (zeros + nb > cap)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < zeros; i++)
		out[o++] = 0;
	for (size_t j = nb; j-- > 0;)
		out[o++] = bytes[j];
	*n = o;
	return 0;
}

void ed25519_signer_name(char out[DAI_SIGNER_MAX], const unsigned char pk[32])
{
	unsigned char mc[34] = {0xed, 0x01};
	memcpy(mc + 2, pk, 32);
	out[0] = 'z';
	b58_encode(out + 1, DAI_SIGNER_MAX - 1, mc, sizeof mc);
}

void ed25519_did(char out[DAI_DID_MAX], const unsigned char pk[32])
{
	memcpy(out, "did:key:", 8);
	ed25519_signer_name(out + 8, pk);
}

int ed25519_from_signer(unsigned char pk[32], const char *name, size_t len)
{
	unsigned char mc[40];
	size_t n = 0;
	if (len < 2 || name[0] != 'z')
		return -1;
	if (b58_decode(mc, sizeof mc, &n, name + 1, len - 1) != 0)
		return -1;
	if (n != 34 || mc[0] != 0xed || mc[1] != 0x01)
		return -1;
	/* Canonical spelling only: base58 has one per value, but check anyway. */
	char again[DAI_SIGNER_MAX];
	ed25519_signer_name(again, mc + 2);
	if (strlen(again) != len || memcmp(again, name, len) != 0)
		return -1;
	memcpy(pk, mc + 2, 32);
	return 0;
}

int ed25519_from_did(unsigned char pk[32], const char *did, size_t len)
{
	if (len < 8 || memcmp(did, "did:key:", 8) != 0)
		return -1;
	return ed25519_from_signer(pk, did + 8, len - 8);
}
