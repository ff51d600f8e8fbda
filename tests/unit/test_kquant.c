/*
 * Unit tests: the kernels of kern_quant.h (kern.h contract items 6-9).
 *
 * - format: integers and scales packed here by an independent encoder (the
 *   inverse of the layouts in kern.h) dequantize to exactly the values of
 *   contract 9;
 * - round trip: floats quantized by a simple encoder of each format come
 *   back within half a quantization step;
 * - the AVX2 and AVX-512 tables equal the reference bit for bit (memcmp) for
 *   activation quantization, dots (random bytes, edge values: extreme and
 *   non-finite scales, all -128 activations, largest weights, odd block
 *   counts) and matrix products over batches, row ranges and thread splits
 *   (the AVX-512 cases are skipped, with a message, on a CPU without it);
 * - the reference dot equals the contract's integer sums computed here.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern/f16.h"
#include "kern/kern.h"
#include "kern/kern_quant.h"
#include "ggml_type.h"
#include "pool.h"
#include "tools/test_rng.h"
#include "tools/quant_enc.h"

/* ---- helpers ---- */

static int rint_in(rng *r, int lo, int hi)
{
	return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static void rbytes(rng *r, void *p, size_t n)
{
	unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)rng_next(r);
}

/* a half scale: mostly moderate, sometimes negative, zero, subnormal or large */
static uint16_t rscale(rng *r)
{
	uint64_t k = rng_next(r) % 32;
	if (k == 0)
		return 0;
	if (k == 1)
		return (uint16_t)(rng_next(r) & 0x3ff); /* subnormal */
	if (k == 2)
		return f32_to_f16(ldexpf(rng_uni(r), 10));
	return f32_to_f16(rng_uni(r) * 0.05f);
}

static const kern_qtable *need_avx2(void)
{
	const kern_table *a = kern_avx2();
	if (!a)
		cr_skip_test("CPU has no AVX2+FMA+F16C");
	return kern_quant_for(a);
}

static const kern_qtable *need_avx512(void)
{
	const kern_qtable *t = kern_quant_avx512_table();
	if (!t)
		cr_skip_test(
		    "CPU (or build) has no AVX-512 F/BW/DQ/VL/VNNI/VBMI: avx512 cases skipped");
	return t;
}

static const kern_qinfo *qinfo(int q)
{
	return kern_qinfo_at((enum kern_qtype)q);
}

/* ---- an independent encoder: integers and scales -> blocks ---- */

/* u = v + 32 in [0, 63] */
static void put_q6_k(kern_q6_k *b, const int *u)
{
	memset(b->ql, 0, sizeof b->ql);
	memset(b->qh, 0, sizeof b->qh);
	for (int h = 0; h < 2; h++)
		for (int c = 0; c < 4; c++)
			for (int l = 0; l < 32; l++) {
				int x = u[128 * h + 32 * c + l];
				int at = 64 * h + 32 * (c & 1) + l;
				b->ql[at] |= (uint8_t)(c < 2 ? x & 15 : (x & 15) << 4);
				b->qh[32 * h + l] |= (uint8_t)((x >> 4) << (2 * c));
			}
}

/*
 * One block of type q from integers u (unsigned form: v + offset), scales
 * d, m (halves) and, for K-quants, sub-block scales sc and mins mn. Writes
 * the values of contract 9 to want.
 */
static void encode(int q, const int *u, uint16_t d, uint16_t m, const int *sc, const int *mn,
                   void *blk, float *want)
{
	float fd = f16_to_f32(d), fm = f16_to_f32(m);
	switch (q) {
	case KQ_Q4_0:
	case KQ_Q5_0: {
		int off = q == KQ_Q4_0 ? 8 : 16;
		if (q == KQ_Q4_0) {
			kern_q4_0 *b = blk;
			b->d = d;
			quant_put_nibbles(b->qs, u);
		} else {
			kern_q5_0 *b = blk;
			b->d = d;
			quant_put_nibbles(b->qs, u);
			quant_put_bit4(b->qh, u);
		}
		for (int j = 0; j < 32; j++)
			want[j] = fd * (float)(u[j] - off);
		break;
	}
	case KQ_Q4_1:
	case KQ_Q5_1: {
		if (q == KQ_Q4_1) {
			kern_q4_1 *b = blk;
			b->d = d;
			b->m = m;
			quant_put_nibbles(b->qs, u);
		} else {
			kern_q5_1 *b = blk;
			b->d = d;
			b->m = m;
			quant_put_nibbles(b->qs, u);
			quant_put_bit4(b->qh, u);
		}
		for (int j = 0; j < 32; j++)
			want[j] = fd * (float)u[j] + fm;
		break;
	}
	case KQ_Q4_K:
	case KQ_Q5_K: {
		uint8_t *scales, *qs, *qh = NULL;
		if (q == KQ_Q4_K) {
			kern_q4_k *b = blk;
			b->d = d;
			b->dmin = m;
			scales = b->scales;
			qs = b->qs;
		} else {
			kern_q5_k *b = blk;
			b->d = d;
			b->dmin = m;
			scales = b->scales;
			qs = b->qs;
			qh = b->qh;
		}
		quant_put_scales_k4(scales, sc, mn);
		quant_put_k4(qs, qh, u);
		for (int e = 0; e < 256; e++)
			want[e] = (fd * (float)sc[e / 32]) * (float)u[e] - fm * (float)mn[e / 32];
		break;
	}
	case KQ_Q6_K: {
		kern_q6_k *b = blk;
		b->d = d;
		for (int g = 0; g < 16; g++)
			b->scales[g] = (int8_t)sc[g];
		put_q6_k(b, u);
		for (int e = 0; e < 256; e++)
			want[e] = (fd * (float)sc[e / 16]) * (float)(u[e] - 32);
		break;
	}
	}
}

