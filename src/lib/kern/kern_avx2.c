/*
 * kern_avx2.c - AVX2+FMA+F16C kernels. Compiled with -mavx2 -mfma -mf16c;
 * kern.c only hands this table out when CPUID reports all three.
 *
 * Every kernel repeats the reference's arithmetic (kern.h contract) lane by
 * lane: the 32 canonical lanes of a dot live in four registers of 8, the
 * tail goes through masked loads and a blend so that untouched lanes keep
 * their exact value, and the folds are the same adds in the same order.
 * Speed comes from sharing loads between several dots (two weight rows per
 * activation, or three activations per weight row), cache blocking (a dot's
 * 32 lanes can wait in memory between column chunks), software prefetch and,
 * for Q8_0, maddubs when it is provably exact — never from reordering a sum.
 */
#include "kern.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "dmath.h"
#include "f16.h"
#include "kern_avx2_steps.h"
#include "kern_steps.h"

#define INLINE static inline __attribute__((always_inline))

/* contract 1 fold of the 32 lanes a0 (0-7), a1 (8-15), a2 (16-23), a3 (24-31) */
INLINE float fold32(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
	a0 = _mm256_add_ps(a0, a2); /* w = 16 */
	a1 = _mm256_add_ps(a1, a3);
	a0 = _mm256_add_ps(a0, a1);                                                      /* w = 8 */
	__m128 v = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1)); /* 4 */
	v = _mm_add_ps(v, _mm_movehl_ps(v, v));                                          /* 2 */
	v = _mm_add_ss(v, _mm_movehdup_ps(v));                                           /* 1 */
	return _mm_cvtss_f32(v);
}

/* ---- f32 / f16 dot tiles ---- */

/* prefetch distance for weight rows, bytes */
#define W_PREFETCH 3072

/*
 * R weight rows times C activation rows (R*C <= 3), each output one
 * canonical dot. F16 selects half weights. Called with constant R, C, F16
 * so that everything unrolls into registers.
 */
INLINE __m256 load_w(const void *w, int i, int f16)
{
	if (f16)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)));
	return _mm256_loadu_ps((const float *)w + i);
}

/* the weights at [i, i+cnt) with zeros after, for the tail */
INLINE __m256 load_w_part(const void *w, int i, int cnt, __m256i mask, int f16)
{
	if (f16) {
		uint16_t buf[8] = {0};
		memcpy(buf, (const uint16_t *)w + i, (size_t)cnt * sizeof(uint16_t));
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)buf));
	}
	return _mm256_maskload_ps((const float *)w + i, mask);
}

/*
 * Accumulates elements [i0, i1) into the lanes of R weight rows times C
 * activation rows (R*C <= 3, acc[r*C + c] = the 32 lanes of output (r, c)).
 * i0 is a multiple of 32, so lane = index % 32 holds across calls; a tail
 * (i1 - i0 not a multiple of 32) is allowed only at the end of the rows.
 * Called with constant R, C, F16 so that everything unrolls into registers.
 */
INLINE void tile_accum(const void *const *w, int R, const float *const *x, int C, int i0, int i1,
                       int f16, ptrdiff_t pf, __m256 acc[3][4])
{
	int i = i0;
	for (; i + 32 <= i1; i += 32) {
		/* software prefetch of the weight rows (measured on Zen 5: +10-30%) */
#pragma GCC unroll 3
		for (int r = 0; r < R; r++) {
			const char *pw = (const char *)w[r] + (size_t)i * (f16 ? 2 : 4) + pf;
			_mm_prefetch(pw, _MM_HINT_T0);
			if (!f16)
				_mm_prefetch(pw + 64, _MM_HINT_T0);
		}
#pragma GCC unroll 4
		for (int q = 0; q < 4; q++) {
			__m256 wv[3];
#pragma GCC unroll 3
			for (int r = 0; r < R; r++)
				wv[r] = load_w(w[r], i + 8 * q, f16);
#pragma GCC unroll 3
			for (int c = 0; c < C; c++) {
				__m256 xv = _mm256_loadu_ps(x[c] + i + 8 * q);
#pragma GCC unroll 3
				for (int r = 0; r < R; r++)
					acc[r * C + c][q] =
					    _mm256_fmadd_ps(wv[r], xv, acc[r * C + c][q]);
			}
		}
	}
	/* the tail: masked loads, and a blend so that lanes past it keep their
	 * exact value (fma(0, 0, -0) would turn a -0 lane into +0) */
	int rem = i1 - i;
#pragma GCC unroll 4
	for (int q = 0; q < 4; q++) {
		int cnt = rem - 8 * q;
		if (cnt <= 0)
			break;
		cnt = cnt > 8 ? 8 : cnt;
		__m256i mask = kern_lane_mask(cnt);
		__m256 wv[3];
#pragma GCC unroll 3
		for (int r = 0; r < R; r++)
			wv[r] = load_w_part(w[r], i + 8 * q, cnt, mask, f16);
#pragma GCC unroll 3
		for (int c = 0; c < C; c++) {
			__m256 xv = _mm256_maskload_ps(x[c] + i + 8 * q, mask);
#pragma GCC unroll 3
			for (int r = 0; r < R; r++) {
				__m256 a = acc[r * C + c][q];
				__m256 t = _mm256_fmadd_ps(wv[r], xv, a);
				acc[r * C + c][q] =
				    _mm256_blendv_ps(a, t, _mm256_castsi256_ps(mask));
			}
		}
	}
}

/* R x C canonical dots over whole rows of n */
INLINE void dot_tile(const void *const *w, int R, const float *const *x, int C, int n, int f16,
                     float *out)
{
	__m256 acc[3][4];
#pragma GCC unroll 3
	for (int t = 0; t < R * C; t++)
#pragma GCC unroll 4
		for (int q = 0; q < 4; q++)
			acc[t][q] = _mm256_setzero_ps();
	tile_accum(w, R, x, C, 0, n, f16, W_PREFETCH, acc);
#pragma GCC unroll 3
	for (int t = 0; t < R * C; t++)
		out[t] = fold32(acc[t][0], acc[t][1], acc[t][2], acc[t][3]);
}

static float avx2_dot_f32(const float *a, const float *b, int n)
{
	const void *w[1] = {a};
	const float *x[1] = {b};
	float out[1];
	dot_tile(w, 1, x, 1, n, 0, out);
	return out[0];
}

static float avx2_dot_f16(const uint16_t *wr, const float *xr, int n)
{
	const void *w[1] = {wr};
	const float *x[1] = {xr};
	float out[1];
	dot_tile(w, 1, x, 1, n, 1, out);
	return out[0];
}

