/*
 * gguf.h - a strict reader for GGUF model files (versions 2 and 3).
 *
 * A GGUF file is, all little-endian:
 *
 *   "GGUF"  u32 version  u64 n_tensors  u64 n_kv
 *   n_kv x      (string key, u32 value type, value)
 *   n_tensors x (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset)
 *   zero padding to the alignment, then the data section
 *
 * where a string is u64 length + bytes (no NUL) and an array value is
 * u32 element type + u64 count + elements (arrays may nest). The alignment
 * is general.alignment (a power of two) or 32; each tensor's offset is
 * relative to the data section and must be a multiple of it.
 *
 * The file is hostile until proven otherwise: every count, length, type,
 * dimension and offset is checked, with overflow-safe arithmetic, before it
 * is used. Keys and tensor names must be unique and free of control bytes,
 * tensor data must lie inside the file without overlapping, and a count can
 * never claim more entries than the remaining bytes could hold, so memory
 * use stays proportional to the file. Version 1 and big-endian files are
 * refused. Errors are one line naming the file, the place (offset, key or
 * tensor) and the problem.
 *
 * The file is memory-mapped (read-only, private) or parsed from a caller's
 * buffer; values and tensor data point into it and stay valid until
 * gguf_close. An opened gguf_file is never modified, so threads may share
 * one.
 */
#ifndef DAI_GGUF_H
#define DAI_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "ggml_type.h"

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_DIMS 4
#define GGUF_KEY_MAX 65535      /* bytes in a key (the GGUF spec's limit) */
#define GGUF_TENSOR_NAME_MAX 63 /* bytes in a tensor name (ggml's GGML_MAX_NAME - 1) */
#define GGUF_ARRAY_DEPTH_MAX 8  /* nesting of array values */

/* Value types, as stored on disk. */
enum gguf_vtype {
	GGUF_T_U8 = 0,
	GGUF_T_I8 = 1,
	GGUF_T_U16 = 2,
	GGUF_T_I16 = 3,
	GGUF_T_U32 = 4,
	GGUF_T_I32 = 5,
	GGUF_T_F32 = 6,
	GGUF_T_BOOL = 7,
	GGUF_T_STRING = 8,
	GGUF_T_ARRAY = 9,
	GGUF_T_U64 = 10,
	GGUF_T_I64 = 11,
	GGUF_T_F64 = 12,
	GGUF_T_COUNT
};

/* A string inside the file: not NUL-terminated, may hold any bytes. */
typedef struct gguf_str {
	const char *s;
	uint64_t len;
} gguf_str;

typedef struct gguf_kv {
	const char *key;          /* NUL-terminated (owned by the gguf_file) */
	size_t key_len;           /* bytes in key */
	uint32_t type;            /* enum gguf_vtype */
	uint32_t elem_type;       /* arrays: the element type */
	uint64_t n;               /* arrays: the element count */
	const unsigned char *val; /* the value's bytes in the file: a scalar, a string's
	                             bytes (after its length), an array's elements */
	uint64_t val_len;         /* bytes at val */
	uint64_t offset;          /* file offset of the key/value pair */
} gguf_kv;

typedef struct gguf_tensor {
	const char *name;          /* NUL-terminated (owned by the gguf_file) */
	size_t name_len;           /* bytes in name */
	uint32_t n_dims;           /* 1..4 */
	int64_t ne[GGUF_MAX_DIMS]; /* elements per dimension, ne[0] fastest; 1 past n_dims */
	uint32_t type;             /* ggml type id (ggml_type.h) */
	uint64_t offset;           /* from the start of the data section */
	uint64_t size;             /* bytes */
	uint64_t n_elements;       /* product of ne */
	const void *data;          /* the tensor's bytes in the file */
} gguf_tensor;

typedef struct gguf_file {
	char *name;                /* for messages: the path or the caller's name */
	const unsigned char *base; /* the whole file */
	size_t size;
	uint32_t version; /* 2 or 3 */
	uint32_t alignment;
	uint64_t data_offset; /* file offset of the data section */
	size_t n_kv;
	gguf_kv *kv; /* in file order */
	size_t n_tensors;
	gguf_tensor *tensors; /* in file order */
	/* private */
	int mapped;                   /* base is our own mapping */
	char *names;                  /* keys and tensor names, each NUL-terminated */
	const gguf_kv **kv_sorted;    /* by key, for binary search */
	const gguf_tensor **t_sorted; /* by name */
} gguf_file;

