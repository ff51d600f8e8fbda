/*
 * Unit tests: compute kernels (kern.h), fp16 conversion (f16.h) and dmath.
 * Fast tables must equal the reference bit for bit (memcmp, never a
 * tolerance); the reference is checked for accuracy against double
 * precision and libm.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern/dmath.h"
#include "kern/f16.h"
#include "kern/kern.h"
#include "pool.h"
#include "tools/test_rng.h"

/* ---- helpers ---- */

static void rfill(rng *r, float *x, int n)
{
	for (int i = 0; i < n; i++)
		x[i] = rng_val(r);
}

/* random blocks; no_min: avoid -128 in the quants (the AVX2 fast path) */
static void rfill_q8x(rng *r, kern_q8_0 *b, int nb, int no_min)
{
	for (int k = 0; k < nb; k++) {
		b[k].d = f32_to_f16(fabsf(rng_uni(r)) * 0.1f + 1e-4f);
		if (rng_next(r) % 16 == 0)
			b[k].d |= 0x8000; /* negative scales are legal bits */
		for (int j = 0; j < 32; j++)
			b[k].q[j] = (int8_t)(rng_next(r) & 0xff); /* includes -128 */
		for (int j = 0; j < 32 && no_min; j++)
			if (b[k].q[j] == -128)
				b[k].q[j] = (int8_t)(rng_next(r) % 2 ? 127 : -127);
	}
}

static void rfill_q8(rng *r, kern_q8_0 *b, int nb)
{
	rfill_q8x(r, b, nb, 0);
}

/*
 * The fast tables this CPU has, avx2 then avx512, into out; a warning in
 * the test log for each one it lacks, and the test skipped when it has
 * neither.
 */
static int fast_tables(const kern_table **out)
{
	int n = 0;
	if ((out[n] = kern_avx2()) != NULL)
		n++;
	else
		cr_log_warn("this CPU has no AVX2+FMA+F16C: the avx2 cases are skipped");
	if ((out[n] = kern_avx512()) != NULL)
		n++;
	else
		cr_log_warn(
		    "this CPU has no AVX-512 F/BW/VL/DQ+VNNI: the avx512 cases are skipped");
	if (!n)
		cr_skip_test("CPU has neither AVX2 nor AVX-512");
	return n;
}

/* runs the statement that follows once for each fast table, as A */
#define FOR_FAST(A)                                                                                \
	const kern_table *fast_[2];                                                                \
	int nfast_ = fast_tables(fast_);                                                           \
	for (int fi_ = 0; fi_ < nfast_; fi_++)                                                     \
		for (const kern_table *A = fast_[fi_]; A; A = NULL)

/* ref, then every fast table the CPU has (NULL-terminated) */
static int all_tables(const kern_table **out)
{
	int n = 0;
	out[n++] = kern_ref();
	if (kern_avx2())
		out[n++] = kern_avx2();
	if (kern_avx512())
		out[n++] = kern_avx512();
	else
		cr_log_warn(
		    "this CPU has no AVX-512 F/BW/VL/DQ+VNNI: the avx512 cases are skipped");
	out[n] = NULL;
	return n;
}

static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

/* distance in ulps between two finite floats (ordered integer view) */
static int64_t ulps(float a, float b)
{
	int64_t ia = (int32_t)fbits(a), ib = (int32_t)fbits(b);
	ia = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
	ib = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
	return ia > ib ? ia - ib : ib - ia;
}

#define NBIG (4096 + 17)

/* ---- f16 ---- */

Test(kern, f16_all_halves)
{
	static uint16_t h[65536], back[65536];
	static float f[65536], g[65536];
	for (int i = 0; i < 65536; i++)
		h[i] = (uint16_t)i;
	const kern_table *R = kern_ref();
	R->f16_to_f32(h, f, 65536);
	for (int i = 0; i < 65536; i++) {
		int exp = (i >> 10) & 0x1f, mant = i & 0x3ff;
		if (exp == 0x1f && mant) {
			cr_assert(isnan(f[i]), "half %04x", i);
			cr_assert(fbits(f[i]) & 0x400000u, "NaN %04x comes out quiet", i);
			continue;
		}
		/* value check independent of the implementation */
		double v = exp == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, exp - 25);
		if (exp == 0x1f)
			v = INFINITY;
		if (i & 0x8000)
			v = -v;
		cr_assert((double)f[i] == v, "half %04x -> %a, want %a", i, f[i], v);
		cr_assert_eq(signbit(f[i]) != 0, (i & 0x8000) != 0);
		cr_assert_eq(f32_to_f16(f[i]), (uint16_t)i, "round trip %04x", i);
	}
	R->f32_to_f16(f, back, 65536);
	for (int i = 0; i < 65536; i++)
		if (!isnan(f[i]))
			cr_assert_eq(back[i], h[i]);

	const kern_table *A = kern_avx2();
	if (!A)
		return;
	A->f16_to_f32(h, g, 65536);
	cr_assert_eq(memcmp(f, g, sizeof f), 0, "F16C vcvtph2ps differs from f16_to_f32");
	A->f32_to_f16(f, back, 65536);
	for (int i = 0; i < 65536; i++)
		cr_assert_eq(back[i], f32_to_f16(f[i]), "F16C differs at %04x", i);
}