/*
 * Batched products, blocked like a GEMM: GEMM_RB weight rows x GEMM_BB
 * activations at a time, columns in chunks of GEMM_KC (a multiple of 32,
 * so every chunk starts at lane 0). Between chunks the 32 lanes of each
 * output wait in `lanes`.
 *
 * The tile is R <= 3 weight rows x C <= GC activations, one lane group at
 * a time: lanes 8q .. 8q+7 of a canonical dot only ever see the elements i
 * with i % 32 in [8q, 8q+8), in increasing i, so each group of 8 lanes can
 * be accumulated on its own. With one register per output, a tile keeps
 * its 12 accumulators in registers (3 x 4 uses all 16: ~10% faster than
 * 3 x 3 on Zen 5) and loads each weight vector once for C activations and
 * each activation vector once for R rows. The per-lane order of operations
 * is exactly that of one canonical dot.
 */
enum { GEMM_KC = 1024, GEMM_RB = 32, GEMM_BB = 8, GC = 4 };

/* R rows x C activations, columns [k0, k1); ln[r * GC + c]: the 32 lanes of
 * output (r, c); on the last chunk out[r * GC + c] gets the folded dot */
INLINE void gemm_group(const void *const *w, int R, const float *const *x, int C, int k0, int k1,
                       int first, int last, float *const *ln, float *out, int f16, ptrdiff_t pf)
{
	for (int q = 0; q < 4; q++) {
		__m256 acc[3][GC];
#pragma GCC unroll 3
		for (int r = 0; r < R; r++)
#pragma GCC unroll 4
			for (int c = 0; c < C; c++)
				acc[r][c] = first ? _mm256_setzero_ps()
				                  : _mm256_loadu_ps(ln[r * GC + c] + 8 * q);
		int i0 = k0;
		for (; i0 + 32 <= k1; i0 += 32) {
			int i = i0 + 8 * q;
			if (q == 0) /* the next rows' chunk, while this one is in use */
#pragma GCC unroll 3
				for (int r = 0; r < R; r++) {
					const char *pw =
					    (const char *)w[r] + (size_t)i0 * (f16 ? 2 : 4) + pf;
					_mm_prefetch(pw, _MM_HINT_T0);
					if (!f16)
						_mm_prefetch(pw + 64, _MM_HINT_T0);
				}
			__m256 wv[3];
#pragma GCC unroll 3
			for (int r = 0; r < R; r++)
				wv[r] = load_w(w[r], i, f16);
#pragma GCC unroll 4
			for (int c = 0; c < C; c++) {
				__m256 xv = _mm256_loadu_ps(x[c] + i);
#pragma GCC unroll 3
				for (int r = 0; r < R; r++)
					acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
			}
		}
		/* the tail (end of the rows only): masked loads, and a blend so
		 * that lanes past it keep their exact value */
		int cnt = k1 - i0 - 8 * q;
		if (cnt > 0) {
			cnt = cnt > 8 ? 8 : cnt;
			int i = i0 + 8 * q;
			__m256i mask = kern_lane_mask(cnt);
			__m256 wv[3];
#pragma GCC unroll 3
			for (int r = 0; r < R; r++)
				wv[r] = load_w_part(w[r], i, cnt, mask, f16);
#pragma GCC unroll 4
			for (int c = 0; c < C; c++) {
				__m256 xv = _mm256_maskload_ps(x[c] + i, mask);
#pragma GCC unroll 3
				for (int r = 0; r < R; r++) {
					__m256 t = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
					acc[r][c] = _mm256_blendv_ps(acc[r][c], t,
					                             _mm256_castsi256_ps(mask));
				}
			}
		}
#pragma GCC unroll 3
		for (int r = 0; r < R; r++)
#pragma GCC unroll 4
			for (int c = 0; c < C; c++)
				_mm256_storeu_ps(ln[r * GC + c] + 8 * q, acc[r][c]);
	}
	if (!last)
		return;
#pragma GCC unroll 3
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int c = 0; c < C; c++) {
			const float *l = ln[r * GC + c];
			out[r * GC + c] = fold32(_mm256_loadu_ps(l), _mm256_loadu_ps(l + 8),
			                         _mm256_loadu_ps(l + 16), _mm256_loadu_ps(l + 24));
		}
}

/* the R x C tile with constant sizes, so that it unrolls into registers */
INLINE void gemm_group_rc(const void *const *w, int R, const float *const *x, int C, int k0, int k1,
                          int first, int last, float *const *ln, float *out, int f16, ptrdiff_t pf)
{
#define GG(r, c)                                                                                   \
	case r * 8 + c:                                                                            \
		gemm_group(w, r, x, c, k0, k1, first, last, ln, out, f16, pf);                     \
		break
	switch (R * 8 + C) {
		GG(3, 4);
		GG(3, 3);
		GG(3, 2);
		GG(3, 1);
		GG(2, 4);
		GG(2, 3);
		GG(2, 2);
		GG(2, 1);
		GG(1, 4);
		GG(1, 3);
		GG(1, 2);
	default:
		gemm_group(w, 1, x, 1, k0, k1, first, last, ln, out, f16, pf);
		break;
	}
#undef GG
}

INLINE void gemm_tiles(const char *wb, size_t wsz, int ldw, const float *x, int ldx, float *y,
                       int ldy, int n, int row0, int row1, int batch, int f16)
{
	float lanes[GEMM_RB * GEMM_BB * 32];
	/* row blocks outside: a block of weight rows is read from memory once and
	 * stays in L2 while every group of activations passes over it */
	for (int r0 = row0; r0 < row1; r0 += GEMM_RB) {
		int r1 = r0 + GEMM_RB < row1 ? r0 + GEMM_RB : row1;
		for (int b0 = 0; b0 < batch; b0 += GEMM_BB) {
			int b1 = b0 + GEMM_BB < batch ? b0 + GEMM_BB : batch;
			for (int k0 = 0; k0 < n; k0 += GEMM_KC) {
				int k1 = k0 + GEMM_KC < n ? k0 + GEMM_KC : n;
				int first = k0 == 0, last = k1 == n;
				for (int r = r0; r < r1; r += 3) {
					int R = r1 - r < 3 ? r1 - r : 3;
					const void *wr[3];
					for (int i = 0; i < 3; i++)
						wr[i] =
						    wb + (size_t)(r + (i < R ? i : 0)) * ldw * wsz;
					ptrdiff_t pf = (ptrdiff_t)((size_t)R * ldw * wsz);
					for (int b = b0; b < b1; b += GC) {
						int C = b1 - b < GC ? b1 - b : GC;
						const float *xr[GC];
						float *ln[3 * GC];
						float out[3 * GC];
						for (int i = 0; i < GC; i++)
							xr[i] =
							    x + (size_t)(b + (i < C ? i : 0)) * ldx;
						/* only the R x C lanes in use get a pointer
						 * (others would point past lanes[]) */
						for (int i = 0; i < 3 * GC; i++)
							ln[i] =
							    i / GC < R && i % GC < C
							        ? lanes +
							              ((size_t)(r - r0 + i / GC) *
							                   GEMM_BB +
							               (size_t)(b - b0 + i % GC)) *
							                  32
							        : lanes;
						gemm_group_rc(wr, R, xr, C, k0, k1, first, last, ln,
						              out, f16, pf);
						for (int i = 0; last && i < R; i++)
							for (int c = 0; c < C; c++)
								y[(size_t)(b + c) * ldy + r + i] =
								    out[i * GC + c];
					}
				}
			}
		}
	}
}

