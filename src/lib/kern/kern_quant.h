/*
 * kern_quant.h - kernels for the block-quantized and BF16 weight types:
 * Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K and BF16 (kern.h contract items
 * 6 to 9 define their arithmetic).
 *
 * The blocks below are the GGUF layouts, byte for byte. Each weight type has
 * an activation type (its "vec_dot_type", as in ggml-cpu): Q8_0 for Q4_0 and
 * Q5_0, Q8_1 for Q4_1 and Q5_1, Q8_K for the K-quants, BF16 for BF16.
 * kern_quant_ref.c defines the arithmetic; kern_quant_avx2.c and
 * kern_quant_avx512.c match it bit for bit. kern.c's kern_act_prep / kern_matmul dispatch to these
 * tables, so most callers never need this header.
 */
#ifndef DAI_KERN_QUANT_H
#define DAI_KERN_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "kern.h"

#define KERN_QK 32    /* elements per block of the 32-blocks */
#define KERN_QK_K 256 /* elements per K-quant super-block */

typedef struct kern_q4_0 {
	uint16_t d;     /* scale, half bits */
	uint8_t qs[16]; /* element j: low nibble of qs[j]; element j+16: high nibble */
} kern_q4_0;

typedef struct kern_q4_1 {
	uint16_t d, m; /* scale and minimum, half bits */
	uint8_t qs[16];
} kern_q4_1;

typedef struct kern_q5_0 {
	uint16_t d;
	uint8_t qh[4]; /* bit j of the little-endian word: 5th bit of element j */
	uint8_t qs[16];
} kern_q5_0;

typedef struct kern_q5_1 {
	uint16_t d, m;
	uint8_t qh[4];
	uint8_t qs[16];
} kern_q5_1;

/* Q8_1 activations: Q8_0 plus s = f16(d * sum(q)) */
typedef struct kern_q8_1 {
	uint16_t d, s;
	int8_t q[32];
} kern_q8_1;

typedef struct kern_q4_k {
	uint16_t d, dmin;   /* super-block scales of the 6-bit scales and mins */
	uint8_t scales[12]; /* 8 scales and 8 mins, 6 bits each (contract 8a) */
	uint8_t qs[128];    /* 4-bit quants */
} kern_q4_k;

typedef struct kern_q5_k {
	uint16_t d, dmin;
	uint8_t scales[12];
	uint8_t qh[32];  /* 5th bits */
	uint8_t qs[128]; /* low 4 bits */
} kern_q5_k;

typedef struct kern_q6_k {
	uint8_t ql[128];   /* low 4 bits */
	uint8_t qh[64];    /* high 2 bits */
	int8_t scales[16]; /* one per 16 elements */
	uint16_t d;
} kern_q6_k;

/* Q8_K activations: float scale, 256 quants, sums of each 16 quants */
typedef struct kern_q8_k {
	float d;
	int8_t q[256];
	int16_t bsums[16];
} kern_q8_k;

_Static_assert(sizeof(kern_q4_0) == 18, "kern_q4_0 must match the GGUF block layout");
_Static_assert(sizeof(kern_q4_1) == 20, "kern_q4_1 must match the GGUF block layout");
_Static_assert(sizeof(kern_q5_0) == 22, "kern_q5_0 must match the GGUF block layout");
_Static_assert(sizeof(kern_q5_1) == 24, "kern_q5_1 must match the GGUF block layout");
_Static_assert(sizeof(kern_q8_1) == 36, "kern_q8_1 must match the GGUF block layout");
_Static_assert(sizeof(kern_q4_k) == 144, "kern_q4_k must match the GGUF block layout");
_Static_assert(sizeof(kern_q5_k) == 176, "kern_q5_k must match the GGUF block layout");
_Static_assert(sizeof(kern_q6_k) == 210, "kern_q6_k must match the GGUF block layout");
_Static_assert(sizeof(kern_q8_k) == 292, "kern_q8_k must match the GGUF block layout");

/* The weight types of this header, as a dense index. */
enum kern_qtype {
	KQ_Q4_0,
	KQ_Q4_1,
	KQ_Q5_0,
	KQ_Q5_1,
	KQ_Q4_K,
	KQ_Q5_K,
	KQ_Q6_K,
	KQ_BF16,
	KQ_COUNT
};

/* Activation types. */
enum kern_act { KACT_Q8_0, KACT_Q8_1, KACT_Q8_K, KACT_BF16 };

/* What does not depend on the instruction set. */
typedef struct kern_qinfo {
	enum kern_type type;
	const char *name;
	int block;         /* elements per block (1 for BF16) */
	size_t bytes;      /* bytes per block */
	enum kern_act act; /* activation type */
	int act_block;     /* elements per activation block (1 for BF16: floats) */
	size_t act_bytes;  /* bytes per activation block */
} kern_qinfo;

/* The info of weight type t, or NULL when t is not one of this header's. */
const kern_qinfo *kern_qinfo_of(enum kern_type t);
const kern_qinfo *kern_qinfo_at(enum kern_qtype q);

/*
 * One instruction set's kernels. For weight type q, with blocks as in
 * kern_qinfo (BF16: elements; its activations are floats rounded to BF16):
 *   dequant[q](w, y, n):   n elements of w as floats (contract 9)
 *   dot[q](w, x, nb):      the dot of nb weight blocks with nb activation
 *                          blocks (BF16: nb elements)
 *   matmul[q](...):        contract 4 with that dot; ldw, ldx in blocks
 */
typedef struct kern_qtable {
	const char *name;
	void (*quantize_q8_1)(const float *x, kern_q8_1 *y, int n);
	void (*quantize_q8_k)(const float *x, kern_q8_k *y, int n);
	void (*round_bf16)(const float *x, float *y, int n);
	void (*dequant[KQ_COUNT])(const void *w, float *y, int n);
	float (*dot[KQ_COUNT])(const void *w, const void *x, int nb);
	void (*matmul[KQ_COUNT])(const void *w, int ldw, const void *x, int ldx, float *y, int ldy,
	                         int n, int row0, int row1, int batch);
} kern_qtable;

const kern_qtable *kern_quant_ref(void);
/* NULL when the build lacks AVX2; kern_quant_for checks the CPU. */
const kern_qtable *kern_quant_avx2_table(void);
/*
 * AVX-512 (F, BW, DQ, VL, VNNI, VBMI) dots and matrix products of the block
 * types, the AVX2 table's activations, dequantization and BF16
 * (kern_quant_avx512.c); NULL when the build or the CPU lacks it.
 */
const kern_qtable *kern_quant_avx512_table(void);

/*
 * The quant table that goes with table k (same instruction set; "avx512"
 * takes the AVX-512 quant table where the CPU has all it needs, else the
 * AVX2 one).
 */
const kern_qtable *kern_quant_for(const kern_table *k);

/* Activation preparation of one row of n floats for weight type info qi. */
void kern_quant_act_row(const kern_table *k, const kern_qinfo *qi, const float *x, int n,
                        void *act);

/* f32(bf16(x)) with round-to-nearest-even; NaN stays NaN (contract 6). */
float kern_round_bf16(float x);

#endif
