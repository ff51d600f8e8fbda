/*
 * blake2b_x8_avx512.c - see blake2b_x8.h: eight BLAKE2b-256 hashes in the
 * eight 64-bit lanes of AVX-512 registers (RFC 7693; the same rounds as
 * blake2b.c, with vprorq for the rotations).
 *
 * Lane j of v[i] is word i of message j's work vector. Each 128-byte
 * block of the eight messages is loaded as sixteen registers (two per
 * message) and transposed, so that m[w] lane j is word w of message j's
 * block. The last block of a length that is not a multiple of 128 is
 * copied, zero padded, first.
 */
#include "blake2b_x8.h"

#if defined(__AVX512F__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static const uint64_t iv[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

static const uint8_t sigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

#define ADD(a, b) _mm512_add_epi64(a, b)
#define XOR(a, b) _mm512_xor_si512(a, b)
#define ROR(a, n) _mm512_ror_epi64(a, n)

#define G(a, b, c, d, x, y)                                                                        \
	do {                                                                                       \
		a = ADD(ADD(a, b), x);                                                             \
		d = ROR(XOR(d, a), 32);                                                            \
		c = ADD(c, d);                                                                     \
		b = ROR(XOR(b, c), 24);                                                            \
		a = ADD(ADD(a, b), y);                                                             \
		d = ROR(XOR(d, a), 16);                                                            \
		c = ADD(c, d);                                                                     \
		b = ROR(XOR(b, c), 63);                                                            \
	} while (0)

