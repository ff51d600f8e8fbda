/*
 * Unit tests: the GELU of kern_gelu.h. Its half table against the table
 * of libggml (llama.cpp commit c392e5094deaf2d1a7c18683214f007fad3fe42b,
 * read back from ggml_gelu on every half in (-10, 10), whose outputs are
 * the table's entries), the contract's cut-offs, the double-precision
 * formula within the precision of a half, and the reference and AVX2
 * versions bit for bit.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sodium.h>
#include <string.h>

#include "kern/f16.h"
#include "kern/kern_gelu.h"

TestSuite(gelu);

/*
 * sha256 of the 37376 entries T[h] (uint16 little-endian, h ascending)
 * whose half f32(h) is finite with |f32(h)| < 10, as libggml's CPU backend
 * computed them (its ggml_vec_gelu_f32 on those inputs, x86-64 build with
 * GGML_NATIVE=ON, converted back to halves exactly).
 */
static const char ggml_table_sha256[] =
    "941d5b3ccda9cd5ca0a10eb534559bb12b9a4512387d4ba59e4532bb9644d812";

Test(gelu, table_is_ggmls)
{
	const uint16_t *t = kern_gelu_table();
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	int n = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float v = f16_to_f32((uint16_t)h);
		if (!(fabsf(v) < 10.0f))
			continue;
		unsigned char le[2] = {(unsigned char)(t[h] & 0xff), (unsigned char)(t[h] >> 8)};
		crypto_hash_sha256_update(&st, le, 2);
		n++;
	}
	unsigned char d[32];
	char hex[65];
	crypto_hash_sha256_final(&st, d);
	sodium_bin2hex(hex, sizeof hex, d, sizeof d);
	cr_expect_eq(n, 37376);
	cr_expect_str_eq(hex, ggml_table_sha256);
}

Test(gelu, cutoffs_and_specials)
{
	cr_expect(kern_gelu(-10.0f) == 0.0f && kern_gelu(-1e30f) == 0.0f);
	cr_expect(kern_gelu(-INFINITY) == 0.0f);
	cr_expect(kern_gelu(10.0f) == 10.0f && kern_gelu(1e30f) == 1e30f);
	cr_expect(isinf(kern_gelu(INFINITY)));
	cr_expect(isnan(kern_gelu(NAN)));
	cr_expect(kern_gelu(0.0f) == 0.0f);
	/* just inside the cut-offs the table is used: f32(T[f16(x)]) */
	float in = nextafterf(10.0f, 0.0f);
	cr_expect(kern_gelu(in) == f16_to_f32(kern_gelu_table()[f32_to_f16(in)]));
	/* every input of a half's rounding interval gives the same output */
	cr_expect(kern_gelu(1.0f) == kern_gelu(nextafterf(1.0f, 2.0f)));
}

/* The table is GELU up to the half rounding of its input and output. */
Test(gelu, near_the_formula)
{
	for (float x = -9.9f; x < 9.9f; x += 0.01f) {
		double v = f16_to_f32(f32_to_f16(x));
		double want =
		    0.5 * v * (1.0 + tanh(0.7978845608028654 * v * (1.0 + 0.044715 * v * v)));
		double got = kern_gelu(x);
		cr_assert(fabs(got - want) <= fabs(want) * 1e-3 + 1e-7, "x %g: %g, formula %g", x,
		          got, want);
	}
}

static uint64_t rng = 88172645463325252u;
static uint32_t next32(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

Test(gelu, ref_and_avx2_agree)
{
	if (!kern_avx2())
		cr_skip_test("no AVX2 on this CPU");
	enum { N = 65536 + 4096 + 37 };
	static float g[N], u[N], a[N], b[N];
	int n = 0;
	for (uint32_t h = 0; h < 65536; h++) /* every half, so every entry */
		g[n++] = f16_to_f32((uint16_t)h);
	static const float specials[] = {-10.0f,    10.0f,    -9.99999f, 9.99999f, -10.00001f,
	                                 10.00001f, 0.0f,     -0.0f,     1e-45f,   -1e-45f,
	                                 65504.0f,  65520.0f, -65520.0f, 1e38f,    -1e38f};
	for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
		g[n++] = specials[i];
	g[n++] = INFINITY, g[n++] = -INFINITY, g[n++] = NAN;
	while (n < N) { /* random floats, mostly within (-12, 12), some of any bits */
		uint32_t r = next32();
		if (r % 8 == 0) {
			memcpy(&g[n], &r, 4);
			n++;
		} else
			g[n++] = ((float)(int32_t)next32() / 2147483648.0f) * 12.0f;
	}
	for (int i = 0; i < N; i++)
		u[i] = ((float)(int32_t)next32() / 2147483648.0f) * 3.0f;
	/* lengths that end in every tail position */
	for (int len = 0; len <= 17; len++) {
		kern_geglu_ref(g + 3, u, a, len);
		kern_geglu_avx2(g + 3, u, b, len);
		cr_expect(memcmp(a, b, sizeof(float) * (size_t)len) == 0, "length %d", len);
	}
	kern_geglu_ref(g, u, a, N);
	kern_geglu_avx2(g, u, b, N);
	for (int i = 0; i < N; i++)
		cr_assert(!memcmp(&a[i], &b[i], 4) || (isnan(a[i]) && isnan(b[i])),
		          "x %g: ref %g, avx2 %g", g[i], a[i], b[i]);
	/* in place, through the table choice */
	memcpy(b, g, sizeof b);
	kern_geglu(kern_avx2(), b, u, b, N);
	kern_geglu(kern_ref(), g, u, a, N);
	for (int i = 0; i < N; i++)
		cr_assert(!memcmp(&a[i], &b[i], 4) || (isnan(a[i]) && isnan(b[i])));
}
