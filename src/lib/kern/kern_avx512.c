/*
 * kern_avx512.c - AVX-512 kernels (F, BW, VL, DQ and VNNI, on top of AVX2,
 * FMA and F16C). Compiled with those -m flags; kern.c only hands this table
 * out when CPUID and XCR0 report all of them.
 *
 * Only the matrix products and attention's kernels (wsum, wsum_batch,
 * softmax, scale) change: every other entry of the table is the AVX2
 * kernel, which 512-bit registers would not speed up. They repeat the
 * reference's arithmetic (kern.h contract) lane by lane, as the AVX2 ones
 * do:
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
 * - Q8_0 with several activations: a register holds one lane per
 *   activation (16 of them), not one per element. The activation blocks
 *   are transposed once per call so that lane j of register t holds bytes
 *   4t..4t+3 of activation j's block; the weight row's bytes 4t..4t+3 are
 *   broadcast, and eight vpdpbusd give each activation's exact block sum in
 *   its lane without any horizontal step. vpdpbusd multiplies unsigned by
 *   signed bytes: the weights go in as q + 128 (q xor 0x80) and the sum
 *   starts at -128 * (sum of the activation's block, computed once with
 *   the transpose), which makes it exactly the signed sum for every byte,
 *   -128 included. Then, per block k, the canonical A[k % 8] = fma(s[k],
 *   isum[k], A[k % 8]) runs in 16 lanes at once, the blocks in order (each
 *   A[j] sees its blocks in increasing k), and the fold of contract 3b is
 *   plain vertical adds. A tile is 4 weight rows x 64 activations.
 *
 * - One activation (generation; for Q8_0 also each of a batch too small
 *   to fill a lane group): one weight row at a time, F32/F16 with both
 *   halves of the lanes in registers, Q8_0 in the weights' own layout,
 *   vpdpbusd on two blocks per register and a tree of permutes for the 8
 *   block sums.
 */
#include "kern.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) &&                      \
    defined(__AVX512DQ__) && defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) &&   \
    defined(__F16C__)

#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dmath.h"
#include "kern_avx2_steps.h"

#define INLINE static inline __attribute__((always_inline))

/* defined in kern_avx2.c: the kernels this table shares */
const kern_table *kern_avx2_table(void);
const kern_table *kern_avx512_table(void);

/* ---- per-thread scratch (the transposed activations of a Q8_0 product) ---- */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;
static _Thread_local struct scratch {
	void *p;
	size_t n;
} scratch;

