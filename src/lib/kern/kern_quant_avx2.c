/*
 * kern_quant_avx2.c - AVX2+FMA+F16C kernels of kern_quant.h, bitwise equal
 * to kern_quant_ref.c.
 *
 * The integer sums of the contract are exact whatever order they are taken
 * in, so they use maddubs freely where it cannot saturate: the first operand
 * is always the unsigned weight integer (at most 63), so a pair of products
 * is at most 2 * 63 * 128 < 2^15. Signed weights (Q4_0, Q5_0, Q6_K) are
 * taken unsigned and their offset is subtracted as offset * sum(x), which is
 * exact too. The float steps (scale products, FMA into lane k % 8, folds)
 * are those of the reference, in its order.
 *
 * Speed: eight consecutive blocks (or super-blocks) give eight exact sums
 * in one register by a tree of hadds, so lane j takes block k + j with one
 * vector FMA, exactly the reference's A[k % 8]; a last partial group is
 * blended in. Activation scales and offsets are prepared once per row, and
 * rows of up to 512 blocks have their quants repacked (low and high halves
 * apart), so that two weight blocks are unpacked into one pair of registers
 * and four hadds and a permute give eight blocks' sums; in
 * batched products one unpacked weight block serves several activations
 * (four for the 32-blocks, two for the K-quants); weights are prefetched.
 */
#include "kern_quant.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "f16.h"
#include "kern_avx2_steps.h"
#include "kern_quant_x86.h"
#include "kern_steps.h"

#define INLINE static inline __attribute__((always_inline))

INLINE int32_t hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* 8 int32 from the 16 int16 pair sums p (exact) */
INLINE __m256i widen_sum(__m256i p)
{
	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* 8 halves at stride bytes apart, as floats */
INLINE __m256 halves8(const void *p, size_t stride)
{
	const char *c = p;
	uint16_t h[8];
	for (int i = 0; i < 8; i++)
		memcpy(&h[i], c + i * stride, 2);
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h));
}

/* 16 bytes of nibbles as 32 bytes: element j low nibble of qs[j], j+16 high */
INLINE __m256i unpack_nibbles(const uint8_t *qs)
{
	__m128i q = _mm_loadu_si128((const __m128i *)qs);
	__m128i m = _mm_set1_epi8(15);
	return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

/* the 32 bits of h as bytes 0x10 or 0, bit j to byte j */
INLINE __m256i high_bits32(uint32_t h)
{
	const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
	                                        0x0202020202020202, 0x0303030303030303);
	__m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)h), shuf);
	const __m256i bit = _mm256_set1_epi64x((long long)0x7fbfdfeff7fbfdfeULL);
	v = _mm256_or_si256(v, bit);
	v = _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
	return _mm256_and_si256(v, _mm256_set1_epi8(16));
}

/* the 32 bits of qh (little-endian) as bytes 0x10 or 0 */
INLINE __m256i high_bits(const uint8_t *qh)
{
	uint32_t h;
	memcpy(&h, qh, 4);
	return high_bits32(h);
}

/* exact partial sums (8 int32) of w (unsigned bytes) times x, minus off * sum(x) */
INLINE __m256i partial(__m256i w, const int8_t *xq, int off)
{
	__m256i xv = _mm256_loadu_si256((const __m256i *)xq);
	__m256i p = _mm256_maddubs_epi16(w, xv);
	if (off) {
		__m256i sx = _mm256_maddubs_epi16(_mm256_set1_epi8(1), xv);
		p = _mm256_sub_epi16(p, _mm256_mullo_epi16(sx, _mm256_set1_epi16((short)off)));
	}
	return widen_sum(p);
}

/* exact sum of 32 int8 */
INLINE int32_t sum_i8(__m256i q)
{
	return hsum_epi32(widen_sum(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q)));
}

/* ---- Q4_0, Q5_0 with Q8_0; Q4_1, Q5_1 with Q8_1 (contract 7) ---- */

INLINE __m256i wbytes32(const void *b, int type)
{
	switch (type) {
	case KQ_Q4_0:
		return unpack_nibbles(((const kern_q4_0 *)b)->qs);
	case KQ_Q4_1:
		return unpack_nibbles(((const kern_q4_1 *)b)->qs);
	case KQ_Q5_0: {
		const kern_q5_0 *q = b;
		return _mm256_or_si256(unpack_nibbles(q->qs), high_bits(q->qh));
	}
	default: {
		const kern_q5_1 *q = b;
		return _mm256_or_si256(unpack_nibbles(q->qs), high_bits(q->qh));
	}
	}
}

INLINE int offset32(int type)
{
	return type == KQ_Q4_0 ? 8 : type == KQ_Q5_0 ? 16 : 0;
}

