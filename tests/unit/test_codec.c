/* Unit tests: base64, hex, base58, did:key names, times. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "codec.h"
#include "timefmt.h"

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
}
TestSuite(codec, .init = setup);

Test(codec, base64_round_trip_and_canonical)
{
	unsigned char in[40], out[40];
	char t[64];
	size_t n;
	for (size_t len = 0; len < sizeof in; len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)(i * 37 + len);
		b64_encode(t, in, len);
		cr_assert_eq(strlen(t), b64_len(len));
		cr_assert_eq(b64_decode(out, sizeof out, &n, t, strlen(t)), 0);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(in, out, len), 0);
	}
	cr_assert_eq(b64_decode(out, sizeof out, &n, "QQ==", 4), 0);
	cr_assert_eq(b64_decode(out, sizeof out, &n, "QR==", 4), -1, "non-zero trailing bits");
	cr_assert_eq(b64_decode(out, sizeof out, &n, "QQ", 2), -1, "missing padding");
	cr_assert_eq(b64_decode(out, sizeof out, &n, "Q Q=", 4), -1, "space");
	cr_assert_eq(b64_decode(out, sizeof out, &n, "QQ-_", 4), -1, "url alphabet");
	cr_assert_eq(b64_decode(out, 0, &n, "QUFB", 4), -1, "too small");
}

/* Changing any one character of a base64 text to any other byte either
 * fails or decodes to different bytes that encode back to that very text:
 * no second spelling of a value (libsodium alone takes 0xaf for '/'). */
Test(codec, base64_one_spelling)
{
	unsigned char in[33], out[40];
	char t[64], u[64];
	size_t n;
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 37 + 0xaf);
	b64_encode(t, in, sizeof in);
	size_t tl = strlen(t);
	for (size_t i = 0; i < tl; i++)
		for (int c = 0; c < 256; c++) {
			char m[64];
			memcpy(m, t, tl);
			if ((char)c == t[i])
				continue;
			m[i] = (char)c;
			if (b64_decode(out, sizeof out, &n, m, tl) != 0)
				continue;
			b64_encode(u, out, n);
			cr_assert(strlen(u) == tl && memcmp(u, m, tl) == 0,
			          "byte %d at %zu: second spelling accepted", c, i);
		}
}

Test(codec, hex_strict)
{
	unsigned char b[2];
	cr_assert_eq(hex_decode(b, 2, "0aff", 4), 0);
	cr_assert_eq(b[0], 0x0a);
	cr_assert_eq(b[1], 0xff);
	cr_assert_eq(hex_decode(b, 2, "0AFF", 4), -1, "uppercase");
	cr_assert_eq(hex_decode(b, 2, "0af", 3), -1, "odd length");
	char t[5];
	hex_encode(t, b, 2);
	cr_assert_str_eq(t, "0aff");
}

Test(codec, base58_vectors)
{
	char t[64];
	unsigned char b[64];
	size_t n;
	cr_assert_eq(b58_encode(t, sizeof t, (const unsigned char *)"Hello World!", 12), 0);
	cr_assert_str_eq(t, "2NEpo7TZRRrLZSi2U");
	cr_assert_eq(b58_encode(t, sizeof t, (const unsigned char *)"\0\0\1", 3), 0);
	cr_assert_str_eq(t, "112");
	cr_assert_eq(b58_decode(b, sizeof b, &n, "112", 3), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(b, "\0\0\1", 3), 0);
	cr_assert_eq(b58_decode(b, sizeof b, &n, "10", 2), -1, "0 is not a base58 digit");
	cr_assert_eq(b58_decode(b, sizeof b, &n, "l", 1), -1, "l is not a base58 digit");
}

