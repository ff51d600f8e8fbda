/*
 * gguf_write.h - builds GGUF files in memory, field by field.
 *
 *   gguf_writer w;
 *   gguf_w_init(&w);
 *   gguf_w_str(&w, "general.architecture", "llama");
 *   gguf_w_u32(&w, "llama.block_count", 2);
 *   gguf_w_tensor(&w, "output_norm.weight", GGML_TYPE_F32, 1, ne, floats, 4 * ne[0]);
 *   gguf_w_write(&w, "model.gguf", &e);
 *   gguf_w_free(&w);
 *
 * Keys and tensors are written in the order they are added. Tensor data is
 * placed one after another, each at a multiple of w.alignment, unless an
 * offset is given. The writer checks nothing (duplicate keys, odd shapes,
 * unknown types, overlapping offsets are all written as asked), so tests can
 * build broken files with it; gguf_open is the judge. Out of memory is
 * sticky and reported by gguf_w_finish.
 */
#ifndef DAI_GGUF_WRITE_H
#define DAI_GGUF_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "err.h"

/* A growable byte buffer (bytebuf.h: oom set once an append failed) with
 * little-endian writers. */
typedef bytebuf gguf_buf;

void gguf_buf_put(gguf_buf *b, const void *data, size_t n);
void gguf_buf_u32(gguf_buf *b, uint32_t v);
void gguf_buf_u64(gguf_buf *b, uint64_t v);
void gguf_buf_str(gguf_buf *b, const char *s, size_t len); /* u64 length + bytes */
void gguf_buf_free(gguf_buf *b);

typedef struct gguf_writer {
	uint32_t version;   /* written as is: 3 after init */
	uint32_t alignment; /* data section and tensor placement: 32 after init. Changing it
	                       does not add general.alignment: add that key too. */
	uint64_t n_kv;      /* header counts, kept by the add functions */
	uint64_t n_tensors;
	gguf_buf kv;   /* the key/value section */
	gguf_buf info; /* the tensor infos */
	gguf_buf data; /* the data section */
} gguf_writer;

void gguf_w_init(gguf_writer *w);
void gguf_w_free(gguf_writer *w);

/* Scalar values, one function per GGUF type. */
void gguf_w_u8(gguf_writer *w, const char *key, uint8_t v);
void gguf_w_i8(gguf_writer *w, const char *key, int8_t v);
void gguf_w_u16(gguf_writer *w, const char *key, uint16_t v);
void gguf_w_i16(gguf_writer *w, const char *key, int16_t v);
void gguf_w_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_w_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_w_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_w_i64(gguf_writer *w, const char *key, int64_t v);
void gguf_w_f32(gguf_writer *w, const char *key, float v);
void gguf_w_f64(gguf_writer *w, const char *key, double v);
void gguf_w_bool(gguf_writer *w, const char *key, bool v);
void gguf_w_str(gguf_writer *w, const char *key, const char *s);
void gguf_w_strn(gguf_writer *w, const char *key, const char *s, size_t len);

/* An array of n numeric or bool elements given as a C array of the
 * matching type (uint8_t for GGUF_T_U8, float for GGUF_T_F32, bool for
 * GGUF_T_BOOL, ...). */
void gguf_w_arr(gguf_writer *w, const char *key, uint32_t elem_type, const void *elems, uint64_t n);
void gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n);

/* The key, the type, then val[0..len) as the value's bytes, unchecked: for
 * nested arrays (build them with gguf_buf) and for broken values. */
void gguf_w_raw(gguf_writer *w, const char *key, uint32_t type, const void *val, size_t len);

/* A tensor with n_dims entries of ne and size bytes of data (zeros when data
 * is NULL), placed after the previous tensor at the next multiple of the
 * alignment. ggml_nbytes (ggml_type.h) gives the size a reader expects. */
void gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                   const int64_t *ne, const void *data, size_t size);

/* The same at the given offset in the data section (which grows with zeros
 * to hold it; bytes already there are overwritten). */
void gguf_w_tensor_at(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                      const int64_t *ne, uint64_t offset, const void *data, size_t size);

/* The whole file, in a malloc'd buffer: header, keys, tensor infos, zero
 * padding to the alignment, data padded to the alignment. */
int gguf_w_finish(const gguf_writer *w, unsigned char **out, size_t *len, dai_err *e);

/* The whole file, written atomically to path (mode 0644). */
int gguf_w_write(const gguf_writer *w, const char *path, dai_err *e);

#endif
