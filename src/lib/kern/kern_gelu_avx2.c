/* kern_gelu_avx2.c - see kern_gelu.h: the GELU-gated product, 8 lanes (AVX2, F16C). */
#include <immintrin.h>

#include "f16.h"
#include "kern_gelu.h"

void kern_geglu_avx2(const float *g, const float *u, float *y, int n)
{
	const uint16_t *t = kern_gelu_table();
	const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
	const __m256i low16 = _mm256_set1_epi32(0xffff);
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(g + i);
		/* f16(x), round to nearest even, as f32_to_f16 */
		__m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT);
		__m256i idx = _mm256_cvtepu16_epi32(h);
		/* 32 bits at t + idx: the entry in the low half (little-endian) */
		__m256i v = _mm256_and_si256(_mm256_i32gather_epi32((const int *)t, idx, 2), low16);
		__m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0x08);
		__m256 r = _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
		r = _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, hi, _CMP_GE_OQ));
		r = _mm256_andnot_ps(_mm256_cmp_ps(x, lo, _CMP_LE_OQ), r);
		_mm256_storeu_ps(y + i, _mm256_mul_ps(r, _mm256_loadu_ps(u + i)));
	}
	for (; i < n; i++)
		y[i] = kern_gelu(g[i]) * u[i];
}
