/*
 * dmath.h - deterministic elementary functions: exp, sin, cos, log, pow.
 *
 * libm gives different last bits on different systems, so the inference
 * core never calls it for transcendental functions. Everything here is built
 * from IEEE basic operations (+ - * /, fma, sqrt), conversions and bit
 * manipulation, with -ffp-contract=off, so it returns the same bits on every
 * conforming machine.
 *
 * dm_expf is the one on the hot path (softmax, SiLU). It is written as a
 * fixed sequence of float operations that the AVX2 kernels repeat lane by
 * lane (fmaf exactly where the vector code uses an fmadd), so the vector and
 * scalar versions agree bit for bit:
 *
 *   NaN            -> x + x (the quieted NaN)
 *   xc = min(max(x, -104), 89)        (exp(-104) rounds to 0, exp(89) to inf)
 *   t  = xc * LOG2E
 *   k  = (t + 0x1.8p23) - 0x1.8p23    (round to nearest even integer)
 *   r  = fmaf(-k, LN2_HI, xc); r = fmaf(-k, LN2_LO, r)
 *   p  = E7; p = fmaf(p, r, E6) ... p = fmaf(p, r, E2)   (Horner)
 *   q  = fmaf(p, r * r, r)
 *   e  = 1 + q
 *   k1 = trunc(k / 2), k2 = k - k1
 *   result = (e * 2^k1) * 2^k2        (one rounding; subnormals correct)
 *
 * It is within 1 ulp of the correctly rounded e^x for every float (checked
 * exhaustively once, and on a sweep in the tests); overflow gives +inf,
 * underflow 0 (subnormal results are rounded once, correctly), -inf gives 0,
 * +inf gives +inf. Files using it must be compiled with -ffp-contract=off.
 *
 * The rest work in double and round once to float at the end, which makes
 * them correctly rounded except in rare near-halfway cases; they are used
 * where speed does not matter (RoPE tables), and they are deterministic all
 * the same. Their argument ranges are documented per function.
 */
#ifndef DAI_KERN_DMATH_H
#define DAI_KERN_DMATH_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* float expressions must round to float at every step (no x87 excess) */
_Static_assert(FLT_EVAL_METHOD == 0, "dai kernels need FLT_EVAL_METHOD == 0");

/* Constants of dm_expf, shared with the vector code. */
#define DM_EXP_LO (-104.0f)
#define DM_EXP_HI 89.0f
#define DM_LOG2E 0x1.715476p+0f
#define DM_ROUND 0x1.8p23f
#define DM_LN2_HI 0x1.62e43p-1f
#define DM_LN2_LO (-0x1.05c61p-29f)
/* exp(r) = 1 + r + r^2 (E2 + E3 r + ... + E7 r^5) on |r| <= ln2/2 (Cephes) */
#define DM_E2 5.0000001201e-1f
#define DM_E3 1.6666665459e-1f
#define DM_E4 4.1665795894e-2f
#define DM_E5 8.3334519073e-3f
#define DM_E6 1.3981999507e-3f
#define DM_E7 1.9875691500e-4f

static inline float dm_f32_from_bits(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* e^x for float x, < 1 ulp, see the header comment for the exact steps. */
static inline float dm_expf(float x)
{
	if (x != x)
		return x + x;
	float xc = x > DM_EXP_LO ? x : DM_EXP_LO;
	xc = xc < DM_EXP_HI ? xc : DM_EXP_HI;
	float t = xc * DM_LOG2E;
	float k = (t + DM_ROUND) - DM_ROUND;
	float r = fmaf(-k, DM_LN2_HI, xc);
	r = fmaf(-k, DM_LN2_LO, r);
	float p = DM_E7;
	p = fmaf(p, r, DM_E6);
	p = fmaf(p, r, DM_E5);
	p = fmaf(p, r, DM_E4);
	p = fmaf(p, r, DM_E3);
	p = fmaf(p, r, DM_E2);
	float r2 = r * r;
	float q = fmaf(p, r2, r);
	float e = 1.0f + q;
	int32_t ki = (int32_t)k; /* exact: |k| <= 151 */
	int32_t k1 = ki / 2;
	int32_t k2 = ki - k1;
	float s1 = dm_f32_from_bits((uint32_t)(k1 + 127) << 23);
	float s2 = dm_f32_from_bits((uint32_t)(k2 + 127) << 23);
	return (e * s1) * s2;
}

/* x / (1 + e^-x), the SiLU used by SwiGLU. */
static inline float dm_siluf(float x)
{
	return x / (1.0f + dm_expf(-x));
}

/*
 * Double-precision helpers (about 1 ulp of double). dm_exp: any double
 * (overflow to inf, underflow to 0). dm_log: x > 0 finite (0 -> -inf,
 * negative or NaN -> NaN, inf -> inf).
 */
double dm_exp(double x);
double dm_log(double x);

/*
 * x^y for x > 0, rounded once from exp(y * log(x)) in double; agrees with a
 * correctly rounded powf except in rare near-halfway cases.
 */
float dm_powf(float x, float y);

/*
 * sin and cos of a float for |x| < 2^24, computed in double after a
 * three-part reduction by pi/2 (exact first step by fma) and rounded once:
 * equal to the correctly rounded result on every sample tested (every 7th
 * float below 2^24). |x| >= 2^24, inf and NaN give NaN (RoPE angles are
 * positions times factors <= 1, far below).
 */
float dm_sinf(float x);
float dm_cosf(float x);

/*
 * RoPE angle table for one position, the way llama.cpp builds it
 * (ggml_rope_cache_init, "normal" rope, freq_scale 1, no YaRN):
 *
 *   theta_scale = dm_powf(base, -2.0f / (float)n_dims)   (float division)
 *   theta = (float)pos
 *   for i in 0 .. n_dims/2-1:
 *       cos_out[i] = dm_cosf(theta); sin_out[i] = dm_sinf(theta)
 *       theta = theta * theta_scale                      (float multiply)
 *
 * Pair i of a head, elements (2i, 2i+1), rotates by the angle of entry i.
 */
void dm_rope_table(int pos, int n_dims, float base, float *cos_out, float *sin_out);

/*
 * The same with linear RoPE scaling as llama.cpp applies it (rope_yarn
 * without YaRN): entry i uses the angle freq_scale * theta_i, one float
 * multiply, where theta_i is the unscaled angle above. freq_scale 1 gives
 * dm_rope_table exactly.
 */
void dm_rope_table_scaled(int pos, int n_dims, float base, float freq_scale, float *cos_out,
                          float *sin_out);

#endif