static void scratch_release(void *v)
{
	struct scratch *s = v;
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

static void scratch_init(void)
{
	scratch_key_ok = pthread_key_create(&scratch_key, scratch_release) == 0;
}

/*
 * A 64-byte aligned buffer of at least n bytes, owned by the calling thread
 * and kept for its next call (freed when the thread ends), or NULL.
 */
static void *scratch_get(size_t n)
{
	pthread_once(&scratch_once, scratch_init);
	if (!scratch_key_ok)
		return NULL;
	if (scratch.n >= n)
		return scratch.p;
	size_t want = (n + 65535) & ~(size_t)65535;
	void *p = aligned_alloc(64, want);
	if (!p || pthread_setspecific(scratch_key, &scratch)) {
		free(p);
		return NULL;
	}
	free(scratch.p);
	scratch.p = p;
	scratch.n = want;
	return p;
}

/* ---- F32 / F16 ---- */

/* contract 1 fold of the 32 lanes h0 (0-15), h1 (16-31): w = 16, then 8, 4, 2, 1 */
INLINE float fold32z(__m512 h0, __m512 h1)
{
	__m512 a = _mm512_add_ps(h0, h1);
	__m256 b = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
	__m128 v = _mm_add_ps(_mm256_castps256_ps128(b), _mm256_extractf128_ps(b, 1));
	v = _mm_add_ps(v, _mm_movehl_ps(v, v));
	v = _mm_add_ss(v, _mm_movehdup_ps(v));
	return _mm_cvtss_f32(v);
}

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

/* ---- Q8_0 ---- */

/* activations per lane group, weight rows and lane groups per tile */
enum { QL = 16, QR = 4, QG = 4, Q_CHUNK_GROUPS = 4, Q_RB = 16 };

/*
 * The transposed activations of one lane group: X[8k + t] lane j = bytes
 * 4t..4t+3 of block k of activation j (signed); D[16k + j] = the scale of
 * that block as a float; C[16k + j] = -128 * the sum of its quants (the
 * start of each vpdpbusd sum, which cancels the + 128 of the weights).
 * rows[j]: activation j's blocks (the unused lanes repeat a row; their
 * results are never stored).
 */
static void q8_pack_group(const kern_q8_0 *const *rows, int nb, __m512i *X, float *D, int32_t *C)
{
	const __m512i ones = _mm512_set1_epi8(1);
	const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
	const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
	for (int k = 0; k < nb; k++) {
		/* z[i]: activation i in the low 256 bits, i + 8 in the high */
		__m512i z[8];
		for (int i = 0; i < 8; i++)
			z[i] = _mm512_inserti64x4(
			    _mm512_castsi256_si512(
			        _mm256_loadu_si256((const __m256i *)rows[i][k].q)),
			    _mm256_loadu_si256((const __m256i *)rows[i + 8][k].q), 1);
		/* an 8 x 8 transpose of 32-bit words in each 256-bit half */
		__m512i t[8], u[8];
		for (int i = 0; i < 4; i++) {
			t[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
			t[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
		}
		for (int i = 0; i < 2; i++) {
			u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
			u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
			u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
			u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
		}
		/* u[c] holds words c (128-bit lanes 0, 2) and c + 4 (lanes 1, 3)
		 * of activations 0-3 and 8-11; u[c + 4] those of 4-7 and 12-15 */
		__m512i sum = _mm512_setzero_si512();
		for (int c = 0; c < 4; c++) {
			__m512i w0 = _mm512_permutex2var_epi64(u[c], lo, u[c + 4]);
			__m512i w1 = _mm512_permutex2var_epi64(u[c], hi, u[c + 4]);
			_mm512_store_si512(X + 8 * (size_t)k + c, w0);
			_mm512_store_si512(X + 8 * (size_t)k + c + 4, w1);
			sum = _mm512_dpbusd_epi32(sum, ones, w0);
			sum = _mm512_dpbusd_epi32(sum, ones, w1);
		}
		/* -128 * (the sum of each activation's block) */
		_mm512_store_si512(
		    (__m512i *)(C + 16 * (size_t)k),
		    _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, 7)));
		__m256i h = _mm256_setr_epi16(
		    (short)rows[0][k].d, (short)rows[1][k].d, (short)rows[2][k].d,
		    (short)rows[3][k].d, (short)rows[4][k].d, (short)rows[5][k].d,
		    (short)rows[6][k].d, (short)rows[7][k].d, (short)rows[8][k].d,
		    (short)rows[9][k].d, (short)rows[10][k].d, (short)rows[11][k].d,
		    (short)rows[12][k].d, (short)rows[13][k].d, (short)rows[14][k].d,
		    (short)rows[15][k].d);
		_mm512_store_ps(D + 16 * (size_t)k, _mm512_cvtph_ps(h));
	}
}

/*
 * Block k of a tile (below): the QR * G exact integer sums, then A[k % 8]
 * = fma(s_w * s_x, (float)isum, A[k % 8]), from +0 when first (k < 8).
 */
INLINE void q8_block(const kern_q8_0 *const *w, const kern_q8_0 *const *wn, const __m512i *const *X,
                     const float *const *D, const int32_t *const *C, int G, int k, int first,
                     __m512 (*a)[QG])
{
	/* the next tile's rows, a block at a time (all at once, the misses
	 * would stall the loop) */
#pragma GCC unroll 8
	for (int r = 0; r < QR; r++)
		_mm_prefetch((const char *)(wn[r] + k), _MM_HINT_T0);
	__m512i I[QR][QG];
#pragma GCC unroll 4
	for (int g = 0; g < G; g++) {
		__m512i c = _mm512_load_si512((const __m512i *)(C[g] + 16 * (size_t)k));
#pragma GCC unroll 8
		for (int r = 0; r < QR; r++)
			I[r][g] = c;
	}
#pragma GCC unroll 8
	for (int t = 0; t < 8; t++) {
		__m512i xv[QG];
#pragma GCC unroll 4
		for (int g = 0; g < G; g++)
			xv[g] = _mm512_load_si512(X[g] + 8 * (size_t)k + t);
#pragma GCC unroll 8
		for (int r = 0; r < QR; r++) {
			uint32_t word;
			memcpy(&word, w[r][k].q + 4 * t, sizeof word);
			/* w + 128 as unsigned bytes */
			__m512i wv = _mm512_set1_epi32((int32_t)(word ^ 0x80808080u));
#pragma GCC unroll 4
			for (int g = 0; g < G; g++)
				I[r][g] = _mm512_dpbusd_epi32(I[r][g], wv, xv[g]);
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < QR; r++) {
		__m512 sw = _mm512_cvtph_ps(_mm256_set1_epi16((short)w[r][k].d));
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			__m512 s = _mm512_mul_ps(sw, _mm512_load_ps(D[g] + 16 * (size_t)k));
			a[r][g] = _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(I[r][g]),
			                          first ? _mm512_setzero_ps() : a[r][g]);
		}
	}
}