static int ubits(int q)
{
	return q == KQ_Q4_0 || q == KQ_Q4_1 || q == KQ_Q4_K ? 4 : q == KQ_Q6_K ? 6 : 5;
}

/* equal bits, or both NaN (a NaN's sign and payload are not in the contract) */
static int same_float(float a, float b)
{
	return !memcmp(&a, &b, sizeof a) || (isnan(a) && isnan(b));
}

/* ---- format: encoder -> dequant, exactly contract 9 ---- */

Test(kquant, format_dequant_exact)
{
	rng r = {11};
	const kern_qtable *tabs[3] = {kern_quant_ref(), kern_avx2() ? need_avx2() : NULL,
	                              kern_quant_avx512_table()};
	if (!tabs[1]) /* the list ends at the first missing table */
		tabs[2] = NULL;
	for (int q = 0; q < KQ_BF16; q++) {
		const kern_qinfo *qi = qinfo(q);
		for (int rep = 0; rep < 200; rep++) {
			int u[256], sc[16], mn[8];
			int top = (1 << ubits(q)) - 1;
			for (int e = 0; e < qi->block; e++)
				u[e] = rep == 0 ? top : rep == 1 ? 0 : rint_in(&r, 0, top);
			for (int g = 0; g < 16; g++)
				sc[g] = q == KQ_Q6_K ? rint_in(&r, -128, 127) : rint_in(&r, 0, 63);
			for (int g = 0; g < 8; g++)
				mn[g] = rint_in(&r, 0, 63);
			unsigned char blk[256];
			float want[256], got[256];
			encode(q, u, rscale(&r), rscale(&r), sc, mn, blk, want);
			for (int t = 0; t < 3 && tabs[t]; t++) {
				memset(got, 0xff, sizeof got);
				tabs[t]->dequant[q](blk, got, qi->block);
				cr_assert_eq(memcmp(got, want, sizeof(float) * (size_t)qi->block),
				             0, "%s %s rep %d", tabs[t]->name, qi->name, rep);
			}
		}
	}
}

Test(kquant, format_hand_blocks)
{
	/* Q4_0: d = 0.5, element 0 nibble 0 -> -4.0, element 16 nibble 15 -> 3.5 */
	kern_q4_0 b = {f32_to_f16(0.5f), {0}};
	memset(b.qs, 0x88, 16); /* all elements 8 -> 0.0 */
	b.qs[0] = 0xf0;
	float y[256];
	kern_quant_ref()->dequant[KQ_Q4_0](&b, y, 32);
	cr_assert(y[0] == -4.0f && y[16] == 3.5f && y[1] == 0.0f && y[31] == 0.0f);
	/* Q5_1: d = 1, m = -2; element 31 has its 5th bit (qh bit 31) and nibble 15 */
	kern_q5_1 c = {f32_to_f16(1.0f), f32_to_f16(-2.0f), {0, 0, 0, 0x80}, {0}};
	c.qs[15] = 0xf0;
	kern_quant_ref()->dequant[KQ_Q5_1](&c, y, 32);
	cr_assert(y[31] == 29.0f && y[15] == -2.0f && y[0] == -2.0f);
	/* Q6_K: d = 1, scales[15] = -2; element 255 = h 1, c 3, l 31: ql[127] high, qh[63] >> 6 */
	kern_q6_k k;
	memset(&k, 0, sizeof k);
	k.d = f32_to_f16(1.0f);
	k.scales[15] = -2;
	k.ql[127] = 0x50; /* low bits 5 */
	k.qh[63] = 0xc0;  /* high bits 3 -> u = 53, v = 21 */
	kern_quant_ref()->dequant[KQ_Q6_K](&k, y, 256);
	cr_assert(y[255] == -42.0f, "%g", (double)y[255]);
	cr_assert(y[0] == 0.0f * -32.0f); /* scale 0 */
	/* BF16 */
	uint16_t h[2] = {0x3f80, 0xc040};
	kern_quant_ref()->dequant[KQ_BF16](h, y, 2);
	cr_assert(y[0] == 1.0f && y[1] == -3.0f);
}

/* ---- round trip: floats -> a simple encoder -> dequant ---- */

