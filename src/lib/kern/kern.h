/*
 * kern.h - compute kernels of the inference core, bitwise deterministic.
 *
 * One table of function pointers (kern_table) per instruction set: "ref", a
 * scalar reference in portable C (kern_ref.c) that DEFINES the arithmetic,
 * "avx2" (AVX2+FMA+F16C, kern_avx2.c) and "avx512" (AVX-512 F/BW/VL/DQ and
 * VNNI on top of AVX2, kern_avx512.c). Every fast table returns the same
 * bits as the reference for every input; the unit tests compare them with
 * memcmp. Later code (receipts, replay, fraud proofs) relies on the contract
 * below, so change it only together with every table and the tests. The
 * block types of items 6-9 have their own pair of tables (kern_quant.h:
 * kern_quant_ref.c defines, kern_quant_avx2.c matches); kern_act_prep,
 * kern_matmul and kern_dequant_row below dispatch to them.
 *
 * THE CONTRACT
 *
 * Notation: fma(a,b,c) is a*b+c with one rounding (C fmaf); every other
 * operation is one IEEE binary32 operation, round to nearest even, in the
 * order written, never contracted. f16(x) is IEEE binary16 with
 * round-to-nearest-even (f16.h), f32(h) the exact conversion back. A NaN
 * result is a NaN; its sign and payload are not part of the contract.
 *
 * 1. Canonical dot, dot(a, b, n) for float vectors:
 *      L[0..31] = +0.0f
 *      for i = 0 .. n-1:  L[i % 32] = fma(a[i], b[i], L[i % 32])
 *      fold: for w = 16, 8, 4, 2, 1:  for j < w:  L[j] = L[j] + L[j + w]
 *      result L[0]
 *    (AVX2 keeps L in 4 registers of 8 lanes; a tail of n % 32 elements
 *    goes into lanes 0 .. r-1 the same way.)
 *    The canonical sum, sum(x, n), is the same with L[i%32] = L[i%32] + x[i].
 *
 * 2. F16 weights. The activation row x is first rounded to half precision,
 *    x'[i] = f32(f16(x[i])) ("round_f16", done once per activation row; as
 *    llama.cpp's vec_dot_type F16). The dot of a weight row w (halves) is
 *    dot(f32(w), x', n). Products of two halves are exact in binary32, so
 *    only the additions round. (If x' is not half-representable the result
 *    is still well defined by the same formula.)
 *
 * 3. Q8_0 weights, blocks of 32 (kern_q8_0: fp16 scale d, 32 int8 q).
 *    a) Activations are quantized as llama.cpp's x86 AVX2 quantize_row_q8_0
 *       does it, per block of 32 floats x[0..31]:
 *         amax = M(|x|) with the exact maxps tree below; d = amax / 127.0f;
 *         stored scale f16(d); id = amax != 0 ? 127.0f / amax : 0.0f;
 *         q[j] = cvt(rne(x[j] * id)), where rne rounds to the nearest
 *         integer (ties to even) and cvt saturates as cvtps_epi32 followed by
 *         the two saturating packs to int8 do: v NaN or outside
 *         [-2^31, 2^31) -> -128 (the "integer indefinite"), else v clamped
 *         to [-128, 127]. (-128 only arises from NaN, inf or a subnormal
 *         amax, where 127/amax overflows.)
 *       M: with max(a, b) = a > b ? a : b (x86 maxps: b when unordered),
 *         m[j] = max(max(max(|x[j]|, |x[j+8]|), |x[j+16]|), |x[j+24]|), j<8;
 *         p[j] = max(m[j+4], m[j]), j<4;  s[j] = max(p[j], p[j+2]), j<2;
 *         amax = max(s[0], s[1]).
 *    b) dot_q8_0(w, x, nb) over nb blocks:
 *         isum[k] = exact int32 sum over j of w[k].q[j] * x[k].q[j]
 *         s[k]    = f32(w[k].d) * f32(x[k].d)           (exact)
 *         A[0..7] = +0.0f
 *         for k = 0 .. nb-1:  A[k % 8] = fma(s[k], (float)isum[k], A[k % 8])
 *         fold: for w = 4, 2, 1:  for j < w:  A[j] = A[j] + A[j + w]
 *         result A[0]
 *       ((float)isum is exact: |isum| <= 32*128*128.)
 *    c) dequant_q8_0: y[32k + j] = f32(d[k]) * (float)q[k][j]  (exact).
 *
 * 4. Matrix products. matmul_*(w, ldw, x, ldx, y, ldy, n, row0, row1, batch):
 *      for r in [row0, row1), b in [0, batch):
 *          y[b*ldy + r] = DOT(row r of w, row b of x)
 *    where DOT is 1, 2, 3b or 6-8 for the weight type, rows are n long, and
 *    row strides ldw, ldx are in elements (F32, F16, BF16) or blocks. Each
 *    output is exactly one canonical dot, so the row range, the batch size
 *    and the split across threads never change a bit (kern_matmul splits by
 *    output rows).
 *
 * 5. Row helpers (n elements, any n >= 0; y may be the same array as an
 *    input, except for wsum; matmul outputs must not overlap their inputs):
 *      rmsnorm:  ss = dot(x, x, n); mean = ss / (float)n;
 *                s = 1.0f / sqrtf(mean + eps); y[i] = (x[i] * s) * w[i]
 *                (w == NULL: y[i] = x[i] * s)
 *      softmax:  m = max over x (NaNs skipped); e[i] = dm_expf(x[i] - m);
 *                inv = 1.0f / sum(e, n); y[i] = e[i] * inv
 *      silu:     y[i] = x[i] / (1.0f + dm_expf(-x[i]))
 *      swiglu:   y[i] = silu(g[i]) * u[i]
 *      mul, add: y[i] = a[i] * b[i], a[i] + b[i];  scale: y[i] = x[i] * s
 *      exp:      y[i] = dm_expf(x[i])   (dmath.h gives the exact steps)
 *      rope:     for each head h < n_heads, pair i < head_dim/2, with
 *                x0 = x[h*head_dim + 2i], x1 = x[h*head_dim + 2i + 1]:
 *                x0' = x0*cos[i] - x1*sin[i];  x1' = x0*sin[i] + x1*cos[i]
 *                (each product rounded, then the sum). Tables from
 *                dm_rope_table (dmath.h).
 *      wsum:     y[i] = dot(p, column i of v, T) = the canonical dot over
 *                t < T of p[t] * v[t*ldv + i], for i < n (attention: the
 *                probability-weighted sum of V rows).
 *      wsum_batch: for b < nb and i < n, y[b*ldy + i] = the canonical dot
 *                over t < T[b] of p[b*ldp + t] * v[t*ldv + i]: the wsum of
 *                each of nb rows of weights (attention: several tokens'
 *                probabilities) over the same V rows, each row with its own
 *                length T[b]; y must not overlap p or v.
 *      round_f16: y[i] = f32(f16(x[i]));  f32_to_f16 / f16_to_f32: rows.
 *
 * 6. BF16 weights. bf16(x) keeps the top 16 bits of x after rounding to
 *    nearest even (u + 0x7fff + ((u >> 16) & 1), u the bits of x; a NaN
 *    stays a NaN). The activation row is rounded once, x'[i] = f32(bf16(x[i]))
 *    (llama.cpp's vec_dot_type BF16), and a weight row's dot is
 *    dot(f32(w), x', n) of item 1 (products of two bf16 are exact).
 *
 * 7. Q4_0, Q5_0, Q4_1, Q5_1 weights, blocks of 32 (kern_quant.h), each
 *    element an integer v[j] with the block's scale d (and minimum m):
 *      Q4_0: v = nibble - 8;  Q5_0: v = (nibble | 16 * bit) - 16;
 *      Q4_1: v = nibble;      Q5_1: v = nibble | 16 * bit
 *    where element j < 16 is the low nibble of qs[j], element j + 16 its high
 *    nibble, and bit is bit j of qh read as a little-endian uint32.
 *    a) Q4_0 and Q5_0 take Q8_0 activations (3a); their dot is 3b with
 *       isum[k] = exact sum over j of v[k][j] * x[k].q[j].
 *    b) Q4_1 and Q5_1 take Q8_1 activations: the Q8_0 quantization of 3a
 *       (same d and q) plus s = f16(d32 * (float)sum_j q[j]), where d32 is
 *       the float amax / 127.0f before rounding to half. The dot:
 *         isum[k] as in a);  s[k] = f32(w[k].d) * f32(x[k].d)
 *         A[k % 8] = fma(s[k], (float)isum[k], A[k % 8])
 *         M[k % 8] = fma(f32(w[k].m), f32(x[k].s), M[k % 8])
 *         result fold8(A) + fold8(M)   (fold8: the fold of 3b)
 *
 * 8. Q4_K, Q5_K, Q6_K weights, super-blocks of 256, Q8_K activations.
 *    a) Q8_K quantization, per 256 floats: amax = the largest |x[j]| (a NaN
 *       never compares larger) and max = x[j] for the first j attaining it.
 *       amax == 0 (all zero or NaN): d = 0, q = 0, bsums = 0. Otherwise
 *       iscale = -127.0f / max; q[j] = cvt(rne(iscale * x[j])) with rne and
 *       cvt of 3a; d = 1.0f / iscale; bsums[g] = exact sum of q[16g .. 16g+15].
 *       (As ggml's quantize_row_q8_K_ref, which the x86 build uses.)
 *    b) Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scale sc[j] and min
 *       m[j] from scales[12]: j < 4: sc = s[j] & 63, m = s[j+4] & 63;
 *       j >= 4: sc = (s[j+4] & 15) | (s[j-4] >> 6) << 4,
 *       m = (s[j+4] >> 4) | (s[j] >> 6) << 4. Element 64g + i (g < 4, i < 32)
 *       is the low nibble of qs[32g + i], element 64g + 32 + i its high
 *       nibble; Q5_K adds 16 * bit 2g (resp. 2g+1) of qh[i]. v = that value.
 *         isum[k] = exact sum_j sc[j] * sum_{i<32} v[32j+i] * x.q[32j+i]
 *         msum[k] = exact sum_j m[j] * (x.bsums[2j] + x.bsums[2j+1])
 *         A[k % 8] = fma(x.d * f32(w.d), (float)isum[k], A[k % 8])
 *         M[k % 8] = fma(x.d * f32(w.dmin), (float)msum[k], M[k % 8])
 *         result fold8(A) - fold8(M)
 *    c) Q6_K: element e = 128h + 32c + l (h < 2, c < 4, l < 32) has low bits
 *       ql[64h + 32(c & 1) + l] (low nibble for c < 2, high nibble for c >= 2),
 *       high bits (qh[32h + l] >> 2c) & 3, u = low | high << 4, v = u - 32,
 *       and scale scales[e / 16] (int8). The offset goes through bsums
 *       (the same as summing v * q while bsums are the sums of q, which
 *       quantize_q8_k guarantees):
 *         isum[k] = exact sum_g scales[g] * (sum_{i<16} u[16g+i] * x.q[16g+i]
 *                                             - 32 * x.bsums[g])
 *         A[k % 8] = fma(x.d * f32(w.d), (float)isum[k], A[k % 8]); fold8(A)
 *    (float)isum rounds to nearest even; it is exact below 2^24, which only
 *    extreme blocks exceed.
 *
 * 9. Dequantization (token embeddings): Q4_0, Q5_0: f32(d) * (float)v
 *    (exact); Q4_1, Q5_1: f32(d) * (float)v + f32(m); Q4_K, Q5_K:
 *    (f32(d) * (float)sc) * (float)v - f32(dmin) * (float)m; Q6_K:
 *    (f32(d) * (float)sc) * (float)v; BF16: exact.
 *
 * Alignment: none required. Lengths are ints >= 0; rows of a block type
 * need n to be a multiple of its block, 32 or 256 (the caller checks;
 * kernels use whole blocks).
 *
 * Build: every file that implements or inlines this arithmetic (kern*.c,
 * dmath.h users) must be compiled with -ffp-contract=off and evaluate floats
 * in their own precision (FLT_EVAL_METHOD == 0, checked at compile time).
 * The AVX2 kernels keep up to 24 KiB of scratch on the stack, the AVX-512
 * ones up to 28 KiB, and their Q8_0 products a buffer per thread on the
 * heap (the activations transposed, kept for the thread's next call and
 * freed when it ends; without memory they fall back to the AVX2 kernel).
 */
