/*
 * ggml_type.h - the ggml tensor types a GGUF file can hold.
 *
 * A tensor row is stored as blocks: each block holds `block` elements in
 * `bytes` bytes (1 and 4 for F32; 32 and 34 for Q8_0). The ids are ggml's
 * own (ggml/include/ggml.h), which GGUF stores on disk, so they must never
 * be renumbered. Ids that ggml has retired (4, 5, 31-33, 36-38) are unknown.
 */
#ifndef DAI_GGML_TYPE_H
#define DAI_GGML_TYPE_H

#include <stdint.h>

enum ggml_type_id {
	GGML_TYPE_F32 = 0,
	GGML_TYPE_F16 = 1,
	GGML_TYPE_Q4_0 = 2,
	GGML_TYPE_Q4_1 = 3,
	GGML_TYPE_Q5_0 = 6,
	GGML_TYPE_Q5_1 = 7,
	GGML_TYPE_Q8_0 = 8,
	GGML_TYPE_Q8_1 = 9,
	GGML_TYPE_Q2_K = 10,
	GGML_TYPE_Q3_K = 11,
	GGML_TYPE_Q4_K = 12,
	GGML_TYPE_Q5_K = 13,
	GGML_TYPE_Q6_K = 14,
	GGML_TYPE_Q8_K = 15,
	GGML_TYPE_IQ2_XXS = 16,
	GGML_TYPE_IQ2_XS = 17,
	GGML_TYPE_IQ3_XXS = 18,
	GGML_TYPE_IQ1_S = 19,
	GGML_TYPE_IQ4_NL = 20,
	GGML_TYPE_IQ3_S = 21,
	GGML_TYPE_IQ2_S = 22,
	GGML_TYPE_IQ4_XS = 23,
	GGML_TYPE_I8 = 24,
	GGML_TYPE_I16 = 25,
	GGML_TYPE_I32 = 26,
	GGML_TYPE_I64 = 27,
	GGML_TYPE_F64 = 28,
	GGML_TYPE_IQ1_M = 29,
	GGML_TYPE_BF16 = 30,
	GGML_TYPE_TQ1_0 = 34,
	GGML_TYPE_TQ2_0 = 35,
	GGML_TYPE_COUNT = 39 /* one past the largest id ggml has used */
};

typedef struct ggml_type_info {
	const char *name; /* ggml's name: "f32", "q8_0", "q4_K" */
	uint32_t block;   /* elements per block */
	uint32_t bytes;   /* bytes per block */
} ggml_type_info;

/* The entry for a type id, or NULL if the id is not a known type. */
const ggml_type_info *ggml_type_get(uint32_t type);

/* The type's name, or "?" for an unknown id. */
const char *ggml_type_name(uint32_t type);

/* Bytes of a tensor of the given type and shape (n_dims entries of ne, each
 * >= 1). Returns -1 for an unknown type, a row length (ne[0]) that is not a
 * multiple of the block size, or a size that overflows uint64_t. */
int ggml_nbytes(uint32_t type, uint32_t n_dims, const int64_t *ne, uint64_t *bytes);

#endif