/*
 * QR weight rows x G lane groups of activations: out[r * ldo + 16 g + j] =
 * the canonical Q8_0 dot of row r and activation j of group g, for r < R.
 * Blocks go in order, so that weights and activations stream; the eight
 * A[k % 8] of each output wait in memory and the QR * G integer sums stay
 * in registers. wn: the next tile's rows, to prefetch. Called with
 * constant G.
 *
 * Measured on Zen 5 (two 512-bit vpdpbusd a cycle, on the pipes that also
 * take the float mul and fma of each block, so at most 80% of that peak):
 * the 16 integer chains keep both pipes busy, and the stores of A are
 * what costs most besides; a pass per k % 8 with A in registers (fewer
 * rows or groups to fit them) came out slower, from the compiler's
 * spills and the activations' reads.
 */
INLINE void q8_tile(const kern_q8_0 *const *w, const kern_q8_0 *const *wn, const __m512i *const *X,
                    const float *const *D, const int32_t *const *C, int G, int nb, int R,
                    float *out, int ldo)
{
	__m512 A[8][QR][QG];
	for (int j = nb; j < 8; j++)
#pragma GCC unroll 8
		for (int r = 0; r < QR; r++)
#pragma GCC unroll 4
			for (int g = 0; g < G; g++)
				A[j][r][g] = _mm512_setzero_ps();
	int k = 0;
	for (; k < nb && k < 8; k++)
		q8_block(w, wn, X, D, C, G, k, 1, A[k]);
	for (; k < nb; k++)
		q8_block(w, wn, X, D, C, G, k, 0, A[k & 7]);
		/* contract 3b fold: w = 4, 2, 1 */
#pragma GCC unroll 8
	for (int r = 0; r < QR; r++)
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			__m512 a0 = _mm512_add_ps(A[0][r][g], A[4][r][g]);
			__m512 a1 = _mm512_add_ps(A[1][r][g], A[5][r][g]);
			__m512 a2 = _mm512_add_ps(A[2][r][g], A[6][r][g]);
			__m512 a3 = _mm512_add_ps(A[3][r][g], A[7][r][g]);
			a0 = _mm512_add_ps(a0, a2);
			a1 = _mm512_add_ps(a1, a3);
			if (r < R)
				_mm512_storeu_ps(out + r * ldo + QL * g, _mm512_add_ps(a0, a1));
		}
}

INLINE void q8_tile_g(const kern_q8_0 *const *w, const kern_q8_0 *const *wn,
                      const __m512i *const *X, const float *const *D, const int32_t *const *C,
                      int G, int nb, int R, float *out, int ldo)
{
	switch (G) {
	case 4:
		q8_tile(w, wn, X, D, C, 4, nb, R, out, ldo);
		break;
	case 3:
		q8_tile(w, wn, X, D, C, 3, nb, R, out, ldo);
		break;
	case 2:
		q8_tile(w, wn, X, D, C, 2, nb, R, out, ldo);
		break;
	default:
		q8_tile(w, wn, X, D, C, 1, nb, R, out, ldo);
		break;
	}
}

/* the exact sums of blocks k..k+7 of w against xp, lane j = block k + j,
 * each plus 128 * (sum of x's block) */