Test(kern, f16_rounding_cases)
{
	struct {
		float f;
		uint16_t h;
	} c[] = {
	    {1.0f, 0x3c00},
	    {1.0f + 0x1p-11f, 0x3c00},            /* tie -> even (down) */
	    {1.0f + 3 * 0x1p-11f, 0x3c02},        /* tie -> even (up) */
	    {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01}, /* above the tie */
	    {65504.0f, 0x7bff},
	    {65519.99f, 0x7bff},
	    {65520.0f, 0x7c00}, /* tie between 65504 and 2^16 -> inf */
	    {1e10f, 0x7c00},
	    {-INFINITY, 0xfc00},
	    {0x1p-24f, 0x0001},
	    {0x1p-25f, 0x0000},              /* tie with 0 -> even */
	    {0x1p-25f * 1.0000001f, 0x0001}, /* just above */
	    {3 * 0x1p-25f, 0x0002},          /* tie between 1 and 2 -> 2 */
	    {-0x1p-26f, 0x8000},
	    {0x1p-14f, 0x0400},
	    {0x1p-14f - 0x1p-25f, 0x0400}, /* 1023.5 -> 1024 = smallest normal */
	    {0x1p-149f, 0x0000},
	    {-0.0f, 0x8000},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		cr_assert_eq(f32_to_f16(c[i].f), c[i].h, "%a -> %04x, want %04x", c[i].f,
		             f32_to_f16(c[i].f), c[i].h);
	cr_assert_eq(f32_to_f16(NAN) & 0x7e00, 0x7e00);
}

/* F16C against the portable conversion over a stride through all floats */
Test(kern, f16_float_sweep)
{
	FOR_FAST(A)
	{
		enum { N = 1 << 16 };
		static float f[N];
		static uint16_t a[N];
		uint32_t u = 0;
		for (int round = 0; round < 256; round++) {
			for (int i = 0; i < N; i++, u += 245) /* 256 * 65536 * 245 wraps ~1x */
				memcpy(&f[i], &u, sizeof(float));
			A->f32_to_f16(f, a, N);
			for (int i = 0; i < N; i++)
				cr_assert_eq(a[i], f32_to_f16(f[i]), "%08x", fbits(f[i]));
		}
	}
}

/* ---- Q8_0 quantization ---- */

Test(kern, q8_quantize_hand_example)
{
	/* amax 127 -> d = 1, id = 1: x * id is x, rounding half to even */
	float x[32] = {2.5f, 3.5f, -2.5f, 0.5f, 1.5f, -0.5f, 127.0f, -127.0f, 0.49f, 126.5f, -1.5f};
	int8_t want[32] = {2, 4, -2, 0, 2, 0, 127, -127, 0, 126, -2};
	/* amax 254 -> d = 2, id = 0.5: 5 * 0.5 = 2.5 -> 2, 7 * 0.5 = 3.5 -> 4 */
	float x2[32] = {5.0f, 7.0f, -254.0f, 1.0f, 3.0f};
	int8_t want2[32] = {2, 4, -127, 0, 2};
	const kern_table *tabs[4];
	all_tables(tabs);
	for (int t = 0; tabs[t]; t++) {
		kern_q8_0 b[2];
		tabs[t]->quantize_q8_0(x, &b[0], 32);
		tabs[t]->quantize_q8_0(x2, &b[1], 32);
		cr_assert_eq(b[0].d, 0x3c00, "%s d", tabs[t]->name);
		cr_assert_eq(memcmp(b[0].q, want, 32), 0, "%s q", tabs[t]->name);
		cr_assert_eq(b[1].d, 0x4000, "%s d2", tabs[t]->name);
		cr_assert_eq(memcmp(b[1].q, want2, 32), 0, "%s q2", tabs[t]->name);
	}
	/* all zeros: d = 0, id = 0, q = 0 */
	float z[32] = {0};
	kern_q8_0 b;
	kern_ref()->quantize_q8_0(z, &b, 32);
	cr_assert_eq(b.d, 0);
	for (int j = 0; j < 32; j++)
		cr_assert_eq(b.q[j], 0);
}

Test(kern, q8_quantize_ref_vs_avx2)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {0x9e3779b97f4a7c15u};
		enum { NB = 64 };
		float x[NB * 32];
		kern_q8_0 qa[NB], qr[NB];
		for (int it = 0; it < 400; it++) {
			rfill(&r, x, NB * 32);
			/* special blocks: NaN, inf, subnormal amax (127/amax overflows), ties */
			int k = (int)(rng_next(&r) % NB);
			switch (it % 6) {
			case 0:
				x[k * 32 + 3] = NAN;
				break;
			case 1:
				x[k * 32 + 9] = -INFINITY;
				break;
			case 2:
				for (int j = 0; j < 32; j++)
					x[k * 32 + j] =
					    (float)((int)(rng_next(&r) % 5) - 2) * 0x1p-149f;
				break;
			case 3:
				for (int j = 0; j < 32; j++)
					x[k * 32 + j] =
					    (float)((int)(rng_next(&r) % 255) - 127) * 0.5f;
				break;
			case 4:
				for (int j = 0; j < 32; j++)
					x[k * 32 + j] = 0.0f;
				break;
			default:
				break;
			}
			R->quantize_q8_0(x, qr, NB * 32);
			A->quantize_q8_0(x, qa, NB * 32);
			cr_assert_eq(memcmp(qr, qa, sizeof qr), 0, "iteration %d", it);
		}
	}
}

/* ---- dots ---- */

Test(kern, dot_f32_ref_vs_avx2)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {12345};
		static float a[NBIG], b[NBIG];
		for (int t = 0; t <= 301; t++) {
			int n = t <= 300 ? t : NBIG;
			for (int rep = 0; rep < 3; rep++) {
				rfill(&r, a, n);
				rfill(&r, b, n);
				float x = R->dot_f32(a, b, n), y = A->dot_f32(a, b, n);
				cr_assert_eq(fbits(x), fbits(y), "n=%d ref %a %s %a", n, x, A->name,
				             y);
				x = R->sum(a, n);
				y = A->sum(a, n);
				cr_assert_eq(fbits(x), fbits(y), "sum n=%d", n);
			}
		}
	}
}

Test(kern, dot_f16_ref_vs_avx2)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {777};
		static float a[NBIG], x[NBIG];
		static uint16_t w[NBIG];
		int ns[302];
		for (int i = 0; i <= 300; i++)
			ns[i] = i;
		ns[301] = NBIG;
		for (int t = 0; t < 302; t++) {
			int n = ns[t];
			rfill(&r, a, n);
			R->f32_to_f16(a, w, n);
			rfill(&r, a, n);
			R->round_f16(a, x, n);
			float p = R->dot_f16(w, x, n), q = A->dot_f16(w, x, n);
			cr_assert_eq(fbits(p), fbits(q), "n=%d ref %a %s %a", n, p, A->name, q);
			/* equals the f32 canonical dot of the converted rows */
			R->f16_to_f32(w, a, n);
			cr_assert_eq(fbits(p), fbits(R->dot_f32(a, x, n)), "n=%d", n);
		}
	}
}

Test(kern, dot_q8_ref_vs_avx2)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {4242};
		enum { NB = 129 };
		kern_q8_0 w[NB], x[NB];
		for (int nb = 0; nb <= NB; nb++) {
			for (int rep = 0; rep < 5; rep++) {
				/* x with and without -128 take different AVX2 paths */
				rfill_q8(&r, w, nb);
				rfill_q8x(&r, x, nb, rep < 2);
				if (rep == 1) /* w = -128 against x = +-127 */
					for (int k = 0; k < nb; k++)
						for (int j = 0; j < 32; j++) {
							w[k].q[j] = -128;
							x[k].q[j] = (int8_t)(j % 2 ? 127 : -127);
						}
				if (rep == 3) /* extremes: -128 * -128 everywhere */
					for (int k = 0; k < nb; k++) {
						memset(w[k].q, 0x80, 32);
						memset(x[k].q, 0x80, 32);
					}
				float p = R->dot_q8_0(w, x, nb), q = A->dot_q8_0(w, x, nb);
				cr_assert_eq(fbits(p), fbits(q), "nb=%d rep %d ref %a %s %a", nb,
				             rep, p, A->name, q);
				/* and through matmul (one row, one activation) */
				float y = 0;
				A->matmul_q8_0(w, nb, x, nb, &y, 1, nb * 32, 0, 1, 1);
				cr_assert_eq(fbits(p), fbits(y), "matmul nb=%d rep %d", nb, rep);
			}
		}
		/* the exact values of the -128 cases */
		for (int k = 0; k < 2; k++) {
			w[k].d = x[k].d = 0x3c00; /* 1.0 */
			memset(w[k].q, 0x80, 32);
			memset(x[k].q, 0x80, 32);
		}
		cr_assert_eq(A->dot_q8_0(w, x, 2), 2.0f * 32 * 16384);
		for (int j = 0; j < 32; j++)
			x[0].q[j] = x[1].q[j] = 127;
		cr_assert_eq(A->dot_q8_0(w, x, 2), -2.0f * 32 * 16256);
		cr_assert_eq(R->dot_q8_0(w, x, 2), -2.0f * 32 * 16256);
	}
}

/* the canonical dot is accurate: within (n/32 + 6) eps of sum |a b| */
Test(kern, dot_accuracy_vs_double)
{
	const kern_table *R = kern_ref();
	rng r = {99};
	static float a[NBIG], b[NBIG];
	int ns[] = {1, 7, 31, 32, 33, 100, 1000, NBIG};
	for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
		int n = ns[t];
		for (int i = 0; i < n; i++) {
			a[i] = rng_uni(&r);
			b[i] = rng_uni(&r);
		}
		double exact = 0, mag = 0;
		for (int i = 0; i < n; i++) {
			exact += (double)a[i] * b[i];
			mag += fabs((double)a[i] * b[i]);
		}
		double tol = (n / 32.0 + 6) * 0x1p-24 * mag;
		cr_assert(fabs(R->dot_f32(a, b, n) - exact) <= tol, "n=%d", n);

		/* Q8_0: the quantized dot tracks the float dot */
		if (n % 32 == 0) {
			kern_q8_0 qa[NBIG / 32], qb[NBIG / 32];
			R->quantize_q8_0(a, qa, n);
			R->quantize_q8_0(b, qb, n);
			float q = R->dot_q8_0(qa, qb, n / 32);
			cr_assert(fabs(q - exact) <= 0.02 * mag + 1e-6, "q8 n=%d %g vs %g", n, q,
			          exact);
		}
	}
}

