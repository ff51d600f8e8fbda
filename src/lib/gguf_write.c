/* gguf_write.c - see gguf_write.h. */
#include "gguf_write.h"

#include <stdlib.h>
#include <string.h>

#include "fsio.h"
#include "gguf.h"

void gguf_buf_put(gguf_buf *b, const void *data, size_t n)
{
	if (n == 0 || bytebuf_reserve(b, n))
		return;
	if (data)
		memcpy(b->p + b->len, data, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

void gguf_buf_u32(gguf_buf *b, uint32_t v)
{
	unsigned char t[4];
	for (int i = 0; i < 4; i++)
		t[i] = (unsigned char)(v >> (8 * i));
	gguf_buf_put(b, t, sizeof t);
}

void gguf_buf_u64(gguf_buf *b, uint64_t v)
{
	unsigned char t[8];
	for (int i = 0; i < 8; i++)
		t[i] = (unsigned char)(v >> (8 * i));
	gguf_buf_put(b, t, sizeof t);
}

void gguf_buf_str(gguf_buf *b, const char *s, size_t len)
{
	gguf_buf_u64(b, len);
	gguf_buf_put(b, s, len);
}

void gguf_buf_free(gguf_buf *b)
{
	bytebuf_free(b);
}

void gguf_w_init(gguf_writer *w)
{
	memset(w, 0, sizeof *w);
	w->version = 3;
	w->alignment = GGUF_DEFAULT_ALIGNMENT;
}

void gguf_w_free(gguf_writer *w)
{
	gguf_buf_free(&w->kv);
	gguf_buf_free(&w->info);
	gguf_buf_free(&w->data);
}

/* Appends one element of a numeric or bool type, little-endian. */
static void put_scalar(gguf_buf *b, uint32_t type, const void *v)
{
	uint64_t u = 0;
	switch (type) {
	case GGUF_T_U8:
	case GGUF_T_I8:
		gguf_buf_put(b, v, 1);
		return;
	case GGUF_T_BOOL: {
		unsigned char c = *(const bool *)v ? 1 : 0;
		gguf_buf_put(b, &c, 1);
		return;
	}
	case GGUF_T_U16:
	case GGUF_T_I16: {
		uint16_t h;
		memcpy(&h, v, 2);
		unsigned char t[2] = {(unsigned char)h, (unsigned char)(h >> 8)};
		gguf_buf_put(b, t, 2);
		return;
	}
	case GGUF_T_U32:
	case GGUF_T_I32:
	case GGUF_T_F32: {
		uint32_t x;
		memcpy(&x, v, 4);
		gguf_buf_u32(b, x);
		return;
	}
	default: /* U64, I64, F64 */
		memcpy(&u, v, 8);
		gguf_buf_u64(b, u);
		return;
	}
}

static size_t scalar_size(uint32_t type)
{
	switch (type) {
	case GGUF_T_U8:
	case GGUF_T_I8:
		return 1;
	case GGUF_T_BOOL:
		return sizeof(bool);
	case GGUF_T_U16:
	case GGUF_T_I16:
		return 2;
	case GGUF_T_U32:
	case GGUF_T_I32:
	case GGUF_T_F32:
		return 4;
	default:
		return 8;
	}
}

static void kv_head(gguf_writer *w, const char *key, uint32_t type)
{
	gguf_buf_str(&w->kv, key, strlen(key));
	gguf_buf_u32(&w->kv, type);
	w->n_kv++;
}

static void kv_scalar(gguf_writer *w, const char *key, uint32_t type, const void *v)
{
	kv_head(w, key, type);
	put_scalar(&w->kv, type, v);
}

void gguf_w_u8(gguf_writer *w, const char *key, uint8_t v)
{
	kv_scalar(w, key, GGUF_T_U8, &v);
}

void gguf_w_i8(gguf_writer *w, const char *key, int8_t v)
{
	kv_scalar(w, key, GGUF_T_I8, &v);
}

void gguf_w_u16(gguf_writer *w, const char *key, uint16_t v)
{
	kv_scalar(w, key, GGUF_T_U16, &v);
}

void gguf_w_i16(gguf_writer *w, const char *key, int16_t v)
{
	kv_scalar(w, key, GGUF_T_I16, &v);
}

void gguf_w_u32(gguf_writer *w, const char *key, uint32_t v)
{
	kv_scalar(w, key, GGUF_T_U32, &v);
}

void gguf_w_i32(gguf_writer *w, const char *key, int32_t v)
{
	kv_scalar(w, key, GGUF_T_I32, &v);
}

void gguf_w_u64(gguf_writer *w, const char *key, uint64_t v)
{
	kv_scalar(w, key, GGUF_T_U64, &v);
}

void gguf_w_i64(gguf_writer *w, const char *key, int64_t v)
{
	kv_scalar(w, key, GGUF_T_I64, &v);
}

void gguf_w_f32(gguf_writer *w, const char *key, float v)
{
	kv_scalar(w, key, GGUF_T_F32, &v);
}

void gguf_w_f64(gguf_writer *w, const char *key, double v)
{
	kv_scalar(w, key, GGUF_T_F64, &v);
}

void gguf_w_bool(gguf_writer *w, const char *key, bool v)
{
	kv_scalar(w, key, GGUF_T_BOOL, &v);
}

void gguf_w_strn(gguf_writer *w, const char *key, const char *s, size_t len)
{
	kv_head(w, key, GGUF_T_STRING);
	gguf_buf_str(&w->kv, s, len);
}

void gguf_w_str(gguf_writer *w, const char *key, const char *s)
{
	gguf_w_strn(w, key, s, strlen(s));
}

void gguf_w_arr(gguf_writer *w, const char *key, uint32_t elem_type, const void *elems, uint64_t n)
{
	kv_head(w, key, GGUF_T_ARRAY);
	gguf_buf_u32(&w->kv, elem_type);
	gguf_buf_u64(&w->kv, n);
	size_t size = scalar_size(elem_type);
	for (uint64_t i = 0; i < n; i++)
		put_scalar(&w->kv, elem_type, (const unsigned char *)elems + i * size);
}

void gguf_w_arr_str(gguf_writer *w, const char *key, const char *const *strs, uint64_t n)
{
	kv_head(w, key, GGUF_T_ARRAY);
	gguf_buf_u32(&w->kv, GGUF_T_STRING);
	gguf_buf_u64(&w->kv, n);
	for (uint64_t i = 0; i < n; i++)
		gguf_buf_str(&w->kv, strs[i], strlen(strs[i]));
}

void gguf_w_raw(gguf_writer *w, const char *key, uint32_t type, const void *val, size_t len)
{
	kv_head(w, key, type);
	gguf_buf_put(&w->kv, val, len);
}

static void tensor_info(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                        const int64_t *ne, uint64_t offset)
{
	gguf_buf_str(&w->info, name, strlen(name));
	gguf_buf_u32(&w->info, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		gguf_buf_u64(&w->info, (uint64_t)ne[d]);
	gguf_buf_u32(&w->info, type);
	gguf_buf_u64(&w->info, offset);
	w->n_tensors++;
}

static size_t pad_to(size_t n, uint32_t a)
{
	return a ? (a - n % a) % a : 0;
}

void gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                   const int64_t *ne, const void *data, size_t size)
{
	gguf_buf_put(&w->data, NULL, pad_to(w->data.len, w->alignment));
	tensor_info(w, name, type, n_dims, ne, w->data.len);
	gguf_buf_put(&w->data, data, size);
}

void gguf_w_tensor_at(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                      const int64_t *ne, uint64_t offset, const void *data, size_t size)
{
	tensor_info(w, name, type, n_dims, ne, offset);
	size_t end;
	if (offset > SIZE_MAX || __builtin_add_overflow((size_t)offset, size, &end)) {
		w->data.oom = 1;
		return;
	}
	if (end > w->data.len)
		gguf_buf_put(&w->data, NULL, end - w->data.len);
	if (!w->data.oom && size) {
		if (data)
			memcpy(w->data.p + offset, data, size);
		else
			memset(w->data.p + offset, 0, size);
	}
}

int gguf_w_finish(const gguf_writer *w, unsigned char **out, size_t *len, dai_err *e)
{
	*out = NULL;
	*len = 0;
	if (w->kv.oom || w->info.oom || w->data.oom)
		return dai_errf(e, "gguf writer: out of memory");
	gguf_buf b = {0};
	gguf_buf_put(&b, "GGUF", 4);
	gguf_buf_u32(&b, w->version);
	gguf_buf_u64(&b, w->n_tensors);
	gguf_buf_u64(&b, w->n_kv);
	gguf_buf_put(&b, w->kv.p, w->kv.len);
	gguf_buf_put(&b, w->info.p, w->info.len);
	gguf_buf_put(&b, NULL, pad_to(b.len, w->alignment));
	gguf_buf_put(&b, w->data.p, w->data.len);
	gguf_buf_put(&b, NULL, pad_to(w->data.len, w->alignment));
	if (b.oom) {
		gguf_buf_free(&b);
		return dai_errf(e, "gguf writer: out of memory");
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int gguf_w_write(const gguf_writer *w, const char *path, dai_err *e)
{
	unsigned char *buf;
	size_t len;
	if (gguf_w_finish(w, &buf, &len, e))
		return dai_err_prefix(e, path);
	int rc = file_write_atomic(path, buf, len, 0644, 0, e);
	free(buf);
	return rc;
}
