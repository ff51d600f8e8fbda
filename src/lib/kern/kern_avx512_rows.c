/*
 * kern_avx512_rows.c - the AVX-512 kernels of attention (wsum,
 * wsum_batch, scale, softmax) and of the gated feed-forward (silu,
 * swiglu): 16 lanes at a time with masked tails, each lane the reference's
 * operations in the reference's order (kern.h, contract items 1 and 5;
 * dm_expf as dmath.h writes it).
 */
#include "kern_avx512_impl.h"

#ifdef KERN_AVX512_BUILT

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmath.h"

/* ---- attention ---- */

/*
 * wsum (contract 5): y[i] = canonical dot over t < T of p[t] * v[t*ldv + i].
 * 16 columns at a time, in one register per lane; the 32 lanes in two
 * passes over the rows so that each pass keeps its 16 lanes in registers:
 * first the rows with t % 32 < 16, whose lanes wait in memory, then the
 * others, and the contract 1 fold of the 32 lanes. Lanes no row reaches
 * stay +0 and are added like the reference adds them. Columns past n are
 * loaded as zeros and never stored.
 */
void kern_avx512_wsum(const float *p, const float *v, int ldv, int T, float *y, int n)
{
	for (int c0 = 0; c0 < n; c0 += 16) {
		int w = n - c0 < 16 ? n - c0 : 16;
		__mmask16 m = (__mmask16)((1u << w) - 1);
		const float *vc = v + c0;
		__m512 low[16], a[16];
		for (int h = 0; h < 2; h++) {
#pragma GCC unroll 16
			for (int l = 0; l < 16; l++)
				a[l] = _mm512_setzero_ps();
			for (int t0 = 16 * h; t0 < T; t0 += 32) {
#pragma GCC unroll 16
				for (int l = 0; l < 16; l++) {
					int t = t0 + l;
					if (t < T)
						a[l] = _mm512_fmadd_ps(
						    _mm512_set1_ps(p[t]),
						    _mm512_maskz_loadu_ps(m, vc + (size_t)t * ldv),
						    a[l]);
				}
			}
			if (h == 0) {
#pragma GCC unroll 16
				for (int l = 0; l < 16; l++)
					low[l] = a[l];
			}
		}
		/* fold: w = 16 (lanes l and l + 16), then 8, 4, 2, 1 */
#pragma GCC unroll 16
		for (int l = 0; l < 16; l++)
			a[l] = _mm512_add_ps(low[l], a[l]);
#pragma GCC unroll 8
		for (int l = 0; l < 8; l++)
			a[l] = _mm512_add_ps(a[l], a[l + 8]);
#pragma GCC unroll 4
		for (int l = 0; l < 4; l++)
			a[l] = _mm512_add_ps(a[l], a[l + 4]);
		a[0] = _mm512_add_ps(a[0], a[2]);
		a[1] = _mm512_add_ps(a[1], a[3]);
		a[0] = _mm512_add_ps(a[0], a[1]);
		_mm512_mask_storeu_ps(y + c0, m, a[0]);
	}
}

/* dm_expf on 16 lanes: the same operations in the same order (dmath.h), as
 * the AVX2 exp8 */
INLINE __m512 exp16(__m512 x)
{
	__mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
	__m512 xc = _mm512_max_ps(x, _mm512_set1_ps(DM_EXP_LO));
	xc = _mm512_min_ps(xc, _mm512_set1_ps(DM_EXP_HI));
	__m512 t = _mm512_mul_ps(xc, _mm512_set1_ps(DM_LOG2E));
	__m512 k =
	    _mm512_sub_ps(_mm512_add_ps(t, _mm512_set1_ps(DM_ROUND)), _mm512_set1_ps(DM_ROUND));
	__m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(DM_LN2_HI), xc);
	r = _mm512_fnmadd_ps(k, _mm512_set1_ps(DM_LN2_LO), r);
	__m512 p = _mm512_set1_ps(DM_E7);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(DM_E6));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(DM_E5));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(DM_E4));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(DM_E3));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(DM_E2));
	__m512 r2 = _mm512_mul_ps(r, r);
	__m512 q = _mm512_fmadd_ps(p, r2, r);
	__m512 e = _mm512_add_ps(_mm512_set1_ps(1.0f), q);
	__m512i ki = _mm512_cvttps_epi32(k);
	__m512i k1 = _mm512_srai_epi32(_mm512_add_epi32(ki, _mm512_srli_epi32(ki, 31)), 1);
	__m512i k2 = _mm512_sub_epi32(ki, k1);
	const __m512i bias = _mm512_set1_epi32(127);
	__m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k1, bias), 23));
	__m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k2, bias), 23));
	__m512 res = _mm512_mul_ps(_mm512_mul_ps(e, s1), s2);
	return _mm512_mask_add_ps(res, nan, x, x);
}