/* a hand-checked canonical order: lanes, then the fold tree */
Test(kern, dot_canonical_order)
{
	/* n = 33: lane 0 gets a[0] and a[32]; 1e8 + 1 - 1e8 in different lanes */
	float a[33] = {0}, b[33];
	for (int i = 0; i < 33; i++)
		b[i] = 1.0f;
	a[0] = 1e8f;
	a[32] = 1.0f;  /* lane 0: fma(1, 1, 1e8) = 1e8 (1 lost) */
	a[16] = -1e8f; /* lane 16: folds into lane 0 at w = 16 -> 0 */
	a[1] = 3.0f;   /* lane 1: joins lane 0 at w = 1 -> 3 */
	const kern_table *tabs[4];
	all_tables(tabs);
	for (int t = 0; tabs[t]; t++)
		cr_assert_eq(tabs[t]->dot_f32(a, b, 33), 3.0f, "%s", tabs[t]->name);
	float s = kern_ref()->sum(a, 33);
	cr_assert_eq(s, 3.0f);

	/* every product underflows to -0: each lane is -0, and a tail must not
	 * touch the lanes it does not own (fma(0, 0, -0) would give +0) */
	float u[35], v[35];
	for (int i = 0; i < 35; i++) {
		u[i] = -1e-30f;
		v[i] = 1e-30f;
	}
	for (int t = 0; tabs[t]; t++)
		cr_assert_eq(fbits(tabs[t]->dot_f32(u, v, 35)), 0x80000000u, "%s -0",
		             tabs[t]->name);

	/* the same through the batched products: 5 weight rows x 7
	 * activations, every output one of the dots above */
	enum { RW = 5, BT = 7 };
	float w1[RW * 33], x1[BT * 33], w2[RW * 35], x2[BT * 35], y[BT * RW];
	uint16_t wh[RW * 35];
	for (int i = 0; i < RW; i++) {
		memcpy(w1 + i * 33, a, sizeof a);
		memcpy(w2 + i * 35, u, sizeof u);
	}
	for (int i = 0; i < BT; i++) {
		memcpy(x1 + i * 33, b, sizeof b);
		memcpy(x2 + i * 35, v, sizeof v);
	}
	for (int t = 0; tabs[t]; t++) {
		tabs[t]->matmul_f32(w1, 33, x1, 33, y, RW, 33, 0, RW, BT);
		for (int i = 0; i < RW * BT; i++)
			cr_assert_eq(y[i], 3.0f, "%s matmul %d", tabs[t]->name, i);
		tabs[t]->matmul_f32(w2, 35, x2, 35, y, RW, 35, 0, RW, BT);
		for (int i = 0; i < RW * BT; i++)
			cr_assert_eq(fbits(y[i]), 0x80000000u, "%s matmul -0 %d", tabs[t]->name, i);
		/* and one activation at a time (the matrix-vector kernels), with a
		 * tail reaching into lanes 16-31 (n = 49) */
		float u49[RW * 49], v49[49];
		for (int i = 0; i < RW * 49; i++)
			u49[i] = -1e-30f;
		for (int i = 0; i < 49; i++)
			v49[i] = 1e-30f;
		tabs[t]->matmul_f32(u49, 49, v49, 49, y, RW, 49, 0, RW, 1);
		tabs[t]->matmul_f32(w1, 33, x1, 33, y + RW, RW, 33, 0, RW, 1);
		for (int i = 0; i < RW; i++) {
			cr_assert_eq(fbits(y[i]), 0x80000000u, "%s matvec -0 %d", tabs[t]->name, i);
			cr_assert_eq(y[RW + i], 3.0f, "%s matvec %d", tabs[t]->name, i);
		}
		/* halves: -2^-14 * 2^-14 = -2^-28 is exact, and 35 of them spread
		 * over the lanes sum without rounding */
		for (int i = 0; i < RW * 35; i++)
			wh[i] = 0x8400; /* -2^-14 */
		for (int i = 0; i < BT * 35; i++)
			x2[i] = 0x1p-14f;
		tabs[t]->matmul_f16(wh, 35, x2, 35, y, RW, 35, 0, RW, BT);
		for (int i = 0; i < RW * BT; i++)
			cr_assert_eq(y[i], -35 * 0x1p-28f, "%s matmul_f16 %d", tabs[t]->name, i);
		for (int i = 0; i < BT * 35; i++)
			x2[i] = v[i % 35];
	}
}

/* ---- matrix products ---- */

/* all three types through the tables: ref == avx2 == per-element dot */
static void check_matmul(const kern_table *R, const kern_table *A, rng *r, int rows, int n,
                         int batch, int pad)
{
	int ld = n + pad;
	int ldq = n / 32 + pad;
	float *w = malloc(sizeof(float) * (size_t)rows * ld);
	uint16_t *wh = malloc(sizeof(uint16_t) * (size_t)rows * ld);
	kern_q8_0 *wq = malloc(sizeof(kern_q8_0) * (size_t)rows * (ldq ? ldq : 1));
	float *x = malloc(sizeof(float) * (size_t)batch * ld);
	float *xh = malloc(sizeof(float) * (size_t)batch * ld);
	kern_q8_0 *xq = malloc(sizeof(kern_q8_0) * (size_t)batch * (ldq ? ldq : 1));
	int ldy = rows + 3;
	float *y1 = calloc((size_t)batch * ldy, sizeof(float));
	float *y2 = calloc((size_t)batch * ldy, sizeof(float));
	rfill(r, w, rows * ld);
	R->f32_to_f16(w, wh, rows * ld);
	rfill(r, x, batch * ld);
	R->round_f16(x, xh, batch * ld);
	for (int i = 0; i < rows; i++)
		R->quantize_q8_0(w + (size_t)i * ld, wq + (size_t)i * ldq, n);
	for (int b = 0; b < batch; b++)
		R->quantize_q8_0(x + (size_t)b * ld, xq + (size_t)b * ldq, n);

	for (int type = 0; type < 3; type++) {
		for (int rr = 0; rr < 2; rr++) {
			const kern_table *K = rr ? A : R;
			float *y = rr ? y2 : y1;
			if (type == 0)
				K->matmul_f32(w, ld, x, ld, y, ldy, n, 0, rows, batch);
			else if (type == 1)
				K->matmul_f16(wh, ld, xh, ld, y, ldy, n, 0, rows, batch);
			else
				K->matmul_q8_0(wq, ldq, xq, ldq, y, ldy, n, 0, rows, batch);
		}
		for (int b = 0; b < batch; b++)
			for (int i = 0; i < rows; i++) {
				float want;
				if (type == 0)
					want =
					    R->dot_f32(w + (size_t)i * ld, x + (size_t)b * ld, n);
				else if (type == 1)
					want =
					    R->dot_f16(wh + (size_t)i * ld, xh + (size_t)b * ld, n);
				else
					want = R->dot_q8_0(wq + (size_t)i * ldq,
					                   xq + (size_t)b * ldq, n / 32);
				float g1 = y1[(size_t)b * ldy + i], g2 = y2[(size_t)b * ldy + i];
				cr_assert_eq(fbits(g1), fbits(want),
				             "ref type %d rows %d n %d batch %d", type, rows, n,
				             batch);
				cr_assert_eq(fbits(g2), fbits(want),
				             "%s type %d rows %d n %d batch %d (%d,%d)", A->name,
				             type, rows, n, batch, i, b);
			}
	}
	free(w);
	free(wh);
	free(wq);
	free(x);
	free(xh);
	free(xq);
	free(y1);
	free(y2);
}

