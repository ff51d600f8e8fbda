/*
 * kern_avx2_steps.h - the register forms of the contract steps that both
 * AVX2 tables (kern_avx2.c, kern_quant_avx2.c) take: the lane mask of a
 * tail, the fold of 8 lanes (contract 3b) and the maxps tree of a block's
 * amax (contract 3a). Internal to src/lib/kern; include it only where
 * __AVX2__, __FMA__ and __F16C__ are defined.
 */
#ifndef DAI_KERN_AVX2_STEPS_H
#define DAI_KERN_AVX2_STEPS_H

#include <immintrin.h>
#include <stdint.h>

#define KERN_AVX2_STEP static inline __attribute__((always_inline))

/* lanes [0, cnt) set, 0 <= cnt <= 8 */
KERN_AVX2_STEP __m256i kern_lane_mask(int cnt)
{
	static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
	return _mm256_loadu_si256((const __m256i *)(m + 8 - cnt));
}

/* the fold of contract 3b on 8 lanes in a register: lanes j + (j+4), then
 * j + (j+2), then 0 + 1 */
KERN_AVX2_STEP float kern_fold8_reg(__m256 a)
{
	__m128 v = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
	v = _mm_add_ps(v, _mm_movehl_ps(v, v));
	v = _mm_add_ss(v, _mm_movehdup_ps(v));
	return _mm_cvtss_f32(v);
}

/* the maxps tree of contract 3a over the 32 floats v0 (0-7) .. v3 (24-31) */
KERN_AVX2_STEP float kern_amax32(__m256 v0, __m256 v1, __m256 v2, __m256 v3)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 m = _mm256_andnot_ps(sign, v0);
	m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v1));
	m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v2));
	m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v3));
	__m128 p = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
	p = _mm_max_ps(p, _mm_movehl_ps(p, p));
	p = _mm_max_ss(p, _mm_movehdup_ps(p));
	return _mm_cvtss_f32(p);
}

#endif
