/*
 * kern_quant_avx512.c - AVX-512 kernels of kern_quant.h (F, BW, DQ, VL, VNNI
 * and VBMI, with AVX2+FMA+F16C), bitwise equal to kern_quant_ref.c. It takes the
 * dots and matrix products of the block types; activation quantization,
 * dequantization and BF16 are those of the AVX2 table.
 *
 * The integer sums of the contract are exact in any order, so they take
 * whatever instructions are fastest: vpdpbusd (unsigned weight bytes times
 * signed activation bytes, four products into an int32, no saturation) for
 * the 32-blocks; vpmaddubsw (a pair of products, at most 2 * 63 * 128 <
 * 2^15) and vpdpwssd (int16 pairs times the scales into int32) for the
 * K-quants. Signed weights (Q4_0, Q5_0, Q6_K) are taken unsigned and their
 * offset subtracted as offset * sum(x), exact too. The float steps (scale
 * products, FMA into lane k % 8, folds) are the reference's, in its order:
 * eight consecutive blocks give eight exact sums in one register, lane j for
 * block k + j, and one vector FMA is the reference's A[k % 8]; in a last
 * partial group a mask keeps the missing lanes unchanged.
 *
 * 32-blocks: eight weight blocks (144 to 192 bytes) are loaded with three
 * masked loads, and one byte permute per four blocks gathers their quants;
 * one word permute gathers scales, minimums and fifth bits. The activation
 * row is repacked once per matrix product (low and high halves of each
 * block's quants apart, scales as floats, offsets), so that four blocks'
 * activations are one load. Batches go two activations to a register.
 *
 * K-quants: one activation row (a generated token) meets eight weight rows
 * at a time, one row per lane of the float accumulators (lane r of A[j] is
 * row r's A[j]), which fills whole registers even for rows of three
 * super-blocks; Q4_K and Q5_K there sum sub-blocks with vpdpbusd, pack the
 * partial sums to int16 exactly and scale them with vpdpwssd, scales of four
 * rows decoded at once. Batches below KQ_GEMM_MIN take vpmaddubsw and
 * vpdpwssd per row.
 *
 * Batches of KQ_GEMM_MIN or more activations (a replay's steps) of every
 * block type take the lane-group products of kern_quant_avx512_gemm.c, one
 * activation per lane.
 */
#include "kern_quant.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) &&                      \
    defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__AVX512VBMI__) &&                 \
    defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "kern_avx2_steps.h"
#include "kern_quant_avx512_gemm.h"
#include "kern_quant_x86.h"

#define INLINE static inline __attribute__((always_inline))

/* the uint32 at p (unaligned) as an int */
INLINE int u32at(const char *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* ---- Q4_0, Q5_0 with Q8_0; Q4_1, Q5_1 with Q8_1 (contract 7) ---- */

/* byte offsets in a block: quants, fifth bits; bytes per block */
INLINE size_t bsz32(int type)
{
	return type == KQ_Q4_0   ? sizeof(kern_q4_0)
	       : type == KQ_Q4_1 ? sizeof(kern_q4_1)
	       : type == KQ_Q5_0 ? sizeof(kern_q5_0)
	                         : sizeof(kern_q5_1);
}

INLINE int has_min(int type)
{
	return type == KQ_Q4_1 || type == KQ_Q5_1;
}

INLINE int has_high(int type)
{
	return type == KQ_Q5_0 || type == KQ_Q5_1;
}

/*
 * Byte permutes that gather the 16 quant bytes of blocks 0-3 of a group of
 * eight from the first two loaded registers (indices 0-127), and of blocks
 * 4-7 from the second and third (byte 64 of the group is index 0).
 */
#define QB(b, S, O, base, j) (char)((b) * (S) + (O) - (base) + (j))
#define Q16(b, S, O, base)                                                                         \
	QB(b, S, O, base, 0), QB(b, S, O, base, 1), QB(b, S, O, base, 2), QB(b, S, O, base, 3),    \
	    QB(b, S, O, base, 4), QB(b, S, O, base, 5), QB(b, S, O, base, 6),                      \
	    QB(b, S, O, base, 7), QB(b, S, O, base, 8), QB(b, S, O, base, 9),                      \
	    QB(b, S, O, base, 10), QB(b, S, O, base, 11), QB(b, S, O, base, 12),                   \
	    QB(b, S, O, base, 13), QB(b, S, O, base, 14), QB(b, S, O, base, 15)
#define Q64(b0, S, O, base)                                                                        \
	{                                                                                          \
		Q16(b0, S, O, base), Q16(b0 + 1, S, O, base), Q16(b0 + 2, S, O, base),             \
		    Q16(b0 + 3, S, O, base)                                                        \
	}
#define QIDX(S, O)                                                                                 \
	{                                                                                          \
		Q64(0, S, O, 0), Q64(4, S, O, 64)                                                  \
	}

static const char qidx[4][2][64] = {
    [KQ_Q4_0] = QIDX(18, 2),
    [KQ_Q4_1] = QIDX(20, 4),
    [KQ_Q5_0] = QIDX(22, 6),
    [KQ_Q5_1] = QIDX(24, 8),
};

/*
 * Word permutes for the rest of a group: words 0-7 the scales d of blocks
 * 0-7, words 8-15 the minimums m, words 16-19 the low and 20-23 the high
 * halves of the fifth bits of blocks 0-3, words 24-31 the same of blocks
 * 4-7. The first permute reads blocks 0-3 from registers 0 and 1, the
 * second blocks 4-7 from registers 1 and 2 (word 32 of the group is 0);
 * WMIX takes each word from the permute that holds its block.
 */
#define WB(b, S, O, base) (short)(((b) * (S) + (O) - (base)) / 2)
#define WIDX(S, H, base)                                                                           \
	{                                                                                          \
		WB(0, S, 0, base), WB(1, S, 0, base), WB(2, S, 0, base), WB(3, S, 0, base),        \
		    WB(4, S, 0, base), WB(5, S, 0, base), WB(6, S, 0, base), WB(7, S, 0, base),    \
		    WB(0, S, 2, base), WB(1, S, 2, base), WB(2, S, 2, base), WB(3, S, 2, base),    \
		    WB(4, S, 2, base), WB(5, S, 2, base), WB(6, S, 2, base), WB(7, S, 2, base),    \
		    WB(0, S, H, base), WB(1, S, H, base), WB(2, S, H, base), WB(3, S, H, base),    \
		    WB(0, S, H + 2, base), WB(1, S, H + 2, base), WB(2, S, H + 2, base),           \
		    WB(3, S, H + 2, base), WB(4, S, H, base), WB(5, S, H, base),                   \
		    WB(6, S, H, base), WB(7, S, H, base), WB(4, S, H + 2, base),                   \
		    WB(5, S, H + 2, base), WB(6, S, H + 2, base), WB(7, S, H + 2, base)            \
	}
#define WMIX 0xff00f0f0u

/* indices a permute would take out of range are masked to what WMIX drops */
static const short widx[4][2][32] = {
    [KQ_Q4_0] = {WIDX(18, 0, 0), WIDX(18, 0, 64)},
    [KQ_Q4_1] = {WIDX(20, 0, 0), WIDX(20, 0, 64)},
    [KQ_Q5_0] = {WIDX(22, 2, 0), WIDX(22, 2, 64)},
    [KQ_Q5_1] = {WIDX(24, 4, 0), WIDX(24, 4, 64)},
};

/*
 * An activation row repacked for the 32-blocks: for block k, lo[16k + j] =
 * q[j] and hi[16k + j] = q[16 + j]; xs[k] its scale as a float; xo[k] the
 * weights' offset times sum(q) (Q4_0, Q5_0) or the bits of the float f32(s)
 * (Q8_1). Zero past the last block, up to a multiple of 8.
 */
struct xrep {
	int8_t *lo, *hi;
	float *xs;
	int32_t *xo;
};

/* blocks of activations repacked at a time: 40 bytes each, 23 KiB of stack */
enum { XR_MAX = 576 };

INLINE void repack32(const char *x, int nb, int type, struct xrep R)
{
	const size_t xsz = has_min(type) ? sizeof(kern_q8_1) : sizeof(kern_q8_0);
	const size_t qoff = has_min(type) ? 4 : 2;
	const int off = type == KQ_Q4_0 ? 8 : type == KQ_Q5_0 ? 16 : 0;
	const __m256i ones8 = _mm256_set1_epi8(1);
	int k = 0;
	for (; k < nb; k++) {
		const char *xb = x + (size_t)k * xsz;
		__m256i q = _mm256_loadu_si256((const __m256i *)(xb + qoff));
		_mm_storeu_si128((__m128i *)(R.lo + 16 * k), _mm256_castsi256_si128(q));
		_mm_storeu_si128((__m128i *)(R.hi + 16 * k), _mm256_extracti128_si256(q, 1));
		R.xs[k] = h2f(u16at(xb));
		if (has_min(type)) {
			float s = h2f(u16at(xb + 2));
			memcpy(&R.xo[k], &s, 4);
		} else {
			__m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones8, q);
			__m128i t = _mm_add_epi32(_mm256_castsi256_si128(s),
			                          _mm256_extracti128_si256(s, 1));
			t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
			t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
			R.xo[k] = off * _mm_cvtsi128_si32(t);
		}
	}
	for (; k % 8; k++) {
		memset(R.lo + 16 * k, 0, 16);
		memset(R.hi + 16 * k, 0, 16);
		R.xs[k] = 0.0f;
		R.xo[k] = 0;
	}
}