/* the smallest half >= x > 0 */
static uint16_t f16_up(float x)
{
	uint16_t h = f32_to_f16(x);
	while (f16_to_f32(h) < x)
		h++;
	return h;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

Test(kquant, round_trip_within_half_step)
{
	rng r = {29};
	for (int q = 0; q < KQ_BF16; q++) {
		const kern_qinfo *qi = qinfo(q);
		int top = (1 << ubits(q)) - 1;
		for (int rep = 0; rep < 100; rep++) {
			float x[256], y[256], want[256], step[256];
			float amp = ldexpf(1.0f, rint_in(&r, -8, 6));
			for (int e = 0; e < qi->block; e++)
				x[e] = rng_uni(&r) * amp;
			int u[256], sc[16] = {0}, mn[8] = {0};
			uint16_t d = 0, m = 0;
			if (q == KQ_Q4_0 || q == KQ_Q5_0) {
				int half = (top + 1) / 2; /* v in [-half, half - 1] */
				float amax = 0;
				for (int e = 0; e < 32; e++)
					amax = fmaxf(amax, fabsf(x[e]));
				d = f16_up(amax / (float)(half - 1));
				for (int e = 0; e < 32; e++) {
					u[e] = clampi((int)lrintf(x[e] / f16_to_f32(d)), -half,
					              half - 1) +
					       half;
					step[e] = f16_to_f32(d);
				}
			} else if (q == KQ_Q4_1 || q == KQ_Q5_1) {
				float lo = x[0], hi = x[0];
				for (int e = 0; e < 32; e++)
					lo = fminf(lo, x[e]), hi = fmaxf(hi, x[e]);
				m = f32_to_f16(lo);
				while (f16_to_f32(m) > lo)
					m = f32_to_f16(f16_to_f32(m) - fabsf(lo) * 0x1p-10f);
				d = f16_up((hi - f16_to_f32(m)) / (float)top);
				for (int e = 0; e < 32; e++) {
					u[e] = clampi(
					    (int)lrintf((x[e] - f16_to_f32(m)) / f16_to_f32(d)), 0,
					    top);
					step[e] = f16_to_f32(d);
				}
			} else if (q == KQ_Q6_K) {
				float s[16], smax = 0;
				for (int g = 0; g < 16; g++) {
					float a = 0;
					for (int i = 0; i < 16; i++)
						a = fmaxf(a, fabsf(x[16 * g + i]));
					s[g] = a / 31.0f;
					smax = fmaxf(smax, s[g]);
				}
				d = f16_up(smax / 127.0f);
				for (int g = 0; g < 16; g++) {
					sc[g] = (int)ceilf(s[g] / f16_to_f32(d));
					float st = f16_to_f32(d) * (float)sc[g];
					for (int i = 0; i < 16; i++) {
						int e = 16 * g + i;
						u[e] = clampi((int)lrintf(x[e] / st), -32, 31) + 32;
						step[e] = st;
					}
				}
			} else { /* Q4_K, Q5_K: offsets first, then scales */
				float lo[8], mmax = 0;
				for (int j = 0; j < 8; j++) {
					lo[j] = 0;
					for (int i = 0; i < 32; i++)
						lo[j] = fminf(lo[j], x[32 * j + i]);
					mmax = fmaxf(mmax, -lo[j]);
				}
				m = mmax > 0 ? f16_up(mmax / 63.0f) : 0;
				float s[8], smax = 0;
				for (int j = 0; j < 8; j++) {
					mn[j] = m ? (int)ceilf(-lo[j] / f16_to_f32(m)) : 0;
					float base = f16_to_f32(m) * (float)mn[j], hi = 0;
					for (int i = 0; i < 32; i++)
						hi = fmaxf(hi, x[32 * j + i] + base);
					s[j] = hi / (float)top;
					smax = fmaxf(smax, s[j]);
				}
				d = f16_up(smax / 63.0f);
				for (int j = 0; j < 8; j++) {
					sc[j] = (int)ceilf(s[j] / f16_to_f32(d));
					float st = f16_to_f32(d) * (float)sc[j];
					float base = f16_to_f32(m) * (float)mn[j];
					for (int i = 0; i < 32; i++) {
						int e = 32 * j + i;
						u[e] =
						    clampi((int)lrintf((x[e] + base) / st), 0, top);
						step[e] = st;
					}
				}
			}
			unsigned char blk[256];
			encode(q, u, d, m, sc, mn, blk, want);
			kern_quant_ref()->dequant[q](blk, y, qi->block);
			cr_assert_eq(memcmp(y, want, sizeof(float) * (size_t)qi->block), 0);
			for (int e = 0; e < qi->block; e++)
				cr_assert(fabsf(y[e] - x[e]) <=
				              0.5f * step[e] * 1.001f + amp * 0x1p-20f,
				          "%s rep %d element %d: %g -> %g (step %g)", qi->name, rep,
				          e, (double)x[e], (double)y[e], (double)step[e]);
		}
	}
	/* BF16: error at most half an ulp (2^-8 relative), exact for bf16 values */
	for (int i = 0; i < 10000; i++) {
		float x = rng_uni(&r) * ldexpf(1.0f, rint_in(&r, -100, 100));
		float y = kern_round_bf16(x);
		cr_assert(fabsf(y - x) <= fabsf(x) * 0x1p-8f, "%a -> %a", (double)x, (double)y);
		cr_assert(kern_round_bf16(y) == y);
	}
	cr_assert(kern_round_bf16(1.0f + 0x1p-8f) == 1.0f);               /* tie to even */
	cr_assert(kern_round_bf16(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f); /* tie up to even */
	cr_assert(isnan(kern_round_bf16(NAN)) && isinf(kern_round_bf16(INFINITY)));
}

/* ---- activations: ref vs AVX2 and the contract's definitions ---- */

static void fill_edge(rng *r, float *x, int n)
{
	for (int i = 0; i < n; i++)
		x[i] = rng_val(r);
	/* whole blocks of zeros, a NaN, infinities and ties */
	if (n >= 512) {
		memset(x, 0, 256 * sizeof(float));
		x[300] = NAN;
		x[301] = -INFINITY;
		x[40] = 0.5f; /* with amax 127 in the block below: a tie */
		x[41] = 127.0f;
	}
}

static void activations_vs_ref(const kern_qtable *A)
{
	const kern_qtable *R = kern_quant_ref();
	rng r = {5};
	enum { N = 2048 };
	static float x[N], fa[N], fb[N];
	static kern_q8_1 a1[N / 32], b1[N / 32];
	static kern_q8_k ak[N / 256], bk[N / 256];
	for (int rep = 0; rep < 50; rep++) {
		fill_edge(&r, x, N);
		if (rep % 5 == 1) /* huge values: d and sums near the limits */
			for (int i = 0; i < N; i++)
				x[i] *= 0x1p100f;
		int n = rep % 7 == 3 ? N - 256 : N;
		R->quantize_q8_1(x, a1, n);
		A->quantize_q8_1(x, b1, n);
		cr_assert_eq(memcmp(a1, b1, sizeof(kern_q8_1) * (size_t)(n / 32)), 0, "q8_1 %d",
		             rep);
		R->quantize_q8_k(x, ak, n);
		A->quantize_q8_k(x, bk, n);
		cr_assert_eq(memcmp(ak, bk, sizeof(kern_q8_k) * (size_t)(n / 256)), 0, "q8_k %d",
		             rep);
		R->round_bf16(x, fa, n - rep % 7);
		A->round_bf16(x, fb, n - rep % 7);
		cr_assert_eq(memcmp(fa, fb, sizeof(float) * (size_t)(n - rep % 7)), 0, "bf16 %d",
		             rep);
		/* Q8_1 is Q8_0 plus the sum, and bsums are the sums of q */
		static kern_q8_0 a0[N / 32];
		kern_ref()->quantize_q8_0(x, a0, n);
		for (int b = 0; b < n / 32; b++) {
			cr_assert(a0[b].d == a1[b].d && !memcmp(a0[b].q, a1[b].q, 32));
		}
		for (int b = 0; b < n / 256; b++)
			for (int g = 0; g < 16; g++) {
				int s = 0;
				for (int i = 0; i < 16; i++)
					s += ak[b].q[16 * g + i];
				cr_assert_eq(s, ak[b].bsums[g]);
			}
	}
	/* Q8_K by hand: max = -2 (the first of |2|), iscale = 63.5, d = 1/63.5 */
	float h[256] = {0};
	h[3] = -2.0f;
	h[7] = 2.0f;
	h[8] = 1.0f;
	R->quantize_q8_k(h, ak, 256);
	cr_assert(ak[0].q[3] == -127 && ak[0].q[7] == 127 && ak[0].q[8] == 64); /* 63.5 -> 64 */
	cr_assert(ak[0].d == 1.0f / 63.5f);
	cr_assert(ak[0].bsums[0] == -127 + 127 + 64);
	memset(h, 0, sizeof h);
	h[9] = -0.0f;
	R->quantize_q8_k(h, ak, 256);
	cr_assert(ak[0].d == 0.0f && ak[0].q[9] == 0 && ak[0].bsums[0] == 0);
}

Test(kquant, activations_ref_vs_avx2)
{
	activations_vs_ref(need_avx2());
}

Test(kquant, activations_ref_vs_avx512)
{
	activations_vs_ref(need_avx512());
}

/* ---- dots ---- */

/* random weight blocks: any bytes, but scales from rscale */
static void rand_weights(rng *r, int q, void *w, int nb)
{
	const kern_qinfo *qi = qinfo(q);
	rbytes(r, w, qi->bytes * (size_t)nb);
	for (int k = 0; k < nb; k++) {
		unsigned char *b = (unsigned char *)w + qi->bytes * (size_t)k;
		uint16_t d = rscale(r), m = rscale(r);
		switch (q) {
		case KQ_Q6_K:
			memcpy(b + 208, &d, 2);
			break;
		case KQ_BF16:
			break;
		default:
			memcpy(b, &d, 2);
			if (q != KQ_Q4_0 && q != KQ_Q5_0)
				memcpy(b + 2, &m, 2);
			break;
		}
	}
	if (q == KQ_BF16) /* keep bf16 weights finite and moderate */
		for (int k = 0; k < nb; k++)
			((uint16_t *)w)[k] = (uint16_t)(f16_f32_to_bits(rng_uni(r)) >> 16);
}

/* activations of the weight type: quantized edge floats or raw random bytes */
static void rand_act(rng *r, int q, const kern_table *k, void *act, int n, int raw)
{
	static float x[8192];
	fill_edge(r, x, n);
	kern_act_prep(k, qinfo(q)->type, x, n, n, 1, act);
	if (!raw || q == KQ_BF16)
		return;
	const kern_qinfo *qi = qinfo(q);
	int nb = n / qi->act_block;
	for (int b = 0; b < nb; b++) {
		unsigned char *p = (unsigned char *)act + qi->act_bytes * (size_t)b;
		if (qi->act == KACT_Q8_K) { /* any q, bsums consistent with them */
			kern_q8_k *y = (kern_q8_k *)p;
			rbytes(r, y->q, 256);
			y->d = rng_uni(r);
			for (int g = 0; g < 16; g++) {
				int s = 0;
				for (int i = 0; i < 16; i++)
					s += y->q[16 * g + i];
				y->bsums[g] = (int16_t)s;
			}
		} else {
			rbytes(r, p, qi->act_bytes);
			uint16_t d = rscale(r), sum = rscale(r);
			memcpy(p, &d, 2);
			if (qi->act == KACT_Q8_1)
				memcpy(p + 2, &sum, 2);
		}
	}
}

static void dots_vs_ref(const kern_qtable *A)
{
	const kern_qtable *R = kern_quant_ref();
	rng r = {77};
	static unsigned char w[64 * 1024], act[64 * 1024];
	for (int q = 0; q < KQ_COUNT; q++) {
		const kern_qinfo *qi = qinfo(q);
		for (int rep = 0; rep < 300; rep++) {
			int nb = q == KQ_BF16 ? rint_in(&r, 0, 1100)
			                      : rint_in(&r, 0, qi->block == 32 ? 40 : 12);
			int n = nb * qi->block;
			rand_weights(&r, q, w, nb);
			rand_act(&r, q, kern_ref(), act, n, rep % 2);
			/* exact-size copies, so that the sanitizer build sees any over-read */
			size_t wb = qi->bytes * (size_t)nb, xb = kern_act_bytes(qi->type, n, 1);
			void *wc = malloc(wb ? wb : 1), *xc = malloc(xb ? xb : 1);
			cr_assert(wc && xc);
			memcpy(wc, w, wb);
			memcpy(xc, act, xb);
			float a = R->dot[q](wc, xc, nb), b = A->dot[q](wc, xc, nb);
			free(wc);
			free(xc);
			cr_assert(same_float(a, b), "%s %s nb %d rep %d: %a vs %a", A->name,
			          qi->name, nb, rep, (double)a, (double)b);
		}
	}
}

Test(kquant, dot_ref_vs_avx2)
{
	dots_vs_ref(need_avx2());
}

Test(kquant, dot_ref_vs_avx512)
{
	dots_vs_ref(need_avx512());
}

/*
 * Blocks at the edges of the integer ranges and of the scales: every weight
 * integer at its largest (or smallest), activations all -128 (or 127), and
 * half scales that are zero, subnormal, the largest finite, infinite or NaN.
 */
static void edge_weights(int q, unsigned char *w, int nb, int top, uint16_t d, uint16_t m)
{
	const kern_qinfo *qi = qinfo(q);
	memset(w, top ? 0xff : 0x00, qi->bytes * (size_t)nb);
	for (int k = 0; k < nb; k++) {
		unsigned char *b = w + qi->bytes * (size_t)k;
		if (q == KQ_Q6_K) {
			memcpy(b + 208, &d, 2);
			memset(b + 192, top ? 0x80 : 0x7f, 16); /* scales -128 or 127 */
		} else {
			memcpy(b, &d, 2);
			if (q != KQ_Q4_0 && q != KQ_Q5_0)
				memcpy(b + 2, &m, 2);
		}
	}
}

static void edge_acts(int q, unsigned char *x, int nb, int8_t v, float kd, uint16_t hd)
{
	const kern_qinfo *qi = qinfo(q);
	for (int k = 0; k < nb; k++) {
		unsigned char *p = x + qi->act_bytes * (size_t)k;
		if (qi->act == KACT_Q8_K) {
			kern_q8_k *y = (kern_q8_k *)p;
			memset(y->q, (unsigned char)v, 256);
			y->d = kd;
			for (int g = 0; g < 16; g++)
				y->bsums[g] = (int16_t)(16 * v);
		} else if (qi->act == KACT_Q8_1) {
			kern_q8_1 *y = (kern_q8_1 *)p;
			memset(y->q, (unsigned char)v, 32);
			y->d = hd;
			y->s = hd;
		} else {
			kern_q8_0 *y = (kern_q8_0 *)p;
			memset(y->q, (unsigned char)v, 32);
			y->d = hd;
		}
	}
}

static void edge_dots_vs_ref(const kern_qtable *A)
{
	const kern_qtable *R = kern_quant_ref();
	static unsigned char w[40 * 256], x[40 * 300];
	const uint16_t halves[] = {0x0000, 0x0001, 0x3c00, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00};
	const float kds[] = {0.0f, 1.0f, 0x1p-140f, 3.4e38f, -INFINITY, NAN};
	const int8_t vals[] = {-128, 127, -1};
	for (int q = 0; q < KQ_BF16; q++) {
		const kern_qinfo *qi = qinfo(q);
		for (int nb = 1; nb <= (qi->block == 32 ? 35 : 19); nb += 2)
			for (int top = 0; top < 2; top++)
				for (size_t h = 0; h < sizeof halves / sizeof halves[0]; h++)
					for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
						uint16_t d = halves[h], m = halves[(h + 3) % 8];
						edge_weights(q, w, nb, top, d, m);
						edge_acts(q, x, nb, vals[v], kds[(h + v) % 6],
						          halves[(h + v) % 8]);
						float a = R->dot[q](w, x, nb),
						      b = A->dot[q](w, x, nb);
						cr_assert(
						    same_float(a, b),
						    "%s %s nb %d top %d d %04x x %d: %a vs %a",
						    A->name, qi->name, nb, top, d, vals[v],
						    (double)a, (double)b);
						float ya[4], yb[4];
						R->matmul[q](w, 0, x, 0, ya, 1, nb * qi->block, 0,
						             1, 3);
						A->matmul[q](w, 0, x, 0, yb, 1, nb * qi->block, 0,
						             1, 3);
						for (int i = 0; i < 3; i++)
							cr_assert(same_float(ya[i], yb[i]),
							          "%s %s matmul nb %d", A->name,
							          qi->name, nb);
					}
	}
}

Test(kquant, edge_dots_ref_vs_avx2)
{
	edge_dots_vs_ref(need_avx2());
}

Test(kquant, edge_dots_ref_vs_avx512)
{
	edge_dots_vs_ref(need_avx512());
}

/*
 * A quant table's matrix products straight, as kern_matmul would call them
 * for one task: every row range and batch size against the reference's.
 */
static void qmatmul_vs_ref(const kern_qtable *A)
{
	const kern_qtable *R = kern_quant_ref();
	rng r = {4242};
	enum { ROWS = 21, B = 9 };
	static unsigned char w[ROWS * 24 * 256], act[B * 24 * 300];
	static float ya[B * ROWS], yb[B * ROWS];
	for (int q = 0; q < KQ_BF16; q++) {
		const kern_qinfo *qi = qinfo(q);
		const int nbs[] = {1, 7, 8, 9, 24, 23};
		for (size_t t = 0; t < sizeof nbs / sizeof nbs[0]; t++) {
			int nb = nbs[t], n = nb * qi->block;
			rand_weights(&r, q, w, ROWS * nb);
			for (int b = 0; b < B; b++)
				rand_act(&r, q, kern_ref(), act + kern_act_bytes(qi->type, n, b), n,
				         (int)(t + (size_t)b) % 2);
			for (int batch = 1; batch <= B; batch++) {
				int r0 = batch % 3, r1 = ROWS - batch % 4;
				memset(ya, 0, sizeof ya);
				memset(yb, 0, sizeof yb);
				R->matmul[q](w, nb, act, nb, ya, ROWS, n, r0, r1, batch);
				A->matmul[q](w, nb, act, nb, yb, ROWS, n, r0, r1, batch);
				for (int i = 0; i < B * ROWS; i++)
					cr_assert(same_float(ya[i], yb[i]),
					          "%s %s nb %d batch %d i %d", A->name, qi->name,
					          nb, batch, i);
			}
		}
	}
}

/*
 * Rows longer than what the fast tables repack or prepare on the stack (512,
 * 576 and 2048 blocks of 32) take other paths: the same bits.
 */
static void long_rows_vs_ref(const kern_qtable *A)
{
	const kern_qtable *R = kern_quant_ref();
	rng r = {99};
	const int nbs[] = {509, 515, 571, 580, 2049};
	for (int q = 0; q < KQ_Q4_K; q++) {
		const kern_qinfo *qi = qinfo(q);
		for (size_t t = 0; t < sizeof nbs / sizeof nbs[0]; t++) {
			int nb = nbs[t], n = nb * 32;
			unsigned char *w = malloc(qi->bytes * (size_t)nb * 3);
			unsigned char *x = malloc(qi->act_bytes * (size_t)nb * 2);
			cr_assert(w && x);
			rand_weights(&r, q, w, nb * 3);
			rbytes(&r, x, qi->act_bytes * (size_t)nb * 2);
			for (int k = 0; k < 2 * nb; k++) { /* finite activation scales */
				uint16_t d = rscale(&r);
				memcpy(x + qi->act_bytes * (size_t)k, &d, 2);
				if (qi->act == KACT_Q8_1)
					memcpy(x + qi->act_bytes * (size_t)k + 2, &d, 2);
			}
			float ya[6], yb[6];
			R->matmul[q](w, nb, x, nb, ya, 3, n, 0, 3, 2);
			A->matmul[q](w, nb, x, nb, yb, 3, n, 0, 3, 2);
			for (int i = 0; i < 6; i++)
				cr_assert(same_float(ya[i], yb[i]), "%s %s nb %d: %a vs %a",
				          A->name, qi->name, nb, (double)ya[i], (double)yb[i]);
			float a = R->dot[q](w, x, nb), b = A->dot[q](w, x, nb);
			cr_assert(same_float(a, b), "%s %s dot nb %d", A->name, qi->name, nb);
			free(w);
			free(x);
		}
	}
}

/*
 * Batches of 7 to 130 activations (the fast tables' lane groups of 16, whole
 * and partial, and chunks of 64), row counts and row ranges that are no
 * multiple of a tile, one super-block or a few, random weights with some
 * blocks' scales and mins zero, subnormal, the largest finite, infinite or
 * NaN, activation blocks at their extremes; ldy wider than the rows.
 */
static void gemm_batches_vs_ref(const kern_qtable *A)
{
	const kern_qtable *R = kern_quant_ref();
	rng r = {7177};
	enum { ROWS = 23, LDY = 29, BMAX = 130, NBMAX = 25 };
	static unsigned char w[ROWS * NBMAX * 256], act[BMAX * NBMAX * 300];
	static float ya[BMAX * LDY], yb[BMAX * LDY];
	const uint16_t halves[] = {0x0000, 0x0001, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x3c00};
	const float kds[] = {0.0f, 0x1p-140f, 3.4e38f, -INFINITY, NAN};
	const int batches[] = {7, 8, 15, 16, 17, 31, 33, 47, 48, 49, 64, 65, 100, 130};
	for (int q = 0; q < KQ_BF16; q++) {
		const kern_qinfo *qi = qinfo(q);
		const int nbs32[] = {1, 7, 8, 24, 25}, nbsk[] = {1, 3, 8, 9};
		const int *nbs = qi->block == 32 ? nbs32 : nbsk;
		const int cnt = qi->block == 32 ? 5 : 4;
		for (int t = 0; t < cnt; t++) {
			int nb = nbs[t], n = nb * qi->block;
			rand_weights(&r, q, w, ROWS * nb);
			for (int k = 0; k < ROWS * nb; k++) { /* extreme scales now and then */
				if (rng_next(&r) % 5)
					continue;
				unsigned char *b = w + qi->bytes * (size_t)k;
				uint16_t d = halves[rng_next(&r) % 8], m = halves[rng_next(&r) % 8];
				memcpy(b + (q == KQ_Q6_K ? 208 : 0), &d, 2);
				if (q != KQ_Q6_K && q != KQ_Q4_0 && q != KQ_Q5_0)
					memcpy(b + 2, &m, 2);
			}
			for (int b = 0; b < BMAX; b++) {
				unsigned char *xb = act + kern_act_bytes(qi->type, n, b);
				rand_act(&r, q, kern_ref(), xb, n, (t + b) % 2);
				for (int k = 0; k < nb; k++) /* extreme activation blocks */
					if (rng_next(&r) % 7 == 0) {
						const int8_t vals[] = {-128, 127};
						edge_acts(q, xb + qi->act_bytes * (size_t)k, 1,
						          vals[rng_next(&r) % 2],
						          kds[rng_next(&r) % 5],
						          halves[rng_next(&r) % 8]);
					}
			}
			for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
				int batch = batches[bi];
				int r0 = batch % 5, r1 = ROWS - batch % 3;
				memset(ya, 0, sizeof ya);
				memset(yb, 0, sizeof yb);
				R->matmul[q](w, nb, act, nb, ya, LDY, n, r0, r1, batch);
				A->matmul[q](w, nb, act, nb, yb, LDY, n, r0, r1, batch);
				for (int i = 0; i < BMAX * LDY; i++)
					cr_assert(same_float(ya[i], yb[i]),
					          "%s %s nb %d batch %d i %d: %a vs %a", A->name,
					          qi->name, nb, batch, i, (double)ya[i],
					          (double)yb[i]);
			}
		}
	}
}

