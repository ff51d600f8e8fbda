/* rlp.c - RLP encoding (see rlp.h). */
#include "rlp.h"

/* The header for a payload of n bytes: short form base + n below 56 bytes,
 * else base + 55 + length-of-length, then the length big-endian. */
static size_t header(unsigned char out[9], unsigned char base, size_t n)
{
	if (n < 56) {
		out[0] = (unsigned char)(base + n);
		return 1;
	}
	unsigned char len[8];
	size_t k = 0;
	for (size_t v = n; v; v >>= 8)
		len[k++] = (unsigned char)v;
	out[0] = (unsigned char)(base + 55 + k);
	for (size_t i = 0; i < k; i++)
		out[1 + i] = len[k - 1 - i];
	return 1 + k;
}

void rlp_put_bytes(bytebuf *b, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (n == 1 && p[0] < 0x80) {
		bytebuf_putc(b, p[0]);
		return;
	}
	unsigned char h[9];
	bytebuf_put(b, h, header(h, 0x80, n));
	bytebuf_put(b, data, n);
}

/* Integers are their big-endian bytes without leading zeros. */
static void put_be_minimal(bytebuf *b, const unsigned char *be, size_t n)
{
	size_t i = 0;
	while (i < n && be[i] == 0)
		i++;
	rlp_put_bytes(b, be + i, n - i);
}

void rlp_put_u64(bytebuf *b, uint64_t v)
{
	unsigned char be[8];
	for (int i = 0; i < 8; i++)
		be[7 - i] = (unsigned char)(v >> (8 * i));
	put_be_minimal(b, be, 8);
}

void rlp_put_u256(bytebuf *b, const u256 *v)
{
	unsigned char be[32];
	u256_to_be(be, v);
	put_be_minimal(b, be, 32);
}

size_t rlp_list_begin(const bytebuf *b)
{
	return b->len;
}

void rlp_list_end(bytebuf *b, size_t start)
{
	if (b->oom || start > b->len)
		return;
	unsigned char h[9];
	bytebuf_insert(b, start, h, header(h, 0xc0, b->len - start));
}
