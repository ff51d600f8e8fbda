/* Unit tests: BLAKE2b (blake2b.h) against the test vectors of RFC 7693 and
 * against libsodium's crypto_generichash on many lengths, keys, output
 * lengths and ways of splitting the input into updates. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "blake2b.h"
#include "blake2b_x8.h"
#include "codec.h"

/* A small deterministic generator (xorshift64*), so a failure repeats. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rnd() >> 56);
}

static void expect_hex(const unsigned char *got, size_t n, const char *want_hex)
{
	char hex[2 * BLAKE2B_OUT_MAX + 1];
	hex_encode(hex, got, n);
	cr_assert_str_eq(hex, want_hex);
}

/* RFC 7693, appendix A: BLAKE2b-512("abc"). */
Test(blake2b, rfc7693_abc)
{
	unsigned char md[64];
	cr_assert_eq(blake2b(md, 64, "abc", 3, NULL, 0), 0);
	expect_hex(md, 64,
	           "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
	           "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

/* BLAKE2b-512 of nothing (the reference implementation's known answer). */
Test(blake2b, empty_input)
{
	unsigned char md[64];
	cr_assert_eq(blake2b(md, 64, NULL, 0, NULL, 0), 0);
	expect_hex(md, 64,
	           "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
	           "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
}

/* The input sequence of RFC 7693's self-test (appendix E). */
static void selftest_seq(unsigned char *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BAD * seed, b = 1;
	for (size_t i = 0; i < len; i++) {
		uint32_t t = a + b;
		a = b;
		b = t;
		out[i] = (unsigned char)(t >> 24);
	}
}

/* RFC 7693, appendix E: the hash of the unkeyed and keyed hashes of its
 * test inputs at four output lengths (exercises keys, lengths at block
 * boundaries and several digest sizes in one known answer). */
Test(blake2b, rfc7693_selftest)
{
	static const size_t md_len[4] = {20, 32, 48, 64};
	static const size_t in_len[6] = {0, 3, 128, 129, 255, 1024};
	unsigned char in[1024], md[64], key[64];
	blake2b_state all;
	cr_assert_eq(blake2b_init(&all, NULL, 0, 32), 0);
	for (int i = 0; i < 4; i++) {
		size_t outlen = md_len[i];
		for (int j = 0; j < 6; j++) {
			size_t inlen = in_len[j];
			selftest_seq(in, inlen, (uint32_t)inlen);
			cr_assert_eq(blake2b(md, outlen, in, inlen, NULL, 0), 0);
			blake2b_update(&all, md, outlen);
			selftest_seq(key, outlen, (uint32_t)outlen);
			cr_assert_eq(blake2b(md, outlen, in, inlen, key, outlen), 0);
			blake2b_update(&all, md, outlen);
		}
	}
	cr_assert_eq(blake2b_final(&all, md, 32), 0);
	expect_hex(md, 32, "c23a7800d98123bd10f506c61e29da5603d763b8bbad2e737f5e765a7bccd475");
}

/* Ours against libsodium for one input, key and output length: in one
 * call, and streamed in pieces cut at random places. */
static void compare(const unsigned char *in, size_t len, const unsigned char *key, size_t keylen,
                    size_t outlen)
{
	unsigned char want[64], got[64];
	cr_assert_eq(crypto_generichash(want, outlen, in, len, key, keylen), 0);
	cr_assert_eq(blake2b(got, outlen, in, len, key, keylen), 0);
	cr_assert_eq(memcmp(got, want, outlen), 0, "len %zu key %zu out %zu: one call", len, keylen,
	             outlen);
	blake2b_state s;
	cr_assert_eq(blake2b_init(&s, key, keylen, outlen), 0);
	size_t at = 0;
	while (at < len) {
		/* Small pieces, block-sized ones and large ones, and empty ones. */
		size_t piece;
		switch (rnd() % 4) {
		case 0:
			piece = rnd() % 8;
			break;
		case 1:
			piece = rnd() % 300;
			break;
		case 2:
			piece = BLAKE2B_BLOCK * (rnd() % 3);
			break;
		default:
			piece = rnd() % (len + 1);
		}
		if (piece > len - at)
			piece = len - at;
		blake2b_update(&s, in + at, piece);
		at += piece;
	}
	memset(got, 0, sizeof got);
	cr_assert_eq(blake2b_final(&s, got, outlen), 0);
	cr_assert_eq(memcmp(got, want, outlen), 0, "len %zu key %zu out %zu: streamed", len, keylen,
	             outlen);
}

Test(blake2b, every_short_length_and_outlen)
{
	cr_assert(sodium_init() >= 0);
	unsigned char in[600], key[64];
	fill(in, sizeof in);
	fill(key, sizeof key);
	for (size_t len = 0; len <= 520; len++)
		for (size_t outlen = 1; outlen <= 64; outlen += (len % 7) + 1)
			compare(in, len, NULL, 0, outlen);
	for (size_t outlen = 1; outlen <= 64; outlen++)
		for (size_t keylen = 0; keylen <= 64; keylen++)
			compare(in, (outlen * 37 + keylen * 11) % 600, key, keylen, outlen);
}

Test(blake2b, block_boundaries)
{
	cr_assert(sodium_init() >= 0);
	size_t max = 3 * 4096 + 1;
	unsigned char *in = malloc(max), key[64];
	cr_assert_not_null(in);
	fill(in, max);
	fill(key, sizeof key);
	for (size_t blocks = 0; blocks <= 96; blocks++)
		for (int d = -1; d <= 1; d++) {
			if (blocks == 0 && d < 0)
				continue;
			size_t len = blocks * BLAKE2B_BLOCK + (size_t)(long)d;
			compare(in, len, NULL, 0, 32);
			compare(in, len, NULL, 0, 64);
			compare(in, len, key, 1 + len % 64, 1 + len % 64);
		}
	free(in);
}

Test(blake2b, random_lengths_up_to_megabytes)
{
	cr_assert(sodium_init() >= 0);
	size_t max = (3u << 20) + 77;
	unsigned char *in = malloc(max), key[64];
	cr_assert_not_null(in);
	fill(in, max);
	for (int i = 0; i < 40; i++) {
		size_t len = (size_t)(rnd() % (i < 30 ? 70000 : max + 1));
		size_t keylen = rnd() % 3 ? 0 : 1 + rnd() % 64;
		fill(key, keylen);
		compare(in + rnd() % 8, len > max - 8 ? max - 8 : len, key, keylen, 1 + rnd() % 64);
	}
	compare(in, max, NULL, 0, 32);
	free(in);
}

Test(blake2b, unaligned_input)
{
	cr_assert(sodium_init() >= 0);
	unsigned char buf[2000];
	fill(buf, sizeof buf);
	for (size_t off = 0; off < 16; off++)
		compare(buf + off, 1500 + off, NULL, 0, 32);
}

Test(blake2b, b256_is_the_unkeyed_32_byte_hash)
{
	cr_assert(sodium_init() >= 0);
	unsigned char in[1000], want[32], got[32];
	fill(in, sizeof in);
	for (size_t len = 0; len <= sizeof in; len += 97) {
		crypto_generichash(want, 32, in, len, NULL, 0);
		blake2b_256(got, in, len);
		cr_assert_eq(memcmp(got, want, 32), 0, "len %zu", len);
	}
}

/* A different output length is another hash, not a prefix of the 64-byte
 * one (the length is in the parameter block). */
Test(blake2b, outlen_is_a_parameter)
{
	unsigned char a[64], b[32];
	blake2b(a, 64, "abc", 3, NULL, 0);
	blake2b(b, 32, "abc", 3, NULL, 0);
	cr_assert_neq(memcmp(a, b, 32), 0);
}

/* A key changes the hash, and the key is not the same as prefixing the
 * message with it. */
Test(blake2b, key_is_not_a_prefix)
{
	unsigned char key[16] = "0123456789abcdef", block[128] = {0}, msg[131];
	unsigned char a[32], b[32], c[32];
	memcpy(block, key, sizeof key);
	memcpy(msg, block, 128);
	memcpy(msg + 128, "abc", 3);
	blake2b(a, 32, "abc", 3, key, sizeof key);
	blake2b(b, 32, "abc", 3, NULL, 0);
	blake2b(c, 32, msg, sizeof msg, NULL, 0);
	cr_assert_neq(memcmp(a, b, 32), 0);
	cr_assert_neq(memcmp(a, c, 32), 0);
}

Test(blake2b, bad_lengths_are_refused)
{
	blake2b_state s;
	unsigned char md[64], key[65] = {0};
	cr_assert_eq(blake2b_init(&s, NULL, 0, 0), -1);
	cr_assert_eq(blake2b_init(&s, NULL, 0, 65), -1);
	cr_assert_eq(blake2b_init(&s, key, 65, 32), -1);
	cr_assert_eq(blake2b_init(&s, NULL, 8, 32), -1);
	cr_assert_eq(blake2b(md, 0, "x", 1, NULL, 0), -1);
	cr_assert_eq(blake2b_init(&s, key, 64, 64), 0);
	cr_assert_eq(blake2b_init(&s, NULL, 0, 32), 0);
	memset(md, 0xaa, sizeof md);
	cr_assert_eq(blake2b_final(&s, md, 64), -1, "a final length other than init's");
	for (size_t i = 0; i < sizeof md; i++)
		cr_assert_eq(md[i], 0xaa, "nothing written on a refused final");
}

/* The byte counter is 128 bits (RFC 7693, 3.2): no input here is 2^64
 * bytes long, so the carry into the high word is checked on the state. */
Test(blake2b, counter_carries_into_the_high_word)
{
	blake2b_state s;
	unsigned char in[200] = {0}, md[32];
	cr_assert_eq(blake2b_init(&s, NULL, 0, 32), 0);
	s.t[0] = ~0ull - 10;
	blake2b_update(&s, in, sizeof in); /* compresses one block */
	cr_assert_eq(s.t[1], 1);
	cr_assert_eq(s.t[0], BLAKE2B_BLOCK - 11);
	cr_assert_eq(blake2b_final(&s, md, 32), 0);
	cr_assert_eq(s.t[1], 1);
	cr_assert_eq(s.t[0], sizeof in - 11);
}

/* ------------------------------------------------- eight at a time */

/* Both ways of blake2b_256_x8 (the AVX-512 lanes where the CPU has them,
 * one at a time otherwise) against libsodium for eight messages of len
 * bytes (n of them used), from unaligned places. */
static void compare_x8(size_t len, int n)
{
	static unsigned char buf[8][8192 + 64]; /* up to dim 2048 */
	const unsigned char *in[8];
	cr_assert(len + 64 <= sizeof buf[0]);
	for (int j = 0; j < 8; j++) {
		fill(buf[j], len + 64);
		in[j] = buf[j] + (j * 7) % 64;
	}
	if (n > 1 && len % 3 == 0)
		in[1] = in[0]; /* the same message twice */
	blake2b_x8_fn fns[3] = {blake2b_256_x8, blake2b_256_x8_scalar, blake2b_256_x8_avx512()};
	for (int f = 0; f < 3; f++) {
		if (!fns[f])
			continue;
		unsigned char out[8][32], want[32];
		memset(out, 0xee, sizeof out);
		fns[f](in, len, n, out);
		for (int j = 0; j < n; j++) {
			crypto_generichash(want, 32, in[j], len, NULL, 0);
			cr_assert_arr_eq(out[j], want, 32, "way %d, length %zu, message %d of %d",
			                 f, len, j, n);
		}
		for (int j = n; j < 8; j++)
			for (int k = 0; k < 32; k++)
				cr_assert_eq(out[j][k], 0xee, "way %d wrote past message %d", f, n);
	}
}

Test(blake2b, x8_every_length_to_520_and_the_trace_vectors)
{
	for (size_t len = 0; len <= 520; len++)
		compare_x8(len, 1 + (int)(len % 8));
	/* the leaves of traces: dim x 4 bytes */
	static const size_t dims[] = {64, 768, 1024, 2048, 896};
	for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
		for (int n = 1; n <= 8; n++)
			compare_x8(4 * dims[i], n);
}