/*
 * What a dot needs of each activation block besides its quants, made once
 * per activation row: the scale as a float, off * sum(q) (Q4_0, Q5_0: the
 * weights' offset, subtracted exactly), and the Q8_1 sum s as a float.
 * Rows short enough also get their quants repacked (lo, hi not NULL): for
 * block k, lo[16k + j] = q[j] and hi[16k + j] = q[16 + j], so that the low
 * (high) nibbles of two weight blocks meet their activations in one load.
 */
struct xprep {
	float *xs, *xm;
	int32_t *xoff;
	int8_t *lo, *hi;
};

INLINE void prep32(const void *x, size_t xsz, int nb, int type, struct xprep P)
{
	const char *xc = x;
	const int off = offset32(type), has_m = type == KQ_Q4_1 || type == KQ_Q5_1;
	for (int k = 0; k < nb; k++) {
		const char *xb = xc + (size_t)k * xsz;
		uint16_t h[2];
		memcpy(h, xb, 4);
		P.xs[k] = h2f(h[0]);
		__m256i q = _mm256_loadu_si256((const __m256i *)(xb + (has_m ? 4 : 2)));
		if (has_m)
			P.xm[k] = h2f(h[1]);
		else
			P.xoff[k] = off * sum_i8(q);
		if (P.lo) {
			_mm_storeu_si128((__m128i *)(P.lo + 16 * k), _mm256_castsi256_si128(q));
			_mm_storeu_si128((__m128i *)(P.hi + 16 * k),
			                 _mm256_extracti128_si256(q, 1));
		}
	}
}

/* 8 halves of 8 consecutive blocks at stride bytes (d or m of each block) */
INLINE __m256 halves8s(const char *p, size_t stride)
{
	uint16_t h[8];
	for (int i = 0; i < 8; i++)
		memcpy(&h[i], p + (size_t)i * stride, 2);
	return _mm256_cvtph_ps(_mm_setr_epi16((short)h[0], (short)h[1], (short)h[2], (short)h[3],
	                                      (short)h[4], (short)h[5], (short)h[6], (short)h[7]));
}

/* prefetch distance for the weight stream, bytes */
#define W_PREFETCH 2048

/*
 * Contract 7 with prepared activation data; blocks k..k+7 fill lanes 0..7.
 * nx (1 to 4) activations share each unpacked weight block: out[c] is the
 * dot with activation x[c].
 */