#ifndef DAI_KERN_H
#define DAI_KERN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "pool.h"

/* Q8_0 block, the GGUF layout: 34 bytes, no padding. */
#define KERN_QK8_0 32
typedef struct kern_q8_0 {
	uint16_t d; /* scale, IEEE half bits */
	int8_t q[KERN_QK8_0];
} kern_q8_0;
_Static_assert(sizeof(kern_q8_0) == 34, "kern_q8_0 must match the GGUF block layout");

/* Weight types; the values are the GGML type ids. */
enum kern_type {
	KERN_F32 = 0,
	KERN_F16 = 1,
	KERN_Q4_0 = 2,
	KERN_Q4_1 = 3,
	KERN_Q5_0 = 6,
	KERN_Q5_1 = 7,
	KERN_Q8_0 = 8,
	KERN_Q4_K = 12,
	KERN_Q5_K = 13,
	KERN_Q6_K = 14,
	KERN_BF16 = 30
};

typedef struct kern_table {
	const char *name; /* "ref", "avx2", "avx512" */

	/* Conversions (activation preparation is done once per row). */
	void (*f32_to_f16)(const float *x, uint16_t *y, int n);
	void (*f16_to_f32)(const uint16_t *x, float *y, int n);
	void (*round_f16)(const float *x, float *y, int n);
	void (*quantize_q8_0)(const float *x, kern_q8_0 *y, int n);
	void (*dequant_q8_0)(const kern_q8_0 *x, float *y, int n);

	/* Dot products (contract items 1-3). */
	float (*dot_f32)(const float *a, const float *b, int n);
	float (*dot_f16)(const uint16_t *w, const float *x, int n);
	float (*dot_q8_0)(const kern_q8_0 *w, const kern_q8_0 *x, int nb);
	float (*sum)(const float *x, int n);

	/* Matrix products on output rows [row0, row1) (contract item 4). */
	void (*matmul_f32)(const float *w, int ldw, const float *x, int ldx, float *y, int ldy,
	                   int n, int row0, int row1, int batch);
	void (*matmul_f16)(const uint16_t *w, int ldw, const float *x, int ldx, float *y, int ldy,
	                   int n, int row0, int row1, int batch);
	void (*matmul_q8_0)(const kern_q8_0 *w, int ldw, const kern_q8_0 *x, int ldx, float *y,
	                    int ldy, int n, int row0, int row1, int batch);

	/* Row helpers (contract item 5). */
	void (*rmsnorm)(const float *x, const float *w, float *y, int n, float eps);
	void (*softmax)(const float *x, float *y, int n);
	void (*silu)(const float *x, float *y, int n);
	void (*swiglu)(const float *g, const float *u, float *y, int n);
	void (*mul)(const float *a, const float *b, float *y, int n);
	void (*add)(const float *a, const float *b, float *y, int n);
	void (*scale)(const float *x, float s, float *y, int n);
	void (*exp)(const float *x, float *y, int n);
	void (*rope)(float *x, const float *cos, const float *sin, int head_dim, int n_heads);
	void (*wsum)(const float *p, const float *v, int ldv, int T, float *y, int n);
	void (*wsum_batch)(const float *p, int ldp, const int *T, int nb, const float *v, int ldv,
	                   float *y, int ldy, int n);
} kern_table;