Test(codec, did_key_rfc8032_vector)
{
	/* RFC 8032 test 1 public key. */
	unsigned char pk[32], back[32];
	hex_decode(pk, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", 64);
	char did[DAI_DID_MAX];
	ed25519_did(did, pk);
	cr_assert_str_eq(did, "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw");
	cr_assert_eq(ed25519_from_did(back, did, strlen(did)), 0);
	cr_assert_eq(memcmp(pk, back, 32), 0);
	cr_assert_eq(ed25519_from_did(back, did, strlen(did) - 1), -1, "short");
	cr_assert_eq(ed25519_from_did(back, did + 8, strlen(did) - 8), -1, "no prefix");
	cr_assert_eq(ed25519_from_signer(back, did + 8, strlen(did) - 8), 0);
	/* Another multicodec (x25519, 0xec01) is not an Ed25519 key. */
	unsigned char mc[34] = {0xec, 0x01};
	char other[80] = "z";
	b58_encode(other + 1, sizeof other - 1, mc, sizeof mc);
	cr_assert_eq(ed25519_from_signer(back, other, strlen(other)), -1);
}

Test(codec, times)
{
	long long ts;
	char t[DAI_TIME_LEN + 1];
	cr_assert_eq(time_parse("1970-01-01T00:00:00Z", 20, &ts), 0);
	cr_assert_eq(ts, 0);
	cr_assert_eq(time_parse("2024-02-29T12:34:56Z", 20, &ts), 0);
	time_format(t, ts);
	cr_assert_str_eq(t, "2024-02-29T12:34:56Z");
	cr_assert_eq(ts, 1709210096);
	cr_assert_eq(time_parse("2023-02-29T00:00:00Z", 20, &ts), -1, "not a leap year");
	cr_assert_eq(time_parse("2024-13-01T00:00:00Z", 20, &ts), -1);
	cr_assert_eq(time_parse("2024-01-01 00:00:00Z", 20, &ts), -1);
	cr_assert_eq(time_parse("2024-01-01T24:00:00Z", 20, &ts), -1);
	cr_assert_eq(time_parse("2024-01-01T00:00:00+", 20, &ts), -1);
	for (long long x = -86400LL * 800; x < 86400LL * 365 * 300; x += 86400LL * 37 + 3607) {
		time_format(t, x);
		cr_assert_eq(time_parse(t, 20, &ts), 0, "%s", t);
		cr_assert_eq(ts, x);
	}
	long long d;
	cr_assert_eq(duration_parse("15m", &d), 0);
	cr_assert_eq(d, 900);
	cr_assert_eq(duration_parse("2d", &d), 0);
	cr_assert_eq(d, 172800);
	cr_assert_eq(duration_parse("2", &d), -1);
	cr_assert_eq(duration_parse("-2s", &d), -1);
	cr_assert_eq(duration_parse("2sx", &d), -1);
}

Test(codec, base64_high_bit_bytes_refused)
{
	unsigned char out[8];
	size_t n;
	cr_assert_eq(b64_decode(out, sizeof out, &n, "ab/+", 4), 0);
	/* Each character with its high bit set is not the character below it. */
	static const char *bad[] = {"ab\xaf+", "ab/\xab",
	                            "\xc1"
	                            "b/+",
	                            "ab\xbd\xbd"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(b64_decode(out, sizeof out, &n, bad[i], 4), -1, "case %zu", i);
}

/* The table codec against libsodium's: encodings of every length to 300
 * equal sodium_bin2base64's, and the two decoders (b64_decode and the
 * constant-time b64_decode_secret) agree on accepting and on the bytes for
 * those texts and for damaged copies of them: a character replaced by each
 * of a set of troublesome bytes at each place, a group cut off, padding
 * added. */
Test(codec, base64_table_codec_matches_libsodium)
{
	static const unsigned char odd[] = {'=', 0xaf, 0x00, 0x80, 0xff, ' ', '-',  '_',
	                                    '.', 'A',  '/',  '+',  '9',  'z', '\n', 0x2f | 0x80};
	unsigned char in[300], a[300], b[300];
	char text[405], want[405], bad[410];
	uint32_t st = 7;
	int accepted = 0, refused = 0;
	for (size_t n = 0; n <= 300; n++) {
		for (size_t i = 0; i < n; i++) {
			st = st * 1664525u + 1013904223u;
			in[i] = (unsigned char)(st >> 24);
		}
		b64_encode(text, in, n);
		sodium_bin2base64(want, sizeof want, in, n, sodium_base64_VARIANT_ORIGINAL);
		cr_assert_str_eq(text, want, "encoding of %zu bytes", n);
		size_t tn = strlen(text), na, nb;
		cr_assert_eq(b64_decode(a, sizeof a, &na, text, tn), 0);
		cr_assert_eq(na, n);
		cr_assert_arr_eq(a, in, n);
		if (n % 7 && n > 40)
			continue; /* the damage below for a sample of lengths */
		for (size_t pos = 0; pos < tn; pos++)
			for (size_t k = 0; k < sizeof odd; k++) {
				memcpy(bad, text, tn);
				bad[pos] = (char)odd[k];
				int ra = b64_decode(a, sizeof a, &na, bad, tn);
				int rb = b64_decode_secret(b, sizeof b, &nb, bad, tn);
				cr_assert_eq(ra, rb, "length %zu, byte %zu set to 0x%02x: %d vs %d",
				             n, pos, odd[k], ra, rb);
				if (ra == 0) {
					cr_assert_eq(na, nb);
					cr_assert_arr_eq(a, b, na);
					accepted++;
				} else {
					refused++;
				}
			}
		/* cut and padded copies, and a capacity one byte short */
		memcpy(bad, text, tn);
		memcpy(bad + tn, "====", 4);
		for (size_t cut = 0; cut <= tn + 4; cut++) {
			int ra = b64_decode(a, sizeof a, &na, bad, cut);
			int rb = b64_decode_secret(b, sizeof b, &nb, bad, cut);
			cr_assert_eq(ra, rb, "length %zu cut to %zu", n, cut);
		}
		if (n)
			cr_assert_eq(b64_decode(a, n - 1, &na, text, tn), -1, "capacity %zu",
			             n - 1);
	}
	cr_assert(accepted > 1000 && refused > 10000, "%d accepted, %d refused", accepted, refused);
}