INLINE void dot32n(const void *w, size_t wsz, const char *const *x, size_t xsz, int nb, int type,
                   const struct xprep *P, int nx, int rep, float *out)
{
	const char *wc = w;
	const int has_m = type == KQ_Q4_1 || type == KQ_Q5_1;
	const size_t qoff = has_m ? 4 : 2; /* the quants follow d (and s) */
	const __m256i ones = _mm256_set1_epi16(1);
	__m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
	                 _mm256_setzero_ps()};
	__m256 accm[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
	                  _mm256_setzero_ps()};
	const size_t n = nb > 0 ? (size_t)nb : 0; /* unsigned: indices are never negative */
	size_t k = 0;
	for (; k + 8 <= n; k += 8) {
		for (int l = 0; l < 3; l++)
			_mm_prefetch(wc + (size_t)k * wsz + W_PREFETCH + 64 * l, _MM_HINT_T0);
		__m256i p[4][8];
		if (rep) {
			/* two blocks a pair: low nibbles of both in one register, high in another
			 */
#pragma GCC unroll 4
			for (int i = 0; i < 4; i++) {
				const char *wa = wc + (size_t)(k + 2 * i) * wsz, *wb = wa + wsz;
				const size_t qs = wsz - 16; /* the quants end the block */
				__m256i q = _mm256_inserti128_si256(
				    _mm256_castsi128_si256(
				        _mm_loadu_si128((const __m128i *)(wa + qs))),
				    _mm_loadu_si128((const __m128i *)(wb + qs)), 1);
				__m256i lo = _mm256_and_si256(q, _mm256_set1_epi8(15));
				__m256i hi =
				    _mm256_and_si256(_mm256_srli_epi16(q, 4), _mm256_set1_epi8(15));
				if (type == KQ_Q5_0 || type == KQ_Q5_1) {
					uint32_t ha, hb;
					memcpy(&ha, wa + qs - 4, 4);
					memcpy(&hb, wb + qs - 4, 4);
					lo = _mm256_or_si256(
					    lo, high_bits32((ha & 0xffffu) | hb << 16));
					hi = _mm256_or_si256(
					    hi, high_bits32(ha >> 16 | (hb & 0xffff0000u)));
				}
#pragma GCC unroll 4
				for (int c = 0; c < nx; c++) {
					const size_t o = 16 * (size_t)(k + 2 * i);
					__m256i pl = _mm256_maddubs_epi16(
					    lo, _mm256_loadu_si256((const __m256i *)(P[c].lo + o)));
					__m256i ph = _mm256_maddubs_epi16(
					    hi, _mm256_loadu_si256((const __m256i *)(P[c].hi + o)));
					/* |pl + ph| <= 4 * 31 * 128 < 2^15 */
					p[c][i] = _mm256_madd_epi16(_mm256_add_epi16(pl, ph), ones);
				}
			}
		} else {
#pragma GCC unroll 8
			for (int i = 0; i < 8; i++) {
				__m256i u = wbytes32(wc + (size_t)(k + i) * wsz, type);
#pragma GCC unroll 4
				for (int c = 0; c < nx; c++) {
					__m256i xv = _mm256_loadu_si256(
					    (const __m256i *)(x[c] + (size_t)(k + i) * xsz + qoff));
					p[c][i] =
					    _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), ones);
				}
			}
		}
		const char *wk = wc + (size_t)k * wsz;
		__m256 wd = halves8s(wk, wsz), wm = has_m ? halves8s(wk + 2, wsz) : wd;
		for (int c = 0; c < nx; c++) {
			__m256i isum;
			if (rep) {
				/* 128-bit lane 0 of p[i]: block 2i, lane 1: block 2i + 1 */
				__m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(p[c][0], p[c][1]),
				                              _mm256_hadd_epi32(p[c][2], p[c][3]));
				isum = _mm256_permutevar8x32_epi32(
				    h, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
			} else {
				isum = lanes8(p[c]);
			}
			if (!has_m)
				isum = _mm256_sub_epi32(
				    isum, _mm256_loadu_si256((const __m256i *)(P[c].xoff + k)));
			__m256 s = _mm256_mul_ps(wd, _mm256_loadu_ps(P[c].xs + k));
			acc[c] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(isum), acc[c]);
			if (has_m)
				accm[c] =
				    _mm256_fmadd_ps(wm, _mm256_loadu_ps(P[c].xm + k), accm[c]);
		}
	}
	for (int c = 0; c < nx; c++) {
		if (k == n) { /* no tail: fold in registers */
			out[c] = has_m ? kern_fold8_reg(acc[c]) + kern_fold8_reg(accm[c])
			               : kern_fold8_reg(acc[c]);
			continue;
		}
		float A[8], M[8];
		_mm256_storeu_ps(A, acc[c]);
		_mm256_storeu_ps(M, accm[c]);
		for (size_t t = k; t < n; t++) {
			const char *wb = wc + t * wsz, *xb = x[c] + t * xsz;
			__m256i xv = _mm256_loadu_si256((const __m256i *)(xb + qoff));
			int32_t isum = hsum_epi32(
			    _mm256_madd_epi16(_mm256_maddubs_epi16(wbytes32(wb, type), xv), ones));
			if (!has_m)
				isum -= P[c].xoff[t];
			uint16_t wd[2];
			memcpy(wd, wb, 4);
			A[t % 8] = fmaf(h2f(wd[0]) * P[c].xs[t], (float)isum, A[t % 8]);
			if (has_m)
				M[t % 8] = fmaf(h2f(wd[1]), P[c].xm[t], M[t % 8]);
		}
		out[c] = has_m ? kern_fold8(A) + kern_fold8(M) : kern_fold8(A);
	}
}

/* prepared data for up to XP_MAX blocks of activations (24 KiB of stack) */
enum { XP_MAX = 2048 };

/* rows of up to XR_MAX blocks are also repacked (44 bytes a block, 22 KiB) */
enum { XR_MAX = 512 };

/*
 * Contract 4 for the 32-blocks with activations prepared np rows at a time
 * in the buffers given (np * nb blocks), repacked when rep.
 */
