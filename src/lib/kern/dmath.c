/* dmath.c - see dmath.h. Double-precision helpers for table setup. */
#include "dmath.h"

static double d_from_bits(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

static uint64_t d_to_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

/* 2^k for -1022 <= k <= 1023 */
static double d_pow2(int k)
{
	return d_from_bits((uint64_t)(k + 1023) << 52);
}

#define D_ROUND 0x1.8p52
#define D_LOG2E 0x1.71547652b82fep+0
#define D_LN2_HI 0x1.62e42fefa39efp-1
#define D_LN2_LO 0x1.abc9e3b39803fp-56

double dm_exp(double x)
{
	if (x != x)
		return x + x;
	if (x > 709.8)
		return d_from_bits(0x7ff0000000000000u);
	if (x < -745.2)
		return 0.0;
	double k = (x * D_LOG2E + D_ROUND) - D_ROUND;
	double r = fma(-k, D_LN2_HI, x);
	r = fma(-k, D_LN2_LO, r);
	/* Taylor series to r^13 / 13!: |r| <= 0.35, next term < 1e-19 */
	static const double inv_fact[] = {
	    1.0 / 6227020800.0,
	    1.0 / 479001600.0,
	    1.0 / 39916800.0,
	    1.0 / 3628800.0,
	    1.0 / 362880.0,
	    1.0 / 40320.0,
	    1.0 / 5040.0,
	    1.0 / 720.0,
	    1.0 / 120.0,
	    1.0 / 24.0,
	    1.0 / 6.0,
	    1.0 / 2.0,
	    1.0,
	    1.0,
	};
	double p = inv_fact[0];
	for (size_t i = 1; i < sizeof inv_fact / sizeof inv_fact[0]; i++)
		p = fma(p, r, inv_fact[i]);
	/* 2^k in two normal factors so that subnormal results round once */
	int ki = (int)k;
	int k1 = ki / 2;
	int k2 = ki - k1;
	return (p * d_pow2(k1)) * d_pow2(k2);
}

double dm_log(double x)
{
	if (x != x || x < 0.0)
		return d_from_bits(0x7ff8000000000000u);
	if (x == 0.0)
		return -d_from_bits(0x7ff0000000000000u);
	if (x == d_from_bits(0x7ff0000000000000u))
		return x;
	int e = 0;
	if (x < 0x1p-1022) { /* subnormal: scale into the normal range */
		x *= 0x1p54;
		e = -54;
	}
	uint64_t u = d_to_bits(x);
	e += (int)((u >> 52) & 0x7ff) - 1023;
	double m = d_from_bits((u & 0x000fffffffffffffu) | 0x3ff0000000000000u);
	if (m > 0x1.6a09e667f3bcdp+0) { /* keep m in [sqrt(1/2), sqrt(2)] */
		m *= 0.5;
		e += 1;
	}
	/* log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172 */
	double f = m - 1.0;
	double s = f / (2.0 + f);
	double z = s * s;
	double p = 1.0 / 25.0;
	for (int k = 23; k >= 3; k -= 2)
		p = fma(p, z, 1.0 / k);
	double lm = fma(2.0 * s * z, p, 2.0 * s);
	double ed = (double)e;
	return fma(ed, D_LN2_HI, fma(ed, D_LN2_LO, lm));
}

float dm_powf(float x, float y)
{
	if (y == 0.0f || x == 1.0f)
		return 1.0f;
	return (float)dm_exp((double)y * dm_log((double)x));
}

#define D_TWO_OVER_PI 0x1.45f306dc9c883p-1
/* pi/2 = P1 + P2 + P3 to about 160 bits */
#define D_PIO2_1 0x1.921fb54442d18p+0
#define D_PIO2_2 0x1.1a62633145c07p-54
#define D_PIO2_3 (-0x1.f1976b7ed8fbcp-110)

/*
 * Reduces a float to r in about [-pi/4, pi/4] with x = n*pi/2 + r. For
 * |x| < 2^24 the first fma is exact (x and n*P1 are multiples of 2^-52
 * near each other) and the rest keep r to about 1 ulp of double.
 */
static double reduce_pio2(float x, int *quadrant)
{
	double xd = (double)x;
	double k = (xd * D_TWO_OVER_PI + D_ROUND) - D_ROUND;
	double r = fma(-k, D_PIO2_1, xd);
	r = fma(-k, D_PIO2_2, r);
	r = fma(-k, D_PIO2_3, r);
	*quadrant = (int)((int64_t)k & 3);
	return r;
}

/* sin(r) for |r| <= pi/4 + a little: Taylor to r^19 */
static double sin_poly(double r)
{
	double z = r * r;
	double p = -1.0 / 121645100408832000.0;
	static const double c[] = {
	    1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0, -1.0 / 39916800.0,
	    1.0 / 362880.0,          -1.0 / 5040.0,          1.0 / 120.0,        -1.0 / 6.0,
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		p = fma(p, z, c[i]);
	return fma(r * z, p, r);
}

/* cos(r) for |r| <= pi/4 + a little: Taylor to r^20 */
static double cos_poly(double r)
{
	double z = r * r;
	double p = 1.0 / 2432902008176640000.0;
	static const double c[] = {
	    -1.0 / 6402373705728000.0,
	    1.0 / 20922789888000.0,
	    -1.0 / 87178291200.0,
	    1.0 / 479001600.0,
	    -1.0 / 3628800.0,
	    1.0 / 40320.0,
	    -1.0 / 720.0,
	    1.0 / 24.0,
	    -1.0 / 2.0,
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		p = fma(p, z, c[i]);
	return fma(z, p, 1.0);
}

static int trig_arg_ok(float x)
{
	return x == x && x < 0x1p24f && x > -0x1p24f;
}

float dm_sinf(float x)
{
	if (!trig_arg_ok(x))
		return (x - x) / (x - x);
	if (x == 0.0f)
		return x; /* keeps the sign of zero */
	int n;
	double r = reduce_pio2(x, &n);
	double v;
	switch (n) {
	case 0:
		v = sin_poly(r);
		break;
	case 1:
		v = cos_poly(r);
		break;
	case 2:
		v = -sin_poly(r);
		break;
	default:
		v = -cos_poly(r);
		break;
	}
	return (float)v;
}

float dm_cosf(float x)
{
	if (!trig_arg_ok(x))
		return (x - x) / (x - x);
	int n;
	double r = reduce_pio2(x, &n);
	double v;
	switch (n) {
	case 0:
		v = cos_poly(r);
		break;
	case 1:
		v = -sin_poly(r);
		break;
	case 2:
		v = -cos_poly(r);
		break;
	default:
		v = sin_poly(r);
		break;
	}
	return (float)v;
}

void dm_rope_table(int pos, int n_dims, float base, float *cos_out, float *sin_out)
{
	dm_rope_table_scaled(pos, n_dims, base, 1.0f, cos_out, sin_out);
}

void dm_rope_table_scaled(int pos, int n_dims, float base, float freq_scale, float *cos_out,
                          float *sin_out)
{
	float theta_scale = dm_powf(base, -2.0f / (float)n_dims);
	float theta = (float)pos;
	for (int i = 0; i < n_dims / 2; i++) {
		float t = freq_scale * theta;
		cos_out[i] = dm_cosf(t);
		sin_out[i] = dm_sinf(t);
		theta = theta * theta_scale;
	}
}
