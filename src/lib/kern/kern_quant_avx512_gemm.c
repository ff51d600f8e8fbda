/*
 * kern_quant_avx512_gemm.c - lane-group matrix products of the block types
 * for batches of activations: the K-quants (contract 8) with Q8_K, Q4_0
 * and Q5_0 with Q8_0, Q4_1 and Q5_1 with Q8_1 (contract 7), bitwise equal
 * to kern_quant_ref.c.
 *
 * A register holds one lane per activation (16 of them, a lane group), not
 * one per element. The activations are transposed once per call so that
 * lane j of register t of a block holds bytes 4t..4t+3 of activation j's
 * quants. A tile's weight rows are unpacked once for all lane groups into
 * their values in element order (0..31; Q6_K 0..63, its offset 32 taken
 * apart; Q4_0 and Q5_0 without their offset), which are broadcast four
 * bytes at a time: vpdpbusd (unsigned weights times signed activations)
 * gives each activation's exact sum in its lane with no horizontal step.
 *
 * K-quants: each sub-block sum is multiplied by its scale (vpmulld) and
 * added, isum of contract 8b/8c, exact in any order. The mins' side (Q4_K,
 * Q5_K) and the offset of Q6_K are sums of the activation's bsums in pairs
 * times pairs of weight bytes, one vpdpwssd per pair. 32-blocks: the sum
 * starts at -offset * sum(q) of the activation's block (Q4_0, Q5_0), which
 * makes it the signed isum.
 *
 * Then per block k the reference's A[k % 8] = fma(scale product, (float)
 * isum, A[k % 8]) (and M) runs in 16 lanes at once, blocks in order, and
 * the folds of contracts 7 and 8 are plain vertical adds. A tile is KR
 * weight rows x up to KG (KG32) lane groups; outputs gather by blocks of
 * KRB rows and reach y by 16 x 16 transposes.
 */
#include "kern_quant_avx512_gemm.h"

#include "kern_quant.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) &&                      \
    defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) &&   \
    defined(__F16C__)

#include <immintrin.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern_avx512_impl.h"
#include "kern_quant_x86.h"
#include "kern_scratch.h"

/* activations per lane group, weight rows and lane groups per tile, lane
 * groups transposed at a time */
enum { KL = 16, KR = 4, KG = 3, KG32 = 4, KCHUNK = 4, KRB = 16 };

/*
 * The 16 rows of 32 bytes at p[i] (i < 16) transposed to words: out[t]
 * lane i = bytes 4t..4t+3 of row i, t < 8. (An 8 x 8 transpose of 32-bit
 * words in each 256-bit half, rows i and i + 8 side by side.)
 */
INLINE void transpose32(const int8_t *const *p, __m512i *out)
{
	const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
	const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
	__m512i z[8], t[8], u[8];
	for (int i = 0; i < 8; i++)
		z[i] = _mm512_inserti64x4(
		    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p[i])),
		    _mm256_loadu_si256((const __m256i *)p[i + 8]), 1);
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
	/* u[c]: words c (128-bit lanes 0, 2) and c + 4 (lanes 1, 3) of rows
	 * 0-3 and 8-11; u[c + 4] the same of rows 4-7 and 12-15 */
	for (int c = 0; c < 4; c++) {
		out[c] = _mm512_permutex2var_epi64(u[c], lo, u[c + 4]);
		out[c + 4] = _mm512_permutex2var_epi64(u[c], hi, u[c + 4]);
	}
}

/* accumulator j of a tile's output (r, g) in its fold: the reference's +0
 * for a lane no block reached (j >= nb), not kept in memory */
#define ACC(A, j) ((j) < nb ? (A)[j][r][g] : _mm512_setzero_ps())

/* ---- K-quants ---- */

/*
 * One lane group's super-block k, KX_REGS registers at G + KX_REGS * k:
 * 64 of quants (transpose32 of the eight 32-byte chunks), 8 of bsum pairs
 * (Q4_K, Q5_K: words 2q, 2q + 1 of lane j = the sums of activation j's
 * bsums over sub-blocks 2q and 2q + 1, q < 4; Q6_K: bsums 2q and 2q + 1,
 * q < 8) and 1 of the scales d as floats.
 */
