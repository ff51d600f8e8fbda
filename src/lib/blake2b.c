/* blake2b.c - see blake2b.h. Written from RFC 7693. */
#include "blake2b.h"

#include <string.h>

/* The initialization vector: that of SHA-512 (RFC 7693, 2.6). */
static const uint64_t blake2b_iv[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

/* Message words are little-endian. memcpy lets the compiler make one load
 * of it (unaligned input is fine); a big-endian host swaps. */
static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline void store64(unsigned char *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	memcpy(p, &w, sizeof w);
}

/* A rotate the compiler turns into one instruction (n is 16..63 here). */
static inline uint64_t rotr64(uint64_t w, unsigned n)
{
	return (w >> n) | (w << (64 - n));
}

/* The mixing function G (RFC 7693, 3.1) on four words of the work vector. */
#define G(a, b, c, d, x, y)                                                                        \
	do {                                                                                       \
		a = a + b + (x);                                                                   \
		d = rotr64(d ^ a, 32);                                                             \
		c = c + d;                                                                         \
		b = rotr64(b ^ c, 24);                                                             \
		a = a + b + (y);                                                                   \
		d = rotr64(d ^ a, 16);                                                             \
		c = c + d;                                                                         \
		b = rotr64(b ^ c, 63);                                                             \
	} while (0)

/* One round: the columns, then the diagonals, with the message words in
 * the order of that round's row of the permutation SIGMA (RFC 7693, 2.7).
 * The indices are literals so that every word is a register or a fixed
 * stack slot, never an indexed load. */
#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15)                \
	do {                                                                                       \
		G(v0, v4, v8, v12, m[s0], m[s1]);                                                  \
		G(v1, v5, v9, v13, m[s2], m[s3]);                                                  \
		G(v2, v6, v10, v14, m[s4], m[s5]);                                                 \
		G(v3, v7, v11, v15, m[s6], m[s7]);                                                 \
		G(v0, v5, v10, v15, m[s8], m[s9]);                                                 \
		G(v1, v6, v11, v12, m[s10], m[s11]);                                               \
		G(v2, v7, v8, v13, m[s12], m[s13]);                                                \
		G(v3, v4, v9, v14, m[s14], m[s15]);                                                \
	} while (0)

/* The compression function F (RFC 7693, 3.2) on one 128-byte block, with
 * the counter already advanced past it; last is nonzero for the final
 * block.
 *
 * Plain 64-bit scalar code: gcc -O2 keeps the sixteen words in registers
 * and makes each rotate one instruction, 0.70 s/GiB on an AMD EPYC core
 * (-O3 gives the same). Built for a target with AVX-512 (-march=native on
 * such a machine), gcc 12 instead parks the words in vector registers and
 * is five times slower, which is why the build names no -march. */
static void compress(blake2b_state *s, const unsigned char *block, int last)
{
	uint64_t m[16];
	for (int i = 0; i < 16; i++)
		m[i] = load64(block + 8 * i);
	uint64_t v0 = s->h[0], v1 = s->h[1], v2 = s->h[2], v3 = s->h[3];
	uint64_t v4 = s->h[4], v5 = s->h[5], v6 = s->h[6], v7 = s->h[7];
	uint64_t v8 = blake2b_iv[0], v9 = blake2b_iv[1], v10 = blake2b_iv[2], v11 = blake2b_iv[3];
	uint64_t v12 = blake2b_iv[4] ^ s->t[0], v13 = blake2b_iv[5] ^ s->t[1];
	uint64_t v14 = last ? ~blake2b_iv[6] : blake2b_iv[6], v15 = blake2b_iv[7];

	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);
	ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4);
	ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8);
	ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13);
	ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9);
	ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11);
	ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10);
	ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5);
	ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0);
	/* Rounds 10 and 11 use the rows of rounds 0 and 1 again. */
	ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);

	s->h[0] ^= v0 ^ v8;
	s->h[1] ^= v1 ^ v9;
	s->h[2] ^= v2 ^ v10;
	s->h[3] ^= v3 ^ v11;
	s->h[4] ^= v4 ^ v12;
	s->h[5] ^= v5 ^ v13;
	s->h[6] ^= v6 ^ v14;
	s->h[7] ^= v7 ^ v15;
}

/* Advances the 128-bit byte counter. */
static inline void count(blake2b_state *s, uint64_t n)
{
	s->t[0] += n;
	s->t[1] += s->t[0] < n;
}

int blake2b_init(blake2b_state *s, const void *key, size_t keylen, size_t outlen)
{
	if (outlen < 1 || outlen > BLAKE2B_OUT_MAX || keylen > BLAKE2B_KEY_MAX || (keylen && !key))
		return -1;
	memset(s, 0, sizeof *s);
	memcpy(s->h, blake2b_iv, sizeof s->h);
	/* The parameter block's first word: digest length, key length,
	 * fanout 1, depth 1 (sequential mode); the rest is zero. */
	s->h[0] ^= 0x01010000ull ^ ((uint64_t)keylen << 8) ^ (uint64_t)outlen;
	s->out_len = outlen;
	if (keylen) {
		/* The key, zero-padded, is the first block of the input. */
		unsigned char block[BLAKE2B_BLOCK] = {0};
		memcpy(block, key, keylen);
		blake2b_update(s, block, sizeof block);
	}
	return 0;
}

void blake2b_update(blake2b_state *s, const void *in, size_t len)
{
	const unsigned char *p = in;
	if (len == 0)
		return;
	/* A full buffer is compressed only once more input arrives: the final
	 * block must be compressed with the last flag, by blake2b_final. */
	size_t room = BLAKE2B_BLOCK - s->buf_len;
	if (len > room) {
		memcpy(s->buf + s->buf_len, p, room);
		count(s, BLAKE2B_BLOCK);
		compress(s, s->buf, 0);
		s->buf_len = 0;
		p += room;
		len -= room;
		/* Whole blocks straight from the input, keeping the last one
		 * (which may be the final block) for the buffer. */
		while (len > BLAKE2B_BLOCK) {
			count(s, BLAKE2B_BLOCK);
			compress(s, p, 0);
			p += BLAKE2B_BLOCK;
			len -= BLAKE2B_BLOCK;
		}
	}
	memcpy(s->buf + s->buf_len, p, len);
	s->buf_len += len;
}

int blake2b_final(blake2b_state *s, unsigned char *out, size_t outlen)
{
	if (outlen != s->out_len)
		return -1;
	count(s, s->buf_len);
	memset(s->buf + s->buf_len, 0, BLAKE2B_BLOCK - s->buf_len);
	compress(s, s->buf, 1);
	unsigned char full[BLAKE2B_OUT_MAX];
	for (int i = 0; i < 8; i++)
		store64(full + 8 * i, s->h[i]);
	memcpy(out, full, outlen);
	return 0;
}

int blake2b(unsigned char *out, size_t outlen, const void *in, size_t len, const void *key,
            size_t keylen)
{
	blake2b_state s;
	if (blake2b_init(&s, key, keylen, outlen))
		return -1;
	blake2b_update(&s, in, len);
	return blake2b_final(&s, out, outlen);
}

void blake2b_256(unsigned char out[32], const void *in, size_t len)
{
	blake2b_state s;
	blake2b_init(&s, NULL, 0, 32);
	blake2b_update(&s, in, len);
	blake2b_final(&s, out, 32);
}