/*
 * Short rows (n <= 64, a multiple of 8: attention's scores, head_dim
 * long): one activation at a time stays in registers (n / 8 of them) and
 * the weight rows stream past it. Register k of a row goes into lanes
 * 8 (k % 4) .. 8 (k % 4) + 7 in increasing k, the four lane registers
 * fold w = 16 and 8 at once, and fold8x8 finishes 8 rows together.
 */

/*
 * The last three steps of the contract 1 fold (w = 4, 2, 1) of 8 dots at
 * once: a[i] holds lanes 0-7 (the w = 16 and 8 steps done) of dot
 * 4 * (i % 2) + i / 2; shuffles pair the halves of two registers, and
 * every dot gets exactly fold32's additions. Element j is dot j.
 */
INLINE __m256 fold8x8(const __m256 *a)
{
	__m256 b[4], c[2];
#pragma GCC unroll 4
	for (int k = 0; k < 4; k++)
		b[k] = _mm256_add_ps(_mm256_permute2f128_ps(a[2 * k], a[2 * k + 1], 0x20),
		                     _mm256_permute2f128_ps(a[2 * k], a[2 * k + 1], 0x31));
#pragma GCC unroll 2
	for (int k = 0; k < 2; k++)
		c[k] = _mm256_add_ps(_mm256_shuffle_ps(b[2 * k], b[2 * k + 1], 0x44),
		                     _mm256_shuffle_ps(b[2 * k], b[2 * k + 1], 0xee));
	return _mm256_add_ps(_mm256_shuffle_ps(c[0], c[1], 0x88),
	                     _mm256_shuffle_ps(c[0], c[1], 0xdd));
}

/* the position in fold8x8's input of dot j */
#define FOLD8_AT(j) (2 * ((j) % 4) + (j) / 4)

INLINE void short_rows(const char *wb, size_t wsz, int ldw, const float *x, float *y, int n,
                       int row0, int row1, int f16)
{
	int nv = n / 8;
	__m256 xv[8];
#pragma GCC unroll 8
	for (int k = 0; k < 8; k++)
		xv[k] = k < nv ? _mm256_loadu_ps(x + 8 * k) : _mm256_setzero_ps();
	for (int r0 = row0; r0 < row1; r0 += 8) {
		int cnt = row1 - r0 < 8 ? row1 - r0 : 8;
		__m256 sums[8];
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			if (j >= cnt) {
				sums[FOLD8_AT(j)] = _mm256_setzero_ps();
				continue;
			}
			const void *wr = wb + (size_t)(r0 + j) * ldw * wsz;
			__m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
			               _mm256_setzero_ps(), _mm256_setzero_ps()};
#pragma GCC unroll 8
			for (int k = 0; k < 8; k++)
				if (k < nv)
					a[k % 4] = _mm256_fmadd_ps(load_w(wr, 8 * k, f16), xv[k],
					                           a[k % 4]);
			sums[FOLD8_AT(j)] =
			    _mm256_add_ps(_mm256_add_ps(a[0], a[2]), _mm256_add_ps(a[1], a[3]));
		}
		__m256 d = fold8x8(sums);
		if (cnt == 8)
			_mm256_storeu_ps(y + r0, d);
		else
			_mm256_maskstore_ps(y + r0, kern_lane_mask(cnt), d);
	}
}

/*
 * Rows [row0, row1) times batch activations. One activation: one weight
 * row at a time (pairs of rows sharing the activation loads measured
 * 25-45% slower on Zen 5: the rows' streams from memory compete). Several:
 * gemm_tiles (short rows fit in L1 anyway and take one pass per output).
 * Rows of at most 64 (attention's scores): short_rows, for any batch.
 */
INLINE void matmul_tiles(const void *w, size_t wsz, int ldw, const float *x, int ldx, float *y,
                         int ldy, int n, int row0, int row1, int batch, int f16)
{
	const char *wb = w;
	if (n > 0 && n <= 64 && n % 8 == 0) {
		for (int b = 0; b < batch; b++)
			short_rows(wb, wsz, ldw, x + (size_t)b * ldx, y + (size_t)b * ldy, n, row0,
			           row1, f16);
		return;
	}
	if (batch == 1 || n <= 0) {
		for (int b = 0; b < batch; b++) {
			const float *xr[1] = {x + (size_t)b * ldx};
			float *yb = y + (size_t)b * ldy;
			int r = row0;
			for (; r < row1; r++) {
				const void *wr[1] = {wb + (size_t)r * ldw * wsz};
				dot_tile(wr, 1, xr, 1, n, f16, yb + r);
			}
		}
		return;
	}
	gemm_tiles(wb, wsz, ldw, x, ldx, y, ldy, n, row0, row1, batch, f16);
}

static void avx2_matmul_f32(const float *w, int ldw, const float *x, int ldx, float *y, int ldy,
                            int n, int row0, int row1, int batch)
{
	matmul_tiles(w, sizeof(float), ldw, x, ldx, y, ldy, n, row0, row1, batch, 0);
}

static void avx2_matmul_f16(const uint16_t *w, int ldw, const float *x, int ldx, float *y, int ldy,
                            int n, int row0, int row1, int batch)
{
	matmul_tiles(w, sizeof(uint16_t), ldw, x, ldx, y, ldy, n, row0, row1, batch, 1);
}

/* ---- Q8_0 ---- */

