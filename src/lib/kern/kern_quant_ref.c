/*
 * kern_quant_ref.c - the scalar reference of kern_quant.h. Like kern_ref.c
 * it DEFINES the arithmetic (kern.h contract items 6-9): each block is first
 * unpacked into its integers exactly as the contract describes the format,
 * then the sums are taken in the contract's order. The AVX2 table must
 * match it bit for bit.
 */
#include "kern_quant.h"

#include <math.h>
#include <string.h>

#include "f16.h"

/* ---- shared helpers ---- */

static float fold8(float *A)
{
	for (int w = 4; w >= 1; w /= 2)
		for (int j = 0; j < w; j++)
			A[j] = A[j] + A[j + w];
	return A[0];
}

float kern_round_bf16(float x)
{
	uint32_t u = f16_f32_to_bits(x);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return f16_bits_to_f32((u | 0x00400000u) & 0xffff0000u); /* quiet NaN */
	u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
	return f16_bits_to_f32(u);
}

static float maxps(float a, float b)
{
	return a > b ? a : b;
}

static float abs_bits(float x)
{
	return f16_bits_to_f32(f16_f32_to_bits(x) & 0x7fffffffu);
}

/* amax of 32 floats by the maxps tree of contract 3a */
static float block_amax(const float *x)
{
	float m[8], p[4], s[2];
	for (int j = 0; j < 8; j++) {
		float v = abs_bits(x[j]);
		v = maxps(v, abs_bits(x[j + 8]));
		v = maxps(v, abs_bits(x[j + 16]));
		m[j] = maxps(v, abs_bits(x[j + 24]));
	}
	for (int j = 0; j < 4; j++)
		p[j] = maxps(m[j + 4], m[j]);
	for (int j = 0; j < 2; j++)
		s[j] = maxps(p[j], p[j + 2]);
	return maxps(s[0], s[1]);
}

/* rne + cvtps_epi32 + saturating packs to int8 (contract 3a) */
static int8_t q8_round(float v)
{
	if (!(v >= -0x1p31f && v < 0x1p31f))
		return -128;
	if (v >= 0x1p22f)
		return 127;
	if (v <= -0x1p22f)
		return -128;
	float r = (v + 0x1.8p23f) - 0x1.8p23f;
	int c = (int)r;
	return (int8_t)(c > 127 ? 127 : c < -128 ? -128 : c);
}

/* ---- activations ---- */

static void ref_quantize_q8_1(const float *x, kern_q8_1 *y, int n)
{
	for (int b = 0; b < n / KERN_QK; b++, x += KERN_QK) {
		float amax = block_amax(x);
		float d = amax / 127.0f;
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;
		int32_t sum = 0;
		for (int j = 0; j < KERN_QK; j++) {
			y[b].q[j] = q8_round(x[j] * id);
			sum += y[b].q[j];
		}
		y[b].d = f32_to_f16(d);
		y[b].s = f32_to_f16(d * (float)sum);
	}
}

static void ref_quantize_q8_k(const float *x, kern_q8_k *y, int n)
{
	for (int b = 0; b < n / KERN_QK_K; b++, x += KERN_QK_K) {
		float amax = 0.0f, max = 0.0f;
		for (int j = 0; j < KERN_QK_K; j++) {
			float ax = fabsf(x[j]);
			if (ax > amax) {
				amax = ax;
				max = x[j];
			}
		}
		memset(&y[b], 0, sizeof y[b]);
		if (amax == 0.0f)
			continue;
		float iscale = -127.0f / max;
		for (int j = 0; j < KERN_QK_K; j++)
			y[b].q[j] = q8_round(iscale * x[j]);
		for (int g = 0; g < 16; g++) {
			int s = 0;
			for (int i = 0; i < 16; i++)
				s += y[b].q[16 * g + i];
			y[b].bsums[g] = (int16_t)s;
		}
		y[b].d = 1.0f / iscale;
	}
}

static void ref_round_bf16(const float *x, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = kern_round_bf16(x[i]);
}

/* ---- unpacking: the integers of one block (contract 7, 8) ---- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* nibbles of 16 bytes: element j low nibble of qs[j], element j+16 high */
static void nibbles(const uint8_t *qs, int *v)
{
	for (int j = 0; j < 16; j++) {
		v[j] = qs[j] & 15;
		v[j + 16] = qs[j] >> 4;
	}
}

static void add_high_bits(const uint8_t *qh, int *v)
{
	uint32_t h = le32(qh);
	for (int j = 0; j < 32; j++)
		v[j] |= (int)((h >> j) & 1u) << 4;
}

static void vals_q4_0(const void *b, int *v)
{
	nibbles(((const kern_q4_0 *)b)->qs, v);
	for (int j = 0; j < 32; j++)
		v[j] -= 8;
}