INLINE void matmul32p(const void *w, int ldw, const void *x, int ldx, float *y, int ldy, int nb,
                      int row0, int row1, int batch, int type, size_t wsz, size_t xsz, int np,
                      float *xs, float *xm, int32_t *xoff, int8_t *lo, int8_t *hi, int rep)
{
	for (int b0 = 0; b0 < batch; b0 += np) {
		int b1 = b0 + np < batch ? b0 + np : batch;
		for (int b = b0; b < b1; b++) {
			int o = (b - b0) * nb;
			struct xprep P = {xs + o, xm + o, xoff + o, rep ? lo + 16 * o : NULL,
			                  rep ? hi + 16 * o : NULL};
			prep32((const char *)x + (size_t)b * ldx * xsz, xsz, nb, type, P);
		}
		for (int r = row0; r < row1; r++) {
			const char *wr = (const char *)w + (size_t)r * ldw * wsz;
			_mm_prefetch(wr + (size_t)ldw * wsz, _MM_HINT_T0);
			/* activations in fours share the unpacked weights */
			for (int b = b0; b < b1; b += 4) {
				int nx = b1 - b < 4 ? b1 - b : 4;
				struct xprep P[4];
				const char *xr[4];
				for (int c = 0; c < nx; c++) {
					int o = (b + c - b0) * nb;
					P[c] = (struct xprep){xs + o, xm + o, xoff + o,
					                      rep ? lo + 16 * o : NULL,
					                      rep ? hi + 16 * o : NULL};
					xr[c] = (const char *)x + (size_t)(b + c) * ldx * xsz;
				}
				float out[4] = {0};
				if (nx == 4)
					dot32n(wr, wsz, xr, xsz, nb, type, P, 4, rep, out);
				else if (nx == 3)
					dot32n(wr, wsz, xr, xsz, nb, type, P, 3, rep, out);
				else if (nx == 2)
					dot32n(wr, wsz, xr, xsz, nb, type, P, 2, rep, out);
				else
					dot32n(wr, wsz, xr, xsz, nb, type, P, 1, rep, out);
				for (int c = 0; c < nx; c++)
					y[(size_t)(b + c) * ldy + r] = out[c];
			}
		}
	}
}

INLINE void matmul32(const void *w, int ldw, const void *x, int ldx, float *y, int ldy, int n,
                     int row0, int row1, int batch, int type, size_t wsz, size_t xsz)
{
	int nb = n / KERN_QK;
	if (nb > XP_MAX || nb <= 0) { /* rows too long to prepare: the reference */
		kern_quant_ref()->matmul[type](w, ldw, x, ldx, y, ldy, n, row0, row1, batch);
		return;
	}
	if (nb <= XR_MAX) {
		float xs[XR_MAX], xm[XR_MAX];
		int32_t xoff[XR_MAX];
		int8_t lo[16 * XR_MAX], hi[16 * XR_MAX];
		matmul32p(w, ldw, x, ldx, y, ldy, nb, row0, row1, batch, type, wsz, xsz,
		          XR_MAX / nb, xs, xm, xoff, lo, hi, 1);
		return;
	}
	float xs[XP_MAX], xm[XP_MAX];
	int32_t xoff[XP_MAX];
	matmul32p(w, ldw, x, ldx, y, ldy, nb, row0, row1, batch, type, wsz, xsz, XP_MAX / nb, xs,
	          xm, xoff, NULL, NULL, 0);
}

/* one dot: a product of one row and one activation */
INLINE float dot32_one(const void *w, size_t wsz, const void *x, size_t xsz, int nb, int type)
{
	float y = 0.0f;
	matmul32(w, 0, x, 0, &y, 1, nb * KERN_QK, 0, 1, 1, type, wsz, xsz);
	return y;
}