/*
 * Eight exact block sums from the partials of blocks 0-3 (p0: lanes 4b to
 * 4b+3 for block b) and of blocks 4-7 (p1), block j in lane j.
 */
INLINE __m256i sums8(__m512i p0, __m512i p1)
{
	__m512i s = _mm512_add_epi32(_mm512_unpacklo_epi32(p0, p1), _mm512_unpackhi_epi32(p0, p1));
	s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
	const __m512i perm = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
	return _mm512_castsi512_si256(_mm512_permutexvar_epi32(perm, s));
}

INLINE __mmask64 bytes_mask(long long n)
{
	return n >= 64 ? ~(__mmask64)0 : n <= 0 ? 0 : (((__mmask64)1 << n) - 1);
}

/* prefetch distance for the weight stream, bytes */
#ifndef W_PREFETCH
#define W_PREFETCH 16384
#endif

/* What unpacking a group of eight blocks of one type needs, loaded once a row. */
struct unpack32 {
	size_t bsz;
	__m512i i03, i47, w03, w47, m4, b16;
	__mmask64 full2;
};

INLINE struct unpack32 unpack32_for(int type)
{
	struct unpack32 u;
	u.bsz = bsz32(type);
	u.i03 = _mm512_loadu_si512(qidx[type][0]);
	u.i47 = _mm512_loadu_si512(qidx[type][1]);
	u.w03 = _mm512_loadu_si512(widx[type][0]);
	u.w47 = _mm512_loadu_si512(widx[type][1]);
	u.m4 = _mm512_set1_epi8(15);
	u.b16 = _mm512_set1_epi8(16);
	u.full2 = bytes_mask((long long)(8 * u.bsz) - 128);
	return u;
}

/* The blocks k .. k+r-1 (r <= 8) of a row, unpacked: the values of their
 * elements 0-15 (lo) and 16-31 (hi) as unsigned bytes, blocks 0-3 and 4-7
 * apart, their scales wd and minimums wm as floats, and the lanes that hold
 * blocks (keep). */
struct group32 {
	__m512i lo03, hi03, lo47, hi47;
	__m256 wd, wm;
	__mmask8 keep;
};

INLINE struct group32 unpack_group32(const struct unpack32 *u, const char *w, int nb, int k,
                                     int type)
{
	const size_t bsz = u->bsz;
	const __m512i i03 = u->i03, i47 = u->i47, w03 = u->w03, w47 = u->w47, m4 = u->m4,
	              b16 = u->b16;
	const __mmask64 full2 = u->full2;
	struct group32 G;
	const char *g = w + (size_t)k * bsz;
	const int r = nb - k < 8 ? nb - k : 8;
	__m512i r0, r1, r2;
	if (r == 8) {
		r0 = _mm512_loadu_si512(g);
		r1 = _mm512_loadu_si512(g + 64);
		r2 = _mm512_maskz_loadu_epi8(full2, g + 128);
		_mm_prefetch(g + W_PREFETCH, _MM_HINT_T0);
		_mm_prefetch(g + W_PREFETCH + 64, _MM_HINT_T0);
		_mm_prefetch(g + W_PREFETCH + 128, _MM_HINT_T0);
	} else {
		const long long t = (long long)r * (long long)bsz;
		r0 = _mm512_maskz_loadu_epi8(bytes_mask(t), g);
		r1 = _mm512_maskz_loadu_epi8(bytes_mask(t - 64), g + 64);
		r2 = _mm512_maskz_loadu_epi8(bytes_mask(t - 128), g + 128);
	}
	__m512i q03 = _mm512_permutex2var_epi8(r0, i03, r1);
	__m512i q47 = _mm512_permutex2var_epi8(r1, i47, r2);
	__m512i lo03 = _mm512_and_si512(q03, m4);
	__m512i hi03 = _mm512_and_si512(_mm512_srli_epi16(q03, 4), m4);
	__m512i lo47 = _mm512_and_si512(q47, m4);
	__m512i hi47 = _mm512_and_si512(_mm512_srli_epi16(q47, 4), m4);
	__m512i wv = _mm512_mask_mov_epi16(_mm512_permutex2var_epi16(r0, w03, r1), WMIX,
	                                   _mm512_permutex2var_epi16(r1, w47, r2));
	if (has_high(type)) {
		__m128i h03 = _mm512_extracti32x4_epi32(wv, 2);
		__m128i h47 = _mm512_extracti32x4_epi32(wv, 3);
		__mmask64 kl03 = _cvtu64_mask64((unsigned long long)_mm_cvtsi128_si64(h03));
		__mmask64 kh03 = _cvtu64_mask64((unsigned long long)_mm_extract_epi64(h03, 1));
		__mmask64 kl47 = _cvtu64_mask64((unsigned long long)_mm_cvtsi128_si64(h47));
		__mmask64 kh47 = _cvtu64_mask64((unsigned long long)_mm_extract_epi64(h47, 1));
		lo03 = _mm512_mask_add_epi8(lo03, kl03, lo03, b16);
		hi03 = _mm512_mask_add_epi8(hi03, kh03, hi03, b16);
		lo47 = _mm512_mask_add_epi8(lo47, kl47, lo47, b16);
		hi47 = _mm512_mask_add_epi8(hi47, kh47, hi47, b16);
	}
	const __m256 wd = _mm256_cvtph_ps(_mm512_castsi512_si128(wv));
	const __m256 wm = _mm256_cvtph_ps(_mm512_extracti32x4_epi32(wv, 1));
	const __mmask8 keep = (__mmask8)((1u << r) - 1);
	G.lo03 = lo03;
	G.hi03 = hi03;
	G.lo47 = lo47;
	G.hi47 = hi47;
	G.wd = wd;
	G.wm = wm;
	G.keep = keep;
	return G;
}

