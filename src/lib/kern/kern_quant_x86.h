/*
 * kern_quant_x86.h - helpers both x86 block-type tables (kern_quant_avx2.c,
 * kern_quant_avx512.c) take: unaligned reads of block fields, a half as a
 * float, the K-quant scale and min decode and the exact lane sums of eight
 * blocks. Internal to src/lib/kern; include it only where __AVX2__,
 * __FMA__ and __F16C__ are defined.
 */
#ifndef DAI_KERN_QUANT_X86_H
#define DAI_KERN_QUANT_X86_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define KERN_QUANT_X86 static inline __attribute__((always_inline))

/* the uint16 at p (unaligned) */
KERN_QUANT_X86 uint16_t u16at(const char *p)
{
	uint16_t h;
	memcpy(&h, p, 2);
	return h;
}

/* a half as a float, by F16C (exact; NaNs stay NaN) */
KERN_QUANT_X86 float h2f(uint16_t h)
{
	return _cvtsh_ss(h);
}

/* 8 exact int32 sums of eight consecutive blocks' partials, one per lane */
KERN_QUANT_X86 __m256i lanes8(const __m256i *p)
{
	__m256i h01 = _mm256_hadd_epi32(p[0], p[1]);
	__m256i h23 = _mm256_hadd_epi32(p[2], p[3]);
	__m256i h45 = _mm256_hadd_epi32(p[4], p[5]);
	__m256i h67 = _mm256_hadd_epi32(p[6], p[7]);
	__m256i q0 = _mm256_hadd_epi32(h01, h23);
	__m256i q1 = _mm256_hadd_epi32(h45, h67);
	return _mm256_add_epi32(_mm256_permute2x128_si256(q0, q1, 0x20),
	                        _mm256_permute2x128_si256(q0, q1, 0x31));
}

/* 8 exact int32 sums of eight 4-lane partials, one per lane */
KERN_QUANT_X86 __m256i lanes8x4(const __m128i *m)
{
	__m128i q0 = _mm_hadd_epi32(_mm_hadd_epi32(m[0], m[1]), _mm_hadd_epi32(m[2], m[3]));
	__m128i q1 = _mm_hadd_epi32(_mm_hadd_epi32(m[4], m[5]), _mm_hadd_epi32(m[6], m[7]));
	return _mm256_set_m128i(q1, q0);
}

/*
 * The 8 scales and 8 mins of contract 8b as int16 lanes 0-7 and 8-15, by
 * word operations: word 0 = s[0..3] & 63 (sc 0-3), word 1 = low nibbles of
 * s[8..11] | top bits of s[0..3] (sc 4-7), word 2 = s[4..7] & 63 (m 0-3),
 * word 3 = high nibbles of s[8..11] | top bits of s[4..7] (m 4-7).
 */
KERN_QUANT_X86 __m256i scale_min_k4(const uint8_t *s)
{
	/* the 16 bytes at s: the 12 of the scales and 4 of what follows in the
	 * block, unused; u32 lanes u0 u1 u2 and one unused */
	const __m128i u = _mm_loadu_si128((const __m128i *)s);
	const __m128i a = _mm_srlv_epi32(_mm_shuffle_epi32(u, _MM_SHUFFLE(2, 1, 2, 0)),
	                                 _mm_setr_epi32(0, 0, 0, 4));    /* u0 u2 u1 u2>>4 */
	const __m128i b = _mm_shuffle_epi32(u, _MM_SHUFFLE(1, 1, 0, 0)); /* u0 u0 u1 u1 */
	const __m128i w = _mm_or_si128(
	    _mm_and_si128(a, _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f)),
	    _mm_and_si128(_mm_srli_epi32(b, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030)));
	return _mm256_cvtepu8_epi16(w);
}

#endif