enum { KX_Q = 0, KX_P = 64, KX_D = 72, KX_REGS = 73 };

static void kq_pack_group(const kern_q8_k *const *rows, int nb, int type, __m512i *X)
{
	for (int k = 0; k < nb; k++) {
		__m512i *xk = X + (size_t)KX_REGS * k;
		for (int c = 0; c < 8; c++) {
			const int8_t *p[KL];
			for (int j = 0; j < KL; j++)
				p[j] = rows[j][k].q + 32 * c;
			transpose32(p, xk + KX_Q + 8 * c);
		}
		int32_t pr[8][KL];
		float d[KL];
		for (int j = 0; j < KL; j++) {
			const int16_t *bs = rows[j][k].bsums;
			for (int q = 0; q < 8; q++) {
				int a, b;
				if (type == KQ_Q6_K) {
					a = bs[2 * q];
					b = bs[2 * q + 1];
				} else if (q < 4) { /* |sum of 32 quants| <= 4096 */
					a = bs[4 * q] + bs[4 * q + 1];
					b = bs[4 * q + 2] + bs[4 * q + 3];
				} else {
					a = b = 0;
				}
				pr[q][j] =
				    (int32_t)((uint32_t)(uint16_t)a | (uint32_t)(uint16_t)b << 16);
			}
			d[j] = rows[j][k].d;
		}
		for (int q = 0; q < 8; q++)
			_mm512_store_si512(xk + KX_P + q, _mm512_loadu_si512(pr[q]));
		_mm512_store_ps((float *)(xk + KX_D), _mm512_loadu_ps(d));
	}
}

/*
 * One weight super-block unpacked: u the values in element order (Q6_K:
 * plus 32, so 0..63), sc the sub-block scales (8 of 32 elements, or 16 of
 * 16 for Q6_K), pr the weight side of the pair sums (Q4_K, Q5_K: mins 2q
 * and 2q + 1 as int16 words; Q6_K: scales 2q, 2q + 1), d and dmin.
 */
struct kw {
	uint8_t u[256];
	int32_t sc[16];
	int32_t pr[8];
	float d, dmin;
};

INLINE void kw_unpack(const char *wb, int type, struct kw *W)
{
	const __m256i m4 = _mm256_set1_epi8(15);
	if (type == KQ_Q6_K) {
		const kern_q6_k *b = (const void *)wb;
		const __m256i m3 = _mm256_set1_epi8(3);
		for (int h = 0; h < 2; h++) {
			__m256i l0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32));
			__m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
			__m256i lo[4] = {_mm256_and_si256(l0, m4), _mm256_and_si256(l1, m4),
			                 _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
			                 _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4)};
			for (int c = 0; c < 4; c++) {
				__m256i hb = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), m3);
				__m256i v = _mm256_or_si256(lo[c], _mm256_slli_epi16(hb, 4));
				_mm256_storeu_si256((__m256i *)(W->u + 128 * h + 32 * c), v);
			}
		}
		const __m128i sc = _mm_loadu_si128((const __m128i *)b->scales);
		_mm512_storeu_si512(W->sc, _mm512_cvtepi8_epi32(sc));
		_mm256_storeu_si256((__m256i *)W->pr, _mm256_cvtepi8_epi16(sc));
		W->d = h2f(b->d);
		W->dmin = 0.0f;
		return;
	}
	/* Q4_K and Q5_K share the layout up to qs (Q5_K puts qh before it) */
	const kern_q4_k *b4 = (const void *)wb;
	const kern_q5_k *b5 = (const void *)wb;
	const uint8_t *qs = type == KQ_Q5_K ? b5->qs : b4->qs;
	const uint8_t *s = b4->scales;
	__m256i qh =
	    type == KQ_Q5_K ? _mm256_loadu_si256((const __m256i *)b5->qh) : _mm256_setzero_si256();
	const __m256i one = _mm256_set1_epi8(1);
	for (int g = 0; g < 4; g++) {
		__m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * g));
		__m256i lo = _mm256_and_si256(q, m4);
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
		if (type == KQ_Q5_K) {
			__m256i bl = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one);
			__m256i bh = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one);
			lo = _mm256_or_si256(lo, _mm256_slli_epi16(bl, 4));
			hi = _mm256_or_si256(hi, _mm256_slli_epi16(bh, 4));
		}
		_mm256_storeu_si256((__m256i *)(W->u + 64 * g), lo);
		_mm256_storeu_si256((__m256i *)(W->u + 64 * g + 32), hi);
	}
	/* words 0-7 the scales, 8-15 the mins: mins 2q and 2q + 1 are the
	 * int16 pair pr[q] as they lie */
	const __m256i scm = scale_min_k4(s);
	_mm256_storeu_si256((__m256i *)W->sc, _mm256_cvtepu16_epi32(_mm256_castsi256_si128(scm)));
	_mm_storeu_si128((__m128i *)W->pr, _mm256_extracti128_si256(scm, 1));
	W->d = h2f(b4->d);
	W->dmin = h2f(b4->dmin);
}