Test(kern, matmul_ref_vs_avx2)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {31337};
		int shapes[][3] = {{1, 32, 1},   {2, 64, 1},   {3, 96, 1},   {7, 33, 1},
		                   {5, 31, 2},   {4, 160, 3},  {9, 256, 4},  {6, 288, 5},
		                   {3, 300, 7},  {17, 64, 8},  {2, 4113, 1}, {3, 4113, 4},
		                   {5, 2100, 8}, {4, 3000, 5}, {1, 1, 1},    {4, 0, 2},
		                   {33, 96, 13}};
		for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
			for (int pad = 0; pad < 2; pad++)
				check_matmul(R, A, &r, shapes[s][0], shapes[s][1], shapes[s][2],
				             pad * 5);
	}
}

/* NaN matches NaN (its sign and payload are outside the contract), else the bits */
static int same_result(float a, float b)
{
	return (isnan(a) && isnan(b)) || fbits(a) == fbits(b);
}

/* the three products of table K on rows [row0, row1); type 0 F32, 1 F16, 2 Q8_0 */
static void run_matmul(const kern_table *K, int type, const float *w, const uint16_t *wh,
                       const kern_q8_0 *wq, const float *x, const float *xh, const kern_q8_0 *xq,
                       int n, int nq, float *y, int ldy, int row0, int row1, int batch)
{
	if (type == 0)
		K->matmul_f32(w, n, x, n, y, ldy, n, row0, row1, batch);
	else if (type == 1)
		K->matmul_f16(wh, n, xh, n, y, ldy, n, row0, row1, batch);
	else
		K->matmul_q8_0(wq, nq / 32, xq, nq / 32, y, ldy, nq, row0, row1, batch);
}

/*
 * NaN, infinities, subnormals, huge values and signed zeros in weights and
 * activations, and in Q8_0 scales next to -128 quants, through the batched
 * products of every table: each output is the reference dot.
 */
Test(kern, matmul_special_values)
{
	const kern_table *R = kern_ref();
	const kern_table *tabs[4];
	all_tables(tabs);
	rng r = {99};
	enum { RW = 19, BT = 19, N = 200, NQ = 192 };
	static float w[RW * N], x[BT * N], xh[BT * N], y[BT * RW];
	static uint16_t wh[RW * N];
	static kern_q8_0 wq[RW * NQ / 32], xq[BT * NQ / 32];
	static const float special[] = {NAN,       INFINITY, -INFINITY, 0x1p-149f, -0x1p-149f,
	                                0x1p-130f, -0.0f,    0.0f,      0x1p127f,  -0x1p127f};
	static const uint16_t hspecial[] = {0x7c00, 0xfc00, 0x7e00, 0x0001, 0x8000, 0x0000, 0x7bff};
	for (int it = 0; it < 40; it++) {
		rfill(&r, w, RW * N);
		rfill(&r, x, BT * N);
		for (int i = 0; i < it; i++) {
			w[rng_next(&r) % (RW * N)] = special[rng_next(&r) % 10];
			x[rng_next(&r) % (BT * N)] = special[rng_next(&r) % 10];
		}
		if (it % 5 == 4) /* tiny products: subnormal sums and -0 lanes */
			for (int i = 0; i < N; i++) {
				w[i] = -0x1p-100f * (float)(i % 3);
				x[N + i] = 0x1p-60f;
			}
		R->f32_to_f16(w, wh, RW * N);
		R->round_f16(x, xh, BT * N);
		for (int i = 0; i < RW; i++)
			R->quantize_q8_0(w + i * N, wq + i * (NQ / 32), NQ);
		for (int b = 0; b < BT; b++)
			R->quantize_q8_0(x + b * N, xq + b * (NQ / 32), NQ);
		for (int i = 0; i < it / 4; i++) {
			wq[rng_next(&r) % (RW * NQ / 32)].d = hspecial[rng_next(&r) % 7];
			xq[rng_next(&r) % (BT * NQ / 32)].d = hspecial[rng_next(&r) % 7];
			xq[rng_next(&r) % (BT * NQ / 32)].q[rng_next(&r) % 32] = -128;
			wq[rng_next(&r) % (RW * NQ / 32)].q[rng_next(&r) % 32] = -128;
		}
		for (int t = 0; tabs[t]; t++)
			for (int type = 0; type < 3; type++) {
				run_matmul(tabs[t], type, w, wh, wq, x, xh, xq, N, NQ, y, RW, 0, RW,
				           BT);
				for (int b = 0; b < BT; b++)
					for (int i = 0; i < RW; i++) {
						float want =
						    type == 0 ? R->dot_f32(w + i * N, x + b * N, N)
						    : type == 1
						        ? R->dot_f16(wh + i * N, xh + b * N, N)
						        : R->dot_q8_0(wq + i * (NQ / 32),
						                      xq + b * (NQ / 32), NQ / 32);
						cr_assert(same_result(y[b * RW + i], want),
						          "%s type %d it %d (%d,%d): %a, want %a",
						          tabs[t]->name, type, it, i, b,
						          y[b * RW + i], want);
					}
			}
	}
}

/*
 * A row range [row0, row1) of a product writes those rows and nothing else,
 * with the values of the whole product, for every table and type.
 */
Test(kern, matmul_row_ranges)
{
	const kern_table *tabs[4];
	all_tables(tabs);
	rng r = {123};
	enum { RW = 23, BT = 21, N = 100, NQ = 96 };
	static float w[RW * N], x[BT * N], xh[BT * N], full[BT * RW], y[BT * RW];
	static uint16_t wh[RW * N];
	static kern_q8_0 wq[RW * NQ / 32], xq[BT * NQ / 32];
	rfill(&r, w, RW * N);
	rfill(&r, x, BT * N);
	kern_ref()->f32_to_f16(w, wh, RW * N);
	kern_ref()->round_f16(x, xh, BT * N);
	for (int i = 0; i < RW; i++)
		kern_ref()->quantize_q8_0(w + i * N, wq + i * (NQ / 32), NQ);
	for (int b = 0; b < BT; b++)
		kern_ref()->quantize_q8_0(x + b * N, xq + b * (NQ / 32), NQ);
	static const int ranges[][2] = {{3, 4},   {5, 7}, {1, 22}, {7, 18},
	                                {22, 23}, {4, 4}, {0, 23}, {9, 14}};
	int batches[] = {BT, 1, 2, 4, 16, 17};
	for (int t = 0; tabs[t]; t++)
		for (int type = 0; type < 3; type++)
			for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
				int bt = batches[bi];
				run_matmul(kern_ref(), type, w, wh, wq, x, xh, xq, N, NQ, full, RW,
				           0, RW, bt);
				for (size_t g = 0; g < sizeof ranges / sizeof ranges[0]; g++) {
					int r0 = ranges[g][0], r1 = ranges[g][1];
					memset(y, 0xa5, sizeof y);
					run_matmul(tabs[t], type, w, wh, wq, x, xh, xq, N, NQ, y,
					           RW, r0, r1, bt);
					for (int b = 0; b < BT; b++)
						for (int i = 0; i < RW; i++) {
							uint32_t got = fbits(y[b * RW + i]);
							uint32_t want =
							    b < bt && i >= r0 && i < r1
							        ? fbits(full[b * RW + i])
							        : 0xa5a5a5a5u;
							cr_assert_eq(
							    got, want,
							    "%s type %d batch %d rows [%d,%d): "
							    "(%d,%d)",
							    tabs[t]->name, type, bt, r0, r1, i, b);
						}
				}
			}
}

/*
 * Batched Q8_0 products over raw blocks: some activation rows hold -128
 * quants (the exact path) between rows without (the shared-weight fast
 * path), with block counts that leave tails; every output equals the
 * reference dot, in a batch and one activation at a time.
 */
