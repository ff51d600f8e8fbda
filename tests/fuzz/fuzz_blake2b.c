/* libFuzzer harness for BLAKE2b (blake2b.h): our digest must equal
 * libsodium's crypto_generichash for the fuzzed message, key and output
 * length, in one call and streamed in pieces whose sizes the input picks;
 * and blake2b_256_x8 (both ways) on the message cut into 1..8 equal parts.
 *
 * Input: byte 0 picks the output length (1..64), byte 1 the key length
 * (0..64), byte 2 seeds the piece sizes and picks the parts; then the key,
 * then the message. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blake2b.h"
#include "blake2b_x8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t outlen = 1 + data[0] % BLAKE2B_OUT_MAX;
	size_t keylen = data[1] % (BLAKE2B_KEY_MAX + 1);
	uint32_t cut = data[2] * 2654435761u + 1;
	int n = 1 + data[2] % 8; /* parts for blake2b_256_x8 */
	data += 3;
	size -= 3;
	if (keylen > size)
		keylen = size;
	const uint8_t *key = keylen ? data : NULL;
	const uint8_t *msg = data + keylen;
	size_t len = size - keylen;

	unsigned char want[BLAKE2B_OUT_MAX], one[BLAKE2B_OUT_MAX], streamed[BLAKE2B_OUT_MAX];
	if (crypto_generichash(want, outlen, msg, len, key, keylen) != 0)
		abort();
	if (blake2b(one, outlen, msg, len, key, keylen) != 0 || memcmp(one, want, outlen) != 0)
		abort();

	/* Pieces of 0..299 bytes from a generator the input seeds, so the
	 * fuzzer explores cuts on and around block boundaries. */
	blake2b_state s;
	if (blake2b_init(&s, key, keylen, outlen) != 0)
		abort();
	size_t at = 0;
	while (at < len) {
		cut = cut * 1103515245u + 12345u;
		size_t piece = (cut >> 8) % 300;
		if (piece > len - at)
			piece = len - at;
		blake2b_update(&s, msg + at, piece);
		at += piece;
	}
	if (blake2b_final(&s, streamed, outlen) != 0 || memcmp(streamed, want, outlen) != 0)
		abort();

	/* Eight at a time: n parts of len / n bytes. */
	size_t part = len / (size_t)n;
	const unsigned char *in[8];
	for (int j = 0; j < n; j++)
		in[j] = msg + (size_t)j * part;
	blake2b_x8_fn fns[3] = {blake2b_256_x8, blake2b_256_x8_scalar, blake2b_256_x8_avx512()};
	for (int f = 0; f < 3; f++) {
		unsigned char out[8][32], w[32];
		if (!fns[f])
			continue;
		fns[f](in, part, n, out);
		for (int j = 0; j < n; j++) {
			crypto_generichash(w, 32, in[j], part, NULL, 0);
			if (memcmp(out[j], w, 32) != 0)
				abort();
		}
	}
	return 0;
}
