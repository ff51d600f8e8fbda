/* Unit tests: the GGUF reader (every value type, v2 and v3, the conformance
 * models, truncation, targeted corruptions), the writer, the summary and
 * the listing. Run from the repository root (tests/data/...). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "ggml_type.h"
#include "gguf.h"
#include "gguf_write.h"

TestSuite(gguf);

/* ---------------------------------------------------------------- helpers */

static unsigned char *finish(const gguf_writer *w, size_t *len)
{
	unsigned char *buf;
	dai_err e;
	cr_assert_eq(gguf_w_finish(w, &buf, len, &e), 0, "%s", e.msg);
	return buf;
}

/* Opens a copy of buf[0..len) in a buffer of exactly len bytes, so that the
 * sanitizers see any read past the end. */
static int open_copy(gguf_file *g, const unsigned char *buf, size_t len, const char *name,
                     unsigned char **copy, dai_err *e)
{
	*copy = malloc(len ? len : 1);
	cr_assert(*copy);
	if (len)
		memcpy(*copy, buf, len);
	return gguf_open_mem(g, *copy, len, name, e);
}

static void expect_fail(const unsigned char *buf, size_t len, const char *want)
{
	gguf_file g;
	dai_err e = {{0}};
	unsigned char *copy;
	int rc = open_copy(&g, buf, len, "t.gguf", &copy, &e);
	if (rc == 0)
		gguf_close(&g);
	free(copy);
	cr_assert_eq(rc, -1, "opened, but expected an error with '%s'", want);
	cr_assert(strstr(e.msg, want), "error '%s' does not contain '%s'", e.msg, want);
	cr_assert(strncmp(e.msg, "t.gguf: ", 8) == 0, "error '%s' does not name the file", e.msg);
	cr_assert_null(strchr(e.msg, '\n'), "error '%s' is not one line", e.msg);
}