Test(kern, matmul_q8_0_mixed_rows)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {4242};
		enum { ROWS = 7, BATCH = 11, NBMAX = 21 };
		static kern_q8_0 w[ROWS * NBMAX], x[BATCH * NBMAX];
		float y[BATCH * ROWS];
		int nbs[] = {1, 7, 8, 9, 16, 21};
		for (size_t t = 0; t < sizeof nbs / sizeof nbs[0]; t++) {
			int nb = nbs[t];
			rfill_q8(&r, w, ROWS * nb);
			for (int b = 0; b < BATCH; b++)
				rfill_q8x(&r, x + b * nb, nb,
				          b % 4 != 1); /* rows 1, 5, 9 keep -128 */
			memset(y, 0, sizeof y);
			A->matmul_q8_0(w, nb, x, nb, y, ROWS, nb * 32, 0, ROWS, BATCH);
			for (int b = 0; b < BATCH; b++)
				for (int i = 0; i < ROWS; i++) {
					float want = R->dot_q8_0(w + i * nb, x + b * nb, nb);
					cr_assert_eq(fbits(y[b * ROWS + i]), fbits(want),
					             "nb %d row %d batch %d", nb, i, b);
				}
			/* one activation at a time (the matrix-vector path, rows in pairs) */
			for (int b = 0; b < BATCH; b++) {
				float yv[ROWS];
				A->matmul_q8_0(w, nb, x + b * nb, nb, yv, ROWS, nb * 32, 0, ROWS,
				               1);
				for (int i = 0; i < ROWS; i++)
					cr_assert_eq(fbits(yv[i]), fbits(y[b * ROWS + i]),
					             "matvec nb %d row %d", nb, i);
			}
		}
	}
}

/*
 * Batched Q8_0 products over raw blocks (quants -128 included, some scales
 * NaN, infinite, subnormal or zero) in the shapes the lane-group kernels
 * cut: batches of 1 to 4 lane groups and more than one chunk, with partial
 * groups; row counts and row ranges that leave short tiles and start off
 * a cache line of y; block counts below, at and past multiples of 8. Each
 * output is the reference dot (NaN for NaN), and nothing outside the
 * range is written.
 */
Test(kern, matmul_q8_0_tiles)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {777};
		enum { ROWS = 41, BMAX = 130, NBMAX = 25 };
		static kern_q8_0 w[ROWS * NBMAX], x[BMAX * NBMAX];
		static float y[BMAX * (ROWS + 7) + 16];
		static const uint16_t hspecial[] = {0x7c00, 0xfc00, 0x7e00, 0x0001, 0x8000, 0x0000};
		static const int batches[] = {7, 15, 16, 17, 31, 33, 47, 48, 49, 64, 65, 100, 130};
		static const int nbs[] = {1, 3, 8, 9, 24, 25};
		static const int ranges[][2] = {{0, 41},  {3, 41}, {5, 22},
		                                {16, 37}, {1, 4},  {9, 10}};
		for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
			int batch = batches[bi];
			int nb = nbs[bi % (sizeof nbs / sizeof nbs[0])];
			rfill_q8(&r, w, ROWS * nb);
			rfill_q8(&r, x, batch * nb);
			if (bi % 3 == 2)
				for (int i = 0; i < 4; i++) {
					w[rng_next(&r) % (ROWS * nb)].d =
					    hspecial[rng_next(&r) % 6];
					x[rng_next(&r) % (batch * nb)].d =
					    hspecial[rng_next(&r) % 6];
				}
			for (size_t g = 0; g < sizeof ranges / sizeof ranges[0]; g++) {
				int r0 = ranges[g][0], r1 = ranges[g][1];
				/* y's rows off a 64-byte boundary and ldy not a multiple of 16 */
				int off = (int)(g % 4) * 3, ldy = ROWS + (int)(g % 3) * 3;
				float *yy = y + off;
				memset(y, 0xa5, sizeof y);
				A->matmul_q8_0(w, nb, x, nb, yy, ldy, nb * 32, r0, r1, batch);
				for (int b = 0; b < batch; b++)
					for (int i = 0; i < ldy; i++) {
						float got = yy[(size_t)b * ldy + i];
						if (i < r0 || i >= r1) {
							cr_assert_eq(
							    fbits(got), 0xa5a5a5a5u,
							    "%s batch %d nb %d rows [%d,%d): "
							    "(%d,%d) written",
							    A->name, batch, nb, r0, r1, i, b);
							continue;
						}
						float want = R->dot_q8_0(w + (size_t)i * nb,
						                         x + (size_t)b * nb, nb);
						cr_assert(same_result(got, want),
						          "%s batch %d nb %d rows [%d,%d): (%d,%d) "
						          "%a, want %a",
						          A->name, batch, nb, r0, r1, i, b, got,
						          want);
					}
			}
		}
	}
}

/*
 * Rows of at most 128 (attention's scores, one head long), where the
 * AVX-512 F32 product keeps the activations in registers: every length
 * around the register and lane boundaries, row counts around the 16 rows
 * of a fold, 1..9 activations, rows that start past the first, and
 * special values; each output is the reference dot and nothing else of y
 * is written.
 */
Test(kern, matmul_f32_short_rows)
{
	const kern_table *R = kern_ref();
	const kern_table *tabs[4];
	all_tables(tabs);
	rng r = {6464};
	enum { RW = 40, LD = 136, BT = 9, LDY = 44 };
	static float w[RW * LD], x[BT * LD], y[BT * LDY];
	static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0x1p-149f, 0x1p127f};
	static const int ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 80, 96, 127, 128};
	static const int rows[] = {1, 3, 15, 16, 17, 33, 40};
	int it = 0;
	for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
		for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++, it++) {
			int n = ns[ni], row0 = it % 3 == 1 ? 1 : 0, row1 = rows[ri];
			rfill(&r, w, RW * LD);
			rfill(&r, x, BT * LD);
			if (it % 4 == 3)
				for (int i = 0; i < 8; i++) {
					w[rng_next(&r) % (RW * LD)] = special[rng_next(&r) % 6];
					x[rng_next(&r) % (BT * LD)] = special[rng_next(&r) % 6];
				}
			if (it % 5 == 4) /* products that round to -0: -0 lanes */
				for (int i = 0; i < LD; i++) {
					w[LD + i] = -0x1p-100f * (float)(i % 3);
					x[i] = 0x1p-60f;
				}
			for (int bt = 1; bt <= BT; bt++)
				for (int t = 1; tabs[t]; t++) {
					memset(y, 0xa5, sizeof y);
					tabs[t]->matmul_f32(w, LD, x, LD, y, LDY, n, row0, row1,
					                    bt);
					for (int b = 0; b < BT; b++)
						for (int i = 0; i < LDY; i++) {
							float g = y[b * LDY + i];
							if (b < bt && i >= row0 && i < row1)
								cr_assert(
								    same_result(
								        g,
								        R->dot_f32(w + i * LD,
								                   x + b * LD, n)),
								    "%s n %d rows [%d,%d) batch %d "
								    "(%d,%d)",
								    tabs[t]->name, n, row0, row1,
								    bt, i, b);
							else
								cr_assert_eq(fbits(g), 0xa5a5a5a5u,
								             "%s wrote (%d,%d)",
								             tabs[t]->name, i, b);
						}
				}
		}
}

/* the reference alone (runs without AVX2 too): matmul == dot per element */
Test(kern, matmul_ref_is_dot)
{
	rng r = {5};
	check_matmul(kern_ref(), kern_ref(), &r, 5, 96, 3, 1);
}

