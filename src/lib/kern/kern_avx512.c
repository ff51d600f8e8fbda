/*
 * kern_avx512.c - the AVX-512 kernel table (F, BW, VL, DQ and VNNI, on top
 * of AVX2, FMA and F16C) and its F32/F16 matrix products. Compiled with
 * those -m flags; kern.c only hands this table out when CPUID and XCR0
 * report all of them.
 *
 * Only the matrix products (here and in kern_avx512_q8.c), attention's
 * kernels and a few row helpers (kern_avx512_rows.c) change: every other
 * entry of the table is the AVX2 kernel, which 512-bit registers would not
 * speed up. They repeat the reference's arithmetic (kern.h contract) lane
 * by lane, as the AVX2 ones do:
 *
 * - F32 and F16: the 32 canonical lanes of a dot are two registers of 16.
 *   Lanes 0-15 of a dot only ever see the elements i with i % 32 < 16, in
 *   increasing i, and lanes 16-31 the others, so each half is accumulated
 *   on its own pass; with one register per output a tile of 4 weight rows
 *   x 6 activations keeps its 24 accumulators in registers. The fold
 *   (contract 1) adds the halves, then the same tree as AVX2, for 16 dots
 *   at once (fold16z). F32 rows of at most 128 (attention's scores) keep
 *   the activations in registers instead (fgemm_short).
 *
 * - One activation (generation): one weight row at a time, both halves of
 *   the lanes in registers.
 */
#include "kern_avx512_impl.h"

#ifdef KERN_AVX512_BUILT

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmath.h"

const kern_table *kern_avx512_table(void);

/* ---- F32 / F16 ---- */

/*
 * The contract 1 fold of 16 dots at once, for products whose outputs come
 * in rows: a[i] holds the w = 16 step (lanes 0-15 plus lanes 16-31) of dot
 * tr(i) = 4 * (i % 4) + i / 4, and each later step adds the two halves of
 * every dot's lanes from two registers combined by shuffles: w = 8 (256-bit
 * halves), 4 (128-bit quarters), then 2 and 1 inside each quarter. Every
 * dot gets exactly the additions of fold32z, a third of the instructions
 * per dot. Element j of the result is dot j (the feeding order tr undoes
 * the 4 x 4 transpose the shuffles make of the dots).
 */
INLINE __m512 fold16z(const __m512 *a)
{
	__m512 b[8], c[4], d[2];
#pragma GCC unroll 8
	for (int k = 0; k < 8; k++)
		b[k] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0x44),
		                     _mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0xee));
#pragma GCC unroll 4
	for (int k = 0; k < 4; k++)
		c[k] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * k], b[2 * k + 1], 0x88),
		                     _mm512_shuffle_f32x4(b[2 * k], b[2 * k + 1], 0xdd));
#pragma GCC unroll 2
	for (int k = 0; k < 2; k++)
		d[k] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * k], c[2 * k + 1], 0x44),
		                     _mm512_shuffle_ps(c[2 * k], c[2 * k + 1], 0xee));
	return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88),
	                     _mm512_shuffle_ps(d[0], d[1], 0xdd));
}

/* the position in fold16z's input of dot j (the transpose is its own inverse) */
#define FOLD16_AT(j) (4 * ((j) % 4) + (j) / 4)

INLINE __m512 load_w(const void *w, size_t i, int f16)
{
	if (f16)
		return _mm512_cvtph_ps(
		    _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i)));
	return _mm512_loadu_ps((const float *)w + i);
}

/* lanes [0, cnt) of the weights at i, zeros after (no access past them) */
INLINE __m512 load_w_part(const void *w, size_t i, __mmask16 m, int f16)
{
	if (f16)
		return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i));
	return _mm512_maskz_loadu_ps(m, (const float *)w + i);
}

enum { FR = 4, FC = 6, F_KC = 1024, F_RB = 32 };