INLINE __m512i bcast32(const uint8_t *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return _mm512_set1_epi32(v);
}

/* one row's nb super-blocks, unpacked (the next rows' bytes prefetched) */
static void kq_prep_k(const char *wr, const char *wn, int nb, int type, void *out)
{
	const size_t wsz = kern_qinfo_at((enum kern_qtype)type)->bytes;
	struct kw *W = out;
	for (int k = 0; k < nb; k++) {
		for (size_t l = 0; l < wsz; l += 64)
			_mm_prefetch(wn + (size_t)k * wsz + l, _MM_HINT_T0);
		kw_unpack(wr + (size_t)k * wsz, type, &W[k]);
	}
}

/*
 * KR weight rows (W[r]: the unpacked super-blocks of row r) x G lane groups
 * (X[g]) over nb super-blocks: out[r * ldo + KL * g + j] = the dot of row r
 * and activation j of group g. Called with constant type and G.
 */
INLINE void kq_tile(const struct kw *const *Wr, int type, const __m512i *const *X, int G, int nb,
                    float *out, int ldo)
{
	const int q6 = type == KQ_Q6_K, nsub = q6 ? 16 : 8, wps = q6 ? 4 : 8, npr = q6 ? 8 : 4;
	__m512 A[8][KR][KG], M[8][KR][KG];
	for (int k = 0; k < nb; k++) {
		const struct kw *W[KR];
#pragma GCC unroll 4
		for (int r = 0; r < KR; r++)
			W[r] = Wr[r] + k;
		const __m512i *xk[KG];
#pragma GCC unroll 2
		for (int g = 0; g < G; g++)
			xk[g] = X[g] + (size_t)KX_REGS * k;
		__m512i S[KR][KG];
#pragma GCC unroll 4
		for (int r = 0; r < KR; r++)
#pragma GCC unroll 2
			for (int g = 0; g < G; g++)
				S[r][g] = _mm512_setzero_si512();
		for (int j = 0; j < nsub; j++) {
			__m512i I[KR][KG];
#pragma GCC unroll 4
			for (int r = 0; r < KR; r++)
#pragma GCC unroll 2
				for (int g = 0; g < G; g++)
					I[r][g] = _mm512_setzero_si512();
#pragma GCC unroll 8
			for (int t = 0; t < wps; t++) {
				const int e = j * wps + t;
				__m512i xv[KG];
#pragma GCC unroll 2
				for (int g = 0; g < G; g++)
					xv[g] = _mm512_load_si512(xk[g] + KX_Q + e);
#pragma GCC unroll 4
				for (int r = 0; r < KR; r++) {
					const __m512i wv = bcast32(W[r]->u + 4 * e);
#pragma GCC unroll 2
					for (int g = 0; g < G; g++)
						I[r][g] = _mm512_dpbusd_epi32(I[r][g], wv, xv[g]);
				}
			}
#pragma GCC unroll 4
			for (int r = 0; r < KR; r++) {
				const __m512i sc = _mm512_set1_epi32(W[r]->sc[j]);
#pragma GCC unroll 2
				for (int g = 0; g < G; g++)
					S[r][g] = _mm512_add_epi32(S[r][g],
					                           _mm512_mullo_epi32(I[r][g], sc));
			}
		}
		const int kk = k & 7, first = k < 8;
#pragma GCC unroll 4
		for (int r = 0; r < KR; r++)
#pragma GCC unroll 2
			for (int g = 0; g < G; g++) {
				__m512i p = _mm512_setzero_si512();
				for (int q = 0; q < npr; q++)
					p = _mm512_dpwssd_epi32(p,
					                        _mm512_load_si512(xk[g] + KX_P + q),
					                        _mm512_set1_epi32(W[r]->pr[q]));
				const __m512 xd = _mm512_load_ps((const float *)(xk[g] + KX_D));
				__m512i isum = S[r][g];
				if (q6) /* the offset: 32 * sum_g scales[g] * bsums[g] */
					isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(p, 5));
				const __m512 s = _mm512_mul_ps(xd, _mm512_set1_ps(W[r]->d));
				A[kk][r][g] =
				    _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(isum),
				                    first ? _mm512_setzero_ps() : A[kk][r][g]);
				if (!q6) {
					const __m512 sm =
					    _mm512_mul_ps(xd, _mm512_set1_ps(W[r]->dmin));
					M[kk][r][g] = _mm512_fmadd_ps(sm, _mm512_cvtepi32_ps(p),
					                              first ? _mm512_setzero_ps()
					                                    : M[kk][r][g]);
				}
			}
	}
	/* contract 8 fold of A and M: w = 4, 2, 1, then A - M */