/*
 * The exact products of group G (blocks k .. k+7) with the repacked
 * activation R: p0 holds the partial sums of blocks 0-3, p1 of blocks 4-7,
 * four int32 lanes a block.
 */
INLINE void group_products(const struct group32 *G, const struct xrep *R, int k, __m512i *p0,
                           __m512i *p1)
{
	const int8_t *xl = R->lo + 16 * (size_t)k, *xh = R->hi + 16 * (size_t)k;
	*p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), G->lo03, _mm512_loadu_si512(xl));
	*p0 = _mm512_dpbusd_epi32(*p0, G->hi03, _mm512_loadu_si512(xh));
	*p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), G->lo47, _mm512_loadu_si512(xl + 64));
	*p1 = _mm512_dpbusd_epi32(*p1, G->hi47, _mm512_loadu_si512(xh + 64));
}

/* Contract 7 for group G against one activation R: A[k % 8] (acc) and, for
 * the types with a minimum, M[k % 8] (accm), lanes past the group kept. */
INLINE void group_step(const struct group32 *G, const struct xrep *R, int k, int type, __m256 *acc,
                       __m256 *accm)
{
	__m512i p0, p1;
	group_products(G, R, k, &p0, &p1);
	__m256i isum = sums8(p0, p1);
	__m256i xo = _mm256_loadu_si256((const __m256i *)(R->xo + k));
	if (!has_min(type))
		isum = _mm256_sub_epi32(isum, xo);
	__m256 s = _mm256_mul_ps(G->wd, _mm256_loadu_ps(R->xs + k));
	*acc = _mm256_mask3_fmadd_ps(s, _mm256_cvtepi32_ps(isum), *acc, G->keep);
	if (has_min(type))
		*accm = _mm256_mask3_fmadd_ps(G->wm, _mm256_castsi256_ps(xo), *accm, G->keep);
}

/*
 * Contract 7 for nb blocks of the row w against nx (1 to 4) repacked
 * activations R[c]; out[c] gets each dot. The weights of a group of eight
 * blocks are unpacked once for all nx. (One activation, as in every
 * generated token, runs fastest this way.)
 */
INLINE void dot32s(const char *w, int nb, int type, const struct xrep *R, int nx, float *out)
{
	const struct unpack32 U = unpack32_for(type);
	__m256 acc[4], accm[4];
	for (int c = 0; c < 4; c++)
		acc[c] = accm[c] = _mm256_setzero_ps();
	for (int k = 0; k < nb; k += 8) {
		const struct group32 G = unpack_group32(&U, w, nb, k, type);
#pragma GCC unroll 4
		for (int c = 0; c < nx; c++)
			group_step(&G, &R[c], k, type, &acc[c], &accm[c]);
	}
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++)
		out[c] = has_min(type) ? kern_fold8_reg(acc[c]) + kern_fold8_reg(accm[c])
		                       : kern_fold8_reg(acc[c]);
}

/* the 8 int32 (floats) at a and the 8 at b as one register */
INLINE __m512i join8(const void *a, const void *b)
{
	return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
	                          _mm256_loadu_si256((const __m256i *)b), 1);
}

/* v in both halves */
INLINE __m512 twice8(__m256 v)
{
	return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(v)),
	                                           _mm256_castps_pd(v), 1));
}

/*
 * Contract 7 for nb blocks of the row w against nx (2 to 8) repacked
 * activations R[c]; out[c] gets each dot. The weights of a group of eight
 * blocks are unpacked once for all nx. Activations go in pairs: one
 * register holds the eight block sums of both (lanes 0-7 and 8-15), so the
 * sums, scale products and FMAs of two take the instructions of one.
 */
INLINE void dot32x(const char *w, int nb, int type, const struct xrep *R, int nx, float *out)
{
	const struct unpack32 U = unpack32_for(type);
	__m256 acc[1] = {_mm256_setzero_ps()}, accm[1] = {_mm256_setzero_ps()};
	__m512 acc2[4], accm2[4];
	for (int c = 0; c < 4; c++)
		acc2[c] = accm2[c] = _mm512_setzero_ps();
	const __m512i pair_perm =
	    _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
	for (int k = 0; k < nb; k += 8) {
		const struct group32 G = unpack_group32(&U, w, nb, k, type);
		const __mmask16 keep2 = (__mmask16)(G.keep | G.keep << 8);
		const __m512 wd2 = twice8(G.wd), wm2 = twice8(G.wm);
#pragma GCC unroll 4
		for (int c = 0; c + 1 < nx; c += 2) {
			__m512i sp[2];
#pragma GCC unroll 2
			for (int e = 0; e < 2; e++) {
				__m512i p0, p1;
				group_products(&G, &R[c + e], k, &p0, &p1);
				/* 128-bit lane L: [L 0+2, L+4 0+2, L 1+3, L+4 1+3] */
				sp[e] = _mm512_add_epi32(_mm512_unpacklo_epi32(p0, p1),
				                         _mm512_unpackhi_epi32(p0, p1));
			}
			/* 128-bit lane L: blocks L, L+4 of the first, L, L+4 of the second */
			__m512i t = _mm512_add_epi32(_mm512_unpacklo_epi64(sp[0], sp[1]),
			                             _mm512_unpackhi_epi64(sp[0], sp[1]));
			__m512i isum = _mm512_permutexvar_epi32(pair_perm, t);
			__m512i xo = join8(R[c].xo + k, R[c + 1].xo + k);
			if (!has_min(type))
				isum = _mm512_sub_epi32(isum, xo);
			__m512 s = _mm512_mul_ps(
			    wd2, _mm512_castsi512_ps(join8(R[c].xs + k, R[c + 1].xs + k)));
			acc2[c / 2] =
			    _mm512_mask3_fmadd_ps(s, _mm512_cvtepi32_ps(isum), acc2[c / 2], keep2);
			if (has_min(type))
				accm2[c / 2] = _mm512_mask3_fmadd_ps(wm2, _mm512_castsi512_ps(xo),
				                                     accm2[c / 2], keep2);
		}
		if (nx % 2)
			group_step(&G, &R[nx - 1], k, type, &acc[0], &accm[0]);
	}
#pragma GCC unroll 8
	for (int c = 0; c < nx; c++) {
		__m256 a, m;
		if (c == nx - 1 && nx % 2) {
			a = acc[0];
			m = accm[0];
		} else {
			a = c % 2 ? _mm512_extractf32x8_ps(acc2[c / 2], 1)
			          : _mm512_castps512_ps256(acc2[c / 2]);
			m = c % 2 ? _mm512_extractf32x8_ps(accm2[c / 2], 1)
			          : _mm512_castps512_ps256(accm2[c / 2]);
		}
		out[c] = has_min(type) ? kern_fold8_reg(a) + kern_fold8_reg(m) : kern_fold8_reg(a);
	}
}