INLINE __m512 silu16(__m512 x)
{
	__m512 nx = _mm512_xor_ps(x, _mm512_set1_ps(-0.0f));
	return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(nx)));
}

/* silu and swiglu (contract 5) 16 lanes at a time, the tail masked */
void kern_avx512_silu(const float *x, float *y, int n)
{
	int i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, silu16(_mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = lanes_to(n - i);
		_mm512_mask_storeu_ps(y + i, m, silu16(_mm512_maskz_loadu_ps(m, x + i)));
	}
}

void kern_avx512_swiglu(const float *g, const float *u, float *y, int n)
{
	int i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(
		    y + i, _mm512_mul_ps(silu16(_mm512_loadu_ps(g + i)), _mm512_loadu_ps(u + i)));
	if (i < n) {
		__mmask16 m = lanes_to(n - i);
		_mm512_mask_storeu_ps(y + i, m,
		                      _mm512_mul_ps(silu16(_mm512_maskz_loadu_ps(m, g + i)),
		                                    _mm512_maskz_loadu_ps(m, u + i)));
	}
}

void kern_avx512_scale(const float *x, float s, float *y, int n)
{
	__m512 sv = _mm512_set1_ps(s);
	int i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), sv));
	if (i < n) {
		__mmask16 m = lanes_to(n - i);
		_mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), sv));
	}
}

/*
 * softmax (contract 5), 16 lanes at a time with masked tails, and the
 * canonical sum of the exponentials taken as they are made: lanes 0-15 of
 * it in one register, 16-31 in another, each lane adding its elements in
 * increasing order, then the fold.
 */
void kern_avx512_softmax(const float *x, float *y, int n)
{
	/* max is exact, so any order gives the same value up to the sign of a
	 * zero, which x - m then erases under exp; maxps keeps its second
	 * operand when the first is NaN, so NaNs are skipped */
	const __m512 ninf = _mm512_set1_ps(-INFINITY);
	__m512 mv = ninf;
	int i = 0;
	for (; i + 16 <= n; i += 16)
		mv = _mm512_max_ps(_mm512_loadu_ps(x + i), mv);
	if (i < n)
		mv = _mm512_max_ps(_mm512_mask_loadu_ps(ninf, lanes_to(n - i), x + i), mv);
	__m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
	__m512 s[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
	for (i = 0; i + 32 <= n; i += 32)
		for (int h = 0; h < 2; h++) {
			__m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16 * h), m));
			_mm512_storeu_ps(y + i + 16 * h, e);
			s[h] = _mm512_add_ps(s[h], e);
		}
	for (int h = 0; h < 2 && i + 16 * h < n; h++) {
		int cnt = n - i - 16 * h;
		__mmask16 mk = lanes_to(cnt > 16 ? 16 : cnt);
		__m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mk, x + i + 16 * h), m));
		_mm512_mask_storeu_ps(y + i + 16 * h, mk, e);
		s[h] = _mm512_mask_add_ps(s[h], mk, s[h], e);
	}
	kern_avx512_scale(y, 1.0f / fold32z(s[0], s[1]), y, n);
}

/*
 * wsum_batch (contract 5): up to WB_G rows of weights (tokens) over the same
 * V rows, WB_C registers of 16 columns at a time. The lanes are walked one
 * canonical lane at a time: lane l takes the V rows t = l, l + 32, ... and
 * each row, loaded once, goes into every token's accumulators, one
 * broadcast weight per token; so each output sees exactly the fmas of its
 * lane in increasing t, as in wsum. Lanes l and l + 16 are added as soon
 * as both are done (the first step of the fold) and the other steps
 * follow on the 16 sums. A token whose T ends before another's skips the
 * rows past its own end.
 */
enum { WB_G = 4, WB_C = 4 };