/* the dot and the matrix product of a 32-block type T (Q, with activations XT) */
#define AVX2_Q32(T, Q, XT)                                                                         \
	static float avx2_dot_##T(const void *w, const void *x, int nb)                            \
	{                                                                                          \
		return dot32_one(w, sizeof(kern_##T), x, sizeof(XT), nb, Q);                       \
	}                                                                                          \
	static void avx2_matmul_##T(const void *w, int ldw, const void *x, int ldx, float *y,      \
	                            int ldy, int n, int row0, int row1, int batch)                 \
	{                                                                                          \
		matmul32(w, ldw, x, ldx, y, ldy, n, row0, row1, batch, Q, sizeof(kern_##T),        \
		         sizeof(XT));                                                              \
	}
AVX2_Q32(q4_0, KQ_Q4_0, kern_q8_0)
AVX2_Q32(q4_1, KQ_Q4_1, kern_q8_1)
AVX2_Q32(q5_0, KQ_Q5_0, kern_q8_0)
AVX2_Q32(q5_1, KQ_Q5_1, kern_q8_1)

/* ---- K-quants with Q8_K (contract 8) ---- */

/*
 * v holds the same 8 int16 in both halves: 16 lanes, the low 8 equal to
 * lane i, the high 8 to lane j (one in-lane shuffle).
 */
INLINE __m256i pair_bcast16(__m256i v, int i, int j)
{
	return _mm256_shuffle_epi8(v,
	                           _mm256_set_m128i(_mm_set1_epi16((short)(0x0100 + 0x0202 * j)),
	                                            _mm_set1_epi16((short)(0x0100 + 0x0202 * i))));
}

/*
 * One Q4_K / Q5_K super-block of contract 8b against nx (1 or 2) activation
 * blocks, left in vector form: p[c] gets 8 int32 that sum to isum, mp[c] 4
 * int32 that sum to msum (all exact). The weights are unpacked once.
 */
INLINE void block_k4(const uint8_t *scales, const uint8_t *qs, const uint8_t *qh,
                     const kern_q8_k *const *x, int nx, __m256i *p, __m128i *mp)
{
	__m256i scm = scale_min_k4(scales);
	__m128i m8 = _mm256_extracti128_si256(scm, 1);
	__m256i sc2 = _mm256_permute2x128_si256(scm, scm, 0x00); /* scales in both halves */
	const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
	__m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
	__m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 4
	for (int g = 0; g < 4; g++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * g));
		__m256i lo = _mm256_and_si256(q, m4);
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
		if (qh) {
			__m256i b0 = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * g), one);
			__m256i b1 = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * g + 1), one);
			lo = _mm256_or_si256(lo, _mm256_slli_epi16(b0, 4));
			hi = _mm256_or_si256(hi, _mm256_slli_epi16(b1, 4));
		}
		__m256i sl = pair_bcast16(sc2, 2 * g, 2 * g),
		        sh = pair_bcast16(sc2, 2 * g + 1, 2 * g + 1);
		for (int c = 0; c < nx; c++) {
			__m256i xl = _mm256_loadu_si256((const __m256i *)(x[c]->q + 64 * g));
			__m256i xh = _mm256_loadu_si256((const __m256i *)(x[c]->q + 64 * g + 32));
			__m256i pl = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, xl), sl);
			__m256i ph = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, xh), sh);
			acc[c] = _mm256_add_epi32(acc[c], _mm256_add_epi32(pl, ph));
		}
	}
	for (int c = 0; c < nx; c++) {
		p[c] = acc[c];
		/* bsums in pairs (|sum| <= 4096 fits int16), times the mins */
		__m256i bs = _mm256_loadu_si256((const __m256i *)x[c]->bsums);
		__m128i pairs =
		    _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
		mp[c] = _mm_madd_epi16(m8, pairs);
	}
}

/* one Q6_K super-block against nx activation blocks: p[c] sums to isum (8c) */
INLINE void block_q6_k(const kern_q6_k *b, const kern_q8_k *const *x, int nx, __m256i *p)
{
	const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3);
	__m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->scales));
	__m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
	__m256i sch[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00),
	                  _mm256_permute2x128_si256(sc16, sc16, 0x11)};
#pragma GCC unroll 2
	for (int h = 0; h < 2; h++) {
		__m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
		__m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
		__m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
		__m256i low[4] = {_mm256_and_si256(l0, m4), _mm256_and_si256(l1, m4),
		                  _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
		                  _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4)};
#pragma GCC unroll 4
		for (int c4 = 0; c4 < 4; c4++) {
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c4), m2);
			__m256i v = _mm256_or_si256(low[c4], _mm256_slli_epi16(hi, 4));
			__m256i s = pair_bcast16(sch[h], 2 * c4, 2 * c4 + 1);
			for (int c = 0; c < nx; c++) {
				__m256i xv = _mm256_loadu_si256(
				    (const __m256i *)(x[c]->q + 128 * h + 32 * c4));
				acc[c] = _mm256_add_epi32(
				    acc[c], _mm256_madd_epi16(_mm256_maddubs_epi16(v, xv), s));
			}
		}
	}
	for (int c = 0; c < nx; c++) {
		/* minus 32 * sum_g scales[g] * bsums[g], exact */
		__m256i off =
		    _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)x[c]->bsums));
		p[c] = _mm256_sub_epi32(acc[c], _mm256_slli_epi32(off, 5));
	}
}

/*
 * Contract 8 for weight type `type` (Q4_K, Q5_K, Q6_K) against nx
 * activation rows y[c]: super-blocks k..k+7 go to lanes 0..7, one FMA each,
 * as A[k % 8]; in a last partial group the missing blocks are zero and a
 * blend keeps their lanes unchanged.
 */
/*
 * One group of r (1 to 8) super-blocks k..k+r-1 of contract 8 against nx
 * (1 or 2) activation rows y[c]; r is a constant 8 for every group but a
 * last partial one, so the full groups unroll.
 */
