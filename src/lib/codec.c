/* codec.c - see codec.h. Base64 and hex come from libsodium; base58 is ours. */
#include "codec.h"

#include <sodium.h>
#include <string.h>

size_t b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void b64_encode(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2base64(out, b64_len(n) + 1, in, n, sodium_base64_VARIANT_ORIGINAL);
}

int b64_decode(unsigned char *out, size_t cap, size_t *n, const char *text, size_t tn)
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
