/*
 * test_rng.h - the small deterministic generator the kernel tests draw
 * their inputs from (xorshift64), and the float mix they test with: mostly
 * unit-size values, with zeros of both signs, subnormals and huge and tiny
 * magnitudes, so that rounding and lane order matter.
 */
#ifndef DAI_TESTS_RNG_H
#define DAI_TESTS_RNG_H

#include <stdint.h>

typedef struct rng {
	uint64_t s; /* never 0 */
} rng;

uint64_t rng_next(rng *r);
/* uniform in [-1, 1) */
float rng_uni(rng *r);
/* the test mix described above */
float rng_val(rng *r);

#endif