static void vals_q4_1(const void *b, int *v)
{
	nibbles(((const kern_q4_1 *)b)->qs, v);
}

static void vals_q5_0(const void *b, int *v)
{
	const kern_q5_0 *q = b;
	nibbles(q->qs, v);
	add_high_bits(q->qh, v);
	for (int j = 0; j < 32; j++)
		v[j] -= 16;
}

static void vals_q5_1(const void *b, int *v)
{
	const kern_q5_1 *q = b;
	nibbles(q->qs, v);
	add_high_bits(q->qh, v);
}

/* 6-bit scales and mins of Q4_K / Q5_K (contract 8b) */
static void scale_min_k4(const uint8_t *s, int *sc, int *m)
{
	for (int j = 0; j < 8; j++) {
		if (j < 4) {
			sc[j] = s[j] & 63;
			m[j] = s[j + 4] & 63;
		} else {
			sc[j] = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4;
			m[j] = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
		}
	}
}

static void vals_k4(const uint8_t *qs, const uint8_t *qh, int *v)
{
	for (int g = 0; g < 4; g++)
		for (int i = 0; i < 32; i++) {
			int lo = qs[32 * g + i] & 15, hi = qs[32 * g + i] >> 4;
			if (qh) {
				lo |= ((qh[i] >> (2 * g)) & 1) << 4;
				hi |= ((qh[i] >> (2 * g + 1)) & 1) << 4;
			}
			v[64 * g + i] = lo;
			v[64 * g + 32 + i] = hi;
		}
}

static void vals_q6_k(const kern_q6_k *b, int *v)
{
	for (int h = 0; h < 2; h++)
		for (int c = 0; c < 4; c++)
			for (int l = 0; l < 32; l++) {
				int byte = b->ql[64 * h + 32 * (c & 1) + l];
				int lo = c < 2 ? byte & 15 : byte >> 4;
				int hi = (b->qh[32 * h + l] >> (2 * c)) & 3;
				v[128 * h + 32 * c + l] = (lo | hi << 4) - 32;
			}
}

/* ---- dots ---- */

static int32_t idot(const int *v, const int8_t *q, int n)
{
	int32_t s = 0;
	for (int j = 0; j < n; j++)
		s += v[j] * q[j];
	return s;
}

/* contract 7a: Q4_0, Q5_0 with Q8_0 */
static float dot_d_q8_0(const void *w, size_t wsz, void (*vals)(const void *, int *),
                        const kern_q8_0 *x, int nb)
{
	float A[8] = {0};
	int v[32];
	for (int k = 0; k < nb; k++) {
		const void *b = (const char *)w + (size_t)k * wsz;
		uint16_t d;
		memcpy(&d, b, 2); /* d is the first field of both */
		vals(b, v);
		int32_t isum = idot(v, x[k].q, 32);
		float s = f16_to_f32(d) * f16_to_f32(x[k].d);
		A[k % 8] = fmaf(s, (float)isum, A[k % 8]);
	}
	return fold8(A);
}

/* contract 7b: Q4_1, Q5_1 with Q8_1 */
static float dot_dm_q8_1(const void *w, size_t wsz, void (*vals)(const void *, int *),
                         const kern_q8_1 *x, int nb)
{
	float A[8] = {0}, M[8] = {0};
	int v[32];
	for (int k = 0; k < nb; k++) {
		const void *b = (const char *)w + (size_t)k * wsz;
		uint16_t dm[2];
		memcpy(dm, b, 4); /* d, m lead both */
		vals(b, v);
		int32_t isum = idot(v, x[k].q, 32);
		float s = f16_to_f32(dm[0]) * f16_to_f32(x[k].d);
		A[k % 8] = fmaf(s, (float)isum, A[k % 8]);
		M[k % 8] = fmaf(f16_to_f32(dm[1]), f16_to_f32(x[k].s), M[k % 8]);
	}
	return fold8(A) + fold8(M);
}

static float ref_dot_q4_0(const void *w, const void *x, int nb)
{
	return dot_d_q8_0(w, sizeof(kern_q4_0), vals_q4_0, x, nb);
}

static float ref_dot_q5_0(const void *w, const void *x, int nb)
{
	return dot_d_q8_0(w, sizeof(kern_q5_0), vals_q5_0, x, nb);
}

static float ref_dot_q4_1(const void *w, const void *x, int nb)
{
	return dot_dm_q8_1(w, sizeof(kern_q4_1), vals_q4_1, x, nb);
}

static float ref_dot_q5_1(const void *w, const void *x, int nb)
{
	return dot_dm_q8_1(w, sizeof(kern_q5_1), vals_q5_1, x, nb);
}

