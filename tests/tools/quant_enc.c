/* quant_enc.c - see quant_enc.h. */
#include <stddef.h>

#include "quant_enc.h"

#include <math.h>
#include <string.h>

#include "ggml_type.h"
#include "kern/f16.h"
#include "kern/kern_quant.h"

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* the smallest half >= x (x >= 0, finite) */
static uint16_t half_up(float x)
{
	uint16_t h = f32_to_f16(x);
	while (f16_to_f32(h) < x)
		h++;
	return h;
}

static void put_nibbles(uint8_t *qs, const int *u)
{
	for (int j = 0; j < 16; j++)
		qs[j] = (uint8_t)((u[j] & 15) | (u[j + 16] & 15) << 4);
}

static void put_bit4(uint8_t *qh, const int *u)
{
	memset(qh, 0, 4);
	for (int j = 0; j < 32; j++)
		qh[j / 8] |= (uint8_t)(((u[j] >> 4) & 1) << (j % 8));
}

/* Q4_0 / Q5_0 (bits 4 or 5): d = (value of largest magnitude) / -2^(bits-1) */
static void enc_sym(const float *x, int bits, uint16_t *d, int *u)
{
	float amax = 0, max = 0;
	for (int j = 0; j < 32; j++)
		if (fabsf(x[j]) > amax)
			amax = fabsf(x[j]), max = x[j];
	int half = 1 << (bits - 1);
	float df = max / (float)-half, id = df != 0.0f ? 1.0f / df : 0.0f;
	*d = f32_to_f16(df);
	for (int j = 0; j < 32; j++) {
		int v = (int)(int8_t)(x[j] * id + ((float)half + 0.5f));
		u[j] = clampi(v, 0, 2 * half - 1);
	}
}

/* Q4_1 / Q5_1: d = (max - min) / (2^bits - 1), m = min */
static void enc_min(const float *x, int bits, uint16_t *d, uint16_t *m, int *u)
{
	float lo = x[0], hi = x[0];
	for (int j = 1; j < 32; j++) {
		lo = x[j] < lo ? x[j] : lo;
		hi = x[j] > hi ? x[j] : hi;
	}
	int top = (1 << bits) - 1;
	float df = (hi - lo) / (float)top, id = df != 0.0f ? 1.0f / df : 0.0f;
	*d = f32_to_f16(df);
	*m = f32_to_f16(lo);
	for (int j = 0; j < 32; j++)
		u[j] = clampi((int)(int8_t)((x[j] - lo) * id + 0.5f), 0, top);
}

