/*
 * kern_quant_avx512_gemm.h - the lane-group matrix products of the block
 * types for batches of activations (kern_quant_avx512_gemm.c): one lane per
 * activation, so that each weight row is unpacked once for 16 to 64 of
 * them. Internal to src/lib/kern; kern_quant_avx512.c's matmul entries call
 * it and take their own paths where it declines.
 */
#ifndef DAI_KERN_QUANT_AVX512_GEMM_H
#define DAI_KERN_QUANT_AVX512_GEMM_H

/* batches below this take the per-activation products (lanes mostly idle) */
enum { KQ_GEMM_MIN = 7 };

/*
 * Contract 4 for weight type q (enum kern_qtype) with its activations, as
 * kern_qtable.matmul. Returns 0 when done, -1 (nothing written) when it
 * does not take the case: a type it lacks, a batch below KQ_GEMM_MIN, rows
 * of no block, or no memory for the transposed activations.
 */
int kq_gemm_avx512(int q, const void *w, int ldw, const void *x, int ldx, float *y, int ldy, int n,
                   int row0, int row1, int batch);

#endif