/*
 * One half h (lanes 16h .. 16h+15) of the R x C dots of weight rows w[] and
 * activations x[] over the elements [k0, k1), k0 a multiple of 32; a tail
 * (k1 - k0 not a multiple of 32) only at the end of the rows. ln[r][c][h]:
 * the lanes, zero when `first`. Called with constant R, C, f16.
 */
INLINE void fgemm_half(const void *const *w, int R, const float *const *x, int C, int k0, int k1,
                       int h, int first, __m512 (*ln)[FC][2], int f16)
{
	__m512 a[FR][FC];
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 6
		for (int c = 0; c < C; c++)
			a[r][c] = first ? _mm512_setzero_ps() : ln[r][c][h];
	int i0 = k0;
	for (; i0 + 32 <= k1; i0 += 32) {
		size_t i = (size_t)i0 + 16 * (size_t)h;
		__m512 wv[FR];
#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
			wv[r] = load_w(w[r], i, f16);
#pragma GCC unroll 6
		for (int c = 0; c < C; c++) {
			__m512 xv = _mm512_loadu_ps(x[c] + i);
#pragma GCC unroll 4
			for (int r = 0; r < R; r++)
				a[r][c] = _mm512_fmadd_ps(wv[r], xv, a[r][c]);
		}
	}
	/* the tail: masked loads, and masked fmas so that lanes past it keep
	 * their exact value (fma(0, 0, -0) would turn a -0 lane into +0) */
	int cnt = k1 - i0 - 16 * h;
	if (cnt > 0) {
		cnt = cnt > 16 ? 16 : cnt;
		__mmask16 m = (__mmask16)((1u << cnt) - 1);
		size_t i = (size_t)i0 + 16 * (size_t)h;
		__m512 wv[FR];
#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
			wv[r] = load_w_part(w[r], i, m, f16);
#pragma GCC unroll 6
		for (int c = 0; c < C; c++) {
			__m512 xv = _mm512_maskz_loadu_ps(m, x[c] + i);
#pragma GCC unroll 4
			for (int r = 0; r < R; r++)
				a[r][c] = _mm512_mask3_fmadd_ps(wv[r], xv, a[r][c], m);
		}
	}
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 6
		for (int c = 0; c < C; c++)
			ln[r][c][h] = a[r][c];
}

/* both halves of the R x C tile, with constant sizes so that it unrolls */
INLINE void fgemm_tile(const void *const *w, int R, const float *const *x, int C, int k0, int k1,
                       int first, __m512 (*ln)[FC][2], int f16)
{
#define FT(r, c)                                                                                   \
	case r * 8 + c:                                                                            \
		fgemm_half(w, r, x, c, k0, k1, 0, first, ln, f16);                                 \
		fgemm_half(w, r, x, c, k0, k1, 1, first, ln, f16);                                 \
		break
	switch (R * 8 + C) {
		FT(4, 6);
		FT(4, 5);
		FT(4, 4);
		FT(4, 3);
		FT(4, 2);
		FT(4, 1);
		FT(2, 6);
		FT(2, 5);
		FT(2, 4);
		FT(2, 3);
		FT(2, 2);
		FT(2, 1);
		FT(1, 6);
		FT(1, 5);
		FT(1, 4);
		FT(1, 3);
		FT(1, 2);
	default:
		fgemm_half(w, 1, x, 1, k0, k1, 0, first, ln, f16);
		fgemm_half(w, 1, x, 1, k0, k1, 1, first, ln, f16);
		break;
	}
#undef FT
}

/*
 * Blocked like a GEMM: F_RB weight rows x FC activations at a time, columns
 * in chunks of F_KC (a multiple of 32, so every chunk starts at lane 0).
 * Within a chunk the activations stay in L1 while the block's rows pass in
 * tiles of 4; between chunks the lanes of each output wait in `lanes`.
 */