/* kern_matmul: results independent of thread count and of batch split */
Test(kern, matmul_threads_and_batches)
{
	const kern_table *tabs[4];
	all_tables(tabs);
	rng r = {2718};
	enum { ROWS = 203, N = 320, B = 7 };
	float *w = malloc(sizeof(float) * ROWS * N), *x = malloc(sizeof(float) * B * N);
	uint16_t *wh = malloc(sizeof(uint16_t) * ROWS * N);
	kern_q8_0 *wq = malloc(sizeof(kern_q8_0) * ROWS * (N / 32));
	rfill(&r, w, ROWS * N);
	rfill(&r, x, B * N);
	kern_ref()->f32_to_f16(w, wh, ROWS * N);
	for (int i = 0; i < ROWS; i++)
		kern_ref()->quantize_q8_0(w + i * N, wq + i * (N / 32), N);
	const void *ws[3] = {w, wh, wq};
	enum kern_type ts[3] = {KERN_F32, KERN_F16, KERN_Q8_0};
	static float base[3][B * ROWS], y[B * ROWS];
	void *act = malloc(kern_act_bytes(KERN_F32, N, B));
	int threads[] = {1, 2, 3, 5};
	for (int k = 0; tabs[k]; k++) {
		for (int ti = 0; ti < 4; ti++) {
			dai_err e;
			pool *p = pool_create(threads[ti], &e);
			cr_assert(p, "%s", e.msg);
			for (int t = 0; t < 3; t++) {
				kern_act_prep(tabs[k], ts[t], x, N, N, B, act);
				memset(y, 0, sizeof y);
				kern_matmul(tabs[k], p, ts[t], ws[t], act, y, ROWS, N, ROWS, B);
				if (k == 0 && ti == 0)
					memcpy(base[t], y, sizeof y);
				cr_assert_eq(memcmp(base[t], y, sizeof y), 0,
				             "%s type %d threads %d", tabs[k]->name, t,
				             threads[ti]);
				/* one activation row at a time, as generation does */
				memset(y, 0, sizeof y);
				for (int b = 0; b < B; b++) {
					kern_act_prep(tabs[k], ts[t], x + b * N, N, N, 1, act);
					kern_matmul(tabs[k], p, ts[t], ws[t], act, y + b * ROWS,
					            ROWS, N, ROWS, 1);
				}
				cr_assert_eq(memcmp(base[t], y, sizeof y), 0, "%s type %d split",
				             tabs[k]->name, t);
			}
			pool_destroy(p);
		}
	}
	free(act);
	free(w);
	free(x);
	free(wh);
	free(wq);
}

/* ---- row helpers ---- */

#define SAME_ROW(a, b, n, ...)                                                                     \
	cr_assert_eq(memcmp((a), (b), sizeof(float) * (size_t)(n)), 0, __VA_ARGS__)

Test(kern, row_helpers_ref_vs_avx2)
{
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		rng r = {1618};
		static float a[NBIG], b[NBIG], w[NBIG], y1[NBIG], y2[NBIG];
		for (int t = 0; t <= 301; t++) {
			int n = t <= 300 ? t : NBIG;
			rfill(&r, a, n);
			rfill(&r, b, n);
			rfill(&r, w, n);
			/* softmax and silu want a realistic range too */
			for (int i = 0; i < n; i += 3)
				a[i] = rng_uni(&r) * 30.0f;
			R->rmsnorm(a, w, y1, n, 1e-5f);
			A->rmsnorm(a, w, y2, n, 1e-5f);
			SAME_ROW(y1, y2, n, "rmsnorm n=%d", n);
			R->rmsnorm(a, NULL, y1, n, 1e-6f);
			A->rmsnorm(a, NULL, y2, n, 1e-6f);
			SAME_ROW(y1, y2, n, "rmsnorm(no w) n=%d", n);
			R->softmax(a, y1, n);
			A->softmax(a, y2, n);
			SAME_ROW(y1, y2, n, "softmax n=%d", n);
			R->silu(a, y1, n);
			A->silu(a, y2, n);
			SAME_ROW(y1, y2, n, "silu n=%d", n);
			R->swiglu(a, b, y1, n);
			A->swiglu(a, b, y2, n);
			SAME_ROW(y1, y2, n, "swiglu n=%d", n);
			R->mul(a, b, y1, n);
			A->mul(a, b, y2, n);
			SAME_ROW(y1, y2, n, "mul n=%d", n);
			R->add(a, b, y1, n);
			A->add(a, b, y2, n);
			SAME_ROW(y1, y2, n, "add n=%d", n);
			R->scale(a, 0.37f, y1, n);
			A->scale(a, 0.37f, y2, n);
			SAME_ROW(y1, y2, n, "scale n=%d", n);
			R->exp(a, y1, n);
			A->exp(a, y2, n);
			SAME_ROW(y1, y2, n, "exp n=%d", n);
			R->round_f16(a, y1, n);
			A->round_f16(a, y2, n);
			SAME_ROW(y1, y2, n, "round_f16 n=%d", n);
			/* in place */
			memcpy(y1, a, sizeof(float) * (size_t)n);
			memcpy(y2, a, sizeof(float) * (size_t)n);
			R->softmax(y1, y1, n);
			A->softmax(y2, y2, n);
			SAME_ROW(y1, y2, n, "softmax in place n=%d", n);
			/* rope: n/2 pairs as one head, and as heads of 8 */
			if (n % 2 == 0) {
				float c[NBIG / 2 + 1], s[NBIG / 2 + 1];
				dm_rope_table(n * 7, n ? n : 2, 10000.0f, c, s);
				memcpy(y1, a, sizeof(float) * (size_t)n);
				memcpy(y2, a, sizeof(float) * (size_t)n);
				R->rope(y1, c, s, n, 1);
				A->rope(y2, c, s, n, 1);
				SAME_ROW(y1, y2, n, "rope n=%d", n);
				if (n % 8 == 0) {
					R->rope(y1, c, s, 8, n / 8);
					A->rope(y2, c, s, 8, n / 8);
					SAME_ROW(y1, y2, n, "rope heads n=%d", n);
				}
			}
		}
	}
}

/*
 * softmax and scale with masked scores (-inf), NaN, +inf, huge and tiny
 * values and signed zeros, every length up to a few registers with tails:
 * every fast table gives the reference's result (NaN for NaN).
 */
Test(kern, softmax_special_values)
{
	const kern_table *R = kern_ref();
	rng r = {777};
	static const float special[] = {NAN,       INFINITY, -INFINITY, -INFINITY, 0x1p127f,
	                                -0x1p127f, -0.0f,    0.0f,      0x1p-149f, 88.0f};
	float x[80], y1[80], y2[80];
	FOR_FAST(A)
	for (int it = 0; it < 400; it++) {
		int n = it % 80;
		rfill(&r, x, n);
		for (int i = 0; i < n; i++)
			x[i] *= 20.0f;
		for (int i = 0; i < n && it % 3; i += 1 + (int)(rng_next(&r) % 8))
			x[i] = special[rng_next(&r) % (it % 7 ? 10 : 4)];
		if (it % 11 == 5) /* every score masked */
			for (int i = 0; i < n; i++)
				x[i] = -INFINITY;
		R->softmax(x, y1, n);
		A->softmax(x, y2, n);
		for (int i = 0; i < n; i++)
			cr_assert(same_result(y1[i], y2[i]),
			          "%s softmax it %d n %d [%d]: %a, want %a", A->name, it, n, i,
			          y2[i], y1[i]);
		R->scale(x, 0.125f, y1, n);
		A->scale(x, 0.125f, y2, n);
		for (int i = 0; i < n; i++)
			cr_assert(same_result(y1[i], y2[i]), "%s scale it %d n %d [%d]", A->name,
			          it, n, i);
	}
}