/* Maps and parses the file at path. On failure g is left closed. */
int gguf_open(gguf_file *g, const char *path, dai_err *e);

/* Parses data[0..len), which the caller owns and must keep unchanged until
 * gguf_close. name (for messages) is copied. On failure g is left closed. */
int gguf_open_mem(gguf_file *g, const void *data, size_t len, const char *name, dai_err *e);

/* Frees everything; g is zeroed. Safe on a zeroed or already closed g. */
void gguf_close(gguf_file *g);

/* Lookups: NULL when absent. */
const gguf_kv *gguf_find_key(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);

/* "u8", "string", "array", ...; "?" for an unknown type. */
const char *gguf_vtype_name(uint32_t type);

/*
 * Typed getters. Each fails (a message naming the file and key) when the key
 * is missing or its value does not have a fitting type. Integer getters take
 * any integer type whose value fits the target exactly (a u8 255 reads as
 * i32; an i32 -1 is not a u32). gguf_get_f32 takes an f32, or an f64 that
 * is exactly a float; gguf_get_f64 takes either. For an optional key, check
 * gguf_find_key first.
 */
int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *v, dai_err *e);
int gguf_get_i32(const gguf_file *g, const char *key, int32_t *v, dai_err *e);
int gguf_get_u64(const gguf_file *g, const char *key, uint64_t *v, dai_err *e);
int gguf_get_i64(const gguf_file *g, const char *key, int64_t *v, dai_err *e);
int gguf_get_f32(const gguf_file *g, const char *key, float *v, dai_err *e);
int gguf_get_f64(const gguf_file *g, const char *key, double *v, dai_err *e);
int gguf_get_bool(const gguf_file *g, const char *key, bool *v, dai_err *e);
int gguf_get_str(const gguf_file *g, const char *key, gguf_str *v, dai_err *e);

/* Copies a string value into buf[0..cap) with a NUL; fails if it does not
 * fit or holds a NUL byte. */
int gguf_get_strz(const gguf_file *g, const char *key, char *buf, size_t cap, dai_err *e);

/*
 * Array getters: fill a malloc'd array (free it; NULL when the array is
 * empty) and its length. Strings point into the file. Integer elements
 * convert to int32 as the scalar getters do, element by element.
 */
int gguf_get_arr_str(const gguf_file *g, const char *key, gguf_str **v, size_t *n, dai_err *e);
int gguf_get_arr_f32(const gguf_file *g, const char *key, float **v, size_t *n, dai_err *e);
int gguf_get_arr_i32(const gguf_file *g, const char *key, int32_t **v, size_t *n, dai_err *e);

/* Model facts, for manifests and dai-pack info. */
typedef struct gguf_info {
	char arch[64];           /* general.architecture; "" when absent */
	uint64_t n_params;       /* sum of all tensors' element counts */
	uint64_t tensor_bytes;   /* sum of all tensors' sizes */
	int weight_type;         /* the ggml type holding most bytes of 2-D tensors; -1 if none */
	uint64_t context_length; /* <arch>.context_length; 0 when absent */
	uint64_t vocab_size;     /* length of tokenizer.ggml.tokens, else token_embd.weight
	                            ne[1], else 0 */
} gguf_info;

/* Fills s. Fails if a key it reads has the wrong type, or the architecture
 * is not 1..63 printable ASCII bytes without spaces. */
int gguf_summary(const gguf_file *g, gguf_info *s, dai_err *e);

/* Prints a header line, every key ("key NAME: TYPE VALUE", arrays as
 * "[TYPE x N]" and their first few items, long strings cut) and every tensor
 * ("tensor NAME: TYPE [ne0, ne1] offset OFF (BYTES bytes)") to f. */
void gguf_print(const gguf_file *g, FILE *f);

#endif