/* room for the repacked activations: XR_MAX blocks */
struct xbuf {
	int8_t lo[16 * XR_MAX], hi[16 * XR_MAX];
	float xs[XR_MAX];
	int32_t xo[XR_MAX];
};

INLINE struct xrep xrep_at(struct xbuf *B, int o)
{
	return (struct xrep){B->lo + 16 * o, B->hi + 16 * o, B->xs + o, B->xo + o};
}

INLINE float dot32_one(const void *w, const void *x, int nb, int type)
{
	if (nb > XR_MAX - 8 || nb <= 0)
		return kern_quant_avx2_table()->dot[type](w, x, nb);
	struct xbuf B;
	struct xrep R = xrep_at(&B, 0);
	repack32(x, nb, type, R);
	float out[1];
	dot32s(w, nb, type, &R, 1, out);
	return out[0];
}

INLINE void matmul32(const void *w, int ldw, const void *x, int ldx, float *y, int ldy, int n,
                     int row0, int row1, int batch, int type)
{
	if (!kq_gemm_avx512(type, w, ldw, x, ldx, y, ldy, n, row0, row1, batch))
		return; /* a batch: the lane-group product */
	const int nb = n / KERN_QK, nbp = (nb + 7) / 8 * 8;
	if (nbp > XR_MAX || nb <= 0) { /* rows too long to repack: the AVX2 table */
		kern_quant_avx2_table()->matmul[type](w, ldw, x, ldx, y, ldy, n, row0, row1, batch);
		return;
	}
	const size_t bsz = bsz32(type), xsz = has_min(type) ? sizeof(kern_q8_1) : sizeof(kern_q8_0);
	struct xbuf B;
	if (batch == 1) { /* one activation (a generated token): a loop of its own */
		struct xrep R = xrep_at(&B, 0);
		repack32(x, nb, type, R);
		for (int r = row0; r < row1; r++)
			dot32s((const char *)w + (size_t)r * (size_t)ldw * bsz, nb, type, &R, 1,
			       y + r);
		return;
	}
	const int bb = XR_MAX / nbp; /* activation rows repacked at a time */
	for (int b0 = 0; b0 < batch; b0 += bb) {
		const int b1 = b0 + bb < batch ? b0 + bb : batch;
		for (int b = b0; b < b1; b++)
			repack32((const char *)x + (size_t)b * (size_t)ldx * xsz, nb, type,
			         xrep_at(&B, (b - b0) * nbp));
		for (int r = row0; r < row1; r++) {
			const char *wr = (const char *)w + (size_t)r * (size_t)ldw * bsz;
			for (int b = b0; b < b1; b += 8) {
				const int nx = b1 - b < 8 ? b1 - b : 8;
				struct xrep R[8];
#pragma GCC unroll 4
				for (int c = 0; c < nx; c++)
					R[c] = xrep_at(&B, (b + c - b0) * nbp);
				float out[8] = {0};
				int c = 0; /* eight, then what is left by fours, twos and ones */
				if (nx - c >= 8) {
					dot32x(wr, nb, type, R + c, 8, out + c);
					c += 8;
				}
				if (nx - c >= 4) {
					dot32x(wr, nb, type, R + c, 4, out + c);
					c += 4;
				}
				if (nx - c >= 2) {
					dot32x(wr, nb, type, R + c, 2, out + c);
					c += 2;
				}
				if (nx - c >= 1)
					dot32s(wr, nb, type, R + c, 1, out + c);
				for (c = 0; c < nx; c++)
					y[(size_t)(b + c) * (size_t)ldy + r] = out[c];
			}
		}
	}
}

#define DOT32(T, Q)                                                                                \
	static float avx512_dot_##T(const void *w, const void *x, int nb)                          \
	{                                                                                          \
		return dot32_one(w, x, nb, Q);                                                     \
	}                                                                                          \
	static void avx512_matmul_##T(const void *w, int ldw, const void *x, int ldx, float *y,    \
	                              int ldy, int n, int row0, int row1, int batch)               \
	{                                                                                          \
		matmul32(w, ldw, x, ldx, y, ldy, n, row0, row1, batch, Q);                         \
	}

DOT32(q4_0, KQ_Q4_0)
DOT32(q4_1, KQ_Q4_1)
DOT32(q5_0, KQ_Q5_0)
DOT32(q5_1, KQ_Q5_1)

/* ---- K-quants with Q8_K (contract 8) ---- */

/* word permute: words 0-15 take word a of the source, words 16-31 word b */
INLINE __m512i bcast_pair16(__m512i v, int a, int b)
{
	return _mm512_permutexvar_epi16(_mm512_mask_blend_epi16(0xffff0000u,
	                                                        _mm512_set1_epi16((short)a),
	                                                        _mm512_set1_epi16((short)b)),
	                                v);
}

/* 16 int32 to 8: lane j + lane j + 8 */
INLINE __m256i half_sum(__m512i v)
{
	return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/*
 * One Q4_K / Q5_K super-block against nx activation blocks: p[c] gets 8
 * int32 that sum to isum, mp[c] 4 int32 that sum to msum (exact). Each 32
 * bytes of quants are broadcast to both halves of a register and shifted
 * by 0 and 4, which gives elements 64g .. 64g+63 in order.
 */
INLINE void block_k4(const uint8_t *scales, const uint8_t *qs, const uint8_t *qh,
                     const kern_q8_k *const *x, int nx, __m256i *p, __m128i *mp)
{
	const __m256i scm = scale_min_k4(scales);
	const __m512i sc = _mm512_castsi256_si512(scm);
	const __m128i m8 = _mm256_extracti128_si256(scm, 1);
	const __m512i m4 = _mm512_set1_epi8(15), b16 = _mm512_set1_epi8(16);
	const __m512i sh = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
	__m512i hb = _mm512_setzero_si512();
	if (qh)
		hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh));
	__m512i acc[4];
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++)
		acc[c] = _mm512_setzero_si512();