/* The scalar reference; always available. */
const kern_table *kern_ref(void);

/* The AVX2+FMA+F16C table, or NULL when the CPU (or the build) lacks it. */
const kern_table *kern_avx2(void);

/*
 * The AVX-512 table (AVX-512 F, BW, VL, DQ and VNNI, with the OS saving ZMM
 * state; it takes the AVX2 kernels where 512 bits gain nothing), or NULL
 * when the CPU (or the build) lacks it.
 */
const kern_table *kern_avx512(void);

/*
 * The table to use: DAI_KERNELS=ref forces the reference, DAI_KERNELS=avx2
 * or avx512 requires that instruction set (error if unsupported), unset or
 * "auto" picks the fastest the CPU supports (avx512, else avx2, else ref).
 * Returns NULL with a message in e on a bad setting.
 */
const kern_table *kern_select(dai_err *e);

/* The table with that name ("ref", "avx2", "avx512", "auto"), or NULL with e set. */
const kern_table *kern_by_name(const char *name, dai_err *e);

/*
 * Activation preparation for weight type t: batch rows of n floats (row
 * stride ldx) become what matmul_* takes for t, packed with row stride n
 * (F32: copied; F16: round_f16; Q8_0: quantize_q8_0, n % 32 == 0; the
 * types of kern_quant.h: their activation type, items 6-8).
 * kern_act_bytes gives the size of the result.
 */