static void fgemm(const char *wb, size_t wsz, int ldw, const float *x, int ldx, float *y, int ldy,
                  int n, int row0, int row1, int batch, int f16)
{
	__m512 lanes[F_RB][FC][2];
	for (int r0 = row0; r0 < row1; r0 += F_RB) {
		int r1 = r0 + F_RB < row1 ? r0 + F_RB : row1;
		for (int b = 0; b < batch; b += FC) {
			int C = batch - b < FC ? batch - b : FC;
			const float *xr[FC];
			for (int c = 0; c < FC; c++)
				xr[c] = x + (size_t)(b + (c < C ? c : 0)) * ldx;
			int k0 = 0;
			do {
				int k1 = k0 + F_KC < n ? k0 + F_KC : n;
				for (int r = r0; r < r1;) {
					int R = r1 - r >= 4 ? 4 : r1 - r >= 2 ? 2 : 1;
					const void *wr[FR];
					for (int i = 0; i < FR; i++)
						wr[i] =
						    wb + (size_t)(r + (i < R ? i : 0)) * ldw * wsz;
					fgemm_tile(wr, R, xr, C, k0, k1, k0 == 0, &lanes[r - r0],
					           f16);
					r += R;
				}
				k0 = k1;
			} while (k0 < n);
			/* the folds, 16 rows of an activation at a time */
			for (int c = 0; c < C; c++)
				for (int r = r0; r < r1; r += 16) {
					int cnt = r1 - r < 16 ? r1 - r : 16;
					__m512 a[16];
#pragma GCC unroll 16
					for (int j = 0; j < 16; j++)
						a[FOLD16_AT(j)] =
						    j < cnt ? _mm512_add_ps(lanes[r - r0 + j][c][0],
						                            lanes[r - r0 + j][c][1])
						            : _mm512_setzero_ps();
					_mm512_mask_storeu_ps(y + (size_t)(b + c) * ldy + r,
					                      (__mmask16)((1u << cnt) - 1),
					                      fold16z(a));
				}
		}
	}
}

/*
 * Short rows (n <= 128: attention's scores, head_dim long): the C
 * activations stay in registers, NV of 16 floats each (NV = 4 for n <= 64,
 * 8 for n <= 128; registers past n are masked off), and the weight rows
 * stream past them, each loaded once for the C activations. A row's two
 * halves of the lanes take registers k = 0, 2, ... and 1, 3, ... in order
 * (masked fmas, so that a lane past n keeps its value), their sum is the
 * fold's w = 16 step, and fold16z finishes 16 rows at a time.
 */
enum { FS_C = 4 };