#pragma GCC unroll 4
	for (int r = 0; r < KR; r++)
#pragma GCC unroll 2
		for (int g = 0; g < G; g++) {
			__m512 a0 = _mm512_add_ps(ACC(A, 0), ACC(A, 4));
			__m512 a1 = _mm512_add_ps(ACC(A, 1), ACC(A, 5));
			__m512 a2 = _mm512_add_ps(ACC(A, 2), ACC(A, 6));
			__m512 a3 = _mm512_add_ps(ACC(A, 3), ACC(A, 7));
			__m512 a = _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
			if (!q6) {
				__m512 m0 = _mm512_add_ps(ACC(M, 0), ACC(M, 4));
				__m512 m1 = _mm512_add_ps(ACC(M, 1), ACC(M, 5));
				__m512 m2 = _mm512_add_ps(ACC(M, 2), ACC(M, 6));
				__m512 m3 = _mm512_add_ps(ACC(M, 3), ACC(M, 7));
				a = _mm512_sub_ps(
				    a, _mm512_add_ps(_mm512_add_ps(m0, m2), _mm512_add_ps(m1, m3)));
			}
			_mm512_storeu_ps(out + r * ldo + KL * g, a);
		}
}

#define KQ_TILE_TYPE(T)                                                                            \
	static void kq_tile_##T(const void *const *W, const __m512i *const *X, int G, int nb,      \
	                        float *out, int ldo)                                               \
	{                                                                                          \
		const struct kw *const *w = (const struct kw *const *)W;                           \
		if (G == 3)                                                                        \
			kq_tile(w, T, X, 3, nb, out, ldo);                                         \
		else if (G == 2)                                                                   \
			kq_tile(w, T, X, 2, nb, out, ldo);                                         \
		else                                                                               \
			kq_tile(w, T, X, 1, nb, out, ldo);                                         \
	}

KQ_TILE_TYPE(KQ_Q4_K)
KQ_TILE_TYPE(KQ_Q5_K)
KQ_TILE_TYPE(KQ_Q6_K)