#pragma GCC unroll 4
	for (int g = 0; g < 4; g++) {
		__m512i q =
		    _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * g)));
		__m512i v = _mm512_and_si512(_mm512_srlv_epi64(q, sh), m4);
		if (qh) {
			__m512i bit =
			    _mm512_mask_blend_epi64(0xf0, _mm512_set1_epi8((char)(1 << 2 * g)),
			                            _mm512_set1_epi8((char)(2 << 2 * g)));
			v = _mm512_mask_add_epi8(v, _mm512_test_epi8_mask(hb, bit), v, b16);
		}
		__m512i s = bcast_pair16(sc, 2 * g, 2 * g + 1);
#pragma GCC unroll 4
		for (int c = 0; c < nx; c++) {
			__m512i xv = _mm512_loadu_si512(x[c]->q + 64 * g);
			acc[c] = _mm512_dpwssd_epi32(acc[c], _mm512_maddubs_epi16(v, xv), s);
		}
	}
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++) {
		p[c] = half_sum(acc[c]);
		/* bsums in pairs (|sum| <= 4096 fits int16), times the mins */
		__m256i bs = _mm256_loadu_si256((const __m256i *)x[c]->bsums);
		__m128i pairs =
		    _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
		mp[c] = _mm_madd_epi16(m8, pairs);
	}
}

/* word permute: word i of the result is word base + i / 8 of v */
INLINE __m512i scale_words(__m512i v, int base)
{
	const __m512i i8 =
	    _mm512_srli_epi16(_mm512_setr_epi32(0x00010000, 0x00030002, 0x00050004, 0x00070006,
	                                        0x00090008, 0x000b000a, 0x000d000c, 0x000f000e,
	                                        0x00110010, 0x00130012, 0x00150014, 0x00170016,
	                                        0x00190018, 0x001b001a, 0x001d001c, 0x001f001e),
	                      3);
	return _mm512_permutexvar_epi16(_mm512_add_epi16(i8, _mm512_set1_epi16((short)base)), v);
}

/*
 * One Q6_K super-block against nx activation blocks: p[c] 8 int32 that sum
 * to isum (contract 8c). For half h, the 64 bytes of low bits give elements
 * 128h .. 128h+63 (low nibbles) and 128h+64 .. 128h+127 (high nibbles); the
 * 32 bytes of high bits, broadcast, shifted by 2c and masked to 0x30, add
 * bits 4-5.
 */
INLINE void block_q6_k(const kern_q6_k *b, const kern_q8_k *const *x, int nx, __m256i *p)
{
	const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
	const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
	const __m512i sc = _mm512_castsi256_si512(sc16);
	const __m512i sl01 = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
	const __m512i sr23 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
	__m512i acc[4];
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++)
		acc[c] = _mm512_setzero_si512();
#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		__m512i l = _mm512_loadu_si512(b->ql + 64 * h);
		__m512i qh =
		    _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b->qh + 32 * h)));
		__m512i v01 = _mm512_or_si512(_mm512_and_si512(l, m4),
		                              _mm512_and_si512(_mm512_sllv_epi64(qh, sl01), m30));
		__m512i v23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
		                              _mm512_and_si512(_mm512_srlv_epi64(qh, sr23), m30));
		__m512i s01 = scale_words(sc, 8 * h), s23 = scale_words(sc, 8 * h + 4);
#pragma GCC unroll 4
		for (int c = 0; c < nx; c++) {
			__m512i x01 = _mm512_loadu_si512(x[c]->q + 128 * h);
			__m512i x23 = _mm512_loadu_si512(x[c]->q + 128 * h + 64);
			acc[c] = _mm512_dpwssd_epi32(acc[c], _mm512_maddubs_epi16(v01, x01), s01);
			acc[c] = _mm512_dpwssd_epi32(acc[c], _mm512_maddubs_epi16(v23, x23), s23);
		}
	}
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++) {
		/* minus 32 * sum_g scales[g] * bsums[g], exact */
		__m256i off =
		    _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c]->bsums));
		p[c] = _mm256_sub_epi32(half_sum(acc[c]), _mm256_slli_epi32(off, 5));
	}
}

/* the 8 activation scales y[0..7].d */
INLINE __m256 xd8(const kern_q8_k *y)
{
	return _mm256_setr_ps(y[0].d, y[1].d, y[2].d, y[3].d, y[4].d, y[5].d, y[6].d, y[7].d);
}

/* the halves at p + i * stride, i < 8 (two bytes each), as floats */
INLINE __m256 halves8(const char *p, size_t stride)
{
	return _mm256_cvtph_ps(
	    _mm_setr_epi16((short)u16at(p), (short)u16at(p + stride), (short)u16at(p + 2 * stride),
	                   (short)u16at(p + 3 * stride), (short)u16at(p + 4 * stride),
	                   (short)u16at(p + 5 * stride), (short)u16at(p + 6 * stride),
	                   (short)u16at(p + 7 * stride)));
}

/*
 * One group of r (1 to 8) super-blocks k..k+r-1 of contract 8 for weight
 * type `type` against nx (1 to 4) activation rows y[c]: super-block k + i
 * goes to lane i, one FMA each, as A[k % 8]; lanes past r stay unchanged.
 */