/* 8 int32 partial sums of one block's 32 int8 products, exact for any bytes */
INLINE __m256i q8_partial_exact(const kern_q8_0 *w, const kern_q8_0 *x)
{
	__m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->q));
	__m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w->q + 16)));
	__m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->q));
	__m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x->q + 16)));
	return _mm256_add_epi32(_mm256_madd_epi16(w0, x0), _mm256_madd_epi16(w1, x1));
}

/*
 * The same sums, faster: maddubs of |w| (as u8, up to 128) and x*sign(w)
 * (s8). Exact only when no byte of x is -128: then x*sign(w) cannot wrap,
 * and a pair sum is at most 2*128*127 < 2^15, so maddubs never saturates.
 * Callers check x first (q8_has_min) and use the exact version otherwise.
 */
INLINE __m256i q8_partial_fast(const kern_q8_0 *w, const kern_q8_0 *x)
{
	__m256i wv = _mm256_loadu_si256((const __m256i *)w->q);
	__m256i xv = _mm256_loadu_si256((const __m256i *)x->q);
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(wv, wv), _mm256_sign_epi8(xv, wv));
	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

INLINE __m256i q8_partial(const kern_q8_0 *w, const kern_q8_0 *x, int exact)
{
	return exact ? q8_partial_exact(w, x) : q8_partial_fast(w, x);
}

/* does any quant of these nb blocks equal -128? */
static int q8_has_min(const kern_q8_0 *x, int nb)
{
	const __m256i m = _mm256_set1_epi8(-128);
	__m256i any = _mm256_setzero_si256();
	for (int k = 0; k < nb; k++)
		any = _mm256_or_si256(
		    any, _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)x[k].q), m));
	return !_mm256_testz_si256(any, any);
}

INLINE int32_t hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* scales of 8 consecutive blocks as floats */
INLINE __m256 q8_scales(const kern_q8_0 *b)
{
	__m128i h = _mm_setr_epi16((short)b[0].d, (short)b[1].d, (short)b[2].d, (short)b[3].d,
	                           (short)b[4].d, (short)b[5].d, (short)b[6].d, (short)b[7].d);
	return _mm256_cvtph_ps(h);
}

/* prefetch distance for weight rows, bytes (measured on Zen 5: ~+10%) */
#define Q8_PREFETCH 4096

/*
 * Contract 3b. xs: the activation scales as floats (NULL: read them from
 * x). Blocks k..k+7 give 8 exact sums, one per lane, by a tree of hadds,
 * and lane j accumulates block k+j: A[k % 8] as in the reference.
 */
INLINE float q8_dot(const kern_q8_0 *w, const kern_q8_0 *x, const float *xs, int nb, int exact)
{
	__m256 acc = _mm256_setzero_ps();
	int k = 0;
	for (; k + 8 <= nb; k += 8) {
#pragma GCC unroll 5
		for (int l = 0; l < 5; l++)
			_mm_prefetch((const char *)(w + k) + Q8_PREFETCH + 64 * l, _MM_HINT_T0);
		__m256i h01 = _mm256_hadd_epi32(q8_partial(w + k, x + k, exact),
		                                q8_partial(w + k + 1, x + k + 1, exact));
		__m256i h23 = _mm256_hadd_epi32(q8_partial(w + k + 2, x + k + 2, exact),
		                                q8_partial(w + k + 3, x + k + 3, exact));
		__m256i h45 = _mm256_hadd_epi32(q8_partial(w + k + 4, x + k + 4, exact),
		                                q8_partial(w + k + 5, x + k + 5, exact));
		__m256i h67 = _mm256_hadd_epi32(q8_partial(w + k + 6, x + k + 6, exact),
		                                q8_partial(w + k + 7, x + k + 7, exact));
		__m256i q0 = _mm256_hadd_epi32(h01, h23);
		__m256i q1 = _mm256_hadd_epi32(h45, h67);
		__m256i isum = _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20),
		                                _mm256_permute2x128_si256(q0, q1, 0x31));
		__m256 sx = xs ? _mm256_loadu_ps(xs + k) : q8_scales(x + k);
		__m256 s = _mm256_mul_ps(q8_scales(w + k), sx);
		acc = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(isum), acc);
	}
	if (k == nb) /* no tail: fold in registers (a store and reloads cost more than the adds) */
		return kern_fold8_reg(acc);
	float A[8];
	_mm256_storeu_ps(A, acc);
	for (; k < nb; k++) {
		int32_t isum = hsum_epi32(q8_partial_exact(w + k, x + k));
		float s = f16_to_f32(w[k].d) * f16_to_f32(x[k].d);
		A[k % 8] = fmaf(s, (float)isum, A[k % 8]);
	}
	return kern_fold8(A);
}

static float avx2_dot_q8_0(const kern_q8_0 *w, const kern_q8_0 *x, int nb)
{
	if (q8_has_min(x, nb))
		return q8_dot(w, x, NULL, nb, 1);
	return q8_dot(w, x, NULL, nb, 0);
}

/* exact sums of 8 consecutive blocks k..k+7, lane j = block k+j (the tree of q8_dot) */
INLINE __m256i q8_isum8(__m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i p4, __m256i p5,
                        __m256i p6, __m256i p7)
{
	__m256i q0 = _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
	__m256i q1 = _mm256_hadd_epi32(_mm256_hadd_epi32(p4, p5), _mm256_hadd_epi32(p6, p7));
	return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20),
	                        _mm256_permute2x128_si256(q0, q1, 0x31));
}

/* partial sums of one weight block against C activation blocks (fast path:
 * no -128 in x), sharing the weight load and |w| */
#define Q8_MULTI 3
INLINE void q8_partial_multi(const kern_q8_0 *w, const kern_q8_0 *const *x, int k, int C,
                             __m256i *p)
{
	__m256i wv = _mm256_loadu_si256((const __m256i *)w[k].q);
	__m256i aw = _mm256_sign_epi8(wv, wv);
	const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 3
	for (int c = 0; c < C; c++) {
		__m256i xv = _mm256_loadu_si256((const __m256i *)x[c][k].q);
		p[c] = _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(xv, wv)), ones);
	}
}

/*
 * C (<= Q8_MULTI) canonical Q8_0 dots of one weight row against C
 * activation rows with no -128 quant, scales given as floats (ws: the
 * weight row's, xs[c]: each activation's). The same per-lane operations
 * as q8_dot: exact block sums, s = ws[k] * xs[k], A[k % 8] = fma(s, isum, A).
 */
