/*
 * kern_steps.h - the scalar steps of the kernel contract (kern.h items 3a,
 * 3b) that more than one kernel table takes: the 8-lane fold, the maxps
 * tree that finds a block's amax, and the int8 rounding of cvtps_epi32 +
 * packs. Internal to src/lib/kern: each table compiles its own copy of
 * the very same IEEE operations in the very same order. The functions are
 * plain static (not inline), as they were in each table before, so the
 * compiler's inlining choices and the machine code stay what they were.
 */
#ifndef DAI_KERN_STEPS_H
#define DAI_KERN_STEPS_H

#include <stdint.h>

#include "f16.h"

/* static, and no warning in a table that takes only some of the steps */
#define KERN_STEP static __attribute__((unused))

/* Contract 3b: A[j] = A[j] + A[j + w] for w = 4, 2, 1. */
KERN_STEP float kern_fold8(float *A)
{
	for (int w = 4; w >= 1; w /= 2)
		for (int j = 0; j < w; j++)
			A[j] = A[j] + A[j + w];
	return A[0];
}

/* x86 maxps: the first operand if it is greater, else the second. */
KERN_STEP float kern_maxps(float a, float b)
{
	return a > b ? a : b;
}

/* |x| by clearing the sign bit, as andps does (NaN stays NaN). */
KERN_STEP float kern_abs_bits(float x)
{
	return f16_bits_to_f32(f16_f32_to_bits(x) & 0x7fffffffu);
}

/* amax of a block of 32 floats by the maxps tree of contract 3a */
KERN_STEP float kern_block_amax(const float *x)
{
	float m[8], p[4], s[2];
	for (int j = 0; j < 8; j++) {
		float v = kern_abs_bits(x[j]);
		v = kern_maxps(v, kern_abs_bits(x[j + 8]));
		v = kern_maxps(v, kern_abs_bits(x[j + 16]));
		m[j] = kern_maxps(v, kern_abs_bits(x[j + 24]));
	}
	for (int j = 0; j < 4; j++)
		p[j] = kern_maxps(m[j + 4], m[j]);
	for (int j = 0; j < 2; j++)
		s[j] = kern_maxps(p[j], p[j + 2]);
	return kern_maxps(s[0], s[1]);
}

/*
 * round-half-even to an integer, then cvtps_epi32 + packs to int8:
 * NaN or out of int32 range -> INT32_MIN -> -128; else clamp.
 */
KERN_STEP int8_t kern_q8_round(float v)
{
	if (!(v >= -0x1p31f && v < 0x1p31f))
		return -128;
	if (v >= 0x1p22f)
		return 127;
	if (v <= -0x1p22f)
		return -128;
	float r = (v + 0x1.8p23f) - 0x1.8p23f; /* exact RNE for |v| < 2^22 */
	int c = (int)r;
	return (int8_t)(c > 127 ? 127 : c < -128 ? -128 : c);
}

#endif