INLINE void groupk(const char *wc, size_t wsz, int k, int r, const kern_q8_k *const *y, int type,
                   int nx, __m256 *acc, __m256 *accm)
{
	const size_t doff = type == KQ_Q6_K ? offsetof(kern_q6_k, d) : 0;
	const int has_min = type != KQ_Q6_K, lines = type == KQ_Q6_K ? 4 : 3;
	__m256i p[2][8];
	__m128i mp[2][8];
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		const int j = k + i;
		if (i >= r) {
			for (int c = 0; c < nx; c++) {
				p[c][i] = _mm256_setzero_si256();
				mp[c][i] = _mm_setzero_si128();
			}
			continue;
		}
		const char *wb = wc + (size_t)j * wsz;
		for (int l = 0; l < lines; l++)
			_mm_prefetch(wb + W_PREFETCH + 64 * l, _MM_HINT_T0);
		const kern_q8_k *xj[2] = {y[0] + j, y[nx - 1] + j};
		__m256i pj[2];
		__m128i mj[2] = {_mm_setzero_si128(), _mm_setzero_si128()};
		if (type == KQ_Q4_K) {
			const kern_q4_k *q = (const void *)wb;
			block_k4(q->scales, q->qs, NULL, xj, nx, pj, mj);
		} else if (type == KQ_Q5_K) {
			const kern_q5_k *q = (const void *)wb;
			block_k4(q->scales, q->qs, q->qh, xj, nx, pj, mj);
		} else {
			block_q6_k((const void *)wb, xj, nx, pj);
		}
		for (int c = 0; c < nx; c++) {
			p[c][i] = pj[c];
			mp[c][i] = mj[c];
		}
	}
	/*
	 * The scale products y.d * f32(w.d) lane by lane, built in registers
	 * (a gather through memory stalls on store forwarding); zero past r.
	 */
	const char *wk = wc + (size_t)k * wsz + doff;
	__m256 keep = _mm256_castsi256_ps(kern_lane_mask(r));
	for (int c = 0; c < nx; c++) {
		const kern_q8_k *yc = y[c] + k;
#define KD(i, o) ((i) < r ? yc[i].d * h2f(u16at(wk + (size_t)(i)*wsz + (o))) : 0.0f)
		__m256 d = _mm256_setr_ps(KD(0, 0), KD(1, 0), KD(2, 0), KD(3, 0), KD(4, 0),
		                          KD(5, 0), KD(6, 0), KD(7, 0));
		__m256 na = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(lanes8(p[c])), acc[c]);
		acc[c] = _mm256_blendv_ps(acc[c], na, keep);
		if (has_min) {
			__m256 dm = _mm256_setr_ps(KD(0, 2), KD(1, 2), KD(2, 2), KD(3, 2), KD(4, 2),
			                           KD(5, 2), KD(6, 2), KD(7, 2));
			__m256 nm =
			    _mm256_fmadd_ps(dm, _mm256_cvtepi32_ps(lanes8x4(mp[c])), accm[c]);
			accm[c] = _mm256_blendv_ps(accm[c], nm, keep);
		}
#undef KD
	}
}

INLINE void dotk(const void *w, const kern_q8_k *const *y, int nb, int type, int nx, float *out)
{
	const size_t wsz = type == KQ_Q4_K   ? sizeof(kern_q4_k)
	                   : type == KQ_Q5_K ? sizeof(kern_q5_k)
	                                     : sizeof(kern_q6_k);
	const int has_min = type != KQ_Q6_K;
	__m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
	__m256 accm[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
	int k = 0;
	for (; k + 8 <= nb; k += 8)
		groupk(w, wsz, k, 8, y, type, nx, acc, accm);
	if (k < nb)
		groupk(w, wsz, k, nb - k, y, type, nx, acc, accm);
	for (int c = 0; c < nx; c++)
		out[c] = has_min ? kern_fold8_reg(acc[c]) - kern_fold8_reg(accm[c])
		                 : kern_fold8_reg(acc[c]);
}

#define K_DOT(T, Q)                                                                                \
	static float avx2_dot_##T(const void *w, const void *x, int nb)                            \
	{                                                                                          \
		const kern_q8_k *y[1] = {x};                                                       \
		float out[1];                                                                      \
		dotk(w, y, nb, Q, 1, out);                                                         \
		return out[0];                                                                     \
	}                                                                                          \
	static void avx2_matmul_##T(const void *w, int ldw, const void *x, int ldx, float *y,      \
	                            int ldy, int n, int row0, int row1, int batch)                 \
	{                                                                                          \
		int nb = n / KERN_QK_K;                                                            \
		size_t wsz = kern_qinfo_at(Q)->bytes;                                              \
		for (int r = row0; r < row1; r++) {                                                \
			const char *wr = (const char *)w + (size_t)r * ldw * wsz;                  \
			for (int b = 0; b < batch; b += 2) {                                       \
				const kern_q8_k *xr[2] = {(const kern_q8_k *)x + (size_t)b * ldx,  \
				                          (const kern_q8_k *)x +                   \
				                              (size_t)(b + 1) * ldx};              \
				float out[2];                                                      \
				if (b + 1 < batch) {                                               \
					dotk(wr, xr, nb, Q, 2, out);                               \
					y[(size_t)b * ldy + r] = out[0];                           \
					y[(size_t)(b + 1) * ldy + r] = out[1];                     \
				} else {                                                           \
					dotk(wr, xr, nb, Q, 1, out);                               \
					y[(size_t)b * ldy + r] = out[0];                           \
				}                                                                  \
			}                                                                          \
		}                                                                                  \
	}