INLINE void q8_dot_multi(const kern_q8_0 *w, const float *ws, const kern_q8_0 *const *x,
                         const float *const *xs, int C, int nb, float *out)
{
	__m256 acc[Q8_MULTI];
#pragma GCC unroll 3
	for (int c = 0; c < C; c++)
		acc[c] = _mm256_setzero_ps();
	int k = 0;
	for (; k + 8 <= nb; k += 8) {
		/* q8_isum8's tree, built as the blocks come so that few sums stay live */
		__m256i q[2][Q8_MULTI];
#pragma GCC unroll 2
		for (int half = 0; half < 2; half++) {
			__m256i h[2][Q8_MULTI];
#pragma GCC unroll 2
			for (int pr = 0; pr < 2; pr++) {
				__m256i p0[Q8_MULTI], p1[Q8_MULTI];
				int j = k + 4 * half + 2 * pr;
				q8_partial_multi(w, x, j, C, p0);
				q8_partial_multi(w, x, j + 1, C, p1);
#pragma GCC unroll 3
				for (int c = 0; c < C; c++)
					h[pr][c] = _mm256_hadd_epi32(p0[c], p1[c]);
			}
#pragma GCC unroll 3
			for (int c = 0; c < C; c++)
				q[half][c] = _mm256_hadd_epi32(h[0][c], h[1][c]);
		}
		__m256 sw = _mm256_loadu_ps(ws + k);
#pragma GCC unroll 3
		for (int c = 0; c < C; c++) {
			__m256i isum =
			    _mm256_add_epi32(_mm256_permute2x128_si256(q[0][c], q[1][c], 0x20),
			                     _mm256_permute2x128_si256(q[0][c], q[1][c], 0x31));
			__m256 s = _mm256_mul_ps(sw, _mm256_loadu_ps(xs[c] + k));
			acc[c] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(isum), acc[c]);
		}
	}
#pragma GCC unroll 3
	for (int c = 0; c < C; c++) {
		if (k == nb) {
			out[c] = kern_fold8_reg(acc[c]);
			continue;
		}
		float A[8];
		_mm256_storeu_ps(A, acc[c]);
		for (int kk = k; kk < nb; kk++) {
			int32_t isum = hsum_epi32(q8_partial_exact(w + kk, x[c] + kk));
			float sc = ws[kk] * xs[c][kk];
			A[kk % 8] = fmaf(sc, (float)isum, A[kk % 8]);
		}
		out[c] = kern_fold8(A);
	}
}

/*
 * Per block of activations (sized to stay in L2 while the weight rows
 * stream by): check each row for -128 once and convert its scales once,
 * then every weight row against every activation of the block. With
 * several activations, each weight row's scales are converted once and
 * runs of up to Q8_MULTI fast-path activations share the weight loads.
 */
enum { Q8_XS_MAX = 4096, Q8_WS_MAX = 1024, Q8_BB_MAX = 64 };

static void avx2_matmul_q8_0(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y,
                             int ldy, int n, int row0, int row1, int batch)
{
	int nb = n / KERN_QK8_0;
	float xs[Q8_XS_MAX], ws[Q8_WS_MAX];
	unsigned char exact[Q8_BB_MAX];
	size_t row_bytes = (size_t)(nb > 0 ? nb : 1) * sizeof(kern_q8_0);
	int bb = (int)((192u * 1024u) / row_bytes);
	bb = bb < 1 ? 1 : bb > Q8_BB_MAX ? Q8_BB_MAX : bb;
	int use_xs = nb > 0 && nb <= Q8_XS_MAX;
	if (use_xs && bb > Q8_XS_MAX / nb)
		bb = Q8_XS_MAX / nb;
	/* the shared-weight path needs the scales of both sides as floats */
	int multi = use_xs && batch > 1 && nb <= (int)(sizeof ws / sizeof ws[0]);
	for (int b0 = 0; b0 < batch; b0 += bb) {
		int b1 = b0 + bb < batch ? b0 + bb : batch;
		for (int b = b0; b < b1; b++) {
			const kern_q8_0 *xb = x + (size_t)b * ldx;
			exact[b - b0] = (unsigned char)q8_has_min(xb, nb);
			for (int k = 0; use_xs && k < nb; k++)
				xs[(b - b0) * nb + k] = f16_to_f32(xb[k].d);
		}
		int r = row0;
		/* runs of up to Q8_MULTI fast-path activations (C > 0), or one
		 * activation on its own (C == 0), fixed for every weight row */
		struct q8_group {
			int b, C;
			const kern_q8_0 *xr[Q8_MULTI];
			const float *xsr[Q8_MULTI];
		} grp[Q8_BB_MAX];
		int n_grp = 0;
		for (int b = b0; b < b1; n_grp++) {
			struct q8_group *gp = &grp[n_grp];
			int C = 0;
			while (multi && C < Q8_MULTI && b + C < b1 && !exact[b + C - b0])
				C++;
			gp->b = b;
			gp->C = C;
			for (int c = 0; c < Q8_MULTI; c++) {
				int bc = b + (c < C ? c : 0);
				gp->xr[c] = x + (size_t)bc * ldx;
				gp->xsr[c] = use_xs ? xs + (bc - b0) * nb : NULL;
			}
			b += C > 0 ? C : 1;
		}
		for (; r < row1; r++) {
			const kern_q8_0 *wr = w + (size_t)r * ldw;
			if (multi)
				for (int k = 0; k < nb; k++)
					ws[k] = f16_to_f32(wr[k].d);
			for (int gi = 0; gi < n_grp; gi++) {
				const struct q8_group *gp = &grp[gi];
				float out[Q8_MULTI];
				switch (gp->C) {
				case 3:
					q8_dot_multi(wr, ws, gp->xr, gp->xsr, 3, nb, out);
					break;
				case 2:
					q8_dot_multi(wr, ws, gp->xr, gp->xsr, 2, nb, out);
					break;
				case 1:
					q8_dot_multi(wr, ws, gp->xr, gp->xsr, 1, nb, out);
					break;
				default:
					out[0] = exact[gp->b - b0]
					             ? q8_dot(wr, gp->xr[0], gp->xsr[0], nb, 1)
					             : q8_dot(wr, gp->xr[0], gp->xsr[0], nb, 0);
					break;
				}
				for (int c = 0; c < (gp->C > 0 ? gp->C : 1); c++)
					y[(size_t)(gp->b + c) * ldy + r] = out[c];
			}
		}
	}
}

