/* ethaddr.c - addresses and their EIP-55 checksum (see ethaddr.h). */
#include "ethaddr.h"

#include <string.h>

#include "keccak.h"

void eth_address_of_pubkey(unsigned char addr[20], const unsigned char pub[64])
{
	unsigned char h[32];
	keccak256(h, pub, 64);
	memcpy(addr, h + 12, 20);
}

/* EIP-55: hash the lowercase hex; a letter is uppercase where the hash's
 * nibble at its position is 8 or more. */
void eth_address_format(char out[ETH_ADDR_TEXT], const unsigned char addr[20])
{
	static const char digits[] = "0123456789abcdef";
	char lower[40];
	unsigned char h[32];
	for (int i = 0; i < 20; i++) {
		lower[2 * i] = digits[addr[i] >> 4];
		lower[2 * i + 1] = digits[addr[i] & 15];
	}
	keccak256(h, lower, 40);
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < 40; i++) {
		unsigned nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
		char c = lower[i];
		out[2 + i] = (c >= 'a' && nib >= 8) ? (char)(c - 'a' + 'A') : c;
	}
	out[42] = 0;
}

int eth_address_parse(unsigned char addr[20], const char *s, size_t n, const char *what, dai_err *e)
{
	if (n != 42 || s[0] != '0' || s[1] != 'x')
		return dai_errf(e, "%s: an address is 0x and 40 hex digits", what);
	int has_lower = 0, has_upper = 0;
	unsigned char a[20] = {0};
	for (int i = 0; i < 40; i++) {
		char c = s[2 + i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10, has_lower = 1;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10, has_upper = 1;
		else
			return dai_errf(e, "%s: bad hex digit in an address", what);
		a[i / 2] |= (unsigned char)(d << (i % 2 ? 0 : 4));
	}
	if (has_lower && has_upper) {
		char want[ETH_ADDR_TEXT];
		eth_address_format(want, a);
		if (memcmp(want, s, 42) != 0)
			return dai_errf(e, "%s: wrong EIP-55 checksum (mistyped address?)", what);
	}
	memcpy(addr, a, 20);
	return 0;
}