/* an 8 x 8 transpose of 64-bit words: out[w] lane j = in[j] lane w */
static inline void transpose8(const __m512i in[8], __m512i out[8])
{
	__m512i t[8], u[8];
	for (int i = 0; i < 4; i++) {
		t[2 * i] = _mm512_unpacklo_epi64(in[2 * i], in[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_epi64(in[2 * i], in[2 * i + 1]);
	}
	/* t[2i]: the even words of messages 2i and 2i + 1, a pair per 128-bit
	 * chunk (w0, w2, w4, w6); t[2i + 1] the odd ones */
	for (int i = 0; i < 2; i++)
		for (int h = 0; h < 2; h++) {
			/* 128-bit chunks 0, 2 of the first pair with 0, 2 of the next */
			u[4 * i + h] = _mm512_shuffle_i64x2(t[4 * i + h], t[4 * i + 2 + h], 0x88);
			u[4 * i + 2 + h] =
			    _mm512_shuffle_i64x2(t[4 * i + h], t[4 * i + 2 + h], 0xdd);
		}
	/* u[h]: words h (chunks 0, 2) and h + 4 (chunks 1, 3) of messages
	 * 0-3; u[h + 4] those of messages 4-7 */
	for (int h = 0; h < 4; h++) {
		out[h] = _mm512_shuffle_i64x2(u[h], u[4 + h], 0x88);
		out[h + 4] = _mm512_shuffle_i64x2(u[h], u[4 + h], 0xdd);
	}
}

/* One compression of the eight states h with the eight blocks blk[j], the
 * counter t (bytes so far, the same for all) and the last-block flag. */
static void compress8(__m512i h[8], const unsigned char *const blk[8], uint64_t t, int last)
{
	__m512i lo[8], hi[8], m[16];
	for (int j = 0; j < 8; j++) {
		lo[j] = _mm512_loadu_si512(blk[j]);
		hi[j] = _mm512_loadu_si512(blk[j] + 64);
	}
	transpose8(lo, m);
	transpose8(hi, m + 8);
	__m512i v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6],
	        v7 = h[7];
	__m512i v8 = _mm512_set1_epi64((long long)iv[0]), v9 = _mm512_set1_epi64((long long)iv[1]),
	        v10 = _mm512_set1_epi64((long long)iv[2]),
	        v11 = _mm512_set1_epi64((long long)iv[3]),
	        v12 = _mm512_set1_epi64((long long)(iv[4] ^ t)),
	        v13 = _mm512_set1_epi64((long long)iv[5]), /* t < 2^64: the high word is 0 */
	    v14 = _mm512_set1_epi64((long long)(last ? ~iv[6] : iv[6])),
	        v15 = _mm512_set1_epi64((long long)iv[7]);
	for (int r = 0; r < 12; r++) {
		const uint8_t *s = sigma[r];
		G(v0, v4, v8, v12, m[s[0]], m[s[1]]);
		G(v1, v5, v9, v13, m[s[2]], m[s[3]]);
		G(v2, v6, v10, v14, m[s[4]], m[s[5]]);
		G(v3, v7, v11, v15, m[s[6]], m[s[7]]);
		G(v0, v5, v10, v15, m[s[8]], m[s[9]]);
		G(v1, v6, v11, v12, m[s[10]], m[s[11]]);
		G(v2, v7, v8, v13, m[s[12]], m[s[13]]);
		G(v3, v4, v9, v14, m[s[14]], m[s[15]]);
	}
	h[0] = XOR(h[0], XOR(v0, v8));
	h[1] = XOR(h[1], XOR(v1, v9));
	h[2] = XOR(h[2], XOR(v2, v10));
	h[3] = XOR(h[3], XOR(v3, v11));
	h[4] = XOR(h[4], XOR(v4, v12));
	h[5] = XOR(h[5], XOR(v5, v13));
	h[6] = XOR(h[6], XOR(v6, v14));
	h[7] = XOR(h[7], XOR(v7, v15));
}

static void x8_avx512(const unsigned char *const *in, size_t len, int n, unsigned char (*out)[32])
{
	if (n <= 0)
		return;
	const unsigned char *p[8];
	for (int j = 0; j < 8; j++)
		p[j] = in[j < n ? j : n - 1]; /* spare lanes repeat the last message */
	__m512i h[8];
	for (int i = 0; i < 8; i++)
		h[i] = _mm512_set1_epi64((long long)iv[i]);
	/* parameter block: digest length 32, no key, fanout 1, depth 1 */
	h[0] = _mm512_set1_epi64((long long)(iv[0] ^ 0x01010020ull));
	/* every block but the last as it is; the last (1..128 bytes, or an
	 * empty block for len 0) zero padded */
	size_t full = len ? (len - 1) / 128 : 0;
	const unsigned char *blk[8];
	for (size_t b = 0; b < full; b++) {
		for (int j = 0; j < 8; j++)
			blk[j] = p[j] + 128 * b;
		compress8(h, blk, 128 * (uint64_t)(b + 1), 0);
	}
	_Alignas(64) unsigned char tail[8][128];
	size_t rest = len - 128 * full;
	for (int j = 0; j < 8; j++) {
		memset(tail[j], 0, sizeof tail[j]);
		if (rest)
			memcpy(tail[j], p[j] + 128 * full, rest);
		blk[j] = tail[j];
	}
	compress8(h, blk, (uint64_t)len, 1);
	/* words 0..3 of each state, little-endian: lane j of h[w] */
	_Alignas(64) uint64_t w[4][8];
	for (int i = 0; i < 4; i++)
		_mm512_store_si512(w[i], h[i]);
	for (int j = 0; j < n; j++)
		for (int i = 0; i < 4; i++)
			for (int k = 0; k < 8; k++)
				out[j][8 * i + k] = (unsigned char)(w[i][j] >> (8 * k));
}

blake2b_x8_fn blake2b_x8_avx512_fn(void);
blake2b_x8_fn blake2b_x8_avx512_fn(void)
{
	return x8_avx512;
}

#else /* not built for AVX-512 */

blake2b_x8_fn blake2b_x8_avx512_fn(void);
blake2b_x8_fn blake2b_x8_avx512_fn(void)
{
	return NULL;
}

#endif