/* Builds w and expects gguf_open_mem to fail with want; frees w. */
static void expect_fail_w(gguf_writer *w, const char *want)
{
	size_t len;
	unsigned char *buf = finish(w, &len);
	expect_fail(buf, len, want);
	free(buf);
	gguf_w_free(w);
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned char *read_file(const char *path, size_t *len)
{
	char *data;
	dai_err e;
	cr_assert_eq(file_read_all(path, 64u << 20, &data, len, &e), 0, "%s", e.msg);
	return (unsigned char *)data;
}

/* A small valid file: one key, one f32 tensor. */
static void tiny(gguf_writer *w)
{
	static const float v[4] = {1, 2, 3, 4};
	int64_t ne[1] = {4};
	gguf_w_init(w);
	gguf_w_str(w, "general.architecture", "llama");
	gguf_w_tensor(w, "t", GGML_TYPE_F32, 1, ne, v, sizeof v);
}

/* ---------------------------------------------------------------- every value type */

static const uint8_t a_u8[] = {0, 1, 255};
static const int8_t a_i8[] = {-128, 0, 127};
static const uint16_t a_u16[] = {0, 65535};
static const int16_t a_i16[] = {-32768, 32767};
static const uint32_t a_u32[] = {7, 0xffffffffu};
static const int32_t a_i32[] = {INT32_MIN, -1, 0, INT32_MAX};
static const float a_f32[] = {1.5f, -0.0f, 3.25e-5f};
static const bool a_bool[] = {true, false, true};
static const uint64_t a_u64[] = {UINT64_MAX, 0};
static const int64_t a_i64[] = {INT64_MIN, INT64_MAX};
static const double a_f64[] = {0.1, -1e300};
static const char *const a_str[] = {"", "one", "two\nlines"};

static void all_types(gguf_writer *w, uint32_t version)
{
	gguf_w_init(w);
	w->version = version;
	gguf_w_u8(w, "u8", 255);
	gguf_w_i8(w, "i8", -128);
	gguf_w_u16(w, "u16", 65535);
	gguf_w_i16(w, "i16", -32768);
	gguf_w_u32(w, "u32", 0xffffffffu);
	gguf_w_i32(w, "i32", INT32_MIN);
	gguf_w_f32(w, "f32", 1.5f);
	gguf_w_bool(w, "bool.t", true);
	gguf_w_bool(w, "bool.f", false);
	gguf_w_str(w, "str", "hello, world");
	gguf_w_str(w, "str.empty", "");
	gguf_w_u64(w, "u64", UINT64_MAX);
	gguf_w_i64(w, "i64", INT64_MIN);
	gguf_w_f64(w, "f64", 0.1);
	gguf_w_f64(w, "f64.exact", 0.5);
	gguf_w_arr(w, "arr.u8", GGUF_T_U8, a_u8, 3);
	gguf_w_arr(w, "arr.i8", GGUF_T_I8, a_i8, 3);
	gguf_w_arr(w, "arr.u16", GGUF_T_U16, a_u16, 2);
	gguf_w_arr(w, "arr.i16", GGUF_T_I16, a_i16, 2);
	gguf_w_arr(w, "arr.u32", GGUF_T_U32, a_u32, 2);
	gguf_w_arr(w, "arr.i32", GGUF_T_I32, a_i32, 4);
	gguf_w_arr(w, "arr.f32", GGUF_T_F32, a_f32, 3);
	gguf_w_arr(w, "arr.bool", GGUF_T_BOOL, a_bool, 3);
	gguf_w_arr(w, "arr.u64", GGUF_T_U64, a_u64, 2);
	gguf_w_arr(w, "arr.i64", GGUF_T_I64, a_i64, 2);
	gguf_w_arr(w, "arr.f64", GGUF_T_F64, a_f64, 2);
	gguf_w_arr_str(w, "arr.str", a_str, 3);
	gguf_w_arr(w, "arr.empty", GGUF_T_F32, NULL, 0);
	/* [[1, 2], [3]] as an array of u32 arrays. */
	gguf_buf b = {0};
	gguf_buf_u32(&b, GGUF_T_ARRAY);
	gguf_buf_u64(&b, 2);
	gguf_buf_u32(&b, GGUF_T_U32);
	gguf_buf_u64(&b, 2);
	gguf_buf_u32(&b, 1);
	gguf_buf_u32(&b, 2);
	gguf_buf_u32(&b, GGUF_T_U32);
	gguf_buf_u64(&b, 1);
	gguf_buf_u32(&b, 3);
	cr_assert(!b.oom);
	gguf_w_raw(w, "arr.nested", GGUF_T_ARRAY, b.p, b.len);
	gguf_buf_free(&b);

	float f[8];
	for (int i = 0; i < 8; i++)
		f[i] = (float)i * 0.5f;
	unsigned char q[3 * 34];
	for (size_t i = 0; i < sizeof q; i++)
		q[i] = (unsigned char)(i * 7);
	int64_t ne_f[2] = {4, 2}, ne_q[2] = {32, 3}, ne_h[1] = {5}, ne_4[4] = {1, 2, 3, 4};
	gguf_w_tensor(w, "w.f32", GGML_TYPE_F32, 2, ne_f, f, sizeof f);
	gguf_w_tensor(w, "w.q8_0", GGML_TYPE_Q8_0, 2, ne_q, q, sizeof q);
	gguf_w_tensor(w, "w.f16", GGML_TYPE_F16, 1, ne_h, NULL, 10);
	gguf_w_tensor(w, "w.i8.4d", GGML_TYPE_I8, 4, ne_4, NULL, 24);
}

static void check_types(uint32_t version)
{
	gguf_writer w;
	all_types(&w, version);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	unsigned char *copy;
	cr_assert_eq(open_copy(&g, buf, len, "t.gguf", &copy, &e), 0, "%s", e.msg);
	free(buf);
	cr_assert_eq(g.version, version);
	cr_assert_eq(g.n_kv, 29);
	cr_assert_eq(g.n_tensors, 4);
	cr_assert_eq(g.alignment, 32);
	cr_assert_eq(g.data_offset % 32, 0);

	/* The kv list keeps file order and types. */
	cr_assert_str_eq(g.kv[0].key, "u8");
	cr_assert_eq(g.kv[0].type, GGUF_T_U8);
	cr_assert_str_eq(g.kv[28].key, "arr.nested");
	cr_assert_eq(g.kv[28].type, GGUF_T_ARRAY);
	cr_assert_eq(g.kv[28].elem_type, GGUF_T_ARRAY);
	cr_assert_eq(g.kv[28].n, 2);
	for (size_t i = 0; i < g.n_kv; i++)
		cr_assert_eq(gguf_find_key(&g, g.kv[i].key), &g.kv[i]);
	cr_assert_null(gguf_find_key(&g, "nope"));
	cr_assert_null(gguf_find_key(&g, ""));

	uint32_t u32;
	int32_t i32;
	uint64_t u64;
	int64_t i64;
	float f32;
	double f64;
	bool bl;
	gguf_str s;
	char z[16];
	cr_assert_eq(gguf_get_u32(&g, "u8", &u32, &e), 0);
	cr_assert_eq(u32, 255);
	cr_assert_eq(gguf_get_i32(&g, "i8", &i32, &e), 0);
	cr_assert_eq(i32, -128);
	cr_assert_eq(gguf_get_u32(&g, "u16", &u32, &e), 0);
	cr_assert_eq(u32, 65535);
	cr_assert_eq(gguf_get_i64(&g, "i16", &i64, &e), 0);
	cr_assert_eq(i64, -32768);
	cr_assert_eq(gguf_get_u32(&g, "u32", &u32, &e), 0);
	cr_assert_eq(u32, 0xffffffffu);
	cr_assert_eq(gguf_get_i32(&g, "i32", &i32, &e), 0);
	cr_assert_eq(i32, INT32_MIN);
	cr_assert_eq(gguf_get_u64(&g, "u64", &u64, &e), 0);
	cr_assert_eq(u64, UINT64_MAX);
	cr_assert_eq(gguf_get_i64(&g, "i64", &i64, &e), 0);
	cr_assert_eq(i64, INT64_MIN);
	cr_assert_eq(gguf_get_f32(&g, "f32", &f32, &e), 0);
	cr_assert_eq(f32, 1.5f);
	cr_assert_eq(gguf_get_f64(&g, "f32", &f64, &e), 0);
	cr_assert_eq(f64, 1.5);
	cr_assert_eq(gguf_get_f64(&g, "f64", &f64, &e), 0);
	cr_assert_eq(f64, 0.1);
	cr_assert_eq(gguf_get_f32(&g, "f64.exact", &f32, &e), 0);
	cr_assert_eq(f32, 0.5f);
	cr_assert_eq(gguf_get_bool(&g, "bool.t", &bl, &e), 0);
	cr_assert(bl);
	cr_assert_eq(gguf_get_bool(&g, "bool.f", &bl, &e), 0);
	cr_assert(!bl);
	cr_assert_eq(gguf_get_str(&g, "str", &s, &e), 0);
	cr_assert_eq(s.len, 12);
	cr_assert_eq(memcmp(s.s, "hello, world", 12), 0);
	cr_assert_eq(gguf_get_strz(&g, "str", z, sizeof z, &e), 0);
	cr_assert_str_eq(z, "hello, world");
	cr_assert_eq(gguf_get_strz(&g, "str.empty", z, sizeof z, &e), 0);
	cr_assert_str_eq(z, "");

	/* Conversions that would lose the value are refused. */
	cr_assert_eq(gguf_get_u32(&g, "i8", &u32, &e), -1);
	cr_assert(strstr(e.msg, "t.gguf: key 'i8': i8 value -128 does not fit in u32"), "%s",
	          e.msg);
	cr_assert_eq(gguf_get_i32(&g, "u32", &i32, &e), -1);
	cr_assert(strstr(e.msg, "4294967295 does not fit in i32"), "%s", e.msg);
	cr_assert_eq(gguf_get_i64(&g, "u64", &i64, &e), -1);
	cr_assert_eq(gguf_get_u64(&g, "i64", &u64, &e), -1);
	cr_assert(strstr(e.msg, "-9223372036854775808"), "%s", e.msg);
	cr_assert_eq(gguf_get_f32(&g, "f64", &f32, &e), -1);
	cr_assert(strstr(e.msg, "not exactly an f32"), "%s", e.msg);
	cr_assert_eq(gguf_get_u32(&g, "str", &u32, &e), -1);
	cr_assert(strstr(e.msg, "key 'str': is string, not an integer"), "%s", e.msg);
	cr_assert_eq(gguf_get_str(&g, "u32", &s, &e), -1);
	cr_assert(strstr(e.msg, "is u32, not a string"), "%s", e.msg);
	cr_assert_eq(gguf_get_bool(&g, "u8", &bl, &e), -1);
	cr_assert_eq(gguf_get_f64(&g, "i32", &f64, &e), -1);
	cr_assert_eq(gguf_get_u32(&g, "arr.u32", &u32, &e), -1);
	cr_assert(strstr(e.msg, "is an array of u32, not an integer"), "%s", e.msg);
	cr_assert_eq(gguf_get_u32(&g, "missing", &u32, &e), -1);
	cr_assert_str_eq(e.msg, "t.gguf: key 'missing' is missing");
	cr_assert_eq(gguf_get_strz(&g, "str", z, 12, &e), -1);
	cr_assert(strstr(e.msg, "longer than 11"), "%s", e.msg);

	/* Arrays. */
	const gguf_kv *kv = gguf_find_key(&g, "arr.u8");
	cr_assert_eq(kv->elem_type, GGUF_T_U8);
	cr_assert_eq(kv->n, 3);
	cr_assert_eq(memcmp(kv->val, a_u8, 3), 0);
	kv = gguf_find_key(&g, "arr.bool");
	cr_assert_eq(kv->val_len, 3);
	cr_assert_eq(memcmp(kv->val, "\1\0\1", 3), 0);
	kv = gguf_find_key(&g, "arr.u64");
	cr_assert_eq(kv->val_len, 16);
	cr_assert_eq(memcmp(kv->val, "\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0\0\0\0\0", 16), 0);
	kv = gguf_find_key(&g, "arr.nested");
	cr_assert_eq(kv->val_len, (12 + 2 * 4) + (12 + 4));

	int32_t *iv;
	float *fv;
	gguf_str *sv;
	size_t n;
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.i32", &iv, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(iv, a_i32, sizeof a_i32), 0);
	free(iv);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.u8", &iv, &n, &e), 0, "%s", e.msg);
	cr_assert(n == 3 && iv[0] == 0 && iv[1] == 1 && iv[2] == 255);
	free(iv);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.i8", &iv, &n, &e), 0, "%s", e.msg);
	cr_assert(n == 3 && iv[0] == -128 && iv[2] == 127);
	free(iv);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.i16", &iv, &n, &e), 0, "%s", e.msg);
	cr_assert(n == 2 && iv[0] == -32768 && iv[1] == 32767);
	free(iv);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.u16", &iv, &n, &e), 0, "%s", e.msg);
	cr_assert(n == 2 && iv[1] == 65535);
	free(iv);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.u32", &iv, &n, &e), -1);
	cr_assert(strstr(e.msg, "element 1 (4294967295) does not fit in i32"), "%s", e.msg);
	cr_assert_null(iv);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.i64", &iv, &n, &e), -1);
	cr_assert_eq(gguf_get_arr_i32(&g, "arr.f32", &iv, &n, &e), -1);
	cr_assert(strstr(e.msg, "is an array of f32, not integers"), "%s", e.msg);
	cr_assert_eq(gguf_get_arr_f32(&g, "arr.f32", &fv, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(fv, a_f32, sizeof a_f32), 0);
	free(fv);
	cr_assert_eq(gguf_get_arr_f32(&g, "arr.empty", &fv, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 0);
	cr_assert_null(fv);
	cr_assert_eq(gguf_get_arr_f32(&g, "arr.f64", &fv, &n, &e), -1);
	cr_assert_eq(gguf_get_arr_f32(&g, "f32", &fv, &n, &e), -1);
	cr_assert(strstr(e.msg, "is f32, not an array"), "%s", e.msg);
	cr_assert_eq(gguf_get_arr_str(&g, "arr.str", &sv, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sv[i].len, strlen(a_str[i]));
		cr_assert_eq(memcmp(sv[i].s, a_str[i], sv[i].len), 0);
	}
	free(sv);
	cr_assert_eq(gguf_get_arr_str(&g, "arr.u8", &sv, &n, &e), -1);
	cr_assert_null(sv);
	cr_assert_eq(gguf_get_arr_str(&g, "arr.nested", &sv, &n, &e), -1);
	cr_assert(strstr(e.msg, "is an array of array, not strings"), "%s", e.msg);

	/* Tensors. */
	const gguf_tensor *t = gguf_find_tensor(&g, "w.f32");
	cr_assert_not_null(t);
	cr_assert_eq(t, &g.tensors[0]);
	cr_assert_str_eq(t->name, "w.f32");
	cr_assert_eq(t->n_dims, 2);
	cr_assert(t->ne[0] == 4 && t->ne[1] == 2 && t->ne[2] == 1 && t->ne[3] == 1);
	cr_assert_eq(t->type, GGML_TYPE_F32);
	cr_assert_eq(t->offset, 0);
	cr_assert_eq(t->size, 32);
	cr_assert_eq(t->n_elements, 8);
	cr_assert_eq((const unsigned char *)t->data, copy + g.data_offset);
	float back[8];
	memcpy(back, t->data, sizeof back);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(back[i], (float)i * 0.5f);
	t = gguf_find_tensor(&g, "w.q8_0");
	cr_assert(t && t->type == GGML_TYPE_Q8_0 && t->ne[0] == 32 && t->ne[1] == 3);
	cr_assert_eq(t->offset, 32);
	cr_assert_eq(t->size, 3 * 34);
	cr_assert_eq(((const unsigned char *)t->data)[5], 35);
	t = gguf_find_tensor(&g, "w.f16");
	cr_assert(t && t->n_dims == 1 && t->ne[0] == 5 && t->size == 10 && t->offset == 160);
	t = gguf_find_tensor(&g, "w.i8.4d");
	cr_assert(t && t->n_dims == 4 && t->ne[3] == 4 && t->n_elements == 24 && t->size == 24);
	cr_assert_eq(t->offset, 192);
	cr_assert_null(gguf_find_tensor(&g, "w"));

	gguf_info info;
	cr_assert_eq(gguf_summary(&g, &info, &e), 0, "%s", e.msg);
	cr_assert_str_eq(info.arch, "");
	cr_assert_eq(info.n_params, 8 + 96 + 5 + 24);
	cr_assert_eq(info.weight_type, GGML_TYPE_Q8_0, "q8_0 holds the most 2-D bytes");
	cr_assert_eq(info.vocab_size, 0);
	cr_assert_eq(info.context_length, 0);

	gguf_close(&g);
	free(copy);
}

Test(gguf, every_value_type_v3)
{
	check_types(3);
}

Test(gguf, every_value_type_v2)
{
	check_types(2);
}

Test(gguf, float_conversions)
{
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_f64(&w, "big", 1e300);
	gguf_w_f64(&w, "inf", (double)INFINITY);
	gguf_w_f64(&w, "nan", (double)NAN);
	gguf_w_f64(&w, "max", (double)FLT_MAX);
	gguf_w_f64(&w, "tiny", 1e-320);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	float f;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_get_f32(&g, "big", &f, &e), -1);
	cr_assert(strstr(e.msg, "t: key 'big': f64 value 1.0000000000000001e+300 is not exactly"),
	          "%s", e.msg);
	cr_assert_eq(gguf_get_f32(&g, "inf", &f, &e), 0);
	cr_assert(isinf(f) && f > 0);
	cr_assert_eq(gguf_get_f32(&g, "nan", &f, &e), 0);
	cr_assert(isnan(f));
	cr_assert_eq(gguf_get_f32(&g, "max", &f, &e), 0);
	cr_assert_eq(f, FLT_MAX);
	cr_assert_eq(gguf_get_f32(&g, "tiny", &f, &e), -1);
	gguf_close(&g);
	free(buf);
}

Test(gguf, print_lists_keys_and_tensors)
{
	gguf_writer w;
	all_types(&w, 3);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t.gguf", &e), 0, "%s", e.msg);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	cr_assert(f);
	gguf_print(&g, f);
	fclose(f);
	static const char *const want[] = {
	    "gguf t.gguf: version 3, 29 keys, 4 tensors, alignment 32, data at offset ",
	    "\nkey u8: u8 255\n",
	    "\nkey i8: i8 -128\n",
	    "\nkey u64: u64 18446744073709551615\n",
	    "\nkey i64: i64 -9223372036854775808\n",
	    "\nkey f32: f32 1.5\n",
	    "\nkey f64: f64 0.10000000000000001\n",
	    "\nkey bool.t: bool true\n",
	    "\nkey str: string \"hello, world\"\n",
	    "\nkey arr.u8: [u8 x 3] 0, 1, 255\n",
	    "\nkey arr.bool: [bool x 3] true, false, true\n",
	    "\nkey arr.str: [string x 3] \"\", \"one\", \"two\\x0alines\"\n",
	    "\nkey arr.empty: [f32 x 0]\n",
	    "\nkey arr.nested: [array x 2] [u32 x 2], [u32 x 1]\n",
	    "\ntensor w.f32: f32 [4, 2] offset 0 (32 bytes)\n",
	    "\ntensor w.q8_0: q8_0 [32, 3] offset 32 (102 bytes)\n",
	    "\ntensor w.i8.4d: i8 [1, 2, 3, 4] offset 192 (24 bytes)\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		cr_assert(strstr(out, want[i]), "listing lacks '%s':\n%s", want[i], out);
	free(out);
	gguf_close(&g);
	free(buf);
}

Test(gguf, print_abbreviates_long_values)
{
	gguf_writer w;
	gguf_w_init(&w);
	char big[200];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	gguf_w_str(&w, "long", big);
	int32_t many[100] = {0};
	gguf_w_arr(&w, "many", GGUF_T_I32, many, 100);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t.gguf", &e), 0, "%s", e.msg);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	gguf_print(&g, f);
	fclose(f);
	cr_assert(strstr(out, "key many: [i32 x 100] 0, 0, 0, 0, 0, 0, ...\n"), "%s", out);
	cr_assert(strstr(out, "xxx\"...\n"), "%s", out);
	cr_assert(outlen < 400, "%s", out);
	free(out);
	gguf_close(&g);
	free(buf);
}

/* ---------------------------------------------------------------- files */

Test(gguf, writer_file_round_trip_and_open_errors)
{
	char dir[] = "/tmp/dai-gguf-XXXXXX";
	cr_assert(mkdtemp(dir));
	char path[64], empty[64];
	snprintf(path, sizeof path, "%s/m.gguf", dir);
	snprintf(empty, sizeof empty, "%s/empty", dir);
	gguf_writer w;
	dai_err e;
	tiny(&w);
	cr_assert_eq(gguf_w_write(&w, path, &e), 0, "%s", e.msg);
	gguf_w_free(&w);
	gguf_file g;
	cr_assert_eq(gguf_open(&g, path, &e), 0, "%s", e.msg);
	cr_assert_eq(g.n_tensors, 1);
	cr_assert_eq(((const float *)g.tensors[0].data)[3], 4.0f);
	gguf_close(&g);
	gguf_close(&g); /* harmless twice */

	FILE *f = fopen(empty, "w");
	fclose(f);
	cr_assert_eq(gguf_open(&g, empty, &e), -1);
	cr_assert(strstr(e.msg, "empty: offset 0: file too short"), "%s", e.msg);
	cr_assert_eq(gguf_open(&g, dir, &e), -1);
	cr_assert(strstr(e.msg, "not a regular file"), "%s", e.msg);
	unlink(path);
	unlink(empty);
	rmdir(dir);
	cr_assert_eq(gguf_open(&g, path, &e), -1);
	cr_assert(strstr(e.msg, "m.gguf: No such file"), "%s", e.msg);
}

Test(gguf, minimal_files)
{
	/* Just a header: no keys, no tensors, no padding. */
	unsigned char h[24] = "GGUF";
	put_le32(h + 4, 3);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, h, sizeof h, "h", &e), 0, "%s", e.msg);
	cr_assert(g.n_kv == 0 && g.n_tensors == 0 && g.data_offset == 32);
	cr_assert_null(gguf_find_key(&g, "x"));
	cr_assert_null(gguf_find_tensor(&g, "x"));
	gguf_info s;
	cr_assert_eq(gguf_summary(&g, &s, &e), 0);
	cr_assert(s.n_params == 0 && s.weight_type == -1 && s.vocab_size == 0);
	gguf_close(&g);
	cr_assert_eq(gguf_open_mem(&g, NULL, 0, "nothing", &e), -1);
	cr_assert(strstr(e.msg, "nothing: offset 0: file too short"), "%s", e.msg);
}

Test(gguf, alignment_from_key)
{
	gguf_writer w;
	gguf_w_init(&w);
	w.alignment = 64;
	gguf_w_u32(&w, "general.alignment", 64);
	int64_t ne[1] = {3};
	gguf_w_tensor(&w, "a", GGML_TYPE_F32, 1, ne, NULL, 12);
	gguf_w_tensor(&w, "b", GGML_TYPE_F32, 1, ne, NULL, 12);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_eq(g.alignment, 64);
	cr_assert_eq(g.data_offset % 64, 0);
	cr_assert_eq(g.tensors[1].offset, 64);
	gguf_close(&g);
	free(buf);

	/* Any integer type holding a power of two will do. */
	gguf_w_init(&w);
	w.alignment = 8;
	gguf_w_u64(&w, "general.alignment", 8);
	gguf_w_tensor_at(&w, "a", GGML_TYPE_F32, 1, ne, 8, NULL, 12);
	buf = finish(&w, &len);
	gguf_w_free(&w);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_eq(g.alignment, 8);
	gguf_close(&g);
	free(buf);
}

/* ---------------------------------------------------------------- conformance models */

struct model_case {
	const char *name;
	uint32_t type;
	int dim, layers, kv_dim, ffn;
	uint64_t params, file_size;
};

static const struct model_case cases[] = {
    {"a_f32", GGML_TYPE_F32, 64, 2, 32, 192, 164160, 669280},
    {"a_f16", GGML_TYPE_F16, 64, 2, 32, 192, 164160, 341600},
    {"a_q8_0", GGML_TYPE_Q8_0, 64, 2, 32, 192, 164160, 188000},
    {"b_f32", GGML_TYPE_F32, 128, 3, 128, 344, 724864, 2912640},
    {"b_f16", GGML_TYPE_F16, 128, 3, 128, 344, 724864, 1464704},
    {"b_q8_0", GGML_TYPE_Q8_0, 128, 3, 128, 352, 734080, 795776},
};

static void check_shape(const gguf_file *g, const char *name, uint32_t type, int64_t ne0,
                        int64_t ne1)
{
	const gguf_tensor *t = gguf_find_tensor(g, name);
	cr_assert_not_null(t, "%s: no tensor %s", g->name, name);
	cr_assert_eq(t->type, type, "%s: %s type %u", g->name, name, t->type);
	cr_assert_eq(t->n_dims, ne1 ? 2 : 1, "%s: %s", g->name, name);
	cr_assert_eq(t->ne[0], ne0, "%s: %s", g->name, name);
	cr_assert_eq(t->ne[1], ne1 ? ne1 : 1, "%s: %s", g->name, name);
	uint64_t bytes;
	cr_assert_eq(ggml_nbytes(type, t->n_dims, t->ne, &bytes), 0);
	cr_assert_eq(t->size, bytes);
	cr_assert_eq(t->offset % 32, 0);
}

static void check_model(const struct model_case *c)
{
	char path[128];
	snprintf(path, sizeof path, "tests/data/%s.gguf", c->name);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open(&g, path, &e), 0, "%s", e.msg);
	cr_assert_eq(g.size, c->file_size);
	cr_assert_eq(g.version, 3);
	cr_assert_eq(g.alignment, 32);
	cr_assert_eq(g.n_kv, 23);
	cr_assert_eq(g.n_tensors, (size_t)(3 + 9 * c->layers));

	gguf_info s;
	cr_assert_eq(gguf_summary(&g, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.arch, "llama");
	cr_assert_eq(s.n_params, c->params, "%s: %lu params", c->name, (unsigned long)s.n_params);
	cr_assert_eq(s.weight_type, (int)c->type);
	cr_assert_eq(s.context_length, 256);
	cr_assert_eq(s.vocab_size, 512);

	uint32_t u;
	cr_assert_eq(gguf_get_u32(&g, "llama.embedding_length", &u, &e), 0);
	cr_assert_eq(u, (uint32_t)c->dim);
	cr_assert_eq(gguf_get_u32(&g, "llama.block_count", &u, &e), 0);
	cr_assert_eq(u, (uint32_t)c->layers);
	float eps;
	cr_assert_eq(gguf_get_f32(&g, "llama.attention.layer_norm_rms_epsilon", &eps, &e), 0);
	cr_assert_eq(eps, 1e-5f);
	char name[32];
	cr_assert_eq(gguf_get_strz(&g, "general.name", name, sizeof name, &e), 0);
	cr_assert_str_eq(name, c->name);

	check_shape(&g, "token_embd.weight", c->type, c->dim, 512);
	check_shape(&g, "output.weight", c->type, c->dim, 512);
	check_shape(&g, "output_norm.weight", GGML_TYPE_F32, c->dim, 0);
	for (int l = 0; l < c->layers; l++) {
		char t[64];
#define SHAPE(suffix, type, ne0, ne1)                                                              \
	snprintf(t, sizeof t, "blk.%d.%s", l, suffix);                                             \
	check_shape(&g, t, type, ne0, ne1)
		SHAPE("attn_norm.weight", GGML_TYPE_F32, c->dim, 0);
		SHAPE("ffn_norm.weight", GGML_TYPE_F32, c->dim, 0);
		SHAPE("attn_q.weight", c->type, c->dim, c->dim);
		SHAPE("attn_k.weight", c->type, c->dim, c->kv_dim);
		SHAPE("attn_v.weight", c->type, c->dim, c->kv_dim);
		SHAPE("attn_output.weight", c->type, c->dim, c->dim);
		SHAPE("ffn_gate.weight", c->type, c->dim, c->ffn);
		SHAPE("ffn_up.weight", c->type, c->dim, c->ffn);
		SHAPE("ffn_down.weight", c->type, c->ffn, c->dim);
#undef SHAPE
	}
	/* Norm weights are all 1.0; the last tensor ends the file. */
	const gguf_tensor *t = gguf_find_tensor(&g, "blk.0.attn_norm.weight");
	float one;
	memcpy(&one, (const unsigned char *)t->data + 4 * (c->dim - 1), 4);
	cr_assert_eq(one, 1.0f);
	t = &g.tensors[g.n_tensors - 1];
	cr_assert_eq(g.data_offset + t->offset + t->size, g.size);

	gguf_str *tok;
	float *scores;
	int32_t *types;
	size_t n;
	cr_assert_eq(gguf_get_arr_str(&g, "tokenizer.ggml.tokens", &tok, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 512);
	cr_assert(tok[1].len == 3 && memcmp(tok[1].s, "<s>", 3) == 0);
	cr_assert(tok[2].len == 4 && memcmp(tok[2].s, "</s>", 4) == 0);
	free(tok);
	cr_assert_eq(gguf_get_arr_f32(&g, "tokenizer.ggml.scores", &scores, &n, &e), 0);
	cr_assert_eq(n, 512);
	free(scores);
	cr_assert_eq(gguf_get_arr_i32(&g, "tokenizer.ggml.token_type", &types, &n, &e), 0);
	cr_assert_eq(n, 512);
	cr_assert_eq(types[0], 2); /* unknown */
	free(types);
	bool bos;
	cr_assert_eq(gguf_get_bool(&g, "tokenizer.ggml.add_bos_token", &bos, &e), 0);
	cr_assert(bos);
	gguf_close(&g);

	/* The reference files that go with the model. */
	static const struct {
		const char *ext;
		off_t size;
	} refs[] = {{"prompt.i32", 26 * 4}, {"greedy.i32", 58 * 4}, {"logits.f32", 58 * 512 * 4}};
	for (size_t i = 0; i < 3; i++) {
		struct stat st;
		snprintf(path, sizeof path, "tests/data/%s.%s", c->name, refs[i].ext);
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert_eq(st.st_size, refs[i].size, "%s", path);
	}
}

Test(gguf, conformance_models)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		check_model(&cases[i]);
}

/* ---------------------------------------------------------------- hostile files */

/* The first cut bytes of buf must not open. */
static void cut_fails(const unsigned char *buf, size_t cut, const char *want)
{
	gguf_file g;
	dai_err e = {{0}};
	unsigned char *copy;
	int rc = open_copy(&g, buf, cut, "a_f32.gguf", &copy, &e);
	free(copy);
	if (rc == 0)
		gguf_close(&g);
	cr_assert_eq(rc, -1, "opened a_f32.gguf cut at %zu", cut);
	cr_assert(strstr(e.msg, want), "cut at %zu: '%s' lacks '%s'", cut, e.msg, want);
	cr_assert_null(strchr(e.msg, '\n'));
}

Test(gguf, truncation_never_opens)
{
	size_t len;
	unsigned char *buf = read_file("tests/data/a_f32.gguf", &len);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "a_f32.gguf", &e), 0, "%s", e.msg);
	size_t data = (size_t)g.data_offset;
	gguf_close(&g);
	cr_assert_gt(data, 12000);
	/* Every cut through the header, keys, tensor infos and padding. */
	for (size_t cut = 0; cut <= data; cut++)
		cut_fails(buf, cut, "a_f32.gguf: ");
	/* A stride through the data, and the last byte. */
	for (size_t cut = data; cut < len; cut += 4093)
		cut_fails(buf, cut, "data runs past end of file");
	cut_fails(buf, len - 1, "data runs past end of file");
	free(buf);
}