INLINE __m256i q8_vec_isum8(const kern_q8_0 *w, const __m512i *xp)
{
	const __m512i bias = _mm512_set1_epi8((char)0x80);
	const __m512i ev =
	    _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
	const __m512i od =
	    _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
	__m512i p[4];
#pragma GCC unroll 4
	for (int j = 0; j < 4; j++) {
		__m512i wv = _mm512_inserti64x4(
		    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)w[2 * j].q)),
		    _mm256_loadu_si256((const __m256i *)w[2 * j + 1].q), 1);
		p[j] =
		    _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(wv, bias), xp[j]);
	}
	/* pairs of words summed, three times: 8, then 4, 2, 1 words per block */
	__m512i q01 = _mm512_add_epi32(_mm512_permutex2var_epi32(p[0], ev, p[1]),
	                               _mm512_permutex2var_epi32(p[0], od, p[1]));
	__m512i q23 = _mm512_add_epi32(_mm512_permutex2var_epi32(p[2], ev, p[3]),
	                               _mm512_permutex2var_epi32(p[2], od, p[3]));
	__m512i r = _mm512_add_epi32(_mm512_permutex2var_epi32(q01, ev, q23),
	                             _mm512_permutex2var_epi32(q01, od, q23));
	__m512i s =
	    _mm512_add_epi32(_mm512_permutexvar_epi32(ev, r), _mm512_permutexvar_epi32(od, r));
	return _mm512_castsi512_si256(s);
}

/* scales of 8 consecutive blocks as floats */
INLINE __m256 q8_scales8(const kern_q8_0 *b)
{
	__m128i h = _mm_setr_epi16((short)b[0].d, (short)b[1].d, (short)b[2].d, (short)b[3].d,
	                           (short)b[4].d, (short)b[5].d, (short)b[6].d, (short)b[7].d);
	return _mm256_cvtph_ps(h);
}

/*
 * Weight rows [r, r + R) (R <= QR) against the ng packed lane groups:
 * out[i * ldo + j] = the dot of row r + i and activation j. Prefetches the
 * next rows, up to row `end`. A short tile repeats row r in its unused rows
 * (their results are not stored).
 */
static void q8_rows(const kern_q8_0 *w, int ldw, int r, int R, int end, int nb, __m512i *const *X,
                    float *const *D, int32_t *const *C, int ng, float *out, int ldo)
{
	const kern_q8_0 *wr[QR], *wn[QR];
	for (int i = 0; i < QR; i++) {
		wr[i] = w + (size_t)(r + (i < R ? i : 0)) * ldw;
		wn[i] = r + R + i < end ? w + (size_t)(r + R + i) * ldw : wr[i];
	}
	for (int g = 0; g < ng; g += QG) {
		int G = ng - g < QG ? ng - g : QG;
		q8_tile_g(wr, wn, (const __m512i *const *)X + g, (const float *const *)D + g,
		          (const int32_t *const *)C + g, G, nb, R, out + QL * g, ldo);
	}
}

/*
 * The outputs of a block of nr <= 16 rows (in[i * ldi + j]: row i,
 * activation j) into y (y[j * ldy + i]) for activations j < cnt: a 16 x 16
 * transpose per 16 activations, one (masked) store per activation.
 */