/* contract 8b */
static void dot_k4(const uint16_t *dd, const uint8_t *scales, const int *v, const kern_q8_k *x,
                   float *A, float *M, int k)
{
	int sc[8], m[8];
	scale_min_k4(scales, sc, m);
	int32_t isum = 0, msum = 0;
	for (int j = 0; j < 8; j++) {
		isum += sc[j] * idot(v + 32 * j, x->q + 32 * j, 32);
		msum += m[j] * (x->bsums[2 * j] + x->bsums[2 * j + 1]);
	}
	A[k % 8] = fmaf(x->d * f16_to_f32(dd[0]), (float)isum, A[k % 8]);
	M[k % 8] = fmaf(x->d * f16_to_f32(dd[1]), (float)msum, M[k % 8]);
}

static float ref_dot_q4_k(const void *w, const void *x, int nb)
{
	const kern_q4_k *b = w;
	const kern_q8_k *y = x;
	float A[8] = {0}, M[8] = {0};
	int v[256];
	for (int k = 0; k < nb; k++) {
		uint16_t dd[2] = {b[k].d, b[k].dmin};
		vals_k4(b[k].qs, NULL, v);
		dot_k4(dd, b[k].scales, v, &y[k], A, M, k);
	}
	return fold8(A) - fold8(M);
}

static float ref_dot_q5_k(const void *w, const void *x, int nb)
{
	const kern_q5_k *b = w;
	const kern_q8_k *y = x;
	float A[8] = {0}, M[8] = {0};
	int v[256];
	for (int k = 0; k < nb; k++) {
		uint16_t dd[2] = {b[k].d, b[k].dmin};
		vals_k4(b[k].qs, b[k].qh, v);
		dot_k4(dd, b[k].scales, v, &y[k], A, M, k);
	}
	return fold8(A) - fold8(M);
}

/* contract 8c */
static float ref_dot_q6_k(const void *w, const void *x, int nb)
{
	const kern_q6_k *b = w;
	const kern_q8_k *y = x;
	float A[8] = {0};
	int v[256];
	for (int k = 0; k < nb; k++) {
		vals_q6_k(&b[k], v);
		int32_t isum = 0;
		for (int e = 0; e < KERN_QK_K; e++)
			v[e] += 32; /* u of contract 8c; the offset goes through bsums */
		for (int g = 0; g < 16; g++)
			isum += b[k].scales[g] *
			        (idot(v + 16 * g, y[k].q + 16 * g, 16) - 32 * y[k].bsums[g]);
		A[k % 8] = fmaf(y[k].d * f16_to_f32(b[k].d), (float)isum, A[k % 8]);
	}
	return fold8(A);
}

/* contract 6: canonical 32-lane dot of bf16 weights and rounded floats */
static float ref_dot_bf16(const void *w, const void *x, int n)
{
	const uint16_t *h = w;
	const float *xf = x;
	float L[32] = {0};
	for (int i = 0; i < n; i++)
		L[i % 32] = fmaf(f16_bits_to_f32((uint32_t)h[i] << 16), xf[i], L[i % 32]);
	for (int s = 16; s >= 1; s /= 2)
		for (int j = 0; j < s; j++)
			L[j] = L[j] + L[j + s];
	return L[0];
}

/* ---- dequantization (contract 9) ---- */

static void deq_d(const void *w, size_t wsz, void (*vals)(const void *, int *), float *y, int n)
{
	int v[32];
	for (int k = 0; k < n / KERN_QK; k++) {
		const void *b = (const char *)w + (size_t)k * wsz;
		uint16_t d;
		memcpy(&d, b, 2);
		vals(b, v);
		for (int j = 0; j < 32; j++)
			y[32 * k + j] = f16_to_f32(d) * (float)v[j];
	}
}

static void deq_dm(const void *w, size_t wsz, void (*vals)(const void *, int *), float *y, int n)
{
	int v[32];
	for (int k = 0; k < n / KERN_QK; k++) {
		const void *b = (const char *)w + (size_t)k * wsz;
		uint16_t dm[2];
		memcpy(dm, b, 4);
		vals(b, v);
		for (int j = 0; j < 32; j++)
			y[32 * k + j] = f16_to_f32(dm[0]) * (float)v[j] + f16_to_f32(dm[1]);
	}
}

static void ref_deq_q4_0(const void *w, float *y, int n)
{
	deq_d(w, sizeof(kern_q4_0), vals_q4_0, y, n);
}

static void ref_deq_q5_0(const void *w, float *y, int n)
{
	deq_d(w, sizeof(kern_q5_0), vals_q5_0, y, n);
}

static void ref_deq_q4_1(const void *w, float *y, int n)
{
	deq_dm(w, sizeof(kern_q4_1), vals_q4_1, y, n);
}