/* The first part of a file from the writer at known offsets: header 0..24,
 * then key 'general.name' (8-byte length at 24, key at 32, type at 44,
 * string length at 48). */
static unsigned char *named(size_t *len)
{
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "general.name", "a model");
	int64_t ne[1] = {8};
	gguf_w_tensor(&w, "t", GGML_TYPE_F32, 1, ne, NULL, 32);
	unsigned char *buf = finish(&w, len);
	gguf_w_free(&w);
	return buf;
}

Test(gguf, corrupt_header)
{
	size_t len;
	unsigned char *buf = named(&len);
	buf[0] = 'g';
	expect_fail(buf, len, "t.gguf: offset 0: not a GGUF file (bad magic)");
	buf[0] = 'G';
	put_le32(buf + 4, 1);
	expect_fail(buf, len, "offset 4: GGUF version 1 is not supported");
	put_le32(buf + 4, 4);
	expect_fail(buf, len, "unsupported GGUF version 4");
	put_le32(buf + 4, 0x03000000);
	expect_fail(buf, len, "big-endian GGUF is not supported");
	put_le32(buf + 4, 3);
	put_le64(buf + 8, UINT64_MAX);
	expect_fail(buf, len, "n_tensors 18446744073709551615 is more than the file can hold");
	put_le64(buf + 8, 1);
	put_le64(buf + 16, UINT64_MAX);
	expect_fail(buf, len, "n_kv 18446744073709551615 is more than the file can hold");
	put_le64(buf + 16, 3);
	expect_fail(buf, len, "offset 77: key #2: key length 0 is not in 1..65535");
	put_le64(buf + 16, 1);
	put_le64(buf + 8, 2);
	expect_fail(buf, len, "tensor #1: ");
	put_le64(buf + 8, 1);
	expect_fail(buf, 6, "offset 4: version runs past end of file");
	expect_fail(buf, 3, "offset 0: file too short for a GGUF header (3 bytes)");
	free(buf);
}

