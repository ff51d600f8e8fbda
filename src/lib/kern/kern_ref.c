/*
 * kern_ref.c - the scalar reference kernels. This file DEFINES the
 * arithmetic of kern.h: straightforward loops, one IEEE operation per step,
 * in exactly the order the contract states. Fast tables must match it bit
 * for bit.
 */
#include "kern.h"

#include <math.h>
#include <string.h>

#include "dmath.h"
#include "f16.h"
#include "kern_steps.h"

/* Contract 1: L[j] = L[j] + L[j + w] for w = 16, 8, 4, 2, 1. */
static float fold32(float *L)
{
	for (int w = 16; w >= 1; w /= 2)
		for (int j = 0; j < w; j++)
			L[j] = L[j] + L[j + w];
	return L[0];
}

/* ---- conversions ---- */

static void ref_f32_to_f16(const float *x, uint16_t *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = f32_to_f16(x[i]);
}

static void ref_f16_to_f32(const uint16_t *x, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = f16_to_f32(x[i]);
}

static void ref_round_f16(const float *x, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = f16_to_f32(f32_to_f16(x[i]));
}

static void ref_quantize_q8_0(const float *x, kern_q8_0 *y, int n)
{
	for (int b = 0; b < n / KERN_QK8_0; b++, x += KERN_QK8_0) {
		float amax = kern_block_amax(x);
		float d = amax / 127.0f;
		float id = amax != 0.0f ? 127.0f / amax : 0.0f;
		y[b].d = f32_to_f16(d);
		for (int j = 0; j < KERN_QK8_0; j++)
			y[b].q[j] = kern_q8_round(x[j] * id);
	}
}

static void ref_dequant_q8_0(const kern_q8_0 *x, float *y, int n)
{
	for (int b = 0; b < n / KERN_QK8_0; b++) {
		float d = f16_to_f32(x[b].d);
		for (int j = 0; j < KERN_QK8_0; j++)
			y[b * KERN_QK8_0 + j] = d * (float)x[b].q[j];
	}
}

/* ---- dots ---- */

static float ref_dot_f32(const float *a, const float *b, int n)
{
	float L[32] = {0};
	for (int i = 0; i < n; i++)
		L[i % 32] = fmaf(a[i], b[i], L[i % 32]);
	return fold32(L);
}

static float ref_dot_f16(const uint16_t *w, const float *x, int n)
{
	float L[32] = {0};
	for (int i = 0; i < n; i++)
		L[i % 32] = fmaf(f16_to_f32(w[i]), x[i], L[i % 32]);
	return fold32(L);
}

static float ref_dot_q8_0(const kern_q8_0 *w, const kern_q8_0 *x, int nb)
{
	float A[8] = {0};
	for (int k = 0; k < nb; k++) {
		int32_t isum = 0;
		for (int j = 0; j < KERN_QK8_0; j++)
			isum += (int32_t)w[k].q[j] * (int32_t)x[k].q[j];
		float s = f16_to_f32(w[k].d) * f16_to_f32(x[k].d);
		A[k % 8] = fmaf(s, (float)isum, A[k % 8]);
	}
	return kern_fold8(A);
}

static float ref_sum(const float *x, int n)
{
	float L[32] = {0};
	for (int i = 0; i < n; i++)
		L[i % 32] = L[i % 32] + x[i];
	return fold32(L);
}

/* ---- matrix products ---- */

static void ref_matmul_f32(const float *w, int ldw, const float *x, int ldx, float *y, int ldy,
                           int n, int row0, int row1, int batch)
{
	for (int r = row0; r < row1; r++)
		for (int b = 0; b < batch; b++)
			y[(size_t)b * ldy + r] =
			    ref_dot_f32(w + (size_t)r * ldw, x + (size_t)b * ldx, n);
}

static void ref_matmul_f16(const uint16_t *w, int ldw, const float *x, int ldx, float *y, int ldy,
                           int n, int row0, int row1, int batch)
{
	for (int r = row0; r < row1; r++)
		for (int b = 0; b < batch; b++)
			y[(size_t)b * ldy + r] =
			    ref_dot_f16(w + (size_t)r * ldw, x + (size_t)b * ldx, n);
}