/* row j of a 16-row block (j < cnt) into sums[c][FOLD16_AT(j)], zeros past cnt */
INLINE void fshort_row(const void *wr, int j, int cnt, __m512 (*xv)[8], int C, int NV,
                       const __mmask16 *m, __m512 (*sums)[16], int f16)
{
	if (j >= cnt) {
#pragma GCC unroll 4
		for (int c = 0; c < C; c++)
			sums[c][FOLD16_AT(j)] = _mm512_setzero_ps();
		return;
	}
	__m512 wv[8];
#pragma GCC unroll 8
	for (int k = 0; k < NV; k++)
		wv[k] = load_w_part(wr, 16 * (size_t)k, m[k], f16);
#pragma GCC unroll 4
	for (int c = 0; c < C; c++) {
		__m512 a[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
#pragma GCC unroll 8
		for (int k = 0; k < NV; k++)
			a[k % 2] = _mm512_mask3_fmadd_ps(wv[k], xv[c][k], a[k % 2], m[k]);
		sums[c][FOLD16_AT(j)] = _mm512_add_ps(a[0], a[1]);
	}
}

INLINE void fshort(const char *wb, size_t wsz, int ldw, const float *const *x, int C, int NV,
                   const __mmask16 *m, float *const *y, int row0, int row1, int f16)
{
	__m512 xv[FS_C][8];
#pragma GCC unroll 4
	for (int c = 0; c < C; c++)
#pragma GCC unroll 8
		for (int k = 0; k < NV; k++)
			xv[c][k] = _mm512_maskz_loadu_ps(m[k], x[c] + 16 * k);
	size_t ldb = (size_t)ldw * wsz;
	for (int r0 = row0; r0 < row1; r0 += 16) {
		int cnt = row1 - r0 < 16 ? row1 - r0 : 16;
		const char *wr = wb + (size_t)r0 * ldb;
		__m512 sums[FS_C][16];
		/* unrolled: all 16 rows for one activation, 2 for more (measured
		 * fastest; 16 slows the 4-activation tile down) */
		if (C == 1) {
#pragma GCC unroll 16
			for (int j = 0; j < 16; j++)
				fshort_row(wr + j * ldb, j, cnt, xv, C, NV, m, sums, f16);
		} else {
#pragma GCC unroll 2
			for (int j = 0; j < 16; j++)
				fshort_row(wr + j * ldb, j, cnt, xv, C, NV, m, sums, f16);
		}
#pragma GCC unroll 4
		for (int c = 0; c < C; c++)
			_mm512_mask_storeu_ps(y[c] + r0, (__mmask16)((1u << cnt) - 1),
			                      fold16z(sums[c]));
	}
}

static void fgemm_short(const char *wb, size_t wsz, int ldw, const float *x, int ldx, float *y,
                        int ldy, int n, int row0, int row1, int batch, int f16)
{
	int NV = n <= 64 ? 4 : 8;
	__mmask16 m[8];
	for (int k = 0; k < 8; k++) {
		int w = n - 16 * k;
		w = w < 0 ? 0 : w > 16 ? 16 : w;
		m[k] = (__mmask16)((1u << w) - 1);
	}
	int cmax = NV == 4 ? 4 : 2;
	for (int b = 0; b < batch; b += cmax) {
		int C = batch - b < cmax ? batch - b : cmax;
		const float *xr[FS_C];
		float *yr[FS_C];
		for (int c = 0; c < FS_C; c++) {
			xr[c] = x + (size_t)(b + (c < C ? c : 0)) * ldx;
			yr[c] = y + (size_t)(b + (c < C ? c : 0)) * ldy;
		}
#define FSH(nv, c)                                                                                 \
	case nv * 8 + c:                                                                           \
		fshort(wb, wsz, ldw, xr, c, nv, m, yr, row0, row1, f16);                           \
		break
		switch (NV * 8 + C) {
			FSH(4, 4);
			FSH(4, 3);
			FSH(4, 2);
			FSH(4, 1);
			FSH(8, 2);
		default:
			fshort(wb, wsz, ldw, xr, 1, 8, m, yr, row0, row1, f16);
			break;
		}
#undef FSH
	}
}

/* prefetch distance for weight rows in a matrix-vector product, bytes
 * (measured on Zen 5: farther is slower) */
#define F_VEC_PREFETCH 4096
#define F16_VEC_PREFETCH 8192 /* ~5% faster than 4096 for halves */

/*
 * One weight row against one activation, whole rows of n: both halves of
 * the 32 lanes at once. (Several rows sharing the activation loads measured
 * slower on Zen 5: up to 40% for F16, the streams from memory compete.)
 */
INLINE __m512 fvec_row(const void *w, const float *x, int n, int f16)
{
	__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
	size_t wsz = f16 ? 2 : 4;
	int i = 0;
	for (; i + 32 <= n; i += 32) {
		const char *pw =
		    (const char *)w + (size_t)i * wsz + (f16 ? F16_VEC_PREFETCH : F_VEC_PREFETCH);
		_mm_prefetch(pw, _MM_HINT_T0);
		if (!f16)
			_mm_prefetch(pw + 64, _MM_HINT_T0);
		a0 = _mm512_fmadd_ps(load_w(w, (size_t)i, f16), _mm512_loadu_ps(x + i), a0);
		a1 = _mm512_fmadd_ps(load_w(w, (size_t)i + 16, f16), _mm512_loadu_ps(x + i + 16),
		                     a1);
	}
	/* the tail, masked as in fgemm_half */
	int cnt = n - i;
	if (cnt > 0) {
		int c0 = cnt > 16 ? 16 : cnt;
		__mmask16 m0 = (__mmask16)((1u << c0) - 1);
		a0 = _mm512_mask3_fmadd_ps(load_w_part(w, (size_t)i, m0, f16),
		                           _mm512_maskz_loadu_ps(m0, x + i), a0, m0);
		if (cnt > 16) {
			__mmask16 m1 = (__mmask16)((1u << (cnt - 16)) - 1);
			a1 = _mm512_mask3_fmadd_ps(load_w_part(w, (size_t)i + 16, m1, f16),
			                           _mm512_maskz_loadu_ps(m1, x + i + 16), a1, m1);
		}
	}
	return _mm512_add_ps(a0, a1); /* the fold's w = 16 step */
}

/* rows [row0, row1) against each of the batch activations on its own, the
 * folds 16 rows at a time */
INLINE void fvec(const char *wb, size_t wsz, int ldw, const float *x, int ldx, float *y, int ldy,
                 int n, int row0, int row1, int batch, int f16)
{
	for (int b = 0; b < batch; b++) {
		const float *xb = x + (size_t)b * ldx;
		float *yb = y + (size_t)b * ldy;
		for (int r = row0; r < row1; r += 16) {
			int cnt = row1 - r < 16 ? row1 - r : 16;
			__m512 a[16];
#pragma GCC unroll 16
			for (int j = 0; j < 16; j++) {
				const void *wr = wb + (size_t)(r + j) * ldw * wsz;
				a[FOLD16_AT(j)] =
				    j < cnt ? fvec_row(wr, xb, n, f16) : _mm512_setzero_ps();
			}
			_mm512_mask_storeu_ps(yb + r, (__mmask16)((1u << cnt) - 1), fold16z(a));
		}
	}
}

static void avx512_matmul_f32(const float *w, int ldw, const float *x, int ldx, float *y, int ldy,
                              int n, int row0, int row1, int batch)
{
	const char *wb = (const char *)w;
	if (n <= 128) /* attention's scores, any batch (one activation too: faster than fvec) */
		fgemm_short(wb, sizeof(float), ldw, x, ldx, y, ldy, n, row0, row1, batch, 0);
	else if (batch == 1)
		fvec(wb, sizeof(float), ldw, x, ldx, y, ldy, n, row0, row1, batch, 0);
	else
		fgemm(wb, sizeof(float), ldw, x, ldx, y, ldy, n, row0, row1, batch, 0);
}

static void avx512_matmul_f16(const uint16_t *w, int ldw, const float *x, int ldx, float *y,
                              int ldy, int n, int row0, int row1, int batch)
{
	if (batch == 1) {
		fvec((const char *)w, sizeof(uint16_t), ldw, x, ldx, y, ldy, n, row0, row1, batch,
		     1);
		return;
	}
	fgemm((const char *)w, sizeof(uint16_t), ldw, x, ldx, y, ldy, n, row0, row1, batch, 1);
}
/* ---- the table ---- */

static kern_table avx512_table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	avx512_table = *kern_avx2_table();
	avx512_table.name = "avx512";
	avx512_table.matmul_f32 = avx512_matmul_f32;
	avx512_table.matmul_f16 = avx512_matmul_f16;
	avx512_table.matmul_q8_0 = kern_avx512_matmul_q8_0;
	avx512_table.wsum = kern_avx512_wsum;
	avx512_table.scale = kern_avx512_scale;
	avx512_table.softmax = kern_avx512_softmax;
	avx512_table.silu = kern_avx512_silu;
	avx512_table.swiglu = kern_avx512_swiglu;
	avx512_table.wsum_batch = kern_avx512_wsum_batch;
}

const kern_table *kern_avx512_table(void)
{
	if (!kern_avx2_table())
		return NULL;
	pthread_once(&table_once, table_init);
	return &avx512_table;
}

#else /* not built for AVX-512 */

const kern_table *kern_avx512_table(void);
const kern_table *kern_avx512_table(void)
{
	return NULL;
}

#endif