Test(gguf, corrupt_key_values)
{
	size_t len;
	unsigned char *buf = named(&len);
	put_le64(buf + 24, UINT64_MAX);
	expect_fail(buf, len,
	            "t.gguf: offset 24: key #0: key length 18446744073709551615 runs "
	            "past end of file");
	put_le64(buf + 24, 0);
	expect_fail(buf, len, "key #0: key length 0 is not in 1..65535");
	put_le64(buf + 24, 12);
	put_le64(buf + 48, UINT64_MAX);
	expect_fail(buf, len,
	            "t.gguf: offset 48: key 'general.name': string length "
	            "18446744073709551615 runs past end of file");
	put_le64(buf + 48, 7);
	put_le32(buf + 44, 13);
	expect_fail(buf, len, "key 'general.name': unknown value type 13");
	put_le32(buf + 44, GGUF_T_STRING);
	buf[35] = '\n';
	expect_fail(buf, len, "key 'gen\\x0aral.name': key holds a control byte");
	buf[35] = 0;
	expect_fail(buf, len, "key holds a control byte");
	free(buf);

	gguf_writer w;
	tiny(&w);
	gguf_w_str(&w, "general.architecture", "again");
	expect_fail_w(&w, "t.gguf: key 'general.architecture': duplicate key");

	/* A bool must be 0 or 1, in a value or an array. */
	tiny(&w);
	gguf_w_raw(&w, "b", GGUF_T_BOOL, "\2", 1);
	expect_fail_w(&w, "key 'b': bool value 2 is not 0 or 1");
	tiny(&w);
	gguf_buf b = {0};
	gguf_buf_u32(&b, GGUF_T_BOOL);
	gguf_buf_u64(&b, 3);
	gguf_buf_put(&b, "\1\0\xff", 3);
	gguf_w_raw(&w, "bools", GGUF_T_ARRAY, b.p, b.len);
	gguf_buf_free(&b);
	expect_fail_w(&w, "key 'bools': bool value 255 is not 0 or 1");

	/* Array counts that the file cannot hold. */
	static const uint32_t elems[] = {GGUF_T_U32, GGUF_T_STRING, GGUF_T_ARRAY, GGUF_T_U8};
	static const char *const want[] = {"18446744073709551615 u32 values run past end of file",
	                                   "1000000 string values run past end of file",
	                                   "1000000 array values run past end of file",
	                                   "4096 u8 values run past end of file"};
	static const uint64_t counts[] = {UINT64_MAX, 1000000, 1000000, 4096};
	for (int i = 0; i < 4; i++) {
		tiny(&w);
		gguf_buf_u32(&b, elems[i]);
		gguf_buf_u64(&b, counts[i]);
		gguf_w_raw(&w, "arr", GGUF_T_ARRAY, b.p, b.len);
		gguf_buf_free(&b);
		expect_fail_w(&w, want[i]);
	}
	tiny(&w);
	gguf_buf_u32(&b, 99);
	gguf_buf_u64(&b, 1);
	gguf_w_raw(&w, "arr", GGUF_T_ARRAY, b.p, b.len);
	gguf_buf_free(&b);
	expect_fail_w(&w, "key 'arr': unknown value type 99");

	/* Arrays nest at most GGUF_ARRAY_DEPTH_MAX deep. */
	for (int depth = GGUF_ARRAY_DEPTH_MAX; depth <= GGUF_ARRAY_DEPTH_MAX + 1; depth++) {
		tiny(&w);
		for (int i = 1; i < depth; i++) {
			gguf_buf_u32(&b, GGUF_T_ARRAY);
			gguf_buf_u64(&b, 1);
		}
		gguf_buf_u32(&b, GGUF_T_U8);
		gguf_buf_u64(&b, 1);
		gguf_buf_put(&b, "x", 1);
		gguf_w_raw(&w, "deep", GGUF_T_ARRAY, b.p, b.len);
		gguf_buf_free(&b);
		if (depth > GGUF_ARRAY_DEPTH_MAX) {
			expect_fail_w(&w, "key 'deep': arrays nested deeper than 8");
		} else {
			size_t n;
			unsigned char *ok = finish(&w, &n);
			gguf_file g;
			dai_err e;
			cr_assert_eq(gguf_open_mem(&g, ok, n, "t", &e), 0, "%s", e.msg);
			gguf_close(&g);
			free(ok);
			gguf_w_free(&w);
		}
	}
}