static void q8_store_rows(const float *in, int ldi, int nr, int cnt, float *y, int ldy)
{
	__mmask16 m = (__mmask16)((1u << nr) - 1);
	for (int j0 = 0; j0 < cnt; j0 += QL) {
		__m512 v[16], t[16];
#pragma GCC unroll 16
		for (int i = 0; i < 16; i++)
			v[i] = i < nr ? _mm512_loadu_ps(in + i * ldi + j0) : _mm512_setzero_ps();
#pragma GCC unroll 8
		for (int i = 0; i < 16; i += 2) {
			t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
			t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
		}
		/* v[4q + c] lane l: element 4l + c of rows 4q .. 4q + 3 */
#pragma GCC unroll 4
		for (int q = 0; q < 4; q++) {
			__m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
			__m512d c = _mm512_castps_pd(t[4 * q + 2]),
			        d = _mm512_castps_pd(t[4 * q + 3]);
			v[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
			v[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
			v[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
			v[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
		}
		/* the 4 x 4 transpose of the 128-bit lanes of v[c], v[4 + c],
		 * v[8 + c], v[12 + c] gives activations c, 4 + c, 8 + c, 12 + c */
		__m512 o[16];
#pragma GCC unroll 4
		for (int c = 0; c < 4; c++) {
			__m512 s0 = _mm512_shuffle_f32x4(v[c], v[4 + c], 0x44);
			__m512 s1 = _mm512_shuffle_f32x4(v[c], v[4 + c], 0xee);
			__m512 s2 = _mm512_shuffle_f32x4(v[8 + c], v[12 + c], 0x44);
			__m512 s3 = _mm512_shuffle_f32x4(v[8 + c], v[12 + c], 0xee);
			o[c] = _mm512_shuffle_f32x4(s0, s2, 0x88);
			o[4 + c] = _mm512_shuffle_f32x4(s0, s2, 0xdd);
			o[8 + c] = _mm512_shuffle_f32x4(s1, s3, 0x88);
			o[12 + c] = _mm512_shuffle_f32x4(s1, s3, 0xdd);
		}
		int n = cnt - j0 < QL ? cnt - j0 : QL;
		float *yj = y + (size_t)j0 * ldy;
		if (nr == 16)
			for (int j = 0; j < n; j++)
				_mm512_storeu_ps(yj + (size_t)j * ldy, o[j]);
		else
			for (int j = 0; j < n; j++)
				_mm512_mask_storeu_ps(yj + (size_t)j * ldy, m, o[j]);
	}
}

/*
 * ---- Q8_0 against one activation (generation) ----
 *
 * The weight rows are read once, in their own layout: a register holds
 * two blocks, vpdpbusd of (w + 128) and x gives 8 partial sums per block
 * (exact), a tree of permutes and adds makes them 8 block sums in block
 * order, and the sum's extra 128 * (sum of x's block) comes off. Then the
 * canonical A[k % 8] = fma(s[k], isum[k], A[k % 8]) for 8 blocks at once.
 */

/* x's blocks two to a register (the last one's upper half zero), their
 * scales as floats and 128 * their sums */
static void q8_vec_prep(const kern_q8_0 *x, int nb, __m512i *xp, float *xs, int32_t *xc)
{
	const __m256i bias = _mm256_set1_epi8((char)0x80);
	for (int k = 0; k < nb; k += 2) {
		__m256i lo = _mm256_loadu_si256((const __m256i *)x[k].q);
		__m256i hi = k + 1 < nb ? _mm256_loadu_si256((const __m256i *)x[k + 1].q)
		                        : _mm256_setzero_si256();
		xp[k / 2] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
	}
	for (int k = 0; k < nb; k++) {
		xs[k] = _cvtsh_ss(x[k].d);
		__m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)x[k].q), bias);
		__m256i s = _mm256_sad_epu8(v, _mm256_setzero_si256());
		__m128i t =
		    _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
		t = _mm_add_epi64(t, _mm_unpackhi_epi64(t, t));
		xc[k] = 128 * ((int32_t)_mm_cvtsi128_si32(t) - 32 * 128);
	}
}

/* prefetch distance for weight rows, bytes (measured on Zen 5: 16 KiB
 * streams ~30% faster from DRAM than 4 KiB) */
#define Q8_VEC_PREFETCH 16384
/* rows at a time: one (measured on Zen 5: 2 rows sharing the activation
 * loads generate ~40% slower, 4 slower still) */
#define Q8_VEC_R 1

/*
 * R (1 or 2) canonical Q8_0 dots of weight rows w[] against one activation
 * (q8_vec_prep'd, and x itself for a tail of blocks).
 */
INLINE void q8_vec_rows(const kern_q8_0 *const *w, int R, const kern_q8_0 *x, const __m512i *xp,
                        const float *xs, const int32_t *xc, int nb, float *out)
{
	__m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
	                 _mm256_setzero_ps()};
	int k = 0;
	for (; k + 8 <= nb; k += 8) {
#pragma GCC unroll 4
		for (int r = 0; r < R; r++) {
#pragma GCC unroll 5
			for (int l = 0; l < 5; l++)
				_mm_prefetch((const char *)(w[r] + k) + Q8_VEC_PREFETCH + 64 * l,
				             _MM_HINT_T0);
			__m256i is =
			    _mm256_sub_epi32(q8_vec_isum8(w[r] + k, xp + k / 2),
			                     _mm256_loadu_si256((const __m256i *)(xc + k)));
			__m256 sc = _mm256_mul_ps(q8_scales8(w[r] + k), _mm256_loadu_ps(xs + k));
			acc[r] = _mm256_fmadd_ps(sc, _mm256_cvtepi32_ps(is), acc[r]);
		}
	}
#pragma GCC unroll 4
	for (int r = 0; r < R; r++) {
		if (k == nb) { /* no tail: the fold in registers */
			out[r] = kern_fold8_reg(acc[r]);
			continue;
		}
		float A[8];
		_mm256_storeu_ps(A, acc[r]);
		for (int kk = k; kk < nb; kk++) {
			int32_t isum = 0;
			for (int j = 0; j < KERN_QK8_0; j++)
				isum += (int32_t)w[r][kk].q[j] * (int32_t)x[kk].q[j];
			float sc = _cvtsh_ss(w[r][kk].d) * xs[kk];
			A[kk % 8] = fmaf(sc, (float)isum, A[kk % 8]);
		}
		/* contract 3b fold */
		for (int s = 4; s >= 1; s /= 2)
			for (int j = 0; j < s; j++)
				A[j] = A[j] + A[j + s];
		out[r] = A[0];
	}
}