static void put_scales_k4(uint8_t *s, const int *sc, const int *m)
{
	for (int j = 0; j < 4; j++) {
		s[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
		s[j + 4] = (uint8_t)(m[j] | (m[j + 4] >> 4) << 6);
		s[j + 8] = (uint8_t)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
	}
}

/* Q4_K / Q5_K: mins first (offsets >= 0 below each sub-block), then scales */
static void enc_k4(const float *x, int top, uint16_t *d, uint16_t *dmin, uint8_t *scales, int *u)
{
	float lo[8], mmax = 0;
	for (int j = 0; j < 8; j++) {
		lo[j] = 0;
		for (int i = 0; i < 32; i++)
			lo[j] = x[32 * j + i] < lo[j] ? x[32 * j + i] : lo[j];
		mmax = -lo[j] > mmax ? -lo[j] : mmax;
	}
	*dmin = mmax > 0 ? half_up(mmax / 63.0f) : 0;
	int sc[8], mn[8];
	float s[8], smax = 0, fm = f16_to_f32(*dmin);
	for (int j = 0; j < 8; j++) {
		mn[j] = fm > 0 ? clampi((int)ceilf(-lo[j] / fm), 0, 63) : 0;
		float base = fm * (float)mn[j], hi = 0;
		for (int i = 0; i < 32; i++)
			hi = x[32 * j + i] + base > hi ? x[32 * j + i] + base : hi;
		s[j] = hi / (float)top;
		smax = s[j] > smax ? s[j] : smax;
	}
	*d = smax > 0 ? half_up(smax / 63.0f) : 0;
	float fd = f16_to_f32(*d);
	for (int j = 0; j < 8; j++) {
		sc[j] = fd > 0 ? clampi((int)ceilf(s[j] / fd), 0, 63) : 0;
		float st = fd * (float)sc[j], base = fm * (float)mn[j];
		for (int i = 0; i < 32; i++)
			u[32 * j + i] =
			    st > 0 ? clampi((int)lrintf((x[32 * j + i] + base) / st), 0, top) : 0;
	}
	put_scales_k4(scales, sc, mn);
}

static void put_k4(uint8_t *qs, uint8_t *qh, const int *u)
{
	if (qh)
		memset(qh, 0, 32);
	for (int g = 0; g < 4; g++)
		for (int i = 0; i < 32; i++) {
			int lo = u[64 * g + i], hi = u[64 * g + 32 + i];
			qs[32 * g + i] = (uint8_t)((lo & 15) | (hi & 15) << 4);
			if (qh)
				qh[i] |= (uint8_t)(((lo >> 4) & 1) << (2 * g) | ((hi >> 4) & 1)
				                                                    << (2 * g + 1));
		}
}

static void enc_q6_k(const float *x, kern_q6_k *b)
{
	float s[16], smax = 0;
	for (int g = 0; g < 16; g++) {
		float a = 0;
		for (int i = 0; i < 16; i++)
			a = fabsf(x[16 * g + i]) > a ? fabsf(x[16 * g + i]) : a;
		s[g] = a / 31.0f;
		smax = s[g] > smax ? s[g] : smax;
	}
	b->d = smax > 0 ? half_up(smax / 127.0f) : 0;
	float fd = f16_to_f32(b->d);
	memset(b->ql, 0, sizeof b->ql);
	memset(b->qh, 0, sizeof b->qh);
	int u[256];
	for (int g = 0; g < 16; g++) {
		int sc = fd > 0 ? clampi((int)ceilf(s[g] / fd), 0, 127) : 0;
		b->scales[g] = (int8_t)sc;
		float st = fd * (float)sc;
		for (int i = 0; i < 16; i++)
			u[16 * g + i] =
			    (st > 0 ? clampi((int)lrintf(x[16 * g + i] / st), -32, 31) : 0) + 32;
	}
	for (int h = 0; h < 2; h++)
		for (int c = 0; c < 4; c++)
			for (int l = 0; l < 32; l++) {
				int v = u[128 * h + 32 * c + l];
				int at = 64 * h + 32 * (c & 1) + l;
				b->ql[at] |= (uint8_t)(c < 2 ? v & 15 : (v & 15) << 4);
				b->qh[32 * h + l] |= (uint8_t)((v >> 4) << (2 * c));
			}
}

size_t quant_enc_row(uint32_t type, const float *x, void *y, int n)
{
	const kern_qinfo *qi = kern_qinfo_of((enum kern_type)type);
	if (!qi || n % qi->block)
		return 0;
	int nb = n / qi->block, u[256];
	for (int k = 0; k < nb; k++) {
		const float *xb = x + (size_t)k * qi->block;
		void *out = (char *)y + (size_t)k * qi->bytes;
		switch (type) {
		case GGML_TYPE_Q4_0: {
			kern_q4_0 *b = out;
			enc_sym(xb, 4, &b->d, u);
			put_nibbles(b->qs, u);
			break;
		}
		case GGML_TYPE_Q5_0: {
			kern_q5_0 *b = out;
			enc_sym(xb, 5, &b->d, u);
			put_nibbles(b->qs, u);
			put_bit4(b->qh, u);
			break;
		}
		case GGML_TYPE_Q4_1: {
			kern_q4_1 *b = out;
			enc_min(xb, 4, &b->d, &b->m, u);
			put_nibbles(b->qs, u);
			break;
		}
		case GGML_TYPE_Q5_1: {
			kern_q5_1 *b = out;
			enc_min(xb, 5, &b->d, &b->m, u);
			put_nibbles(b->qs, u);
			put_bit4(b->qh, u);
			break;
		}
		case GGML_TYPE_Q4_K: {
			kern_q4_k *b = out;
			enc_k4(xb, 15, &b->d, &b->dmin, b->scales, u);
			put_k4(b->qs, NULL, u);
			break;
		}
		case GGML_TYPE_Q5_K: {
			kern_q5_k *b = out;
			enc_k4(xb, 31, &b->d, &b->dmin, b->scales, u);
			put_k4(b->qs, b->qh, u);
			break;
		}
		case GGML_TYPE_Q6_K:
			enc_q6_k(xb, out);
			break;
		case GGML_TYPE_BF16: {
			uint16_t h = (uint16_t)(f16_f32_to_bits(kern_round_bf16(*xb)) >> 16);
			memcpy(out, &h, 2);
			break;
		}
		default:
			return 0;
		}
	}
	return (size_t)nb * qi->bytes;
}