Test(gguf, corrupt_alignment)
{
	static const uint32_t bad[] = {0, 3, 48, 0x80000001u};
	char want[64];
	for (int i = 0; i < 4; i++) {
		gguf_writer w;
		tiny(&w);
		gguf_w_u32(&w, "general.alignment", bad[i]);
		snprintf(want, sizeof want, "alignment %u is not a power of two", bad[i]);
		expect_fail_w(&w, want);
	}
	gguf_writer w;
	tiny(&w);
	gguf_w_i32(&w, "general.alignment", -32);
	expect_fail_w(&w, "key 'general.alignment': alignment -32 is not a power of two");
	tiny(&w);
	gguf_w_u64(&w, "general.alignment", 1ull << 32);
	expect_fail_w(&w, "alignment 4294967296 is not a power of two below 2^32");
	tiny(&w);
	gguf_w_str(&w, "general.alignment", "32");
	expect_fail_w(&w, "key 'general.alignment': is string, not an integer");
}

Test(gguf, corrupt_tensor_infos)
{
	gguf_writer w;
	int64_t ne[5] = {32, 2, 1, 1, 1};

	tiny(&w);
	gguf_w_tensor(&w, "t", GGML_TYPE_F32, 1, ne, NULL, 128);
	expect_fail_w(&w, "t.gguf: tensor t: duplicate tensor name");

	static const uint32_t bad_types[] = {4, 5, 31, 39, 1000};
	char want[64];
	for (int i = 0; i < 5; i++) {
		tiny(&w);
		gguf_w_tensor(&w, "u", bad_types[i], 1, ne, NULL, 128);
		snprintf(want, sizeof want, "tensor u: unknown ggml type %u", bad_types[i]);
		expect_fail_w(&w, want);
	}

	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_F32, 0, ne, NULL, 128);
	expect_fail_w(&w, "tensor u: n_dims 0 is not in 1..4");
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_F32, 5, ne, NULL, 256);
	expect_fail_w(&w, "tensor u: n_dims 5 is not in 1..4");

	int64_t zero[2] = {32, 0};
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_F32, 2, zero, NULL, 0);
	expect_fail_w(&w, "tensor u: dimension 1 is 0");
	int64_t neg[1] = {INT64_MIN};
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_F32, 1, neg, NULL, 0);
	expect_fail_w(&w, "tensor u: dimension 0 is 9223372036854775808");

	int64_t odd[2] = {33, 2};
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_Q8_0, 2, odd, NULL, 68);
	expect_fail_w(&w, "tensor u: row length 33 is not a multiple of the q8_0 block size 32");
	int64_t q4k[1] = {32};
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_Q4_K, 1, q4k, NULL, 144);
	expect_fail_w(&w, "row length 32 is not a multiple of the q4_K block size 256");

	int64_t huge[3] = {1ll << 32, 1ll << 31, 2};
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_F32, 3, huge, NULL, 0);
	expect_fail_w(&w, "tensor u: element count overflows");
	int64_t big[2] = {1ll << 61, 2};
	tiny(&w);
	gguf_w_tensor(&w, "u", GGML_TYPE_I64, 2, big, NULL, 0);
	expect_fail_w(&w, "tensor u: byte size overflows");

	char longname[GGUF_TENSOR_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	tiny(&w);
	gguf_w_tensor(&w, longname, GGML_TYPE_F32, 1, ne, NULL, 128);
	expect_fail_w(&w, "tensor #1: name length 64 is not in 1..63");
	longname[GGUF_TENSOR_NAME_MAX] = '\0'; /* 63 bytes is fine */
	tiny(&w);
	gguf_w_tensor(&w, longname, GGML_TYPE_F32, 1, ne, NULL, 128);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_not_null(gguf_find_tensor(&g, longname));
	gguf_close(&g);
	free(buf);
	tiny(&w);
	gguf_w_tensor(&w, "", GGML_TYPE_F32, 1, ne, NULL, 128);
	expect_fail_w(&w, "tensor #1: name length 0 is not in 1..63");
	tiny(&w);
	gguf_w_tensor(&w, "a\tb", GGML_TYPE_F32, 1, ne, NULL, 128);
	expect_fail_w(&w, "tensor a\\x09b: name holds a control byte");
}