Test(kquant, gemm_batches_ref_vs_avx2)
{
	gemm_batches_vs_ref(need_avx2());
}

Test(kquant, gemm_batches_ref_vs_avx512)
{
	gemm_batches_vs_ref(need_avx512());
}

Test(kquant, long_rows_ref_vs_avx2)
{
	long_rows_vs_ref(need_avx2());
}

Test(kquant, long_rows_ref_vs_avx512)
{
	long_rows_vs_ref(need_avx512());
}

Test(kquant, qmatmul_ref_vs_avx2)
{
	qmatmul_vs_ref(need_avx2());
}

Test(kquant, qmatmul_ref_vs_avx512)
{
	qmatmul_vs_ref(need_avx512());
}

/* the reference against the contract's sums, computed here from dequantized integers */
Test(kquant, dot_ref_is_contract)
{
	rng r = {3};
	static unsigned char w[16 * 1024], act[16 * 1024];
	for (int q = 0; q < KQ_BF16; q++) {
		const kern_qinfo *qi = qinfo(q);
		int nb = qi->block == 32 ? 19 : 11, n = nb * qi->block;
		for (int rep = 0; rep < 50; rep++) {
			/* unit scales: the dequantized weights are the integers (plus mins) */
			rand_weights(&r, q, w, nb);
			for (int k = 0; k < nb; k++) {
				unsigned char *b = w + qi->bytes * (size_t)k;
				uint16_t one = f32_to_f16(1.0f), zero = 0;
				memcpy(q == KQ_Q6_K ? b + 208 : b, &one, 2);
				if (q == KQ_Q4_1 || q == KQ_Q5_1 || q == KQ_Q4_K || q == KQ_Q5_K)
					memcpy(b + 2, &zero, 2);
			}
			rand_act(&r, q, kern_ref(), act, n, 1);
			static float wv[8192];
			kern_quant_ref()->dequant[q](w, wv, n);
			float A8[8] = {0};
			for (int k = 0; k < nb; k++) {
				int64_t isum = 0;
				float s;
				if (qi->act == KACT_Q8_K) {
					const kern_q8_k *x = (const kern_q8_k *)act + k;
					for (int i = 0; i < 256; i++)
						isum += (int64_t)wv[256 * k + i] * x->q[i];
					s = x->d * 1.0f;
				} else {
					const kern_q8_0 *x0 = (const kern_q8_0 *)act + k;
					const kern_q8_1 *x1 = (const kern_q8_1 *)act + k;
					const int8_t *xq = qi->act == KACT_Q8_1 ? x1->q : x0->q;
					for (int i = 0; i < 32; i++)
						isum += (int64_t)wv[32 * k + i] * xq[i];
					s = f16_to_f32(qi->act == KACT_Q8_1 ? x1->d : x0->d);
				}
				A8[k % 8] = fmaf(s, (float)isum, A8[k % 8]);
			}
			for (int s = 4; s >= 1; s /= 2)
				for (int j = 0; j < s; j++)
					A8[j] = A8[j] + A8[j + s];
			float want = A8[0]; /* zero mins: M folds to +0, which changes nothing */
			float got = kern_quant_ref()->dot[q](w, act, nb);
			cr_assert_eq(memcmp(&got, &want, 4), 0, "%s rep %d: %a vs %a", qi->name,
			             rep, (double)got, (double)want);
		}
	}
}