/* rows [row0, row1) against each of the batch activations on its own */
static int q8_matvec(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y, int ldy,
                     int nb, int row0, int row1, int batch)
{
	size_t nbz = (size_t)(nb > 0 ? nb : 1);
	size_t bytes = (nbz + 1) / 2 * sizeof(__m512i) + nbz * (sizeof(float) + sizeof(int32_t));
	char *buf = scratch_get(bytes);
	if (!buf)
		return -1;
	__m512i *xp = (__m512i *)buf;
	float *xs = (float *)(buf + (nbz + 1) / 2 * sizeof(__m512i));
	int32_t *xc = (int32_t *)(xs + nbz);
	for (int b = 0; b < batch; b++) {
		const kern_q8_0 *xb = x + (size_t)b * ldx;
		float *yb = y + (size_t)b * ldy;
		q8_vec_prep(xb, nb, xp, xs, xc);
		int r = row0;
		for (; r + Q8_VEC_R <= row1; r += Q8_VEC_R) {
			const kern_q8_0 *wr[Q8_VEC_R];
			for (int i = 0; i < Q8_VEC_R; i++)
				wr[i] = w + (size_t)(r + i) * ldw;
			q8_vec_rows(wr, Q8_VEC_R, xb, xp, xs, xc, nb, yb + r);
		}
		for (; r < row1; r++) {
			const kern_q8_0 *wr[1] = {w + (size_t)r * ldw};
			q8_vec_rows(wr, 1, xb, xp, xs, xc, nb, yb + r);
		}
	}
	return 0;
}

/* below this many activations, one row product per activation is faster
 * than a lane group with most lanes unused (measured on Zen 5) */
enum { Q8_GEMM_MIN = 7 };