Test(gguf, corrupt_tensor_placement)
{
	gguf_writer w;
	int64_t ne[1] = {16};

	tiny(&w);
	gguf_w_tensor_at(&w, "u", GGML_TYPE_F32, 1, ne, 100, NULL, 64);
	expect_fail_w(&w, "tensor u: offset 100 is not a multiple of the alignment 32");
	tiny(&w);
	gguf_w_u32(&w, "general.alignment", 64);
	gguf_w_tensor_at(&w, "u", GGML_TYPE_F32, 1, ne, 96, NULL, 64);
	expect_fail_w(&w, "tensor u: offset 96 is not a multiple of the alignment 64");

	/* The same bytes twice, and a partial overlap. */
	tiny(&w);
	gguf_w_tensor_at(&w, "u", GGML_TYPE_F32, 1, ne, 0, NULL, 64);
	expect_fail_w(&w, "data overlaps tensor");
	gguf_w_init(&w);
	gguf_w_tensor_at(&w, "a", GGML_TYPE_F32, 1, ne, 64, NULL, 64);
	gguf_w_tensor_at(&w, "b", GGML_TYPE_F32, 1, ne, 32, NULL, 64);
	gguf_w_tensor_at(&w, "c", GGML_TYPE_F32, 1, ne, 160, NULL, 64);
	expect_fail_w(&w, "t.gguf: tensor a: data overlaps tensor b");
	/* Touching is fine. */
	gguf_w_init(&w);
	gguf_w_tensor_at(&w, "a", GGML_TYPE_F32, 1, ne, 64, NULL, 64);
	gguf_w_tensor_at(&w, "b", GGML_TYPE_F32, 1, ne, 0, NULL, 64);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	gguf_close(&g);
	free(buf);

	/* Data past the end, by size and by an offset near 2^64. */
	tiny(&w);
	gguf_w_tensor(&w, "big", GGML_TYPE_F32, 1, ne, NULL, 4);
	expect_fail_w(&w, "t.gguf: tensor big: data runs past end of file");
	/* header 24, name length 8 + "far" 3, n_dims 4, ne 8, type 4: offset at 51 */
	int64_t one[1] = {8};
	gguf_w_init(&w);
	gguf_w_tensor(&w, "far", GGML_TYPE_F32, 1, one, NULL, 32);
	buf = finish(&w, &len);
	gguf_w_free(&w);
	put_le64(buf + 51, UINT64_MAX - 31);
	expect_fail(buf, len, "tensor far: data runs past end of file");
	free(buf);
}