K_DOT(q4_k, KQ_Q4_K)
K_DOT(q5_k, KQ_Q5_K)
K_DOT(q6_k, KQ_Q6_K)

/* ---- BF16 (contract 6) ---- */

INLINE __m256 bf16x8(const uint16_t *h)
{
	__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)h));
	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static float avx2_dot_bf16(const void *w, const void *x, int n)
{
	const uint16_t *h = w;
	const float *xf = x;
	__m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
	               _mm256_setzero_ps()};
	int i = 0;
	for (; i + 32 <= n; i += 32)
		for (int q = 0; q < 4; q++)
			a[q] = _mm256_fmadd_ps(bf16x8(h + i + 8 * q),
			                       _mm256_loadu_ps(xf + i + 8 * q), a[q]);
	float L[32];
	for (int q = 0; q < 4; q++)
		_mm256_storeu_ps(L + 8 * q, a[q]);
	for (int t = 0; i < n; i++, t++)
		L[t] = fmaf(f16_bits_to_f32((uint32_t)h[i] << 16), xf[i], L[t]);
	for (int s = 16; s >= 1; s /= 2)
		for (int j = 0; j < s; j++)
			L[j] = L[j] + L[j + s];
	return L[0];
}

static void avx2_round_bf16(const float *x, float *y, int n)
{
	int i = 0;
	const __m256i abs = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
	const __m256i hi = _mm256_set1_epi32((int)0xffff0000u), bias = _mm256_set1_epi32(0x7fff);
	const __m256i one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(0x00400000);
	for (; i + 8 <= n; i += 8) {
		__m256i u = _mm256_castps_si256(_mm256_loadu_ps(x + i));
		__m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs), inf);
		__m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
		__m256i r = _mm256_and_si256(_mm256_add_epi32(_mm256_add_epi32(u, bias), lsb), hi);
		__m256i q = _mm256_and_si256(_mm256_or_si256(u, quiet), hi);
		_mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_blendv_epi8(r, q, nan)));
	}
	for (; i < n; i++)
		y[i] = kern_round_bf16(x[i]);
}

/* ---- activations ---- */

#define RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* 32 floats times id, rne, cvtps_epi32 and saturating packs to int8 (3a) */
INLINE __m256i quant32(const float *x, __m256 mul)
{
	const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__m256i i0 =
	    _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), mul), RND));
	__m256i i1 =
	    _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), mul), RND));
	__m256i i2 =
	    _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 16), mul), RND));
	__m256i i3 =
	    _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 24), mul), RND));
	i0 = _mm256_packs_epi32(i0, i1);
	i2 = _mm256_packs_epi32(i2, i3);
	return _mm256_permutevar8x32_epi32(_mm256_packs_epi16(i0, i2), perm);
}

static void avx2_quantize_q8_1(const float *x, kern_q8_1 *y, int n)
{
	for (int b = 0; b < n / KERN_QK; b++, x += KERN_QK) {
		float amax = kern_amax32(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8),
		                         _mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24));
		float d = amax / 127.0f;
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;
		__m256i q = quant32(x, _mm256_set1_ps(id));
		_mm256_storeu_si256((__m256i *)y[b].q, q);
		y[b].d = f32_to_f16(d);
		y[b].s = f32_to_f16(d * (float)sum_i8(q));
	}
}