INLINE void groupk(const char *wc, size_t wsz, int k, int r, const kern_q8_k *const *y, int type,
                   int nx, __m256 *acc, __m256 *accm)
{
	const size_t doff = type == KQ_Q6_K ? offsetof(kern_q6_k, d) : 0;
	const int mins = type != KQ_Q6_K, lines = type == KQ_Q6_K ? 4 : 3;
	__m256i p[4][8];
	__m128i mp[4][8];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		const int j = k + i;
		if (i >= r) {
#pragma GCC unroll 4
			for (int c = 0; c < nx; c++) {
				p[c][i] = _mm256_setzero_si256();
				mp[c][i] = _mm_setzero_si128();
			}
			continue;
		}
		const char *wb = wc + (size_t)j * wsz;
		for (int l = 0; l < lines; l++)
			_mm_prefetch(wb + W_PREFETCH + 64 * l, _MM_HINT_T0);
		const kern_q8_k *xj[4];
#pragma GCC unroll 4
		for (int c = 0; c < nx; c++)
			xj[c] = y[c] + j;
		__m256i pj[4];
		__m128i mj[4];
		if (type == KQ_Q4_K) {
			const kern_q4_k *q = (const void *)wb;
			block_k4(q->scales, q->qs, NULL, xj, nx, pj, mj);
		} else if (type == KQ_Q5_K) {
			const kern_q5_k *q = (const void *)wb;
			block_k4(q->scales, q->qs, q->qh, xj, nx, pj, mj);
		} else {
			block_q6_k((const void *)wb, xj, nx, pj);
		}
#pragma GCC unroll 4
		for (int c = 0; c < nx; c++) {
			p[c][i] = pj[c];
			mp[c][i] = mins ? mj[c] : _mm_setzero_si128();
		}
	}
	const char *wk = wc + (size_t)k * wsz + doff;
	const __mmask8 keep = (__mmask8)((1u << r) - 1);
	if (r == 8) { /* the scale products y.d * f32(w.d), eight at a time */
		const __m256 wd = halves8(wk, wsz), wm = mins ? halves8(wk + 2, wsz) : wd;
#pragma GCC unroll 4
		for (int c = 0; c < nx; c++) {
			const __m256 xd = xd8(y[c] + k);
			acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(xd, wd),
			                         _mm256_cvtepi32_ps(lanes8(p[c])), acc[c]);
			if (mins)
				accm[c] =
				    _mm256_fmadd_ps(_mm256_mul_ps(xd, wm),
				                    _mm256_cvtepi32_ps(lanes8x4(mp[c])), accm[c]);
		}
		return;
	}
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++) { /* a last partial group: lane by lane, zero past r */
		const kern_q8_k *yc = y[c] + k;
#define KD(i, o) ((i) < r ? yc[i].d * h2f(u16at(wk + (size_t)(i)*wsz + (o))) : 0.0f)
		__m256 d = _mm256_setr_ps(KD(0, 0), KD(1, 0), KD(2, 0), KD(3, 0), KD(4, 0),
		                          KD(5, 0), KD(6, 0), KD(7, 0));
		acc[c] = _mm256_mask3_fmadd_ps(d, _mm256_cvtepi32_ps(lanes8(p[c])), acc[c], keep);
		if (mins) {
			__m256 dm = _mm256_setr_ps(KD(0, 2), KD(1, 2), KD(2, 2), KD(3, 2), KD(4, 2),
			                           KD(5, 2), KD(6, 2), KD(7, 2));
			accm[c] = _mm256_mask3_fmadd_ps(dm, _mm256_cvtepi32_ps(lanes8x4(mp[c])),
			                                accm[c], keep);
		}
#undef KD
	}
}

/* contract 8 for nb super-blocks of w against nx activation rows y[c] */
INLINE void dotk(const void *w, const kern_q8_k *const *y, int nb, int type, int nx, float *out)
{
	const size_t wsz = type == KQ_Q4_K   ? sizeof(kern_q4_k)
	                   : type == KQ_Q5_K ? sizeof(kern_q5_k)
	                                     : sizeof(kern_q6_k);
	const char *wc = w;
	__m256 acc[4], accm[4];
	for (int c = 0; c < 4; c++)
		acc[c] = accm[c] = _mm256_setzero_ps();
	int k = 0;
	for (; k + 8 <= nb; k += 8)
		groupk(wc, wsz, k, 8, y, type, nx, acc, accm);
	if (k < nb)
		groupk(wc, wsz, k, nb - k, y, type, nx, acc, accm);
#pragma GCC unroll 4
	for (int c = 0; c < nx; c++)
		out[c] = type != KQ_Q6_K ? kern_fold8_reg(acc[c]) - kern_fold8_reg(accm[c])
		                         : kern_fold8_reg(acc[c]);
}

/*
 * An activation super-block's quants in the order the K-quant blocks below
 * take them: 32-byte chunks 0 2 1 3 4 6 5 7, so that x[0] pairs with the
 * low nibbles of qs[0..63] (elements 0-31 and 64-95), x[1] with their high
 * nibbles (32-63, 96-127), x[2] and x[3] the same for qs[64..127].
 */
INLINE void xk_chunks(const int8_t *q, __m512i *x)
{
	const __m512i a = _mm512_loadu_si512(q), b = _mm512_loadu_si512(q + 64);
	const __m512i c = _mm512_loadu_si512(q + 128), d = _mm512_loadu_si512(q + 192);
	const __m512i lo = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
	const __m512i hi = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
	x[0] = _mm512_permutex2var_epi64(a, lo, b);
	x[1] = _mm512_permutex2var_epi64(a, hi, b);
	x[2] = _mm512_permutex2var_epi64(c, lo, d);
	x[3] = _mm512_permutex2var_epi64(c, hi, d);
}

/* word permute indices: in 128-bit lane L, words 0-3 take word (L < 2 ? a : b),
 * words 4-7 word (L < 2 ? a : b) + 1 */
#define SCW(a, b)                                                                                  \
	_mm512_setr_epi64(0x0001000100010001LL * (a), 0x0001000100010001LL * ((a) + 1),            \
	                  0x0001000100010001LL * (a), 0x0001000100010001LL * ((a) + 1),            \
	                  0x0001000100010001LL * (b), 0x0001000100010001LL * ((b) + 1),            \
	                  0x0001000100010001LL * (b), 0x0001000100010001LL * ((b) + 1))

/*
 * The scale and min bytes of contract 8b (scale_min_k4 before widening) of
 * four super-blocks at once, one per 128-bit lane: the 16 bytes at each s[i]
 * are its 12 scale bytes and 4 unused ones that follow in the block.
 */
INLINE __m512i scale_bytes4(const uint8_t *s0, const uint8_t *s1, const uint8_t *s2,
                            const uint8_t *s3)
{
	__m512i u = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)s0));
	u = _mm512_inserti32x4(u, _mm_loadu_si128((const __m128i *)s1), 1);
	u = _mm512_inserti32x4(u, _mm_loadu_si128((const __m128i *)s2), 2);
	u = _mm512_inserti32x4(u, _mm_loadu_si128((const __m128i *)s3), 3);
	const __m512i a = _mm512_srlv_epi32(_mm512_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)),
	                                    _mm512_set4_epi32(4, 0, 0, 0)); /* u0 u2 u1 u2>>4 */
	const __m512i b = _mm512_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)); /* u0 u0 u1 u1 */
	return _mm512_or_si512(
	    _mm512_and_si512(a, _mm512_set4_epi32(0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f)),
	    _mm512_and_si512(_mm512_srli_epi32(b, 2),
	                     _mm512_set4_epi32(0x30303030, 0, 0x30303030, 0)));
}

/* the sums of bsums in pairs, the activations' side of msum (contract 8b) */
INLINE __m128i bsum_pairs(const int16_t *bsums)
{
	__m256i bs = _mm256_loadu_si256((const __m256i *)bsums);
	return _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
}

/*
 * One Q4_K / Q5_K super-block against an activation in xk_chunks order.
 * vpdpbusd sums products in fours (at most 4 * 31 * 128 < 2^15, so a
 * saturating pack to int16 is exact), vpdpwssd multiplies those by the
 * sub-block scales and sums them in pairs. *p gets 8 int32 that sum to isum,
 * *mp 4 that sum to msum (exact), with pairs = bsum_pairs of the activation.
 */