Test(kern, rmsnorm_softmax_values)
{
	const kern_table *R = kern_ref();
	float x[4] = {1, 2, 3, 4}, y[4];
	R->rmsnorm(x, NULL, y, 4, 0.0f);
	/* mean square 7.5 */
	for (int i = 0; i < 4; i++)
		cr_assert(fabsf(y[i] - x[i] / sqrtf(7.5f)) < 1e-6f);
	R->softmax(x, y, 4);
	double z = exp(1) + exp(2) + exp(3) + exp(4);
	for (int i = 0; i < 4; i++)
		cr_assert(fabs(y[i] - exp(x[i]) / z) < 1e-6);
	float m[3] = {-INFINITY, 0.0f, -INFINITY}; /* masked scores */
	R->softmax(m, y, 3);
	cr_assert(y[0] == 0.0f && y[1] == 1.0f && y[2] == 0.0f);
}

Test(kern, wsum_and_dequant)
{
	const kern_table *R = kern_ref(), *A = kern_avx2();
	const kern_table *tabs[4];
	all_tables(tabs);
	rng r = {8};
	enum { T = 77, LDV = 160 };
	static float p[T], v[T * LDV], y1[LDV], y2[LDV], col[T];
	rfill(&r, p, T);
	rfill(&r, v, T * LDV);
	for (int n = 0; n <= 151; n += n < 40 ? 1 : 37) {
		/* n = 0..40, 77, 114, 151 (column groups of 64 with tails) */
		R->wsum(p, v, LDV, T, y1, n);
		for (int i = 0; i < n; i++) {
			for (int t = 0; t < T; t++)
				col[t] = v[t * LDV + i];
			cr_assert_eq(fbits(y1[i]), fbits(R->dot_f32(p, col, T)), "wsum is a dot");
		}
		for (int t = 1; tabs[t]; t++) {
			for (int Tn = 0; Tn <= T; Tn += Tn < 40 ? 1 : 37) {
				/* T = 0..40, 77: lanes that stay empty, and wrap */
				R->wsum(p, v, LDV, Tn, y1, n);
				memset(y2, 0xa5, sizeof y2);
				tabs[t]->wsum(p, v, LDV, Tn, y2, n);
				SAME_ROW(y1, y2, n, "%s wsum n=%d T=%d", tabs[t]->name, n, Tn);
				for (int i = n; i < LDV; i++)
					cr_assert_eq(fbits(y2[i]), 0xa5a5a5a5u,
					             "%s wsum wrote past n", tabs[t]->name);
			}
		}
	}
	kern_q8_0 q[5];
	rfill_q8(&r, q, 5);
	float d1[160], d2[160];
	R->dequant_q8_0(q, d1, 160);
	for (int i = 0; i < 160; i++)
		cr_assert_eq(d1[i], f16_to_f32(q[i / 32].d) * (float)q[i / 32].q[i % 32]);
	if (A) {
		A->dequant_q8_0(q, d2, 160);
		SAME_ROW(d1, d2, 160, "dequant");
	}
}

/*
 * wsum_batch: each row of y is the wsum of its row of weights with its own
 * length (the reference by definition), and every fast table gives those
 * bits for head sizes with and without column tails, 1..9 rows (groups and
 * their remainders), lengths that end in the middle of a lane pass, lengths
 * that differ by row (in order, reversed, at random, zero), values starting
 * past the first cached row (a sliding window), and NaN, infinities, -0 and
 * subnormals among the weights and values. Nothing past n or between rows
 * is written.
 */
Test(kern, wsum_batch)
{
	const kern_table *R = kern_ref();
	const kern_table *tabs[4];
	all_tables(tabs);
	rng r = {4242};
	enum { MAXT = 180, LDV = 272, LDP = 190, MAXB = 9, LDY = 260 };
	static float p[MAXB * LDP], v[(MAXT + 8) * LDV], want[MAXB * LDY], got[MAXB * LDY];
	static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0x1p-149f, 0x1p-130f};
	static const int ns[] = {1, 7, 16, 17, 63, 64, 65, 80, 96, 128, 130, 256};
	int it = 0;
	for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
		int n = ns[ni];
		for (int nb = 1; nb <= MAXB; nb++, it++) {
			rfill(&r, p, MAXB * LDP);
			rfill(&r, v, (MAXT + 8) * LDV);
			if (it % 4 == 3)
				for (int i = 0; i < 6; i++) {
					p[rng_next(&r) % (MAXB * LDP)] = special[rng_next(&r) % 6];
					v[rng_next(&r) % ((MAXT + 8) * LDV)] =
					    special[rng_next(&r) % 6];
				}
			int T[MAXB];
			int shape = it % 5, base = (int)(rng_next(&r) % (MAXT - MAXB));
			for (int b = 0; b < nb; b++)
				T[b] = shape == 0   ? base + b + 1  /* the tokens of a step */
				       : shape == 1 ? base + nb - b /* decreasing */
				       : shape == 2 ? (int)(rng_next(&r) % MAXT) /* anything */
				       : shape == 3
				           ? (b % 3 ? 32 * (b % 5) + 31 : 0) /* empty rows */
				           : 33 + b;                         /* short */
			int lo = it % 3 == 2 ? (int)(rng_next(&r) % 8) : 0;  /* window start */
			const float *vl = v + (size_t)lo * LDV;
			R->wsum_batch(p, LDP, T, nb, vl, LDV, want, LDY, n);
			for (int b = 0; b < nb; b++) {
				float one[LDY];
				R->wsum(p + b * LDP, vl, LDV, T[b], one, n);
				for (int i = 0; i < n; i++)
					cr_assert(
					    same_result(want[b * LDY + i], one[i]),
					    "ref wsum_batch is wsum per row: n %d nb %d row %d", n,
					    nb, b);
			}
			for (int t = 1; tabs[t]; t++) {
				memset(got, 0xa5, sizeof got);
				tabs[t]->wsum_batch(p, LDP, T, nb, vl, LDV, got, LDY, n);
				for (int b = 0; b < MAXB; b++)
					for (int i = 0; i < LDY; i++) {
						float g = got[b * LDY + i];
						if (b < nb && i < n)
							cr_assert(
							    same_result(g, want[b * LDY + i]),
							    "%s wsum_batch n %d nb %d T %d row %d "
							    "col %d: %a, want %a",
							    tabs[t]->name, n, nb, T[b], b, i, g,
							    want[b * LDY + i]);
						else
							cr_assert_eq(fbits(g), 0xa5a5a5a5u,
							             "%s wsum_batch wrote (%d, %d)",
							             tabs[t]->name, b, i);
					}
			}
		}
	}
}

/* ---- dmath ---- */

Test(kern, expf_accuracy_and_edges)
{
	/* every 97th float in the interesting range, both signs */
	int64_t worst = 0;
	for (uint32_t u = 0; u < 0x42b20000u; u += 97)
		for (int sg = 0; sg < 2; sg++) {
			float x;
			uint32_t b = u | (sg ? 0x80000000u : 0);
			memcpy(&x, &b, sizeof x);
			if (x < -103.9f)
				continue;
			float want = (float)exp((double)x);
			int64_t d = ulps(dm_expf(x), want);
			worst = d > worst ? d : worst;
		}
	cr_assert(worst <= 1, "expf worst %lld ulp", (long long)worst);
	cr_assert_eq(dm_expf(INFINITY), INFINITY);
	cr_assert_eq(fbits(dm_expf(-INFINITY)), 0u);
	cr_assert(isnan(dm_expf(NAN)));
	cr_assert_eq(dm_expf(0.0f), 1.0f);
	cr_assert_eq(dm_expf(-0.0f), 1.0f);
	cr_assert(ulps(dm_expf(88.7f), (float)exp((double)88.7f)) <= 1);
	cr_assert_eq(dm_expf(88.73f), INFINITY);
	cr_assert_eq(dm_expf(1000.0f), INFINITY);
	float sub = dm_expf(-103.0f);
	cr_assert(sub > 0.0f && sub < 0x1p-126f, "exp(-103) is subnormal: %a", sub);
	cr_assert(ulps(sub, (float)exp(-103.0)) <= 1);
	cr_assert_eq(fbits(dm_expf(-104.0f)), 0u);
	cr_assert_eq(fbits(dm_expf(-1000.0f)), 0u);
	cr_assert(ulps(dm_expf(-87.5f), (float)exp(-87.5)) <= 1);

	/* the vector version, on the same sweep plus the edges */
	const kern_table *A = kern_avx2();
	if (!A)
		return;
	enum { N = 4096 };
	static float x[N], y1[N], y2[N];
	rng r = {3};
	for (int it = 0; it < 64; it++) {
		for (int i = 0; i < N; i++) {
			uint32_t b = (uint32_t)rng_next(&r);
			memcpy(&x[i], &b, sizeof(float));
			if (i % 2)
				x[i] = rng_uni(&r) * 110.0f;
		}
		x[0] = INFINITY, x[1] = -INFINITY, x[2] = NAN, x[3] = 88.7f, x[4] = -103.0f;
		kern_ref()->exp(x, y1, N);
		A->exp(x, y2, N);
		for (int i = 0; i < N; i++) {
			if (isnan(y1[i]))
				cr_assert(isnan(y2[i]));
			else
				cr_assert_eq(fbits(y1[i]), fbits(y2[i]), "exp(%a)", x[i]);
		}
	}
}