static void ref_matmul_q8_0(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y,
                            int ldy, int n, int row0, int row1, int batch)
{
	for (int r = row0; r < row1; r++)
		for (int b = 0; b < batch; b++)
			y[(size_t)b * ldy + r] =
			    ref_dot_q8_0(w + (size_t)r * ldw, x + (size_t)b * ldx, n / KERN_QK8_0);
}

/* ---- row helpers ---- */

static void ref_rmsnorm(const float *x, const float *w, float *y, int n, float eps)
{
	float ss = ref_dot_f32(x, x, n);
	float mean = ss / (float)n;
	float s = 1.0f / sqrtf(mean + eps);
	for (int i = 0; i < n; i++)
		y[i] = w ? (x[i] * s) * w[i] : x[i] * s;
}

static void ref_softmax(const float *x, float *y, int n)
{
	float m = -INFINITY;
	for (int i = 0; i < n; i++)
		m = x[i] > m ? x[i] : m;
	for (int i = 0; i < n; i++)
		y[i] = dm_expf(x[i] - m);
	float inv = 1.0f / ref_sum(y, n);
	for (int i = 0; i < n; i++)
		y[i] = y[i] * inv;
}

static void ref_silu(const float *x, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = dm_siluf(x[i]);
}

static void ref_swiglu(const float *g, const float *u, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = dm_siluf(g[i]) * u[i];
}

static void ref_mul(const float *a, const float *b, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = a[i] * b[i];
}

static void ref_add(const float *a, const float *b, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = a[i] + b[i];
}

static void ref_scale(const float *x, float s, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = x[i] * s;
}

static void ref_exp(const float *x, float *y, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = dm_expf(x[i]);
}

static void ref_rope(float *x, const float *cos, const float *sin, int head_dim, int n_heads)
{
	for (int h = 0; h < n_heads; h++) {
		float *v = x + (size_t)h * head_dim;
		for (int i = 0; i < head_dim / 2; i++) {
			float x0 = v[2 * i], x1 = v[2 * i + 1];
			float c = cos[i], s = sin[i];
			v[2 * i] = x0 * c - x1 * s;
			v[2 * i + 1] = x0 * s + x1 * c;
		}
	}
}

static void ref_wsum(const float *p, const float *v, int ldv, int T, float *y, int n)
{
	for (int i = 0; i < n; i++) {
		float L[32] = {0};
		for (int t = 0; t < T; t++)
			L[t % 32] = fmaf(p[t], v[(size_t)t * ldv + i], L[t % 32]);
		y[i] = fold32(L);
	}
}

static void ref_wsum_batch(const float *p, int ldp, const int *T, int nb, const float *v, int ldv,
                           float *y, int ldy, int n)
{
	for (int b = 0; b < nb; b++)
		ref_wsum(p + (size_t)b * ldp, v, ldv, T[b], y + (size_t)b * ldy, n);
}

static const kern_table ref_table = {
    .name = "ref",
    .f32_to_f16 = ref_f32_to_f16,
    .f16_to_f32 = ref_f16_to_f32,
    .round_f16 = ref_round_f16,
    .quantize_q8_0 = ref_quantize_q8_0,
    .dequant_q8_0 = ref_dequant_q8_0,
    .dot_f32 = ref_dot_f32,
    .dot_f16 = ref_dot_f16,
    .dot_q8_0 = ref_dot_q8_0,
    .sum = ref_sum,
    .matmul_f32 = ref_matmul_f32,
    .matmul_f16 = ref_matmul_f16,
    .matmul_q8_0 = ref_matmul_q8_0,
    .rmsnorm = ref_rmsnorm,
    .softmax = ref_softmax,
    .silu = ref_silu,
    .swiglu = ref_swiglu,
    .mul = ref_mul,
    .add = ref_add,
    .scale = ref_scale,
    .exp = ref_exp,
    .rope = ref_rope,
    .wsum = ref_wsum,
    .wsum_batch = ref_wsum_batch,
};

const kern_table *kern_ref(void)
{
	return &ref_table;
}