/* ---- matrix products: batches, row ranges and thread splits ---- */

Test(kquant, matmul_threads_and_batches)
{
	/* with an "avx512" main table (where the build and CPU have one), its
	 * products go through the AVX-512 quant table */
	dai_err e512;
	const kern_table *tabs[3] = {kern_ref(), kern_avx2(), NULL};
	if (tabs[1])
		tabs[2] = kern_by_name("avx512", &e512);
	rng r = {2718};
	enum { ROWS = 77, N = 512, B = 50 }; /* a batch of lane groups, whole and partial */
	static unsigned char w[ROWS * N * 2];
	static float x[B * N], base[B * ROWS], y[B * ROWS];
	void *act = malloc(kern_act_bytes(KERN_BF16, N, B));
	cr_assert(act);
	int threads[] = {1, 2, 3};
	for (int q = 0; q < KQ_COUNT; q++) {
		const kern_qinfo *qi = qinfo(q);
		rand_weights(&r, q, w, ROWS * (N / qi->block));
		for (int i = 0; i < B * N; i++)
			x[i] = rng_val(&r);
		for (int k = 0; k < 3 && tabs[k]; k++)
			for (int ti = 0; ti < 3; ti++) {
				dai_err e;
				pool *p = pool_create(threads[ti], &e);
				cr_assert(p, "%s", e.msg);
				kern_act_prep(tabs[k], qi->type, x, N, N, B, act);
				memset(y, 0, sizeof y);
				kern_matmul(tabs[k], p, qi->type, w, act, y, ROWS, N, ROWS, B);
				if (k == 0 && ti == 0) {
					memcpy(base, y, sizeof y);
					/* each output is one dot of the reference */
					for (int b = 0; b < B; b++)
						for (int rr = 0; rr < ROWS; rr += 19) {
							float d = kern_quant_ref()->dot[q](
							    w + qi->bytes *
							            (size_t)(rr * (N / qi->block)),
							    (char *)act +
							        kern_act_bytes(qi->type, N, b),
							    N / qi->block);
							cr_assert_eq(
							    memcmp(&d, &base[b * ROWS + rr], 4), 0);
						}
				}
				cr_assert_eq(memcmp(base, y, sizeof y), 0, "%s %s threads %d",
				             tabs[k]->name, qi->name, threads[ti]);
				/* one activation row at a time, and odd row ranges */
				memset(y, 0, sizeof y);
				for (int b = 0; b < B; b++) {
					kern_act_prep(tabs[k], qi->type, x + b * N, N, N, 1, act);
					kern_matmul_rows(tabs[k], qi->type, w, act, y + b * ROWS,
					                 ROWS, N, 0, 13, 1);
					kern_matmul_rows(tabs[k], qi->type, w, act, y + b * ROWS,
					                 ROWS, N, 13, ROWS, 1);
				}
				cr_assert_eq(memcmp(base, y, sizeof y), 0, "%s %s split",
				             tabs[k]->name, qi->name);
				pool_destroy(p);
			}
	}
	free(act);
}