static void avx2_quantize_q8_0(const float *x, kern_q8_0 *y, int n)
{
	const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
#define rnd (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
	for (int b = 0; b < n / KERN_QK8_0; b++, x += KERN_QK8_0) {
		__m256 v0 = _mm256_loadu_ps(x);
		__m256 v1 = _mm256_loadu_ps(x + 8);
		__m256 v2 = _mm256_loadu_ps(x + 16);
		__m256 v3 = _mm256_loadu_ps(x + 24);
		float amax = kern_amax32(v0, v1, v2, v3);
		float d = amax / 127.0f;
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;
		y[b].d = f32_to_f16(d);
		__m256 mul = _mm256_set1_ps(id);
		__m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), rnd));
		__m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), rnd));
		__m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), rnd));
		__m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), rnd));
		/* saturating packs work per 128-bit half; the permute restores order */
		i0 = _mm256_packs_epi32(i0, i1);
		i2 = _mm256_packs_epi32(i2, i3);
		i0 = _mm256_packs_epi16(i0, i2);
		i0 = _mm256_permutevar8x32_epi32(i0, perm);
		_mm256_storeu_si256((__m256i *)y[b].q, i0);
	}
#undef rnd
}

static void avx2_dequant_q8_0(const kern_q8_0 *x, float *y, int n)
{
	for (int b = 0; b < n / KERN_QK8_0; b++, y += KERN_QK8_0) {
		__m256 d = _mm256_set1_ps(f16_to_f32(x[b].d));
		for (int j = 0; j < KERN_QK8_0; j += 8) {
			__m128i q = _mm_loadl_epi64((const __m128i *)(x[b].q + j));
			__m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q));
			_mm256_storeu_ps(y + j, _mm256_mul_ps(d, v));
		}
	}
}

/* ---- conversions ---- */

static void avx2_f32_to_f16(const float *x, uint16_t *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
		_mm_storeu_si128((__m128i *)(y + i), h);
	}
	for (; i < n; i++)
		y[i] = f32_to_f16(x[i]);
}

static void avx2_f16_to_f32(const uint16_t *x, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
	for (; i < n; i++)
		y[i] = f16_to_f32(x[i]);
}

static void avx2_round_f16(const float *x, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
		_mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
	}
	for (; i < n; i++)
		y[i] = f16_to_f32(f32_to_f16(x[i]));
}

/* ---- sums and row helpers ---- */

static float avx2_sum(const float *x, int n)
{
	__m256 a[4];
	for (int q = 0; q < 4; q++)
		a[q] = _mm256_setzero_ps();
	int i = 0;
	for (; i + 32 <= n; i += 32)
		for (int q = 0; q < 4; q++)
			a[q] = _mm256_add_ps(a[q], _mm256_loadu_ps(x + i + 8 * q));
	for (int q = 0; q < 4; q++) {
		int cnt = n - i - 8 * q;
		if (cnt <= 0)
			break;
		cnt = cnt > 8 ? 8 : cnt;
		__m256i mask = kern_lane_mask(cnt);
		__m256 t = _mm256_add_ps(a[q], _mm256_maskload_ps(x + i + 8 * q, mask));
		a[q] = _mm256_blendv_ps(a[q], t, _mm256_castsi256_ps(mask));
	}
	return fold32(a[0], a[1], a[2], a[3]);
}

/* dm_expf on 8 lanes: the same operations in the same order (dmath.h) */
INLINE __m256 exp8(__m256 x)
{
	__m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
	__m256 xc = _mm256_max_ps(x, _mm256_set1_ps(DM_EXP_LO));
	xc = _mm256_min_ps(xc, _mm256_set1_ps(DM_EXP_HI));
	__m256 t = _mm256_mul_ps(xc, _mm256_set1_ps(DM_LOG2E));
	__m256 k =
	    _mm256_sub_ps(_mm256_add_ps(t, _mm256_set1_ps(DM_ROUND)), _mm256_set1_ps(DM_ROUND));
	__m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(DM_LN2_HI), xc);
	r = _mm256_fnmadd_ps(k, _mm256_set1_ps(DM_LN2_LO), r);
	__m256 p = _mm256_set1_ps(DM_E7);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DM_E6));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DM_E5));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DM_E4));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DM_E3));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DM_E2));
	__m256 r2 = _mm256_mul_ps(r, r);
	__m256 q = _mm256_fmadd_ps(p, r2, r);
	__m256 e = _mm256_add_ps(_mm256_set1_ps(1.0f), q);
	__m256i ki = _mm256_cvttps_epi32(k);
	__m256i k1 = _mm256_srai_epi32(_mm256_add_epi32(ki, _mm256_srli_epi32(ki, 31)), 1);
	__m256i k2 = _mm256_sub_epi32(ki, k1);
	const __m256i bias = _mm256_set1_epi32(127);
	__m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
	__m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
	__m256 res = _mm256_mul_ps(_mm256_mul_ps(e, s1), s2);
	return _mm256_blendv_ps(res, _mm256_add_ps(x, x), nan);
}

INLINE __m256 silu8(__m256 x)
{
	__m256 nx = _mm256_xor_ps(x, _mm256_set1_ps(-0.0f));
	return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(nx)));
}

static void avx2_exp(const float *x, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
	for (; i < n; i++)
		y[i] = dm_expf(x[i]);
}

static void avx2_silu(const float *x, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, silu8(_mm256_loadu_ps(x + i)));
	for (; i < n; i++)
		y[i] = dm_siluf(x[i]);
}

static void avx2_swiglu(const float *g, const float *u, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(
		    y + i, _mm256_mul_ps(silu8(_mm256_loadu_ps(g + i)), _mm256_loadu_ps(u + i)));
	for (; i < n; i++)
		y[i] = dm_siluf(g[i]) * u[i];
}

static void avx2_mul(const float *a, const float *b, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i,
		                 _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
	for (; i < n; i++)
		y[i] = a[i] * b[i];
}

static void avx2_add(const float *a, const float *b, float *y, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i,
		                 _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
	for (; i < n; i++)
		y[i] = a[i] + b[i];
}

static void avx2_scale(const float *x, float s, float *y, int n)
{
	__m256 sv = _mm256_set1_ps(s);
	int i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), sv));
	for (; i < n; i++)
		y[i] = x[i] * s;
}

static void avx2_rmsnorm(const float *x, const float *w, float *y, int n, float eps)
{
	float ss = avx2_dot_f32(x, x, n);
	float mean = ss / (float)n;
	float s = 1.0f / sqrtf(mean + eps);
	__m256 sv = _mm256_set1_ps(s);
	int i = 0;
	if (w) {
		for (; i + 8 <= n; i += 8) {
			__m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), sv);
			_mm256_storeu_ps(y + i, _mm256_mul_ps(v, _mm256_loadu_ps(w + i)));
		}
		for (; i < n; i++)
			y[i] = (x[i] * s) * w[i];
	} else {
		avx2_scale(x, s, y, n);
	}
}

