/* kern_gelu.c - see kern_gelu.h: ggml's f16 GELU table, built from basic operations. */
#include "kern_gelu.h"

#include <math.h>
#include <pthread.h>

#include "f16.h"

/* T has one spare entry: the AVX2 gather reads 32 bits at T + h. */
static uint16_t table[65536 + 1];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/*
 * e^z - 1 for |z| <= 90, in double: below 1 in magnitude the Taylor
 * series to z^20/20! (no cancellation, error < 1e-19 relative), else
 * e^z = 2^k e^r with r = z - k ln2 in [-ln2/2, ln2/2] (ln2 in two parts,
 * so k*LN2_HI is exact) and e^r from its Taylor series to r^16/16!.
 * Only +, -, *, / and ldexp, so every machine gives the same double.
 */
static double expm1_d(double z)
{
	if (fabs(z) < 1.0) {
		double s = 0.0;
		for (int i = 20; i >= 1; i--)
			s = z / i * (1.0 + s);
		return s;
	}
	static const double LN2_HI = 6.93147180369123816490e-01, /* 0x3fe62e42fee00000 */
	    LN2_LO = 1.90821492927058770002e-10, INV_LN2 = 1.44269504088896338700e+00;
	double kf = z * INV_LN2;
	kf = kf < 0 ? (double)(long)(kf - 0.5) : (double)(long)(kf + 0.5);
	double r = (z - kf * LN2_HI) - kf * LN2_LO;
	double p = 0.0;
	for (int i = 16; i >= 1; i--)
		p = r / i * (1.0 + p);
	return ldexp(1.0 + p, (int)kf) - 1.0;
}

/* tanh(y) for a float y, rounded once from double to the nearest float
 * (a NaN stays a NaN: the table's entries for NaN halves) */
static float tanh_f(float y)
{
	if (isnan(y))
		return y;
	double a = fabs((double)y);
	double t = a > 20.0 ? 1.0 : expm1_d(2.0 * a) / (expm1_d(2.0 * a) + 2.0);
	return (float)(y < 0 ? -t : t);
}

static void build(void)
{
	const float c = 0.79788456080286535587989211986876f, a = 0.044715f;
	for (uint32_t h = 0; h < 65536; h++) {
		float v = f16_to_f32((uint16_t)h);
		/* ggml's build contracts 1.0f + (a*v)*v into one fused multiply-add */
		float inner = c * v * fmaf(a * v, v, 1.0f);
		table[h] = f32_to_f16(0.5f * v * (1.0f + tanh_f(inner)));
	}
	table[65536] = 0;
}

const uint16_t *kern_gelu_table(void)
{
	pthread_once(&table_once, build);
	return table;
}

static float gelu_t(const uint16_t *t, float x)
{
	if (x <= -10.0f)
		return 0.0f;
	if (x >= 10.0f)
		return x;
	return f16_to_f32(t[f32_to_f16(x)]);
}

float kern_gelu(float x)
{
	return gelu_t(kern_gelu_table(), x);
}

void kern_geglu_ref(const float *g, const float *u, float *y, int n)
{
	const uint16_t *t = kern_gelu_table();
	for (int i = 0; i < n; i++)
		y[i] = gelu_t(t, g[i]) * u[i];
}

void kern_geglu(const kern_table *k, const float *g, const float *u, float *y, int n)
{
	if (k == kern_avx2())
		kern_geglu_avx2(g, u, y, n);
	else
		kern_geglu_ref(g, u, y, n);
}