Test(kquant, type_info)
{
	cr_assert_eq(kern_row_bytes(KERN_Q4_K, 512), 288u);
	cr_assert_eq(kern_row_bytes(KERN_Q6_K, 256), 210u);
	cr_assert_eq(kern_row_bytes(KERN_Q5_0, 64), 44u);
	cr_assert_eq(kern_row_bytes(KERN_BF16, 3), 6u);
	cr_assert_eq(kern_type_block(KERN_Q4_K), 256);
	cr_assert_eq(kern_type_block(KERN_Q4_1), 32);
	cr_assert_eq(kern_type_block(KERN_BF16), 1);
	cr_assert_eq(kern_act_bytes(KERN_Q6_K, 512, 3), 3u * 2u * sizeof(kern_q8_k));
	cr_assert_eq(kern_act_bytes(KERN_Q5_1, 64, 1), 2u * sizeof(kern_q8_1));
	cr_assert_null(kern_qinfo_of(KERN_Q8_0));
	cr_assert_eq(kern_qinfo_of(KERN_Q5_K)->act, KACT_Q8_K);
}

/* the model generator's encoder (tests/tools/quant_enc.h) round-trips too */
Test(kquant, generator_encoder_round_trip)
{
	rng r = {404};
	static float x[1024], y[1024];
	static unsigned char blk[8192];
	for (int q = 0; q < KQ_COUNT; q++) {
		const kern_qinfo *qi = qinfo(q);
		int top = q == KQ_BF16 ? 0 : (1 << ubits(q)) - 1;
		for (int rep = 0; rep < 50; rep++) {
			float amp = ldexpf(1.0f, rint_in(&r, -10, 10)), off = rep % 3 ? 0 : amp;
			for (int i = 0; i < 1024; i++)
				x[i] = rng_uni(&r) * amp + off;
			size_t bytes = quant_enc_row((uint32_t)qi->type, x, blk, 1024);
			cr_assert_eq(bytes, kern_row_bytes(qi->type, 1024));
			kern_quant_ref()->dequant[q](blk, y, 1024);
			int sb = q == KQ_BF16 ? 1 : qi->block;
			for (int k = 0; k < 1024; k += sb) {
				float amax = 0;
				for (int i = 0; i < sb; i++)
					amax = fmaxf(amax, fabsf(x[k + i]));
				/* one step of the block's widest range; BF16 half an ulp */
				float bound =
				    top ? 2.0f * amax / (float)top * 1.1f : amax * 0x1p-8f;
				for (int i = 0; i < sb; i++)
					cr_assert(fabsf(y[k + i] - x[k + i]) <= bound,
					          "%s rep %d: %g -> %g (bound %g)", qi->name, rep,
					          (double)x[k + i], (double)y[k + i],
					          (double)bound);
			}
		}
	}
	cr_assert_eq(quant_enc_row(GGML_TYPE_Q2_K, x, blk, 256), 0u);
}