INLINE void block_k4s(__m128i sbytes, const uint8_t *qs, const uint8_t *qh, const __m512i *x,
                      __m128i pairs, __m256i *p, __m128i *mp)
{
	const __m512i m4 = _mm512_set1_epi8(15);
	const __m512i z0 = _mm512_loadu_si512(qs), z1 = _mm512_loadu_si512(qs + 64);
	/* sub-blocks: v[0] = 0 | 2, v[1] = 1 | 3, v[2] = 4 | 6, v[3] = 5 | 7 */
	__m512i v[4] = {_mm512_and_si512(z0, m4), _mm512_and_si512(_mm512_srli_epi16(z0, 4), m4),
	                _mm512_and_si512(z1, m4), _mm512_and_si512(_mm512_srli_epi16(z1, 4), m4)};
	if (qh) {
		const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh));
		const __m512i b16 = _mm512_set1_epi8(16);
#pragma GCC unroll 4
		for (int i = 0; i < 4; i++) {
			/* sub-block j takes bit j of qh[l] */
			const int j0 = i == 0 ? 0 : i == 1 ? 1 : i == 2 ? 4 : 5;
			__m512i bit =
			    _mm512_mask_blend_epi64(0xf0, _mm512_set1_epi8((char)(1 << j0)),
			                            _mm512_set1_epi8((char)(4 << j0)));
			v[i] = _mm512_mask_add_epi8(v[i], _mm512_test_epi8_mask(h, bit), v[i], b16);
		}
	}
	__m512i d[4];
#pragma GCC unroll 4
	for (int i = 0; i < 4; i++)
		d[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v[i], x[i]);
	/* in 128-bit lane L: words 0-3 from d[0] (sub-block 0, or 2 for L >= 2), 4-7 from d[1] */
	const __m512i p01 = _mm512_packs_epi32(d[0], d[1]), p23 = _mm512_packs_epi32(d[2], d[3]);
	const __m256i scm = _mm256_cvtepu8_epi16(sbytes);
	const __m512i sc = _mm512_castsi256_si512(scm);
	__m512i acc = _mm512_dpwssd_epi32(_mm512_setzero_si512(), p01,
	                                  _mm512_permutexvar_epi16(SCW(0, 2), sc));
	acc = _mm512_dpwssd_epi32(acc, p23, _mm512_permutexvar_epi16(SCW(4, 6), sc));
	*p = half_sum(acc);
	*mp = _mm_madd_epi16(_mm256_extracti128_si256(scm, 1), pairs);
}

/*
 * Contract 8 for eight consecutive rows of w (rows bytes apart) against one
 * activation row y, with the rows in lanes: lane r of A[j] is the
 * reference's A[j] of row r0 + r, so the FMAs and the fold are the
 * reference's, one row per lane. Short rows (the 768 elements of a small
 * model are three super-blocks) then fill whole vectors.
 */
INLINE void dotk_rows8(const char *w, size_t rowb, const kern_q8_k *y, int nb, int type, float *out)
{
	const size_t wsz = type == KQ_Q4_K   ? sizeof(kern_q4_k)
	                   : type == KQ_Q5_K ? sizeof(kern_q5_k)
	                                     : sizeof(kern_q6_k);
	const size_t doff = type == KQ_Q6_K ? offsetof(kern_q6_k, d) : 0;
	const int mins = type != KQ_Q6_K, lines = type == KQ_Q6_K ? 4 : 3;
	/* prefetch whole groups of eight rows ahead (the weights are read group
	 * by group, eight rows side by side), at least W_PREFETCH bytes */
	const size_t grp = 8 * rowb, pf = grp * ((W_PREFETCH + grp - 1) / grp);
	__m256 A[8], M[8];
	for (int j = 0; j < 8; j++)
		A[j] = M[j] = _mm256_setzero_ps();
	for (int k0 = 0; k0 < nb; k0 += 8) {
#pragma GCC unroll 8
		for (int j = 0; j < 8; j++) {
			const int k = k0 + j;
			if (k >= nb)
				break;
			const kern_q8_k *xk[1] = {y + k};
			__m512i xc[4];
			__m128i pairs = _mm_setzero_si128();
			if (type != KQ_Q6_K) {
				xk_chunks(y[k].q, xc);
				pairs = bsum_pairs(y[k].bsums);
			}
			__m256i p[8];
			__m128i mp[8];
			__m512i sb[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
			if (type != KQ_Q6_K) {
				_Static_assert(offsetof(kern_q4_k, scales) ==
				                   offsetof(kern_q5_k, scales),
				               "Q4_K and Q5_K keep their scales at one offset");
				const size_t so = (size_t)k * wsz + offsetof(kern_q4_k, scales);
				const uint8_t *s = (const uint8_t *)w + so;
				sb[0] = scale_bytes4(s, s + rowb, s + 2 * rowb, s + 3 * rowb);
				sb[1] = scale_bytes4(s + 4 * rowb, s + 5 * rowb, s + 6 * rowb,
				                     s + 7 * rowb);
			}
#pragma GCC unroll 8
			for (int r = 0; r < 8; r++) {
				const char *wb = w + (size_t)r * rowb + (size_t)k * wsz;
				const __m128i sr =
				    r % 4 == 0   ? _mm512_castsi512_si128(sb[r / 4])
				    : r % 4 == 1 ? _mm512_extracti32x4_epi32(sb[r / 4], 1)
				    : r % 4 == 2 ? _mm512_extracti32x4_epi32(sb[r / 4], 2)
				                 : _mm512_extracti32x4_epi32(sb[r / 4], 3);
				for (int l = 0; l < lines; l++)
					_mm_prefetch(wb + pf + 64 * l, _MM_HINT_T0);
				if (type == KQ_Q4_K) {
					const kern_q4_k *q = (const void *)wb;
					block_k4s(sr, q->qs, NULL, xc, pairs, &p[r], &mp[r]);
				} else if (type == KQ_Q5_K) {
					const kern_q5_k *q = (const void *)wb;
					block_k4s(sr, q->qs, q->qh, xc, pairs, &p[r], &mp[r]);
				} else {
					block_q6_k((const void *)wb, xk, 1, &p[r]);
				}
			}
			const char *wk = w + (size_t)k * wsz + doff;
			if (mins) {
				/* d and dmin of the eight rows side by side: one conversion */
				__m512 f = _mm512_cvtph_ps(
				    _mm256_setr_epi32(u32at(wk), u32at(wk + rowb),
				                      u32at(wk + 2 * rowb), u32at(wk + 3 * rowb),
				                      u32at(wk + 4 * rowb), u32at(wk + 5 * rowb),
				                      u32at(wk + 6 * rowb), u32at(wk + 7 * rowb)));
				f = _mm512_mul_ps(_mm512_set1_ps(y[k].d),
				                  _mm512_permutexvar_ps(
				                      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14,
				                                        1, 3, 5, 7, 9, 11, 13, 15),
				                      f));
				A[j] = _mm256_fmadd_ps(_mm512_castps512_ps256(f),
				                       _mm256_cvtepi32_ps(lanes8(p)), A[j]);
				M[j] = _mm256_fmadd_ps(_mm512_extractf32x8_ps(f, 1),
				                       _mm256_cvtepi32_ps(lanes8x4(mp)), M[j]);
			} else {
				const __m256 xd = _mm256_set1_ps(y[k].d);
				A[j] = _mm256_fmadd_ps(_mm256_mul_ps(xd, halves8(wk, rowb)),
				                       _mm256_cvtepi32_ps(lanes8(p)), A[j]);
			}
		}
	}
	for (int s = 4; s >= 1; s /= 2)
		for (int j = 0; j < s; j++) {
			A[j] = _mm256_add_ps(A[j], A[j + s]);
			M[j] = _mm256_add_ps(M[j], M[j + s]);
		}
	_mm256_storeu_ps(out, mins ? _mm256_sub_ps(A[0], M[0]) : A[0]);
}