/* ---- Q4_0, Q5_0 with Q8_0; Q4_1, Q5_1 with Q8_1 (contract 7) ---- */

/*
 * One lane group's block k, X32_REGS registers at G + X32_REGS * k: 8 of
 * quants (transpose32), 1 of the scales d as floats, 1 of C: Q4_0 and Q5_0
 * the start of each integer sum, -off * sum(q) with the weights' offset
 * off (8 or 16; the weights go in unsigned), Q4_1 and Q5_1 the floats
 * f32(s).
 */
enum { X32_Q = 0, X32_D = 8, X32_C = 9, X32_REGS = 10 };

INLINE int has_min32(int type)
{
	return type == KQ_Q4_1 || type == KQ_Q5_1;
}

static void kq_pack_group32(const void *const *rows, int nb, int type, __m512i *X)
{
	const size_t xsz = has_min32(type) ? sizeof(kern_q8_1) : sizeof(kern_q8_0);
	const size_t qoff = has_min32(type) ? offsetof(kern_q8_1, q) : offsetof(kern_q8_0, q);
	const int off = type == KQ_Q4_0 ? 8 : 16;
	const __m512i ones = _mm512_set1_epi8(1);
	for (int k = 0; k < nb; k++) {
		__m512i *xk = X + (size_t)X32_REGS * k;
		const int8_t *p[KL];
		uint16_t d[KL], c[KL];
		for (int j = 0; j < KL; j++) {
			const char *b = (const char *)rows[j] + (size_t)k * xsz;
			p[j] = (const int8_t *)(b + qoff);
			d[j] = u16at(b);
			c[j] = has_min32(type) ? u16at(b + 2) : 0;
		}
		transpose32(p, xk + X32_Q);
		_mm512_store_ps((float *)(xk + X32_D),
		                _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)d)));
		if (has_min32(type)) {
			_mm512_store_ps((float *)(xk + X32_C),
			                _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)c)));
		} else {
			__m512i sum = _mm512_setzero_si512();
			for (int t = 0; t < 8; t++)
				sum = _mm512_dpbusd_epi32(sum, ones, xk[X32_Q + t]);
			_mm512_store_si512(xk + X32_C,
			                   _mm512_mullo_epi32(sum, _mm512_set1_epi32(-off)));
		}
	}
}

/* one weight block unpacked: its values 0..31 (offset not taken) in
 * element order, the scale d and minimum m as floats */
struct kw32 {
	uint8_t u[32];
	float d, m;
};

static void kq_prep_32(const char *wr, const char *wn, int nb, int type, void *out)
{
	const size_t wsz = kern_qinfo_at((enum kern_qtype)type)->bytes;
	const size_t qoff = type == KQ_Q4_0   ? offsetof(kern_q4_0, qs)
	                    : type == KQ_Q4_1 ? offsetof(kern_q4_1, qs)
	                    : type == KQ_Q5_0 ? offsetof(kern_q5_0, qs)
	                                      : offsetof(kern_q5_1, qs);
	const size_t hoff = type == KQ_Q5_0 ? offsetof(kern_q5_0, qh) : offsetof(kern_q5_1, qh);
	const int high = type == KQ_Q5_0 || type == KQ_Q5_1;
	const __m128i m4 = _mm_set1_epi8(15);
	const __m256i b16 = _mm256_set1_epi8(16);
	struct kw32 *W = out;
	for (int k = 0; k < nb; k++) {
		const char *b = wr + (size_t)k * wsz;
		if (k % 2 == 0)
			_mm_prefetch(wn + (size_t)k * wsz, _MM_HINT_T0);
		const __m128i q = _mm_loadu_si128((const __m128i *)(b + qoff));
		__m256i v =
		    _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m4), _mm_and_si128(q, m4));
		if (high) {
			uint32_t h;
			memcpy(&h, b + hoff, 4);
			v = _mm256_mask_add_epi8(v, (__mmask32)h, v, b16);
		}
		_mm256_storeu_si256((__m256i *)W[k].u, v);
		W[k].d = h2f(u16at(b));
		W[k].m = has_min32(type) ? h2f(u16at(b + 2)) : 0.0f;
	}
}