size_t kern_act_bytes(enum kern_type t, int n, int batch);
void kern_act_prep(const kern_table *k, enum kern_type t, const float *x, int ldx, int n, int batch,
                   void *act);

/*
 * y[b*ldy + r] = DOT(row r of w, row b of act) for r < rows, b < batch,
 * with act from kern_act_prep (row stride n) and w of type t (row stride n,
 * contiguous). Rows are split into tasks across the pool (p may be NULL:
 * run on the calling thread); the result does not depend on the split.
 */
void kern_matmul(const kern_table *k, pool *p, enum kern_type t, const void *w, const void *act,
                 float *y, int ldy, int n, int rows, int batch);

/* One task of kern_matmul: output rows [row0, row1) on the calling thread. */
void kern_matmul_rows(const kern_table *k, enum kern_type t, const void *w, const void *act,
                      float *y, int ldy, int n, int row0, int row1, int batch);

/* Bytes of one weight row of n elements of type t. */
size_t kern_row_bytes(enum kern_type t, int n);

/* Elements per block of type t (1, 32 or 256); rows must be a multiple. */
int kern_type_block(enum kern_type t);

/* y = row `row` of the matrix w (rows of n elements of type t) as floats. */
void kern_dequant_row(const kern_table *k, enum kern_type t, const void *w, int row, int n,
                      float *y);

#endif