/* ---------------------------------------------------------------- summary */

Test(gguf, summary_rules)
{
	gguf_writer w;
	gguf_w_init(&w);
	gguf_w_str(&w, "general.architecture", "tiny");
	gguf_w_u64(&w, "tiny.context_length", 4096);
	int64_t emb[2] = {32, 100}, sq[2] = {32, 32}, v[1] = {32};
	gguf_w_tensor(&w, "token_embd.weight", GGML_TYPE_Q8_0, 2, emb, NULL, 100 * 34);
	gguf_w_tensor(&w, "a", GGML_TYPE_F16, 2, sq, NULL, 32 * 32 * 2);
	gguf_w_tensor(&w, "b", GGML_TYPE_F16, 2, sq, NULL, 32 * 32 * 2);
	gguf_w_tensor(&w, "norm", GGML_TYPE_F32, 1, v, NULL, 32 * 4);
	size_t len;
	unsigned char *buf = finish(&w, &len);
	gguf_w_free(&w);
	gguf_file g;
	dai_err e;
	gguf_info s;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_summary(&g, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.arch, "tiny");
	cr_assert_eq(s.context_length, 4096);
	cr_assert_eq(s.vocab_size, 100, "from token_embd.weight ne[1]");
	cr_assert_eq(s.weight_type, GGML_TYPE_F16, "4096 f16 bytes beat 3400 q8_0 bytes");
	cr_assert_eq(s.n_params, 3200 + 2048 + 32);
	cr_assert_eq(s.tensor_bytes, 3400 + 4096 + 128);
	gguf_close(&g);
	free(buf);

	gguf_w_init(&w);
	gguf_w_str(&w, "general.architecture", "two words");
	buf = finish(&w, &len);
	gguf_w_free(&w);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_summary(&g, &s, &e), -1);
	cr_assert(strstr(e.msg, "t: key 'general.architecture': not printable ASCII"), "%s", e.msg);
	gguf_close(&g);
	free(buf);

	gguf_w_init(&w);
	gguf_w_str(&w, "general.architecture", "x");
	gguf_w_str(&w, "x.context_length", "long");
	buf = finish(&w, &len);
	gguf_w_free(&w);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "t", &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_summary(&g, &s, &e), -1);
	cr_assert(strstr(e.msg, "key 'x.context_length': is string, not an integer"), "%s", e.msg);
	gguf_close(&g);
	free(buf);
}