static void avx512_matmul_q8_0(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y,
                               int ldy, int n, int row0, int row1, int batch)
{
	int nb = n / KERN_QK8_0;
	size_t nbz = (size_t)(nb > 0 ? nb : 1);
	size_t group_bytes = nbz * (8 * sizeof(__m512i) + QL * (sizeof(float) + sizeof(int32_t)));
	size_t bytes = Q_CHUNK_GROUPS * group_bytes;
	if (row1 <= row0)
		return;
	if (batch < Q8_GEMM_MIN && !q8_matvec(w, ldw, x, ldx, y, ldy, nb, row0, row1, batch))
		return;
	char *buf = batch >= Q8_GEMM_MIN ? scratch_get(bytes) : NULL;
	if (!buf) { /* no memory for the scratch: the AVX2 kernel needs none */
		kern_avx2_table()->matmul_q8_0(w, ldw, x, ldx, y, ldy, n, row0, row1, batch);
		return;
	}
	float obuf[Q_RB][Q_CHUNK_GROUPS * QL];
	/* activations in chunks of up to Q_CHUNK_GROUPS lane groups, each
	 * transposed once for all the rows */
	for (int b0 = 0; b0 < batch; b0 += Q_CHUNK_GROUPS * QL) {
		int cnt = batch - b0 < Q_CHUNK_GROUPS * QL ? batch - b0 : Q_CHUNK_GROUPS * QL;
		int ng = (cnt + QL - 1) / QL;
		__m512i *X[Q_CHUNK_GROUPS];
		float *D[Q_CHUNK_GROUPS];
		int32_t *C[Q_CHUNK_GROUPS];
		for (int g = 0; g < ng; g++) {
			char *gb = buf + (size_t)g * group_bytes;
			X[g] = (__m512i *)gb;
			D[g] = (float *)(gb + nbz * 8 * sizeof(__m512i));
			C[g] = (int32_t *)(D[g] + QL * nbz);
			const kern_q8_0 *rows[QL];
			for (int j = 0; j < QL; j++) {
				int b = g * QL + j < cnt ? g * QL + j : cnt - 1;
				rows[j] = x + (size_t)(b0 + b) * ldx;
			}
			q8_pack_group(rows, nb, X[g], D[g], C[g]);
		}
		/* rows in blocks of Q_RB, whose outputs gather in obuf first and
		 * go to y transposed, a vector per activation; the first block
		 * ends where activation 0's outputs reach a 64-byte boundary, so
		 * that the others fill whole cache lines (y's rows for the
		 * activations are ldy apart, often a multiple of 4 KiB, and lines
		 * written in two parts would keep evicting each other from their
		 * cache set) */
		int skew = (int)((uintptr_t)(y + (size_t)b0 * ldy + row0) / sizeof(float) % Q_RB);
		for (int rb = row0, rbe; rb < row1; rb = rbe) {
			rbe = rb + (rb == row0 && skew ? Q_RB - skew : Q_RB);
			rbe = rbe < row1 ? rbe : row1;
			for (int r = rb; r < rbe;) {
				int R = rbe - r < QR ? rbe - r : QR;
				q8_rows(w, ldw, r, R, row1, nb, X, D, C, ng, obuf[r - rb],
				        Q_CHUNK_GROUPS * QL);
				r += R;
			}
			q8_store_rows(obuf[0], Q_CHUNK_GROUPS * QL, rbe - rb, cnt,
			              y + (size_t)b0 * ldy + rb, ldy);
		}
	}
}

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
static void avx512_wsum(const float *p, const float *v, int ldv, int T, float *y, int n)
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

/* lanes [0, cnt) of a register, 0 <= cnt <= 16 */
INLINE __mmask16 lanes_to(int cnt)
{
	return (__mmask16)((1u << cnt) - 1);
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
static void avx512_silu(const float *x, float *y, int n)
{
	int i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, silu16(_mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = lanes_to(n - i);
		_mm512_mask_storeu_ps(y + i, m, silu16(_mm512_maskz_loadu_ps(m, x + i)));
	}
}

static void avx512_swiglu(const float *g, const float *u, float *y, int n)
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

static void avx512_scale(const float *x, float s, float *y, int n)
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
static void avx512_softmax(const float *x, float *y, int n)
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
	avx512_scale(y, 1.0f / fold32z(s[0], s[1]), y, n);
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

static void avx512_wsum_batch(const float *p, int ldp, const int *T, int nb, const float *v,
                              int ldv, float *y, int ldy, int n)
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

/* ---- the table ---- */

static kern_table avx512_table;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	avx512_table = *kern_avx2_table();
	avx512_table.name = "avx512";
	avx512_table.matmul_f32 = avx512_matmul_f32;
	avx512_table.matmul_f16 = avx512_matmul_f16;
	avx512_table.matmul_q8_0 = avx512_matmul_q8_0;
	avx512_table.wsum = avx512_wsum;
	avx512_table.scale = avx512_scale;
	avx512_table.softmax = avx512_softmax;
	avx512_table.silu = avx512_silu;
	avx512_table.swiglu = avx512_swiglu;
	avx512_table.wsum_batch = avx512_wsum_batch;
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
