/*
 * kern_avx512_impl.h - what the files of the AVX-512 table share: the
 * build guard, the register steps both the matrix products and the row
 * kernels take, and the kernels each file gives the table (kern_avx512.c
 * puts it together). Internal to src/lib/kern. KERN_AVX512_BUILT is
 * defined only where a file is compiled with the AVX-512 flags (the
 * Makefile gives them to every file whose name has "_avx512"); elsewhere
 * the files build their stubs.
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