Test(kern, sincos_pow_accuracy)
{
	int64_t ws = 0, wc = 0;
	for (uint32_t u = 0; u < 0x49800000u; u += 1001) /* |x| < 2^20 */
		for (int sg = 0; sg < 2; sg++) {
			float x;
			uint32_t b = u | (sg ? 0x80000000u : 0);
			memcpy(&x, &b, sizeof x);
			int64_t d = ulps(dm_sinf(x), (float)sin((double)x));
			ws = d > ws ? d : ws;
			d = ulps(dm_cosf(x), (float)cos((double)x));
			wc = d > wc ? d : wc;
		}
	cr_assert(ws <= 1 && wc <= 1, "sin worst %lld, cos worst %lld", (long long)ws,
	          (long long)wc);
	cr_assert_eq(fbits(dm_sinf(-0.0f)), 0x80000000u);
	cr_assert_eq(dm_cosf(0.0f), 1.0f);
	cr_assert(isnan(dm_sinf(INFINITY)) && isnan(dm_cosf(NAN)));

	int64_t wp = 0;
	float bases[] = {10000.0f, 500000.0f, 1e6f, 10.0f, 1.5f};
	for (size_t bi = 0; bi < sizeof bases / sizeof bases[0]; bi++)
		for (int d = 2; d <= 256; d += 2) {
			float y = -2.0f / (float)d;
			int64_t e = ulps(dm_powf(bases[bi], y), (float)pow(bases[bi], y));
			wp = e > wp ? e : wp;
		}
	cr_assert(wp <= 1, "powf worst %lld", (long long)wp);
	cr_assert(fabs(dm_log(10.0) - log(10.0)) <= 2e-16 * log(10.0));
	cr_assert(fabs(dm_exp(-3.25) - exp(-3.25)) <= 2e-16 * exp(-3.25));
}

Test(kern, rope_table)
{
	float c[64], s[64];
	int dims[] = {16, 64, 128};
	int pos[] = {0, 1, 57, 4095, 100000};
	for (int di = 0; di < 3; di++)
		for (int pi = 0; pi < 5; pi++) {
			int nd = dims[di];
			dm_rope_table(pos[pi], nd, 10000.0f, c, s);
			float scale = (float)pow(10000.0, -2.0 / nd);
			float theta = (float)pos[pi];
			for (int i = 0; i < nd / 2; i++) {
				cr_assert(ulps(c[i], (float)cos((double)theta)) <= 1, "cos %d %d",
				          nd, i);
				cr_assert(ulps(s[i], (float)sin((double)theta)) <= 1, "sin %d %d",
				          nd, i);
				theta = theta * scale;
			}
		}
	dm_rope_table(0, 16, 10000.0f, c, s);
	for (int i = 0; i < 8; i++)
		cr_assert(c[i] == 1.0f && s[i] == 0.0f);
}

/* ---- selection ---- */

Test(kern, select_by_name)
{
	dai_err e;
	cr_assert_eq(kern_by_name("ref", &e), kern_ref());
	cr_assert_str_eq(kern_ref()->name, "ref");
	cr_assert_null(kern_by_name("sse9", &e));
	cr_assert(strstr(e.msg, "sse9"), "%s", e.msg);
	const kern_table *a = kern_by_name("avx2", &e);
	cr_assert_eq(a, kern_avx2());
	if (!a)
		cr_assert(strstr(e.msg, "AVX2"));
	const kern_table *a5 = kern_by_name("avx512", &e);
	cr_assert_eq(a5, kern_avx512());
	if (a5)
		cr_assert_str_eq(a5->name, "avx512");
	else
		cr_assert(strstr(e.msg, "AVX-512"), "%s", e.msg);
	const kern_table *au = kern_by_name("auto", &e);
	cr_assert_eq(au, a5 ? a5 : a ? a : kern_ref());
	setenv("DAI_KERNELS", "avx512", 1);
	cr_assert_eq(kern_select(&e), a5);
	setenv("DAI_KERNELS", "ref", 1);
	cr_assert_eq(kern_select(&e), kern_ref());
	unsetenv("DAI_KERNELS");
	cr_assert_eq(kern_select(&e), au);
	/* every entry is filled in */
	const kern_table *tabs[3] = {kern_ref(), a, a5};
	for (int t = 0; t < 3; t++) {
		const kern_table *k = tabs[t];
		if (!k)
			continue;
		cr_assert(k->f32_to_f16 && k->f16_to_f32 && k->round_f16 && k->quantize_q8_0 &&
		              k->dequant_q8_0 && k->dot_f32 && k->dot_f16 && k->dot_q8_0 &&
		              k->sum && k->matmul_f32 && k->matmul_f16 && k->matmul_q8_0 &&
		              k->rmsnorm && k->softmax && k->silu && k->swiglu && k->mul &&
		              k->add && k->scale && k->exp && k->rope && k->wsum && k->wsum_batch,
		          "%s", k->name);
	}
}

/* Equal bits, or both NaN (a NaN's sign and payload are not part of the
 * contract). */
static int same_float(float a, float b)
{
	return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0;
}

/* silu and swiglu on the values at the edges of exp: NaN, infinities,
 * zeros, subnormals, the clamps of dm_expf and beyond, in rows of every
 * length to 40 (full registers and masked tails). */
Test(kern, silu_special_values)
{
	static const float special[] = {
	    NAN,    -NAN,   INFINITY, -INFINITY, 0.0f,   -0.0f, 0x1p-149f, -0x1p-149f, 88.7f,
	    -88.7f, 104.0f, -104.0f,  1e30f,     -1e30f, 1.0f,  -1.0f,     0x1p-126f,  20.0f};
	enum { NS = sizeof special / sizeof special[0] };
	const kern_table *R = kern_ref();
	FOR_FAST(A)
	{
		float g[40], u[40], y1[40], y2[40];
		for (int n = 1; n <= 40; n++) {
			for (int i = 0; i < n; i++) {
				g[i] = special[(i * 7 + n) % NS];
				u[i] = special[(i * 5 + 3 * n) % NS];
			}
			R->silu(g, y1, n);
			A->silu(g, y2, n);
			for (int i = 0; i < n; i++)
				cr_assert(same_float(y1[i], y2[i]), "%s silu n=%d i=%d", A->name, n,
				          i);
			R->swiglu(g, u, y1, n);
			A->swiglu(g, u, y2, n);
			for (int i = 0; i < n; i++)
				cr_assert(same_float(y1[i], y2[i]), "%s swiglu n=%d i=%d", A->name,
				          n, i);
		}
	}
}
