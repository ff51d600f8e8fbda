/*
 * kern_avx512_q8.c - the AVX-512 Q8_0 matrix product (kern_avx512_impl.h).
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
 * - One activation (generation, and each of a batch too small to fill a
 *   lane group): the weights in their own layout, vpdpbusd on two blocks
 *   per register and a tree of permutes for the 8 block sums.
 */
#include "kern_avx512_impl.h"

#ifdef KERN_AVX512_BUILT

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kern_avx2_steps.h"
#include "kern_scratch.h"

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
	char *buf = kern_scratch(bytes);
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

void kern_avx512_matmul_q8_0(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y,
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
	char *buf = batch >= Q8_GEMM_MIN ? kern_scratch(bytes) : NULL;
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
			kern_avx512_store_rows(obuf[0], Q_CHUNK_GROUPS * QL, rbe - rb, cnt,
			                       y + (size_t)b0 * ldy + rb, ldy);
		}
	}
}

#else
typedef int kern_avx512_q8_not_built; /* an empty file is not C */
#endif
