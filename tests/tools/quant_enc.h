/*
 * quant_enc.h - float rows to the block formats of kern_quant.h, for making
 * test and benchmark models (not used by the library).
 *
 * Q4_0, Q4_1, Q5_0 and Q5_1 follow ggml's quantize_row_*_ref formulas
 * (scale from the extreme value, round by adding 0.5 and truncating).
 * Q4_K, Q5_K and Q6_K use a simple encoder, not ggml's search for the
 * best scales: per sub-block minimum and range, scales rounded up so that
 * no value clips. Every value comes back within half a step. BF16 rounds
 * to nearest even. Only basic IEEE operations: the same bytes everywhere.
 */
#ifndef DAI_TESTS_QUANT_ENC_H
#define DAI_TESTS_QUANT_ENC_H

#include <stdint.h>

/*
 * Encodes n floats (a multiple of the type's block) of ggml type `type`
 * into y. Returns the bytes written, or 0 for a type it does not know.
 */
size_t quant_enc_row(uint32_t type, const float *x, void *y, int n);

#endif