/* one canonical lane l (all its rows) into acc[g][c]; G, C constant */
INLINE void wsum_lane(const float *const *p, const int *T, int G, int tmin, int tmax,
                      const float *v, int ldv, int C, const __mmask16 *m, int l,
                      __m512 (*acc)[WB_C])
{
#pragma GCC unroll 4
	for (int g = 0; g < G; g++)
#pragma GCC unroll 4
		for (int c = 0; c < C; c++)
			acc[g][c] = _mm512_setzero_ps();
	int t = l;
	for (; t < tmin; t += 32) {
		const float *vr = v + (size_t)t * ldv;
		__m512 vv[WB_C];
#pragma GCC unroll 4
		for (int c = 0; c < C; c++)
			vv[c] = _mm512_maskz_loadu_ps(m[c], vr + 16 * c);
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			__m512 pb = _mm512_set1_ps(p[g][t]);
#pragma GCC unroll 4
			for (int c = 0; c < C; c++)
				acc[g][c] = _mm512_fmadd_ps(pb, vv[c], acc[g][c]);
		}
	}
	for (; t < tmax; t += 32) {
		const float *vr = v + (size_t)t * ldv;
		__m512 vv[WB_C];
#pragma GCC unroll 4
		for (int c = 0; c < C; c++)
			vv[c] = _mm512_maskz_loadu_ps(m[c], vr + 16 * c);
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			if (t >= T[g])
				continue;
			__m512 pb = _mm512_set1_ps(p[g][t]);
#pragma GCC unroll 4
			for (int c = 0; c < C; c++)
				acc[g][c] = _mm512_fmadd_ps(pb, vv[c], acc[g][c]);
		}
	}
}

/* G tokens x C registers of columns: y[g] + 16c (mask m[c]) */
INLINE void wsum_tile(const float *const *p, const int *T, int G, const float *v, int ldv, int C,
                      const __mmask16 *m, float *const *y)
{
	int tmin = T[0], tmax = T[0];
	for (int g = 1; g < G; g++) {
		tmin = T[g] < tmin ? T[g] : tmin;
		tmax = T[g] > tmax ? T[g] : tmax;
	}
	__m512 S[16][WB_G][WB_C];
	for (int l = 0; l < 16; l++) {
		__m512 a[WB_G][WB_C], b[WB_G][WB_C];
		wsum_lane(p, T, G, tmin, tmax, v, ldv, C, m, l, a);
		wsum_lane(p, T, G, tmin, tmax, v, ldv, C, m, l + 16, b);
		/* fold w = 16 */
#pragma GCC unroll 4
		for (int g = 0; g < G; g++)
#pragma GCC unroll 4
			for (int c = 0; c < C; c++)
				S[l][g][c] = _mm512_add_ps(a[g][c], b[g][c]);
	}
	/* fold w = 8, 4, 2, 1 */
	for (int w = 8; w >= 1; w /= 2)
		for (int j = 0; j < w; j++)
#pragma GCC unroll 4
			for (int g = 0; g < G; g++)
#pragma GCC unroll 4
				for (int c = 0; c < C; c++)
					S[j][g][c] = _mm512_add_ps(S[j][g][c], S[j + w][g][c]);
#pragma GCC unroll 4
	for (int g = 0; g < G; g++)
#pragma GCC unroll 4
		for (int c = 0; c < C; c++)
			_mm512_mask_storeu_ps(y[g] + 16 * c, m[c], S[0][g][c]);
}

void kern_avx512_wsum_batch(const float *p, int ldp, const int *T, int nb, const float *v, int ldv,
                            float *y, int ldy, int n)
{
	for (int b = 0; b < nb; b += WB_G) {
		int G = nb - b < WB_G ? nb - b : WB_G;
		const float *pg[WB_G];
		int Tg[WB_G];
		for (int g = 0; g < WB_G; g++) {
			int bb = b + (g < G ? g : 0);
			pg[g] = p + (size_t)bb * ldp;
			Tg[g] = T[bb];
		}
		for (int c0 = 0; c0 < n; c0 += 16 * WB_C) {
			int C = (n - c0 + 15) / 16 < WB_C ? (n - c0 + 15) / 16 : WB_C;
			__mmask16 m[WB_C];
			float *yg[WB_G];
			for (int c = 0; c < WB_C; c++) {
				int w = n - c0 - 16 * c;
				w = w < 0 ? 0 : w > 16 ? 16 : w;
				m[c] = (__mmask16)((1u << w) - 1);
			}
			for (int g = 0; g < WB_G; g++)
				yg[g] = y + (size_t)(b + (g < G ? g : 0)) * ldy + c0;
			const float *vc = v + c0;
#define WT(g, c)                                                                                   \
	case g * 8 + c:                                                                            \
		wsum_tile(pg, Tg, g, vc, ldv, c, m, yg);                                           \
		break
			switch (G * 8 + C) {
				WT(4, 4);
				WT(4, 3);
				WT(4, 2);
				WT(4, 1);
				WT(3, 4);
				WT(3, 3);
				WT(3, 2);
				WT(3, 1);
				WT(2, 4);
				WT(2, 3);
				WT(2, 2);
				WT(2, 1);
				WT(1, 4);
				WT(1, 3);
				WT(1, 2);
			default:
				wsum_tile(pg, Tg, 1, vc, ldv, 1, m, yg);
				break;
			}
#undef WT
		}
	}
}

#else
typedef int kern_avx512_rows_not_built; /* an empty file is not C */
#endif