/*
 * softmax: the canonical sum of the exponentials is taken as they are made
 * (element i into lane register (i / 8) % 4, in increasing i), and a tail
 * of n % 8 goes through a lane mask; it stays in a register until the last
 * step (a masked store is not forwarded to a later load).
 */
static void avx2_softmax(const float *x, float *y, int n)
{
	/* max is exact, so any order gives the same value up to the sign of a
	 * zero, which x - m then erases under exp; maxps keeps its second
	 * operand when the first is NaN, so NaNs are skipped */
	const __m256 ninf = _mm256_set1_ps(-INFINITY);
	int nf = n / 8 * 8, tail = n - nf;
	__m256i tm = kern_lane_mask(tail);
	__m256 mv = ninf;
	for (int i = 0; i < nf; i += 8)
		mv = _mm256_max_ps(_mm256_loadu_ps(x + i), mv);
	if (tail)
		mv = _mm256_max_ps(
		    _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + nf, tm), _mm256_castsi256_ps(tm)),
		    mv);
	float M[8];
	_mm256_storeu_ps(M, mv);
	float m = -INFINITY;
	for (int j = 0; j < 8; j++)
		m = M[j] > m ? M[j] : m;
	__m256 m8 = _mm256_set1_ps(m);
	__m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
	               _mm256_setzero_ps()};
	for (int i = 0; i < nf; i += 8) {
		__m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8));
		_mm256_storeu_ps(y + i, e);
		a[i / 8 % 4] = _mm256_add_ps(a[i / 8 % 4], e);
	}
	__m256 et = _mm256_setzero_ps();
	if (tail) {
		et = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + nf, tm), m8));
		a[nf / 8 % 4] = _mm256_blendv_ps(a[nf / 8 % 4], _mm256_add_ps(a[nf / 8 % 4], et),
		                                 _mm256_castsi256_ps(tm));
	}
	__m256 inv = _mm256_set1_ps(1.0f / fold32(a[0], a[1], a[2], a[3]));
	for (int i = 0; i < nf; i += 8)
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
	if (tail)
		_mm256_maskstore_ps(y + nf, tm, _mm256_mul_ps(et, inv));
}

static void avx2_rope(float *x, const float *cos, const float *sin, int head_dim, int n_heads)
{
	const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
	int half = head_dim / 2;
	for (int h = 0; h < n_heads; h++) {
		float *v = x + (size_t)h * head_dim;
		int i = 0;
		for (; i + 4 <= half; i += 4) {
			__m256 c = _mm256_permutevar8x32_ps(
			    _mm256_castps128_ps256(_mm_loadu_ps(cos + i)), dup);
			__m256 s = _mm256_permutevar8x32_ps(
			    _mm256_castps128_ps256(_mm_loadu_ps(sin + i)), dup);
			__m256 xv = _mm256_loadu_ps(v + 2 * i);
			__m256 xs = _mm256_permute_ps(xv, 0xb1); /* swap within pairs */
			/* [x0 c - x1 s, x1 c + x0 s] */
			_mm256_storeu_ps(v + 2 * i, _mm256_addsub_ps(_mm256_mul_ps(xv, c),
			                                             _mm256_mul_ps(xs, s)));
		}
		for (; i < half; i++) {
			float x0 = v[2 * i], x1 = v[2 * i + 1];
			float c = cos[i], s = sin[i];
			v[2 * i] = x0 * c - x1 * s;
			v[2 * i + 1] = x0 * s + x1 * c;
		}
	}
}

/*
 * y[i] = canonical dot over t of p[t] * v[t*ldv + i]. 8 columns at a time,
 * one register per lane; the 32 lanes in four passes over the rows (pass q
 * takes the rows with t % 32 in [8q, 8q+8)) so that each pass keeps its 8
 * lanes in registers, the earlier passes' lanes waiting in memory; then the
 * contract 1 fold of the 32 lanes. Lanes no row reaches stay +0 and are
 * added as the reference adds them. Columns past n are loaded as zeros and
 * never stored.
 */
static void avx2_wsum(const float *p, const float *v, int ldv, int T, float *y, int n)
{
	for (int c0 = 0; c0 < n; c0 += 8) {
		int w = n - c0 < 8 ? n - c0 : 8;
		__m256i mask = kern_lane_mask(w);
		const float *vc = v + c0;
		__m256 L[4][8];
		for (int q = 0; q < 4; q++) {
			__m256 a[8];
#pragma GCC unroll 8
			for (int l = 0; l < 8; l++)
				a[l] = _mm256_setzero_ps();
			for (int t0 = 8 * q; t0 < T; t0 += 32) {
#pragma GCC unroll 8
				for (int l = 0; l < 8; l++) {
					int t = t0 + l;
					if (t < T) {
						const float *vr = vc + (size_t)t * ldv;
						__m256 vv = w == 8 ? _mm256_loadu_ps(vr)
						                   : _mm256_maskload_ps(vr, mask);
						a[l] =
						    _mm256_fmadd_ps(_mm256_set1_ps(p[t]), vv, a[l]);
					}
				}
			}
#pragma GCC unroll 8
			for (int l = 0; l < 8; l++)
				L[q][l] = a[l];
		}
		/* fold: w = 16 (L[q][l] + L[q + 2][l]), 8, then 4, 2, 1 */
		__m256 r[8];
#pragma GCC unroll 8
		for (int l = 0; l < 8; l++)
			r[l] = _mm256_add_ps(_mm256_add_ps(L[0][l], L[2][l]),
			                     _mm256_add_ps(L[1][l], L[3][l]));
#pragma GCC unroll 4
		for (int l = 0; l < 4; l++)
			r[l] = _mm256_add_ps(r[l], r[l + 4]);
		r[0] = _mm256_add_ps(r[0], r[2]);
		r[1] = _mm256_add_ps(r[1], r[3]);
		r[0] = _mm256_add_ps(r[0], r[1]);
		if (w == 8)
			_mm256_storeu_ps(y + c0, r[0]);
		else
			_mm256_maskstore_ps(y + c0, mask, r[0]);
	}
}