/*
 * As kq_tile for the 32-blocks: per block k, the exact sums start at C (or
 * zero), eight vpdpbusd, then A[k % 8] = fma(f32(w.d) * f32(x.d), isum,
 * A[k % 8]) and, with a minimum, M[k % 8] = fma(f32(w.m), f32(x.s),
 * M[k % 8]); the result fold8(A) (+ fold8(M)).
 */
INLINE void kq_tile32(const struct kw32 *const *Wr, int type, const __m512i *const *X, int G,
                      int nb, float *out, int ldo)
{
	const int mins = has_min32(type);
	__m512 A[8][KR][KG32], M[8][KR][KG32];
	for (int k = 0; k < nb; k++) {
		const struct kw32 *W[KR];
#pragma GCC unroll 4
		for (int r = 0; r < KR; r++)
			W[r] = Wr[r] + k;
		const __m512i *xk[KG32];
#pragma GCC unroll 4
		for (int g = 0; g < G; g++)
			xk[g] = X[g] + (size_t)X32_REGS * k;
		__m512i I[KR][KG32];
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			const __m512i c =
			    mins ? _mm512_setzero_si512() : _mm512_load_si512(xk[g] + X32_C);
#pragma GCC unroll 4
			for (int r = 0; r < KR; r++)
				I[r][g] = c;
		}
#pragma GCC unroll 8
		for (int t = 0; t < 8; t++) {
			__m512i xv[KG32];
#pragma GCC unroll 4
			for (int g = 0; g < G; g++)
				xv[g] = _mm512_load_si512(xk[g] + X32_Q + t);
#pragma GCC unroll 4
			for (int r = 0; r < KR; r++) {
				const __m512i wv = bcast32(W[r]->u + 4 * t);
#pragma GCC unroll 4
				for (int g = 0; g < G; g++)
					I[r][g] = _mm512_dpbusd_epi32(I[r][g], wv, xv[g]);
			}
		}
		const int kk = k & 7, first = k < 8;
#pragma GCC unroll 4
		for (int r = 0; r < KR; r++) {
			const __m512 wd = _mm512_set1_ps(W[r]->d), wm = _mm512_set1_ps(W[r]->m);
#pragma GCC unroll 4
			for (int g = 0; g < G; g++) {
				const __m512 s = _mm512_mul_ps(
				    wd, _mm512_load_ps((const float *)(xk[g] + X32_D)));
				A[kk][r][g] =
				    _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(I[r][g]),
				                    first ? _mm512_setzero_ps() : A[kk][r][g]);
				if (mins)
					M[kk][r][g] = _mm512_fmadd_ps(
					    wm, _mm512_load_ps((const float *)(xk[g] + X32_C)),
					    first ? _mm512_setzero_ps() : M[kk][r][g]);
			}
		}
	}
#pragma GCC unroll 4
	for (int r = 0; r < KR; r++)
#pragma GCC unroll 4
		for (int g = 0; g < G; g++) {
			__m512 a0 = _mm512_add_ps(ACC(A, 0), ACC(A, 4));
			__m512 a1 = _mm512_add_ps(ACC(A, 1), ACC(A, 5));
			__m512 a2 = _mm512_add_ps(ACC(A, 2), ACC(A, 6));
			__m512 a3 = _mm512_add_ps(ACC(A, 3), ACC(A, 7));
			__m512 a = _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
			if (mins) {
				__m512 m0 = _mm512_add_ps(ACC(M, 0), ACC(M, 4));
				__m512 m1 = _mm512_add_ps(ACC(M, 1), ACC(M, 5));
				__m512 m2 = _mm512_add_ps(ACC(M, 2), ACC(M, 6));
				__m512 m3 = _mm512_add_ps(ACC(M, 3), ACC(M, 7));
				a = _mm512_add_ps(
				    a, _mm512_add_ps(_mm512_add_ps(m0, m2), _mm512_add_ps(m1, m3)));
			}
			_mm512_storeu_ps(out + r * ldo + KL * g, a);
		}
}