INLINE void matmulk(const void *w, int ldw, const void *x, int ldx, float *y, int ldy, int n,
                    int row0, int row1, int batch, int type)
{
	if (!kq_gemm_avx512(type, w, ldw, x, ldx, y, ldy, n, row0, row1, batch))
		return; /* a batch: the lane-group product */
	const int nb = n / KERN_QK_K;
	const size_t wsz = kern_qinfo_at((enum kern_qtype)type)->bytes;
	const size_t rowb = (size_t)ldw * wsz;
	int r = row0;
	if (batch == 1) /* one activation: eight rows at a time, one per lane */
		for (; r + 8 <= row1; r += 8)
			dotk_rows8((const char *)w + (size_t)r * rowb, rowb, x, nb, type, y + r);
	for (; r < row1; r++) {
		const char *wr = (const char *)w + (size_t)r * rowb;
		for (int b = 0; b < batch; b += 4) {
			const int nx = batch - b < 4 ? batch - b : 4;
			const kern_q8_k *xr[4];
			for (int c = 0; c < nx; c++)
				xr[c] = (const kern_q8_k *)x + (size_t)(b + c) * (size_t)ldx;
			float out[4] = {0};
			if (nx == 4)
				dotk(wr, xr, nb, type, 4, out);
			else if (nx == 3)
				dotk(wr, xr, nb, type, 3, out);
			else if (nx == 2)
				dotk(wr, xr, nb, type, 2, out);
			else
				dotk(wr, xr, nb, type, 1, out);
			for (int c = 0; c < nx; c++)
				y[(size_t)(b + c) * (size_t)ldy + r] = out[c];
		}
	}
}

#define DOTK(T, Q)                                                                                 \
	static float avx512_dot_##T(const void *w, const void *x, int nb)                          \
	{                                                                                          \
		const kern_q8_k *y[1] = {x};                                                       \
		float out[1];                                                                      \
		dotk(w, y, nb, Q, 1, out);                                                         \
		return out[0];                                                                     \
	}                                                                                          \
	static void avx512_matmul_##T(const void *w, int ldw, const void *x, int ldx, float *y,    \
	                              int ldy, int n, int row0, int row1, int batch)               \
	{                                                                                          \
		matmulk(w, ldw, x, ldx, y, ldy, n, row0, row1, batch, Q);                          \
	}

DOTK(q4_k, KQ_Q4_K)
DOTK(q5_k, KQ_Q5_K)
DOTK(q6_k, KQ_Q6_K)

/* ---- the rest: the AVX2 table's ---- */

static void avx512_quantize_q8_1(const float *x, kern_q8_1 *y, int n)
{
	kern_quant_avx2_table()->quantize_q8_1(x, y, n);
}

static void avx512_quantize_q8_k(const float *x, kern_q8_k *y, int n)
{
	kern_quant_avx2_table()->quantize_q8_k(x, y, n);
}

static void avx512_round_bf16(const float *x, float *y, int n)
{
	kern_quant_avx2_table()->round_bf16(x, y, n);
}

static float avx512_dot_bf16(const void *w, const void *x, int n)
{
	return kern_quant_avx2_table()->dot[KQ_BF16](w, x, n);
}

static void avx512_matmul_bf16(const void *w, int ldw, const void *x, int ldx, float *y, int ldy,
                               int n, int row0, int row1, int batch)
{
	kern_quant_avx2_table()->matmul[KQ_BF16](w, ldw, x, ldx, y, ldy, n, row0, row1, batch);
}

#define DEQ(T, Q)                                                                                  \
	static void avx512_deq_##T(const void *w, float *y, int n)                                 \
	{                                                                                          \
		kern_quant_avx2_table()->dequant[Q](w, y, n);                                      \
	}
DEQ(q4_0, KQ_Q4_0)
DEQ(q4_1, KQ_Q4_1)
DEQ(q5_0, KQ_Q5_0)
DEQ(q5_1, KQ_Q5_1)
DEQ(q4_k, KQ_Q4_K)
DEQ(q5_k, KQ_Q5_K)
DEQ(q6_k, KQ_Q6_K)
DEQ(bf16, KQ_BF16)

static const kern_qtable avx512_qtable = {
    .name = "avx512",
    .quantize_q8_1 = avx512_quantize_q8_1,
    .quantize_q8_k = avx512_quantize_q8_k,
    .round_bf16 = avx512_round_bf16,
    .dequant = {avx512_deq_q4_0, avx512_deq_q4_1, avx512_deq_q5_0, avx512_deq_q5_1, avx512_deq_q4_k,
                avx512_deq_q5_k, avx512_deq_q6_k, avx512_deq_bf16},
    .dot = {avx512_dot_q4_0, avx512_dot_q4_1, avx512_dot_q5_0, avx512_dot_q5_1, avx512_dot_q4_k,
            avx512_dot_q5_k, avx512_dot_q6_k, avx512_dot_bf16},
    .matmul = {avx512_matmul_q4_0, avx512_matmul_q4_1, avx512_matmul_q5_0, avx512_matmul_q5_1,
               avx512_matmul_q4_k, avx512_matmul_q5_k, avx512_matmul_q6_k, avx512_matmul_bf16},
};

static int cpu_has_avx512(void)
{
	static int known = -1; /* a benign race: every thread computes the same answer */
	int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
		    __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi") &&
		    __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		    kern_quant_avx2_table() != NULL;
		__atomic_store_n(&known, v, __ATOMIC_RELAXED);
	}
	return v;
}

const kern_qtable *kern_quant_avx512_table(void)
{
	return cpu_has_avx512() ? &avx512_qtable : NULL;
}

#else /* not built for AVX-512 */

const kern_qtable *kern_quant_avx512_table(void)
{
	return NULL;
}

#endif