/*
 * wsum_batch: up to W2_G rows of weights (tokens) over the same V rows, 8
 * columns per register, W2_C registers at a time. As the AVX-512 kernel:
 * one canonical lane at a time (lane l takes rows l, l + 32, ...), each V
 * row loaded once for every token, lanes l and l + 16 added as soon as
 * both are done, then the rest of the fold; rows past a token's own T are
 * skipped for it. Partial registers load and store through a lane mask.
 */
enum { W2_G = 4, W2_C = 2 };

INLINE __m256 w2_load(const float *p, int full, __m256i mask)
{
	return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

/* one canonical lane l into acc[g][c]; G, C constant */
INLINE void w2_lane(const float *const *p, const int *T, int G, int tmin, int tmax, const float *v,
                    int ldv, int C, const int *full, const __m256i *mask, int l,
                    __m256 (*acc)[W2_C])
{
#pragma GCC unroll 4
	for (int g = 0; g < G; g++)
#pragma GCC unroll 2
		for (int c = 0; c < C; c++)
			acc[g][c] = _mm256_setzero_ps();
	for (int t = l; t < tmax; t += 32) {
		const float *vr = v + (size_t)t * ldv;
		__m256 vv[W2_C];
#pragma GCC unroll 2
		for (int c = 0; c < C; c++)
			vv[c] = w2_load(vr + 8 * c, full[c], mask[c]);
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			if (t >= tmin && t >= T[g])
				continue;
			__m256 pb = _mm256_broadcast_ss(p[g] + t);
#pragma GCC unroll 2
			for (int c = 0; c < C; c++)
				acc[g][c] = _mm256_fmadd_ps(pb, vv[c], acc[g][c]);
		}
	}
}

INLINE void w2_tile(const float *const *p, const int *T, int G, const float *v, int ldv, int C,
                    const int *full, const __m256i *mask, float *const *y)
{
	int tmin = T[0], tmax = T[0];
	for (int g = 1; g < G; g++) {
		tmin = T[g] < tmin ? T[g] : tmin;
		tmax = T[g] > tmax ? T[g] : tmax;
	}
	__m256 S[16][W2_G][W2_C];
	for (int l = 0; l < 16; l++) {
		__m256 a[W2_G][W2_C], b[W2_G][W2_C];
		w2_lane(p, T, G, tmin, tmax, v, ldv, C, full, mask, l, a);
		w2_lane(p, T, G, tmin, tmax, v, ldv, C, full, mask, l + 16, b);
#pragma GCC unroll 4
		for (int g = 0; g < G; g++)
#pragma GCC unroll 2
			for (int c = 0; c < C; c++)
				S[l][g][c] = _mm256_add_ps(a[g][c], b[g][c]); /* fold w = 16 */
	}
	for (int w = 8; w >= 1; w /= 2) /* fold w = 8, 4, 2, 1 */
		for (int j = 0; j < w; j++)
#pragma GCC unroll 4
			for (int g = 0; g < G; g++)
#pragma GCC unroll 2
				for (int c = 0; c < C; c++)
					S[j][g][c] = _mm256_add_ps(S[j][g][c], S[j + w][g][c]);
#pragma GCC unroll 4
	for (int g = 0; g < G; g++)
#pragma GCC unroll 2
		for (int c = 0; c < C; c++) {
			if (full[c])
				_mm256_storeu_ps(y[g] + 8 * c, S[0][g][c]);
			else
				_mm256_maskstore_ps(y[g] + 8 * c, mask[c], S[0][g][c]);
		}
}

static void avx2_wsum_batch(const float *p, int ldp, const int *T, int nb, const float *v, int ldv,
                            float *y, int ldy, int n)
{
	for (int b = 0; b < nb; b += W2_G) {
		int G = nb - b < W2_G ? nb - b : W2_G;
		const float *pg[W2_G];
		int Tg[W2_G];
		for (int g = 0; g < W2_G; g++) {
			int bb = b + (g < G ? g : 0);
			pg[g] = p + (size_t)bb * ldp;
			Tg[g] = T[bb];
		}
		for (int c0 = 0; c0 < n; c0 += 8 * W2_C) {
			int C = (n - c0 + 7) / 8 < W2_C ? (n - c0 + 7) / 8 : W2_C;
			int full[W2_C];
			__m256i mask[W2_C];
			float *yg[W2_G];
			for (int c = 0; c < W2_C; c++) {
				int w = n - c0 - 8 * c;
				w = w < 0 ? 0 : w > 8 ? 8 : w;
				full[c] = w == 8;
				mask[c] = kern_lane_mask(w);
			}
			for (int g = 0; g < W2_G; g++)
				yg[g] = y + (size_t)(b + (g < G ? g : 0)) * ldy + c0;
			const float *vc = v + c0;
#define W2T(g, c)                                                                                  \
	case g * 4 + c:                                                                            \
		w2_tile(pg, Tg, g, vc, ldv, c, full, mask, yg);                                    \
		break
			switch (G * 4 + C) {
				W2T(4, 2);
				W2T(4, 1);
				W2T(3, 2);
				W2T(3, 1);
				W2T(2, 2);
				W2T(2, 1);
				W2T(1, 2);
			default:
				w2_tile(pg, Tg, 1, vc, ldv, 1, full, mask, yg);
				break;
			}
#undef W2T
		}
	}
}

static const kern_table avx2_table = {
    .name = "avx2",
    .f32_to_f16 = avx2_f32_to_f16,
    .f16_to_f32 = avx2_f16_to_f32,
    .round_f16 = avx2_round_f16,
    .quantize_q8_0 = avx2_quantize_q8_0,
    .dequant_q8_0 = avx2_dequant_q8_0,
    .dot_f32 = avx2_dot_f32,
    .dot_f16 = avx2_dot_f16,
    .dot_q8_0 = avx2_dot_q8_0,
    .sum = avx2_sum,
    .matmul_f32 = avx2_matmul_f32,
    .matmul_f16 = avx2_matmul_f16,
    .matmul_q8_0 = avx2_matmul_q8_0,
    .rmsnorm = avx2_rmsnorm,
    .softmax = avx2_softmax,
    .silu = avx2_silu,
    .swiglu = avx2_swiglu,
    .mul = avx2_mul,
    .add = avx2_add,
    .scale = avx2_scale,
    .exp = avx2_exp,
    .rope = avx2_rope,
    .wsum = avx2_wsum,
    .wsum_batch = avx2_wsum_batch,
};

const kern_table *kern_avx2_table(void);
const kern_table *kern_avx2_table(void)
{
	return &avx2_table;
}

#else /* not built for AVX2 */

const kern_table *kern_avx2_table(void);
const kern_table *kern_avx2_table(void)
{
	return NULL;
}

#endif