#define KQ_TILE32_TYPE(T)                                                                          \
	static void kq_tile_##T(const void *const *W, const __m512i *const *X, int G, int nb,      \
	                        float *out, int ldo)                                               \
	{                                                                                          \
		const struct kw32 *const *w = (const struct kw32 *const *)W;                       \
		switch (G) {                                                                       \
		case 4:                                                                            \
			kq_tile32(w, T, X, 4, nb, out, ldo);                                       \
			break;                                                                     \
		case 3:                                                                            \
			kq_tile32(w, T, X, 3, nb, out, ldo);                                       \
			break;                                                                     \
		case 2:                                                                            \
			kq_tile32(w, T, X, 2, nb, out, ldo);                                       \
			break;                                                                     \
		default:                                                                           \
			kq_tile32(w, T, X, 1, nb, out, ldo);                                       \
			break;                                                                     \
		}                                                                                  \
	}

KQ_TILE32_TYPE(KQ_Q4_0)
KQ_TILE32_TYPE(KQ_Q4_1)
KQ_TILE32_TYPE(KQ_Q5_0)
KQ_TILE32_TYPE(KQ_Q5_1)

/* ---- the driver ---- */

/* prefetch distance of the weight stream, bytes */
#ifndef KQ_PREFETCH
#define KQ_PREFETCH 16384
#endif

/* what differs between the block families */
struct kq_family {
	size_t xregs; /* registers per block of a lane group's activations */
	size_t wprep; /* bytes per prepared weight block */
	int kg;       /* lane groups per tile */
	void (*pack)(const void *const *rows, int nb, int type, __m512i *X);
	void (*prep)(const char *wr, const char *wn, int nb, int type, void *out);
	void (*tile)(const void *const *W, const __m512i *const *X, int G, int nb, float *out,
	             int ldo);
};

static void kq_pack_group_k(const void *const *rows, int nb, int type, __m512i *X)
{
	kq_pack_group((const kern_q8_k *const *)rows, nb, type, X);
}

static int kq_family_of(int type, struct kq_family *f)
{
	const int k = type == KQ_Q4_K || type == KQ_Q5_K || type == KQ_Q6_K;
	if (!k && type != KQ_Q4_0 && type != KQ_Q4_1 && type != KQ_Q5_0 && type != KQ_Q5_1)
		return -1;
	f->xregs = k ? KX_REGS : X32_REGS;
	f->wprep = k ? sizeof(struct kw) : sizeof(struct kw32);
	f->kg = k ? KG : KG32;
	f->pack = k ? kq_pack_group_k : kq_pack_group32;
	f->prep = k ? kq_prep_k : kq_prep_32;
	f->tile = type == KQ_Q4_K   ? kq_tile_KQ_Q4_K
	          : type == KQ_Q5_K ? kq_tile_KQ_Q5_K
	          : type == KQ_Q6_K ? kq_tile_KQ_Q6_K
	          : type == KQ_Q4_0 ? kq_tile_KQ_Q4_0
	          : type == KQ_Q4_1 ? kq_tile_KQ_Q4_1
	          : type == KQ_Q5_0 ? kq_tile_KQ_Q5_0
	                            : kq_tile_KQ_Q5_1;
	return 0;
}