Test(gguf, type_table)
{
	static const struct {
		uint32_t id;
		const char *name;
		uint32_t block, bytes;
	} want[] = {
	    {0, "f32", 1, 4},       {1, "f16", 1, 2},       {2, "q4_0", 32, 18},
	    {3, "q4_1", 32, 20},    {6, "q5_0", 32, 22},    {7, "q5_1", 32, 24},
	    {8, "q8_0", 32, 34},    {9, "q8_1", 32, 36},    {10, "q2_K", 256, 84},
	    {11, "q3_K", 256, 110}, {12, "q4_K", 256, 144}, {13, "q5_K", 256, 176},
	    {14, "q6_K", 256, 210}, {15, "q8_K", 256, 292}, {24, "i8", 1, 1},
	    {25, "i16", 1, 2},      {26, "i32", 1, 4},      {27, "i64", 1, 8},
	    {28, "f64", 1, 8},      {30, "bf16", 1, 2},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		const ggml_type_info *t = ggml_type_get(want[i].id);
		cr_assert_not_null(t, "type %u", want[i].id);
		cr_assert_str_eq(t->name, want[i].name);
		cr_assert_eq(t->block, want[i].block, "%s", t->name);
		cr_assert_eq(t->bytes, want[i].bytes, "%s", t->name);
	}
	static const uint32_t unknown[] = {4, 5, 31, 32, 33, 36, 37, 38, 39, 0xffffffffu};
	for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
		cr_assert_null(ggml_type_get(unknown[i]));
		cr_assert_str_eq(ggml_type_name(unknown[i]), "?");
	}
	int64_t ne[4] = {64, 3, 2, 1};
	uint64_t n;
	cr_assert_eq(ggml_nbytes(GGML_TYPE_Q8_0, 3, ne, &n), 0);
	cr_assert_eq(n, 2 * 34 * 6);
	ne[0] = 48;
	cr_assert_eq(ggml_nbytes(GGML_TYPE_Q8_0, 1, ne, &n), -1);
	int64_t huge[1] = {INT64_MAX};
	cr_assert_eq(ggml_nbytes(GGML_TYPE_I64, 1, huge, &n), -1);
	cr_assert_eq(ggml_nbytes(4, 1, ne, &n), -1);
}
