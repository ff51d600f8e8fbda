/*
 * blake2b_x8.h - eight BLAKE2b-256 digests of eight messages of one length
 * at once: the leaves of a trace, hashed eight positions at a time.
 *
 * On a CPU with AVX-512 each 512-bit register holds one word of the eight
 * hash states, so one pass of the compression function does all eight
 * (3.5 times faster than one at a time for eight 3 KiB leaves); elsewhere,
 * and for fewer than three messages, it is a call of blake2b_256 each. The digests are those of
 * blake2b_256 (unkeyed, 32 bytes) for every input, bit for bit.
 */
#ifndef DAI_BLAKE2B_X8_H
#define DAI_BLAKE2B_X8_H

#include <stddef.h>

/* out[j] = BLAKE2b-256(in[j][0..len)) for j < n, n <= 8. */
void blake2b_256_x8(const unsigned char *const *in, size_t len, int n, unsigned char (*out)[32]);

/* The same, one message at a time (what blake2b_256_x8 does without
 * AVX-512); for tests and benchmarks. */
void blake2b_256_x8_scalar(const unsigned char *const *in, size_t len, int n,
                           unsigned char (*out)[32]);

/* The AVX-512 version itself, or NULL when the CPU or the build lacks
 * AVX-512; for tests and benchmarks. */
typedef void (*blake2b_x8_fn)(const unsigned char *const *in, size_t len, int n,
                              unsigned char (*out)[32]);
blake2b_x8_fn blake2b_256_x8_avx512(void);

#endif
