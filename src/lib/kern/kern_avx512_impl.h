/*
 * kern_avx512_impl.h - what the AVX-512 kernel files share: the build
 * guard, the register steps several of them take (the contract 1 fold, tail
 * masks, the output transpose of the lane-group products, which the block
 * types' kern_quant_avx512_gemm.c takes too), and the kernels each file
 * gives the table (kern_avx512.c puts it together). Internal to
 * src/lib/kern. KERN_AVX512_BUILT is defined only where a file is compiled
 * with the AVX-512 flags (the Makefile gives them to every file whose name
 * has "_avx512"); elsewhere kern_avx512_table() is NULL and the other files
 * hold no code.
 */
#ifndef DAI_KERN_AVX512_IMPL_H
#define DAI_KERN_AVX512_IMPL_H

#include "kern.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) &&                      \
    defined(__AVX512DQ__) && defined(__AVX512VNNI__) && defined(__AVX2__) && defined(__FMA__) &&   \
    defined(__F16C__)
#define KERN_AVX512_BUILT 1

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

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

/* lanes [0, cnt) of a register, 0 <= cnt <= 16 */
INLINE __mmask16 lanes_to(int cnt)
{
	return (__mmask16)((1u << cnt) - 1);
}

/*
 * The outputs of a block of nr <= 16 rows (in[i * ldi + j]: row i,
 * activation j) into y (y[j * ldy + i]) for activations j < cnt: a 16 x 16
 * transpose per 16 activations, one (masked) store per activation. The
 * lane-group products (Q8_0 and the block types) write their outputs so.
 */
static inline void kern_avx512_store_rows(const float *in, int ldi, int nr, int cnt, float *y,
                                          int ldy)
{
	__mmask16 m = (__mmask16)((1u << nr) - 1);
	for (int j0 = 0; j0 < cnt; j0 += 16) {
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
		int n = cnt - j0 < 16 ? cnt - j0 : 16;
		float *yj = y + (size_t)j0 * ldy;
		if (nr == 16)
			for (int j = 0; j < n; j++)
				_mm512_storeu_ps(yj + (size_t)j * ldy, o[j]);
		else
			for (int j = 0; j < n; j++)
				_mm512_mask_storeu_ps(yj + (size_t)j * ldy, m, o[j]);
	}
}

/* kern_avx512_q8.c */
void kern_avx512_matmul_q8_0(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y,
                             int ldy, int n, int row0, int row1, int batch);

/* kern_avx512_rows.c: attention's kernels and the row helpers */
void kern_avx512_wsum(const float *p, const float *v, int ldv, int T, float *y, int n);
void kern_avx512_wsum_batch(const float *p, int ldp, const int *T, int nb, const float *v, int ldv,
                            float *y, int ldy, int n);
void kern_avx512_scale(const float *x, float s, float *y, int n);
void kern_avx512_softmax(const float *x, float *y, int n);
void kern_avx512_silu(const float *x, float *y, int n);
void kern_avx512_swiglu(const float *g, const float *u, float *y, int n);

/* kern_avx2.c: the table the AVX-512 one starts from */
const kern_table *kern_avx2_table(void);

#endif /* built for AVX-512 */

#endif
