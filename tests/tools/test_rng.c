/* test_rng.c - see test_rng.h. */
#include "test_rng.h"

#include <math.h>

uint64_t rng_next(rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

float rng_uni(rng *r)
{
	return (float)((int64_t)(rng_next(r) >> 40) - (1 << 23)) * 0x1p-23f;
}

float rng_val(rng *r)
{
	uint64_t k = rng_next(r) % 64;
	float v = rng_uni(r);
	if (k == 0)
		return 0.0f;
	if (k == 1)
		return -0.0f;
	if (k == 2)
		return v * 0x1p-130f; /* subnormal */
	if (k < 6)
		return v * ldexpf(1.0f, (int)(rng_next(r) % 40) - 20);
	return v;
}
