/*
 * f16.h - IEEE binary16 <-> binary32 conversion, exact and portable.
 *
 * f16_to_f32 is exact for every half (subnormals included). A NaN keeps its
 * sign and payload and gets the quiet bit, as x86 F16C (vcvtph2ps) does.
 *
 * f32_to_f16 rounds to nearest, ties to even (IEEE default, like F16C with
 * _MM_FROUND_TO_NEAREST_INT): values at or above 65520 in magnitude become
 * infinity, values below 2^-25 become a signed zero, and values between go
 * through the half subnormals. A NaN keeps its sign and the top 10 payload
 * bits and gets the quiet bit, as F16C does.
 *
 * Both are bit manipulation plus exact float multiplications by powers of
 * two, so they give the same bits on every machine; the tests check them
 * against F16C over all 65536 halves and many floats.
 */
#ifndef DAI_KERN_F16_H
#define DAI_KERN_F16_H

#include <stdint.h>
#include <string.h>

static inline float f16_bits_to_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static inline uint32_t f16_f32_to_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static inline float f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu;
	uint32_t mant = h & 0x3ffu;

	if (exp == 0x1f) /* inf or NaN: NaNs come out quiet */
		return f16_bits_to_f32(sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0));
	if (exp == 0) {
		/* zero or subnormal: mant * 2^-24, exact in float */
		float v = (float)mant * 0x1p-24f;
		return f16_bits_to_f32(sign | f16_f32_to_bits(v));
	}
	return f16_bits_to_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

static inline uint16_t f32_to_f16(float f)
{
	uint32_t x = f16_f32_to_bits(f);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
	x &= 0x7fffffffu;

	if (x > 0x7f800000u) /* NaN: quiet, top 10 payload bits */
		return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
	if (x >= 0x477ff000u) /* >= 65520 (or inf): rounds to infinity */
		return (uint16_t)(sign | 0x7c00u);
	if (x < 0x38800000u) {
		/*
		 * Below 2^-14: a half subnormal m * 2^-24. |f| * 2^24 < 1024 is
		 * exact, and adding 2^23 rounds it to an integer, ties to even.
		 * m = 1024 is the smallest normal half, which has the same bits.
		 */
		float v = f16_bits_to_f32(x) * 0x1p24f;
		float m = (v + 0x1p23f) - 0x1p23f;
		return (uint16_t)(sign | (uint16_t)m);
	}
	/* normal: rebias the exponent and round the 13 dropped bits to even */
	uint32_t odd = (x >> 13) & 1u;
	x = x - 0x38000000u + 0xfffu + odd;
	return (uint16_t)(sign | (x >> 13));
}

#endif
