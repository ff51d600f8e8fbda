/* libFuzzer harness for the GGUF reader: parse the input as a GGUF file and,
 * when it opens, read back every key and tensor (every tensor byte
 * included), the summary and the listing. A lookup that does not find what
 * the parser built aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"

/* Reads a key with the getter its type calls for; errors are expected for
 * conversions that do not fit. */
static void read_kv(const gguf_file *g, const gguf_kv *kv)
{
	dai_err e;
	uint32_t u32;
	int64_t i64;
	double f64;
	bool b;
	gguf_str s;
	char buf[32];
	gguf_str *sv;
	float *fv;
	int32_t *iv;
	size_t n;
	if (gguf_find_key(g, kv->key) != kv)
		abort();
	switch (kv->type) {
	case GGUF_T_STRING:
		if (gguf_get_str(g, kv->key, &s, &e) || s.len != kv->val_len)
			abort();
		gguf_get_strz(g, kv->key, buf, sizeof buf, &e);
		break;
	case GGUF_T_F32:
	case GGUF_T_F64:
		if (gguf_get_f64(g, kv->key, &f64, &e))
			abort();
		break;
	case GGUF_T_BOOL:
		if (gguf_get_bool(g, kv->key, &b, &e))
			abort();
		break;
	case GGUF_T_ARRAY:
		if (gguf_get_arr_str(g, kv->key, &sv, &n, &e) == 0)
			free(sv);
		if (gguf_get_arr_f32(g, kv->key, &fv, &n, &e) == 0)
			free(fv);
		if (gguf_get_arr_i32(g, kv->key, &iv, &n, &e) == 0)
			free(iv);
		break;
	default:
		gguf_get_u32(g, kv->key, &u32, &e);
		gguf_get_i64(g, kv->key, &i64, &e);
		break;
	}
}

/* Touches every byte of the tensor's data. */
static unsigned read_tensor(const gguf_file *g, const gguf_tensor *t)
{
	if (gguf_find_tensor(g, t->name) != t)
		abort();
	const unsigned char *p = t->data;
	if (p < g->base || t->size > g->size || p + t->size > g->base + g->size)
		abort();
	unsigned x = 0;
	for (uint64_t i = 0; i < t->size; i++)
		x += p[i];
	return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null; /* opened once for the whole run */
	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	gguf_file g;
	dai_err e;
	if (gguf_open_mem(&g, data, size, "fuzz.gguf", &e))
		return 0;
	for (size_t i = 0; i < g.n_kv; i++)
		read_kv(&g, &g.kv[i]);
	unsigned sum = 0;
	for (size_t i = 0; i < g.n_tensors; i++)
		sum += read_tensor(&g, &g.tensors[i]);
	gguf_info info;
	gguf_summary(&g, &info, &e);
	gguf_print(&g, null);
	fprintf(null, "%u\n", sum); /* keeps the reads */
	gguf_close(&g);
	return 0;
}
