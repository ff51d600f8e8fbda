/*
 * blake2b_x8.c - see blake2b_x8.h: the choice between the AVX-512 lanes
 * (blake2b_x8_avx512.c, compiled with its flags) and one hash at a time.
 */
#include "blake2b_x8.h"

#include <pthread.h>

#include "blake2b.h"
#include "kern/kern.h"

blake2b_x8_fn blake2b_x8_avx512_fn(void); /* blake2b_x8_avx512.c */

void blake2b_256_x8_scalar(const unsigned char *const *in, size_t len, int n,
                           unsigned char (*out)[32])
{
	for (int j = 0; j < n; j++)
		blake2b_256(out[j], in[j], len);
}

blake2b_x8_fn blake2b_256_x8_avx512(void)
{
	/* the kernel table's check: AVX-512 in the CPU and ZMM state saved by the OS */
	return kern_avx512() ? blake2b_x8_avx512_fn() : NULL;
}

static blake2b_x8_fn chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
	chosen = blake2b_256_x8_avx512();
	if (!chosen)
		chosen = blake2b_256_x8_scalar;
}

/* The lanes cost the same for one message as for eight, 3.5 times one
 * message's time here: below three messages one at a time is faster. */
#define X8_MIN 3

void blake2b_256_x8(const unsigned char *const *in, size_t len, int n, unsigned char (*out)[32])
{
	pthread_once(&chosen_once, choose);
	if (n < X8_MIN)
		blake2b_256_x8_scalar(in, len, n, out);
	else
		chosen(in, len, n, out);
}