static void ref_deq_q5_1(const void *w, float *y, int n)
{
	deq_dm(w, sizeof(kern_q5_1), vals_q5_1, y, n);
}

static void deq_k4(uint16_t d, uint16_t dmin, const uint8_t *scales, const int *v, float *y)
{
	int sc[8], m[8];
	scale_min_k4(scales, sc, m);
	for (int j = 0; j < 8; j++) {
		float d1 = f16_to_f32(d) * (float)sc[j];
		float m1 = f16_to_f32(dmin) * (float)m[j];
		for (int i = 0; i < 32; i++)
			y[32 * j + i] = d1 * (float)v[32 * j + i] - m1;
	}
}

static void ref_deq_q4_k(const void *w, float *y, int n)
{
	const kern_q4_k *b = w;
	int v[256];
	for (int k = 0; k < n / KERN_QK_K; k++) {
		vals_k4(b[k].qs, NULL, v);
		deq_k4(b[k].d, b[k].dmin, b[k].scales, v, y + (size_t)k * KERN_QK_K);
	}
}

static void ref_deq_q5_k(const void *w, float *y, int n)
{
	const kern_q5_k *b = w;
	int v[256];
	for (int k = 0; k < n / KERN_QK_K; k++) {
		vals_k4(b[k].qs, b[k].qh, v);
		deq_k4(b[k].d, b[k].dmin, b[k].scales, v, y + (size_t)k * KERN_QK_K);
	}
}

static void ref_deq_q6_k(const void *w, float *y, int n)
{
	const kern_q6_k *b = w;
	int v[256];
	for (int k = 0; k < n / KERN_QK_K; k++) {
		vals_q6_k(&b[k], v);
		for (int e = 0; e < KERN_QK_K; e++)
			y[(size_t)k * KERN_QK_K + e] =
			    (f16_to_f32(b[k].d) * (float)b[k].scales[e / 16]) * (float)v[e];
	}
}

static void ref_deq_bf16(const void *w, float *y, int n)
{
	const uint16_t *h = w;
	for (int i = 0; i < n; i++)
		y[i] = f16_bits_to_f32((uint32_t)h[i] << 16);
}

/* ---- matrix products (contract 4) ---- */

#define REF_MATMUL(T, WT, XT, DIV)                                                                 \
	static void ref_matmul_##T(const void *w, int ldw, const void *x, int ldx, float *y,       \
	                           int ldy, int n, int row0, int row1, int batch)                  \
	{                                                                                          \
		for (int r = row0; r < row1; r++)                                                  \
			for (int b = 0; b < batch; b++)                                            \
				y[(size_t)b * ldy + r] =                                           \
				    ref_dot_##T((const WT *)w + (size_t)r * ldw,                   \
				                (const XT *)x + (size_t)b * ldx, n / (DIV));       \
	}

REF_MATMUL(q4_0, kern_q4_0, kern_q8_0, KERN_QK)
REF_MATMUL(q4_1, kern_q4_1, kern_q8_1, KERN_QK)
REF_MATMUL(q5_0, kern_q5_0, kern_q8_0, KERN_QK)
REF_MATMUL(q5_1, kern_q5_1, kern_q8_1, KERN_QK)
REF_MATMUL(q4_k, kern_q4_k, kern_q8_k, KERN_QK_K)
REF_MATMUL(q5_k, kern_q5_k, kern_q8_k, KERN_QK_K)
REF_MATMUL(q6_k, kern_q6_k, kern_q8_k, KERN_QK_K)
REF_MATMUL(bf16, uint16_t, float, 1)

static const kern_qtable ref_qtable = {
    .name = "ref",
    .quantize_q8_1 = ref_quantize_q8_1,
    .quantize_q8_k = ref_quantize_q8_k,
    .round_bf16 = ref_round_bf16,
    .dequant = {ref_deq_q4_0, ref_deq_q4_1, ref_deq_q5_0, ref_deq_q5_1, ref_deq_q4_k, ref_deq_q5_k,
                ref_deq_q6_k, ref_deq_bf16},
    .dot = {ref_dot_q4_0, ref_dot_q4_1, ref_dot_q5_0, ref_dot_q5_1, ref_dot_q4_k, ref_dot_q5_k,
            ref_dot_q6_k, ref_dot_bf16},
    .matmul = {ref_matmul_q4_0, ref_matmul_q4_1, ref_matmul_q5_0, ref_matmul_q5_1, ref_matmul_q4_k,
               ref_matmul_q5_k, ref_matmul_q6_k, ref_matmul_bf16},
};

const kern_qtable *kern_quant_ref(void)
{
	return &ref_qtable;
}