static void avx2_quantize_q8_k(const float *x, kern_q8_k *y, int n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	for (int b = 0; b < n / KERN_QK_K; b++, x += KERN_QK_K) {
		/* max_ps(|x|, m) keeps m when |x| is NaN, as the reference's compare */
		__m256 m = _mm256_setzero_ps();
		for (int j = 0; j < KERN_QK_K; j += 8)
			m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), m);
		__m128 p = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
		p = _mm_max_ps(p, _mm_movehl_ps(p, p));
		p = _mm_max_ss(p, _mm_movehdup_ps(p));
		float amax = _mm_cvtss_f32(p);
		memset(&y[b], 0, sizeof y[b]);
		if (amax == 0.0f)
			continue;
		/* the first element attaining amax gives the sign */
		__m256 va = _mm256_set1_ps(amax);
		int first = 0;
		for (int j = 0; j < KERN_QK_K; j += 8) {
			__m256 ax = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j));
			int mask = _mm256_movemask_ps(_mm256_cmp_ps(ax, va, _CMP_EQ_OQ));
			if (mask) {
				first = j + __builtin_ctz((unsigned)mask);
				break;
			}
		}
		float iscale = -127.0f / x[first];
		__m256 mul = _mm256_set1_ps(iscale);
		for (int j = 0; j < KERN_QK_K; j += 32) {
			/* iscale * x[j]: the product is commutative, so x * mul is the same */
			__m256i q = quant32(x + j, mul);
			_mm256_storeu_si256((__m256i *)(y[b].q + j), q);
			__m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
			__m256i s32 = widen_sum(s16); /* sums of 4: lanes 0-3 first 16, 4-7 next */
			__m128i a =
			    _mm_add_epi32(_mm256_castsi256_si128(s32),
			                  _mm_shuffle_epi32(_mm256_castsi256_si128(s32), 0x4e));
			a = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0xb1));
			__m128i c = _mm256_extracti128_si256(s32, 1);
			c = _mm_add_epi32(c, _mm_shuffle_epi32(c, 0x4e));
			c = _mm_add_epi32(c, _mm_shuffle_epi32(c, 0xb1));
			y[b].bsums[j / 16] = (int16_t)_mm_cvtsi128_si32(a);
			y[b].bsums[j / 16 + 1] = (int16_t)_mm_cvtsi128_si32(c);
		}
		y[b].d = 1.0f / iscale;
	}
}

/* ---- dequantization: the reference is fast enough for embedding rows ---- */

static void avx2_deq(int q, const void *w, float *y, int n)
{
	kern_quant_ref()->dequant[q](w, y, n);
}
#define DEQ(T, Q)                                                                                  \
	static void avx2_deq_##T(const void *w, float *y, int n)                                   \
	{                                                                                          \
		avx2_deq(Q, w, y, n);                                                              \
	}
DEQ(q4_0, KQ_Q4_0)
DEQ(q4_1, KQ_Q4_1)
DEQ(q5_0, KQ_Q5_0)
DEQ(q5_1, KQ_Q5_1)
DEQ(q4_k, KQ_Q4_K)
DEQ(q5_k, KQ_Q5_K)
DEQ(q6_k, KQ_Q6_K)
DEQ(bf16, KQ_BF16)

/* ---- matrix products (contract 4): weight row outer, activations inner ---- */

#define AVX2_MATMUL(T, WT, XT, DIV)                                                                \
	static void avx2_matmul_##T(const void *w, int ldw, const void *x, int ldx, float *y,      \
	                            int ldy, int n, int row0, int row1, int batch)                 \
	{                                                                                          \
		for (int r = row0; r < row1; r++) {                                                \
			const WT *wr = (const WT *)w + (size_t)r * ldw;                            \
			if (r + 1 < row1)                                                          \
				_mm_prefetch((const char *)(wr + ldw), _MM_HINT_T0);               \
			for (int b = 0; b < batch; b++)                                            \
				y[(size_t)b * ldy + r] =                                           \
				    avx2_dot_##T(wr, (const XT *)x + (size_t)b * ldx, n / (DIV));  \
		}                                                                                  \
	}

AVX2_MATMUL(bf16, uint16_t, float, 1)

static const kern_qtable avx2_qtable = {
    .name = "avx2",
    .quantize_q8_1 = avx2_quantize_q8_1,
    .quantize_q8_k = avx2_quantize_q8_k,
    .round_bf16 = avx2_round_bf16,
    .dequant = {avx2_deq_q4_0, avx2_deq_q4_1, avx2_deq_q5_0, avx2_deq_q5_1, avx2_deq_q4_k,
                avx2_deq_q5_k, avx2_deq_q6_k, avx2_deq_bf16},
    .dot = {avx2_dot_q4_0, avx2_dot_q4_1, avx2_dot_q5_0, avx2_dot_q5_1, avx2_dot_q4_k,
            avx2_dot_q5_k, avx2_dot_q6_k, avx2_dot_bf16},
    .matmul = {avx2_matmul_q4_0, avx2_matmul_q4_1, avx2_matmul_q5_0, avx2_matmul_q5_1,
               avx2_matmul_q4_k, avx2_matmul_q5_k, avx2_matmul_q6_k, avx2_matmul_bf16},
};

const kern_qtable *kern_quant_avx2_table(void)
{
	return &avx2_qtable;
}

#else /* not built for AVX2 */

const kern_qtable *kern_quant_avx2_table(void)
{
	return NULL;
}

#endif