int kq_gemm_avx512(int type, const void *w, int ldw, const void *x, int ldx, float *y, int ldy,
                   int n, int row0, int row1, int batch)
{
	struct kq_family F;
	if (batch < KQ_GEMM_MIN || row1 <= row0 || kq_family_of(type, &F))
		return -1;
	const kern_qinfo *qi = kern_qinfo_at((enum kern_qtype)type);
	const int nb = n / qi->block;
	if (nb <= 0)
		return -1;
	const size_t rowb = (size_t)ldw * qi->bytes, xrowb = (size_t)ldx * qi->act_bytes;
	const size_t group_regs = F.xregs * (size_t)nb;
	const size_t wrow = (F.wprep * (size_t)nb + 63) & ~(size_t)63;
	char *buf = kern_scratch(KCHUNK * group_regs * sizeof(__m512i) + KR * wrow);
	if (!buf)
		return -1;
	__m512i *xbuf = (__m512i *)buf;
	char *wbuf = buf + KCHUNK * group_regs * sizeof(__m512i);
	/* rows ahead whose weights a row's preparation prefetches: at least
	 * KQ_PREFETCH bytes (the weights stream from memory once per chunk) */
	const int ahead = rowb >= KQ_PREFETCH ? 1 : (int)((KQ_PREFETCH + rowb - 1) / rowb);
	float obuf[KRB + KR][KCHUNK * KL]; /* a short last tile writes past row KRB */
	for (int b0 = 0; b0 < batch; b0 += KCHUNK * KL) {
		const int cnt = batch - b0 < KCHUNK * KL ? batch - b0 : KCHUNK * KL;
		const int ng = (cnt + KL - 1) / KL;
		const __m512i *X[KCHUNK];
		for (int g = 0; g < ng; g++) {
			const void *rows[KL];
			for (int j = 0; j < KL; j++) { /* unused lanes repeat the last activation */
				const int b = g * KL + j < cnt ? g * KL + j : cnt - 1;
				rows[j] = (const char *)x + (size_t)(b0 + b) * xrowb;
			}
			F.pack(rows, nb, type, xbuf + (size_t)g * group_regs);
			X[g] = xbuf + (size_t)g * group_regs;
		}
		/* rows in blocks of KRB, whose outputs gather in obuf and go to y
		 * a run of rows per activation; the first block ends where
		 * activation 0's outputs reach a 64-byte boundary, so that the
		 * others write whole cache lines (y's rows are ldy apart, often a
		 * multiple of 4 KiB, and lines written in parts would keep
		 * evicting each other from their cache set) */
		const int skew =
		    (int)((uintptr_t)(y + (size_t)b0 * ldy + row0) / sizeof(float) % KRB);
		for (int rb = row0, rbe; rb < row1; rb = rbe) {
			rbe = rb + (rb == row0 && skew ? KRB - skew : KRB);
			rbe = rbe < row1 ? rbe : row1;
			for (int r = rb; r < rbe; r += KR) {
				const int R = rbe - r < KR ? rbe - r : KR;
				const void *W[KR];
				for (int i = 0; i < KR; i++) { /* a short tile repeats row r */
					if (i >= R) {
						W[i] = W[0];
						continue;
					}
					const char *wr = (const char *)w + (size_t)(r + i) * rowb;
					const char *wn =
					    r + i + ahead < row1 ? wr + (size_t)ahead * rowb : wr;
					F.prep(wr, wn, nb, type, wbuf + i * wrow);
					W[i] = wbuf + i * wrow;
				}
				/* the lane groups in as few tiles as F.kg allows, of even sizes */
				const int tiles = (ng + F.kg - 1) / F.kg;
				for (int g0 = 0, ti = 0; g0 < ng; ti++) {
					const int G = (ng - g0 + (tiles - ti) - 1) / (tiles - ti);
					F.tile(W, X + g0, G, nb, obuf[r - rb] + KL * g0,
					       KCHUNK * KL);
					g0 += G;
				}
			}
			kern_avx512_store_rows(obuf[0], KCHUNK * KL, rbe - rb, cnt,
			                       y + (size_t)b0 * ldy + rb, ldy);
		}
	}
	return 0;
}

#else

int kq_gemm_avx512(int q, const void *w, int ldw, const void *x, int ldx, float *y, int ldy, int n,
                   int row0, int row1, int batch)
{
	(void)q, (void)w, (void)ldw, (void)x, (void)ldx, (void)y, (void)ldy, (void)n, (void)row0,
	    (void)row1, (void)batch;
	return -1;
}

#endif
