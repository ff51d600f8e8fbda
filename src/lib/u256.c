/* u256.c - 256-bit unsigned arithmetic and text forms (see u256.h). */
#include "u256.h"

#include <string.h>

u256 u256_from_u64(uint64_t v)
{
	u256 a = {{v, 0, 0, 0}};
	return a;
}

int u256_is_zero(const u256 *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

int u256_cmp(const u256 *a, const u256 *b)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

int u256_to_u64(const u256 *a, uint64_t *v)
{
	if (a->w[1] | a->w[2] | a->w[3])
		return 0;
	*v = a->w[0];
	return 1;
}

int u256_add(u256 *r, const u256 *a, const u256 *b)
{
	u256 t;
	unsigned carry = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t s = a->w[i] + b->w[i];
		unsigned c1 = s < a->w[i];
		t.w[i] = s + carry;
		carry = c1 | (t.w[i] < s);
	}
	if (carry)
		return -1;
	*r = t;
	return 0;
}

int u256_sub(u256 *r, const u256 *a, const u256 *b)
{
	if (u256_cmp(a, b) < 0)
		return -1;
	u256 t;
	unsigned borrow = 0;
	for (int i = 0; i < 4; i++) {
		uint64_t d = a->w[i] - b->w[i];
		unsigned b1 = a->w[i] < b->w[i];
		t.w[i] = d - borrow;
		borrow = b1 | (d < borrow);
	}
	*r = t;
	return 0;
}

int u256_mul_u64(u256 *r, const u256 *a, uint64_t m)
{
	u256 t;
	unsigned __int128 carry = 0;
	for (int i = 0; i < 4; i++) {
		unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
		t.w[i] = (uint64_t)p;
		carry = p >> 64;
	}
	if (carry)
		return -1;
	*r = t;
	return 0;
}

void u256_to_be(unsigned char out[32], const u256 *a)
{
	for (int i = 0; i < 32; i++)
		out[31 - i] = (unsigned char)(a->w[i / 8] >> (8 * (i % 8)));
}

void u256_from_be(u256 *a, const unsigned char in[32])
{
	memset(a, 0, sizeof *a);
	for (int i = 0; i < 32; i++)
		a->w[i / 8] |= (uint64_t)in[31 - i] << (8 * (i % 8));
}

int u256_parse_dec(u256 *a, const char *s, size_t n, const char *what, dai_err *e)
{
	if (n == 0)
		return dai_errf(e, "%s: empty number", what);
	if (n > 1 && s[0] == '0')
		return dai_errf(e, "%s: leading zero in a decimal number", what);
	u256 t = u256_from_u64(0);
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return dai_errf(e, "%s: not a decimal number", what);
		u256 d = u256_from_u64((uint64_t)(s[i] - '0'));
		if (u256_mul_u64(&t, &t, 10) < 0 || u256_add(&t, &t, &d) < 0)
			return dai_errf(e, "%s: number does not fit 256 bits", what);
	}
	*a = t;
	return 0;
}

/* Divides a by d in place, returning the remainder. */
static uint64_t divmod_small(u256 *a, uint64_t d)
{
	unsigned __int128 rem = 0;
	for (int i = 3; i >= 0; i--) {
		unsigned __int128 cur = (rem << 64) | a->w[i];
		a->w[i] = (uint64_t)(cur / d);
		rem = cur % d;
	}
	return (uint64_t)rem;
}

void u256_format_dec(char out[U256_DEC_MAX], const u256 *a)
{
	char rev[U256_DEC_MAX];
	size_t n = 0;
	u256 t = *a;
	do
		rev[n++] = (char)('0' + divmod_small(&t, 10));
	while (!u256_is_zero(&t));
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int u256_parse_hex(u256 *a, const char *s, size_t n, int loose, const char *what, dai_err *e)
{
	if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return dai_errf(e, "%s: not a 0x hex quantity", what);
	s += 2;
	n -= 2;
	if (!loose && n > 1 && s[0] == '0')
		return dai_errf(e, "%s: leading zero in a hex quantity", what);
	while (n > 1 && s[0] == '0')
		s++, n--;
	if (n > 64)
		return dai_errf(e, "%s: number does not fit 256 bits", what);
	u256 t = u256_from_u64(0);
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[n - 1 - i]);
		if (d < 0)
			return dai_errf(e, "%s: bad hex digit", what);
		t.w[i / 16] |= (uint64_t)d << (4 * (i % 16));
	}
	*a = t;
	return 0;
}

void u256_format_hex(char out[U256_HEX_MAX], const u256 *a)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = 0;
	int started = 0;
	out[n++] = '0';
	out[n++] = 'x';
	for (int i = 63; i >= 0; i--) {
		unsigned d = (unsigned)(a->w[i / 16] >> (4 * (i % 16))) & 15;
		if (d || started || i == 0) {
			out[n++] = digits[d];
			started = 1;
		}
	}
	out[n] = 0;
}
