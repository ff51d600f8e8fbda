/* gguf.c - see gguf.h. */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The fewest bytes a key/value pair can take (key length, a 1-byte key,
 * value type, a u8) and a tensor info (name length, a 1-byte name, n_dims,
 * one dimension, type, offset). A count claiming more entries than the rest
 * of the file could hold at these sizes is refused before any allocation. */
#define KV_MIN_BYTES (8 + 1 + 4 + 1)
#define TENSOR_MIN_BYTES (8 + 1 + 4 + 8 + 4 + 8)

/* Room for a quoted, escaped, possibly cut name in a message. */
#define ESC_MAX 96

/* Bytes of one value of each type; 0 for strings and arrays, which have no
 * fixed size. */
static const uint8_t vtype_size[GGUF_T_COUNT] = {
    [GGUF_T_U8] = 1,  [GGUF_T_I8] = 1,  [GGUF_T_U16] = 2, [GGUF_T_I16] = 2,
    [GGUF_T_U32] = 4, [GGUF_T_I32] = 4, [GGUF_T_F32] = 4, [GGUF_T_BOOL] = 1,
    [GGUF_T_U64] = 8, [GGUF_T_I64] = 8, [GGUF_T_F64] = 8,
};

static const char *const vtype_names[GGUF_T_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

const char *gguf_vtype_name(uint32_t type)
{
	return type < GGUF_T_COUNT ? vtype_names[type] : "?";
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Writes s[0..len) into out for a message: printable ASCII as is (quote and
 * backslash escaped), anything else as \xNN, cut with "..." when long. */
static void esc(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[5];
		if (c == '\'' || c == '"' || c == '\\')
			snprintf(tmp, sizeof tmp, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			snprintf(tmp, sizeof tmp, "%c", c);
		else
			snprintf(tmp, sizeof tmp, "\\x%02x", c);
		size_t t = strlen(tmp);
		if (o + t + 4 > cap) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, tmp, t);
		o += t;
	}
	out[o] = '\0';
}

/* ---------------------------------------------------------------- parsing */

/* A cursor over the file; ctx names what is being read ("key 'x'"). */
typedef struct rd {
	const unsigned char *p;
	size_t len, pos;
	const char *name;
	dai_err *e;
	char ctx[ESC_MAX + 32];
} rd;

/* "<file>: offset <at>: <ctx>: <message>"; returns -1. */
__attribute__((format(printf, 3, 4))) static int fail_at(rd *r, size_t at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return dai_errf(r->e, "%s: offset %zu: %s%s%s", r->name, at, r->ctx, r->ctx[0] ? ": " : "",
	                msg);
}

static int avail(const rd *r, uint64_t n)
{
	return n <= r->len - r->pos;
}

static int rd_u32(rd *r, const char *what, uint32_t *v)
{
	if (!avail(r, 4))
		return fail_at(r, r->pos, "%s runs past end of file", what);
	*v = le32(r->p + r->pos);
	r->pos += 4;
	return 0;
}

static int rd_u64(rd *r, const char *what, uint64_t *v)
{
	if (!avail(r, 8))
		return fail_at(r, r->pos, "%s runs past end of file", what);
	*v = le64(r->p + r->pos);
	r->pos += 8;
	return 0;
}

/* Reads a string's length and skips its bytes; *s points at them. */
static int rd_str(rd *r, const char *what, const unsigned char **s, uint64_t *len)
{
	size_t at = r->pos;
	if (rd_u64(r, what, len))
		return -1;
	if (!avail(r, *len))
		return fail_at(r, at, "%s %" PRIu64 " runs past end of file", what, *len);
	*s = r->p + r->pos;
	r->pos += (size_t)*len;
	return 0;
}

/* Names (keys, tensor names) are printed in messages and listings and
 * turned into C strings, so they may hold no control byte (NUL included). */
static int name_ok(const unsigned char *s, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	}
	return 1;
}

static int skip_elems(rd *r, uint32_t type, uint64_t n, int depth);

/* Skips one value of the given type, checking it. */
static int skip_value(rd *r, uint32_t type, int depth)
{
	if (type >= GGUF_T_COUNT)
		return fail_at(r, r->pos, "unknown value type %" PRIu32, type);
	if (type == GGUF_T_STRING) {
		const unsigned char *s;
		uint64_t len;
		return rd_str(r, "string length", &s, &len);
	}
	if (type == GGUF_T_ARRAY) {
		uint32_t et;
		uint64_t n;
		if (depth >= GGUF_ARRAY_DEPTH_MAX)
			return fail_at(r, r->pos, "arrays nested deeper than %d",
			               GGUF_ARRAY_DEPTH_MAX);
		if (rd_u32(r, "array element type", &et) || rd_u64(r, "array length", &n))
			return -1;
		return skip_elems(r, et, n, depth + 1);
	}
	return skip_elems(r, type, 1, depth);
}

/* Skips n elements of the given type. */
static int skip_elems(rd *r, uint32_t type, uint64_t n, int depth)
{
	size_t at = r->pos;
	if (type >= GGUF_T_COUNT)
		return fail_at(r, at, "unknown value type %" PRIu32, type);
	uint64_t size = vtype_size[type];
	if (size) {
		uint64_t bytes;
		if (__builtin_mul_overflow(n, size, &bytes) || !avail(r, bytes))
			return fail_at(r, at, "%" PRIu64 " %s values run past end of file", n,
			               vtype_names[type]);
		if (type == GGUF_T_BOOL) {
			for (uint64_t i = 0; i < n; i++) {
				if (r->p[r->pos + i] > 1)
					return fail_at(r, r->pos + (size_t)i,
					               "bool value %u is not 0 or 1",
					               r->p[r->pos + i]);
			}
		}
		r->pos += (size_t)bytes;
		return 0;
	}
	/* Strings take at least 8 bytes and arrays 12: a count beyond what the
	 * rest of the file could hold is refused up front. */
	uint64_t min = type == GGUF_T_STRING ? 8 : 12;
	if (n > (r->len - r->pos) / min)
		return fail_at(r, at, "%" PRIu64 " %s values run past end of file", n,
		               vtype_names[type]);
	for (uint64_t i = 0; i < n; i++) {
		if (skip_value(r, type, depth))
			return -1;
	}
	return 0;
}

/* Returns p (of *cap elements of size sz) grown to hold at least n, or
 * NULL (p untouched) when out of memory. */
static void *grow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n <= *cap)
		return p;
	size_t c = *cap ? *cap : 16, bytes;
	while (c < n)
		c *= 2;
	if (__builtin_mul_overflow(c, sz, &bytes) || !(p = realloc(p, bytes)))
		return NULL;
	*cap = c;
	return p;
}

static int parse_header(gguf_file *g, rd *r, uint64_t *n_tensors, uint64_t *n_kv)
{
	if (r->len < 4)
		return fail_at(r, 0, "file too short for a GGUF header (%zu bytes)", r->len);
	if (memcmp(r->p, "GGUF", 4) != 0)
		return fail_at(r, 0, "not a GGUF file (bad magic)");
	r->pos = 4;
	if (rd_u32(r, "version", &g->version))
		return -1;
	uint32_t v = g->version;
	if (v == 1)
		return fail_at(r, 4, "GGUF version 1 is not supported (only 2 and 3)");
	if (v != 2 && v != 3) {
		if (v == 0x02000000 || v == 0x03000000)
			return fail_at(r, 4, "big-endian GGUF is not supported");
		return fail_at(r, 4, "unsupported GGUF version %" PRIu32 " (only 2 and 3)", v);
	}
	if (rd_u64(r, "n_tensors", n_tensors) || rd_u64(r, "n_kv", n_kv))
		return -1;
	uint64_t rest = r->len - r->pos;
	if (*n_kv > rest / KV_MIN_BYTES)
		return fail_at(r, 16, "n_kv %" PRIu64 " is more than the file can hold", *n_kv);
	rest -= *n_kv * KV_MIN_BYTES;
	if (*n_tensors > rest / TENSOR_MIN_BYTES)
		return fail_at(r, 8, "n_tensors %" PRIu64 " is more than the file can hold",
		               *n_tensors);
	return 0;
}

static int parse_kv(rd *r, size_t i, gguf_kv *kv)
{
	const unsigned char *k;
	uint64_t klen;
	uint32_t type;
	kv->offset = r->pos;
	snprintf(r->ctx, sizeof r->ctx, "key #%zu", i);
	if (rd_str(r, "key length", &k, &klen))
		return -1;
	if (klen == 0 || klen > GGUF_KEY_MAX)
		return fail_at(r, kv->offset, "key length %" PRIu64 " is not in 1..%d", klen,
		               GGUF_KEY_MAX);
	char name[ESC_MAX];
	esc(name, sizeof name, (const char *)k, (size_t)klen);
	snprintf(r->ctx, sizeof r->ctx, "key '%s'", name);
	if (!name_ok(k, klen))
		return fail_at(r, kv->offset, "key holds a control byte");
	kv->key = (const char *)k;
	kv->key_len = (size_t)klen;
	if (rd_u32(r, "value type", &type))
		return -1;
	if (type >= GGUF_T_COUNT)
		return fail_at(r, r->pos - 4, "unknown value type %" PRIu32, type);
	kv->type = type;
	size_t start = r->pos;
	if (type == GGUF_T_STRING) {
		const unsigned char *s;
		if (rd_str(r, "string length", &s, &kv->n))
			return -1;
		start = (size_t)(s - r->p);
	} else if (type == GGUF_T_ARRAY) {
		if (rd_u32(r, "array element type", &kv->elem_type) ||
		    rd_u64(r, "array length", &kv->n))
			return -1;
		start = r->pos;
		if (skip_elems(r, kv->elem_type, kv->n, 1))
			return -1;
	} else if (skip_value(r, type, 0)) {
		return -1;
	}
	kv->val = r->p + start;
	kv->val_len = r->pos - start;
	return 0;
}

/* Reads one tensor info; the shape, type and size are checked here, the
 * placement of its data once the data section is known. */
static int parse_tensor(rd *r, size_t i, uint32_t alignment, gguf_tensor *t)
{
	size_t at = r->pos;
	const unsigned char *nm;
	uint64_t nlen;
	snprintf(r->ctx, sizeof r->ctx, "tensor #%zu", i);
	if (rd_str(r, "name length", &nm, &nlen))
		return -1;
	if (nlen == 0 || nlen > GGUF_TENSOR_NAME_MAX)
		return fail_at(r, at, "name length %" PRIu64 " is not in 1..%d", nlen,
		               GGUF_TENSOR_NAME_MAX);
	char name[ESC_MAX];
	esc(name, sizeof name, (const char *)nm, (size_t)nlen);
	snprintf(r->ctx, sizeof r->ctx, "tensor %s", name);
	if (!name_ok(nm, nlen))
		return fail_at(r, at, "name holds a control byte");
	t->name = (const char *)nm;
	t->name_len = (size_t)nlen;

	if (rd_u32(r, "n_dims", &t->n_dims))
		return -1;
	if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
		return fail_at(r, r->pos - 4, "n_dims %" PRIu32 " is not in 1..%d", t->n_dims,
		               GGUF_MAX_DIMS);
	for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
		uint64_t ne = 1;
		if (d < t->n_dims && rd_u64(r, "dimension", &ne))
			return -1;
		if (ne < 1 || ne > INT64_MAX)
			return fail_at(r, r->pos - 8,
			               "dimension %" PRIu32 " is %" PRIu64 " (must be 1..2^63-1)",
			               d, ne);
		t->ne[d] = (int64_t)ne;
	}
	if (rd_u32(r, "type", &t->type))
		return -1;
	const ggml_type_info *ti = ggml_type_get(t->type);
	if (!ti)
		return fail_at(r, r->pos - 4, "unknown ggml type %" PRIu32, t->type);
	if (rd_u64(r, "offset", &t->offset))
		return -1;

	if (t->ne[0] % ti->block != 0)
		return fail_at(
		    r, at, "row length %" PRId64 " is not a multiple of the %s block size %" PRIu32,
		    t->ne[0], ti->name, ti->block);
	uint64_t n = 1;
	for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
		if (__builtin_mul_overflow(n, (uint64_t)t->ne[d], &n) || n > INT64_MAX)
			return fail_at(r, at, "element count overflows");
	}
	t->n_elements = n;
	if (ggml_nbytes(t->type, t->n_dims, t->ne, &t->size))
		return fail_at(r, at, "byte size overflows");
	if (t->offset % alignment != 0)
		return fail_at(r, at,
		               "offset %" PRIu64 " is not a multiple of the alignment %" PRIu32,
		               t->offset, alignment);
	return 0;
}

static int cmp_kv(const void *a, const void *b)
{
	return strcmp((*(const gguf_kv *const *)a)->key, (*(const gguf_kv *const *)b)->key);
}

static int cmp_tensor_name(const void *a, const void *b)
{
	return strcmp((*(const gguf_tensor *const *)a)->name,
	              (*(const gguf_tensor *const *)b)->name);
}

static int cmp_tensor_offset(const void *a, const void *b)
{
	uint64_t x = (*(const gguf_tensor *const *)a)->offset;
	uint64_t y = (*(const gguf_tensor *const *)b)->offset;
	return x < y ? -1 : x > y;
}

/* Copies every key and tensor name into one block of C strings. */
static int copy_names(gguf_file *g, dai_err *e)
{
	size_t total = 1;
	for (size_t i = 0; i < g->n_kv; i++)
		total += g->kv[i].key_len + 1;
	for (size_t i = 0; i < g->n_tensors; i++)
		total += g->tensors[i].name_len + 1;
	/* Each name has an 8-byte length in the file, so total <= file size + 1. */
	g->names = malloc(total);
	if (!g->names)
		return dai_errf(e, "%s: out of memory", g->name);
	char *p = g->names;
	for (size_t i = 0; i < g->n_kv; i++) {
		memcpy(p, g->kv[i].key, g->kv[i].key_len);
		p[g->kv[i].key_len] = '\0';
		g->kv[i].key = p;
		p += g->kv[i].key_len + 1;
	}
	for (size_t i = 0; i < g->n_tensors; i++) {
		memcpy(p, g->tensors[i].name, g->tensors[i].name_len);
		p[g->tensors[i].name_len] = '\0';
		g->tensors[i].name = p;
		p += g->tensors[i].name_len + 1;
	}
	return 0;
}

static int index_keys(gguf_file *g, dai_err *e)
{
	if (g->n_kv == 0)
		return 0;
	g->kv_sorted = malloc(g->n_kv * sizeof *g->kv_sorted);
	if (!g->kv_sorted)
		return dai_errf(e, "%s: out of memory", g->name);
	for (size_t i = 0; i < g->n_kv; i++)
		g->kv_sorted[i] = &g->kv[i];
	qsort(g->kv_sorted, g->n_kv, sizeof *g->kv_sorted, cmp_kv);
	for (size_t i = 1; i < g->n_kv; i++) {
		if (strcmp(g->kv_sorted[i - 1]->key, g->kv_sorted[i]->key) == 0) {
			char name[ESC_MAX];
			esc(name, sizeof name, g->kv_sorted[i]->key, g->kv_sorted[i]->key_len);
			return dai_errf(e, "%s: key '%s': duplicate key", g->name, name);
		}
	}
	return 0;
}

static int index_tensors(gguf_file *g, dai_err *e)
{
	if (g->n_tensors == 0)
		return 0;
	g->t_sorted = malloc(g->n_tensors * sizeof *g->t_sorted);
	if (!g->t_sorted)
		return dai_errf(e, "%s: out of memory", g->name);
	for (size_t i = 0; i < g->n_tensors; i++)
		g->t_sorted[i] = &g->tensors[i];
	qsort(g->t_sorted, g->n_tensors, sizeof *g->t_sorted, cmp_tensor_name);
	for (size_t i = 1; i < g->n_tensors; i++) {
		if (strcmp(g->t_sorted[i - 1]->name, g->t_sorted[i]->name) == 0)
			return dai_errf(e, "%s: tensor %s: duplicate tensor name", g->name,
			                g->t_sorted[i]->name);
	}
	return 0;
}

/* Each tensor's data must lie inside the file and overlap no other. */
static int place_tensors(gguf_file *g, dai_err *e)
{
	for (size_t i = 0; i < g->n_tensors; i++) {
		gguf_tensor *t = &g->tensors[i];
		uint64_t start, end;
		if (__builtin_add_overflow(g->data_offset, t->offset, &start) ||
		    __builtin_add_overflow(start, t->size, &end) || end > g->size)
			return dai_errf(e, "%s: tensor %s: data runs past end of file", g->name,
			                t->name);
		t->data = g->base + start;
	}
	if (g->n_tensors < 2)
		return 0;
	const gguf_tensor **by_off = malloc(g->n_tensors * sizeof *by_off);
	if (!by_off)
		return dai_errf(e, "%s: out of memory", g->name);
	for (size_t i = 0; i < g->n_tensors; i++)
		by_off[i] = &g->tensors[i];
	qsort(by_off, g->n_tensors, sizeof *by_off, cmp_tensor_offset);
	int rc = 0;
	for (size_t i = 1; i < g->n_tensors && rc == 0; i++) {
		/* Both lie inside the file, so offset + size cannot overflow. */
		if (by_off[i - 1]->offset + by_off[i - 1]->size > by_off[i]->offset)
			rc = dai_errf(e, "%s: tensor %s: data overlaps tensor %s", g->name,
			              by_off[i]->name, by_off[i - 1]->name);
	}
	free(by_off);
	return rc;
}

static int is_int_type(uint32_t t)
{
	return t < GGUF_T_F32 || t == GGUF_T_U64 || t == GGUF_T_I64;
}

/* Reads an integer value of any integer type. */
typedef struct ival {
	int neg;      /* the value is -mag */
	uint64_t mag; /* its magnitude */
} ival;

static ival ival_signed(int64_t x)
{
	ival v = {x < 0, x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x};
	return v;
}

static int read_ival(uint32_t type, const unsigned char *p, ival *v)
{
	ival u = {0, 0};
	if (!is_int_type(type))
		return -1;
	switch (type) {
	case GGUF_T_U8:
		u.mag = p[0];
		break;
	case GGUF_T_I8:
		u = ival_signed((int8_t)p[0]);
		break;
	case GGUF_T_U16:
		u.mag = le16(p);
		break;
	case GGUF_T_I16:
		u = ival_signed((int16_t)le16(p));
		break;
	case GGUF_T_U32:
		u.mag = le32(p);
		break;
	case GGUF_T_I32:
		u = ival_signed((int32_t)le32(p));
		break;
	case GGUF_T_U64:
		u.mag = le64(p);
		break;
	case GGUF_T_I64:
		u = ival_signed((int64_t)le64(p));
		break;
	default:
		return -1;
	}
	*v = u;
	return 0;
}

/* Whether v lies in [-neg_max, pos_max]. */
static int ival_fits(ival v, uint64_t neg_max, uint64_t pos_max)
{
	return v.neg ? v.mag <= neg_max : v.mag <= pos_max;
}

static int64_t ival_i64(ival v)
{
	return v.neg ? -(int64_t)(v.mag - 1) - 1 : (int64_t)v.mag;
}

/* The one key this reader itself interprets. It is looked up by a scan,
 * before the key index exists, because tensor offsets are checked with it
 * as they are read. */
static int read_alignment(gguf_file *g, dai_err *e)
{
	static const char key[] = "general.alignment";
	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	for (size_t i = 0; i < g->n_kv; i++) {
		const gguf_kv *kv = &g->kv[i];
		ival v;
		if (kv->key_len != sizeof key - 1 || memcmp(kv->key, key, sizeof key - 1) != 0)
			continue;
		if (read_ival(kv->type, kv->val, &v))
			return dai_errf(e, "%s: key '%s': is %s, not an integer", g->name, key,
			                gguf_vtype_name(kv->type));
		if (!ival_fits(v, 0, UINT32_MAX) || v.mag == 0 || (v.mag & (v.mag - 1)) != 0)
			return dai_errf(e,
			                "%s: key '%s': alignment %s%" PRIu64
			                " is not a power of two below 2^32",
			                g->name, key, v.neg ? "-" : "", v.mag);
		g->alignment = (uint32_t)v.mag;
	}
	return 0;
}

static int parse_kvs(gguf_file *g, rd *r, uint64_t n_kv, dai_err *e)
{
	size_t cap = 0;
	for (uint64_t i = 0; i < n_kv; i++) {
		gguf_kv *kv = grow(g->kv, &cap, (size_t)i + 1, sizeof *g->kv);
		if (!kv)
			return dai_errf(e, "%s: out of memory", g->name);
		g->kv = kv;
		memset(&g->kv[i], 0, sizeof g->kv[i]);
		if (parse_kv(r, (size_t)i, &g->kv[i]))
			return -1;
		g->n_kv++;
	}
	return 0;
}

static int parse_tensors(gguf_file *g, rd *r, uint64_t n_tensors, dai_err *e)
{
	size_t cap = 0;
	for (uint64_t i = 0; i < n_tensors; i++) {
		gguf_tensor *t = grow(g->tensors, &cap, (size_t)i + 1, sizeof *g->tensors);
		if (!t)
			return dai_errf(e, "%s: out of memory", g->name);
		g->tensors = t;
		memset(&g->tensors[i], 0, sizeof g->tensors[i]);
		if (parse_tensor(r, (size_t)i, g->alignment, &g->tensors[i]))
			return -1;
		g->n_tensors++;
	}
	r->ctx[0] = '\0';
	/* The data section starts at the next multiple of the alignment. */
	uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
	if (__builtin_add_overflow((uint64_t)r->pos, pad, &g->data_offset))
		return fail_at(r, r->pos, "data section offset overflows");
	return 0;
}

static int parse(gguf_file *g, dai_err *e)
{
	rd r = {.p = g->base, .len = g->size, .name = g->name, .e = e};
	uint64_t n_tensors, n_kv;
	if (parse_header(g, &r, &n_tensors, &n_kv) || parse_kvs(g, &r, n_kv, e) ||
	    read_alignment(g, e) || parse_tensors(g, &r, n_tensors, e))
		return -1;
	return copy_names(g, e) || index_keys(g, e) || index_tensors(g, e) || place_tensors(g, e)
	           ? -1
	           : 0;
}

int gguf_open_mem(gguf_file *g, const void *data, size_t len, const char *name, dai_err *e)
{
	memset(g, 0, sizeof *g);
	g->name = strdup(name ? name : "gguf");
	if (!g->name)
		return dai_errf(e, "%s: out of memory", name ? name : "gguf");
	g->base = data;
	g->size = data ? len : 0;
	if (parse(g, e)) {
		gguf_close(g);
		return -1;
	}
	return 0;
}

int gguf_open(gguf_file *g, const char *path, dai_err *e)
{
	memset(g, 0, sizeof *g);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dai_errf(e, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return dai_errf(e, "%s: %s", path, strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dai_errf(e, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return dai_errf(e, "%s: file too large to map", path);
	}
	size_t len = (size_t)st.st_size;
	void *map = NULL;
	if (len > 0) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			int err = errno;
			close(fd);
			return dai_errf(e, "%s: mmap: %s", path, strerror(err));
		}
	}
	close(fd);
	if (gguf_open_mem(g, map, len, path, e)) {
		if (map)
			munmap(map, len);
		return -1;
	}
	g->mapped = map != NULL;
	return 0;
}

void gguf_close(gguf_file *g)
{
	if (g->mapped && g->base)
		munmap((void *)g->base, g->size);
	free(g->name);
	free(g->kv);
	free(g->tensors);
	free(g->names);
	free(g->kv_sorted);
	free(g->t_sorted);
	memset(g, 0, sizeof *g);
}

/* ---------------------------------------------------------------- lookups */

const gguf_kv *gguf_find_key(const gguf_file *g, const char *key)
{
	size_t lo = 0, hi = g->n_kv;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, g->kv_sorted[mid]->key);
		if (c == 0)
			return g->kv_sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name)
{
	size_t lo = 0, hi = g->n_tensors;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, g->t_sorted[mid]->name);
		if (c == 0)
			return g->t_sorted[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---------------------------------------------------------------- getters */

static const gguf_kv *need_key(const gguf_file *g, const char *key, dai_err *e)
{
	const gguf_kv *kv = gguf_find_key(g, key);
	if (!kv)
		dai_errf(e, "%s: key '%s' is missing", g->name, key);
	return kv;
}

static int wrong_type(const gguf_file *g, const gguf_kv *kv, const char *want, dai_err *e)
{
	if (kv->type == GGUF_T_ARRAY)
		return dai_errf(e, "%s: key '%s': is an array of %s, not %s", g->name, kv->key,
		                gguf_vtype_name(kv->elem_type), want);
	return dai_errf(e, "%s: key '%s': is %s, not %s", g->name, kv->key,
	                gguf_vtype_name(kv->type), want);
}

/* Reads an integer key that must lie in [-neg_max, pos_max]. */
static int get_int(const gguf_file *g, const char *key, uint64_t neg_max, uint64_t pos_max,
                   const char *want, ival *v, dai_err *e)
{
	const gguf_kv *kv = need_key(g, key, e);
	if (!kv)
		return -1;
	if (read_ival(kv->type, kv->val, v))
		return wrong_type(g, kv, "an integer", e);
	if (!ival_fits(*v, neg_max, pos_max))
		return dai_errf(e, "%s: key '%s': %s value %s%" PRIu64 " does not fit in %s",
		                g->name, key, gguf_vtype_name(kv->type), v->neg ? "-" : "", v->mag,
		                want);
	return 0;
}

int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *v, dai_err *e)
{
	ival x;
	if (get_int(g, key, 0, UINT32_MAX, "u32", &x, e))
		return -1;
	*v = (uint32_t)x.mag;
	return 0;
}

int gguf_get_i32(const gguf_file *g, const char *key, int32_t *v, dai_err *e)
{
	ival x;
	if (get_int(g, key, (uint64_t)INT32_MAX + 1, INT32_MAX, "i32", &x, e))
		return -1;
	*v = (int32_t)ival_i64(x);
	return 0;
}

int gguf_get_u64(const gguf_file *g, const char *key, uint64_t *v, dai_err *e)
{
	ival x;
	if (get_int(g, key, 0, UINT64_MAX, "u64", &x, e))
		return -1;
	*v = x.mag;
	return 0;
}

int gguf_get_i64(const gguf_file *g, const char *key, int64_t *v, dai_err *e)
{
	ival x;
	if (get_int(g, key, (uint64_t)INT64_MAX + 1, INT64_MAX, "i64", &x, e))
		return -1;
	*v = ival_i64(x);
	return 0;
}

static float f32_at(const unsigned char *p)
{
	uint32_t u = le32(p);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static double f64_at(const unsigned char *p)
{
	uint64_t u = le64(p);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

int gguf_get_f64(const gguf_file *g, const char *key, double *v, dai_err *e)
{
	const gguf_kv *kv = need_key(g, key, e);
	if (!kv)
		return -1;
	if (kv->type == GGUF_T_F32)
		*v = f32_at(kv->val);
	else if (kv->type == GGUF_T_F64)
		*v = f64_at(kv->val);
	else
		return wrong_type(g, kv, "a float", e);
	return 0;
}

int gguf_get_f32(const gguf_file *g, const char *key, float *v, dai_err *e)
{
	double d;
	if (gguf_get_f64(g, key, &d, e))
		return -1;
	/* An f64 is taken only when it is exactly a float (NaN and infinities
	 * included); the range test comes first because converting a double
	 * beyond FLT_MAX to float is undefined. */
	int exact = d != d || d == (double)INFINITY || d == -(double)INFINITY ||
	            (d >= -FLT_MAX && d <= FLT_MAX && (double)(float)d == d);
	if (!exact)
		return dai_errf(e, "%s: key '%s': f64 value %.17g is not exactly an f32", g->name,
		                key, d);
	*v = (float)d;
	return 0;
}

int gguf_get_bool(const gguf_file *g, const char *key, bool *v, dai_err *e)
{
	const gguf_kv *kv = need_key(g, key, e);
	if (!kv)
		return -1;
	if (kv->type != GGUF_T_BOOL)
		return wrong_type(g, kv, "a bool", e);
	*v = kv->val[0] != 0;
	return 0;
}

int gguf_get_str(const gguf_file *g, const char *key, gguf_str *v, dai_err *e)
{
	const gguf_kv *kv = need_key(g, key, e);
	if (!kv)
		return -1;
	if (kv->type != GGUF_T_STRING)
		return wrong_type(g, kv, "a string", e);
	v->s = (const char *)kv->val;
	v->len = kv->val_len;
	return 0;
}

int gguf_get_strz(const gguf_file *g, const char *key, char *buf, size_t cap, dai_err *e)
{
	gguf_str s;
	if (gguf_get_str(g, key, &s, e))
		return -1;
	if (s.len >= cap)
		return dai_errf(e, "%s: key '%s': string of %" PRIu64 " bytes is longer than %zu",
		                g->name, key, s.len, cap ? cap - 1 : 0);
	if (memchr(s.s, 0, (size_t)s.len))
		return dai_errf(e, "%s: key '%s': string holds a NUL byte", g->name, key);
	memcpy(buf, s.s, (size_t)s.len);
	buf[s.len] = '\0';
	return 0;
}

/* Finds an array key whose elements pass ok(). */
static const gguf_kv *get_arr(const gguf_file *g, const char *key, int (*ok)(uint32_t),
                              const char *want, size_t *n, dai_err *e)
{
	*n = 0;
	const gguf_kv *kv = need_key(g, key, e);
	if (!kv)
		return NULL;
	if (kv->type != GGUF_T_ARRAY) {
		dai_errf(e, "%s: key '%s': is %s, not an array", g->name, key,
		         gguf_vtype_name(kv->type));
		return NULL;
	}
	if (!ok(kv->elem_type)) {
		wrong_type(g, kv, want, e);
		return NULL;
	}
	return kv;
}

/* Allocates n elements of size sz; the parser checked that the n elements
 * fit in the file, so n is at most the file size. */
static void *alloc_elems(const gguf_file *g, const gguf_kv *kv, size_t sz, dai_err *e)
{
	void *p = calloc((size_t)kv->n, sz);
	if (!p)
		dai_errf(e, "%s: key '%s': out of memory", g->name, kv->key);
	return p;
}

static int is_str_type(uint32_t t)
{
	return t == GGUF_T_STRING;
}

static int is_f32_type(uint32_t t)
{
	return t == GGUF_T_F32;
}

int gguf_get_arr_str(const gguf_file *g, const char *key, gguf_str **v, size_t *n, dai_err *e)
{
	*v = NULL;
	const gguf_kv *kv = get_arr(g, key, is_str_type, "strings", n, e);
	if (!kv)
		return -1;
	if (kv->n == 0)
		return 0;
	gguf_str *s = alloc_elems(g, kv, sizeof *s, e);
	if (!s)
		return -1;
	const unsigned char *p = kv->val;
	for (uint64_t i = 0; i < kv->n; i++) {
		s[i].len = le64(p);
		s[i].s = (const char *)p + 8;
		p += 8 + (size_t)s[i].len;
	}
	*v = s;
	*n = (size_t)kv->n;
	return 0;
}

int gguf_get_arr_f32(const gguf_file *g, const char *key, float **v, size_t *n, dai_err *e)
{
	*v = NULL;
	const gguf_kv *kv = get_arr(g, key, is_f32_type, "f32 values", n, e);
	if (!kv)
		return -1;
	if (kv->n == 0)
		return 0;
	float *f = alloc_elems(g, kv, sizeof *f, e);
	if (!f)
		return -1;
	for (uint64_t i = 0; i < kv->n; i++)
		f[i] = f32_at(kv->val + 4 * i);
	*v = f;
	*n = (size_t)kv->n;
	return 0;
}

int gguf_get_arr_i32(const gguf_file *g, const char *key, int32_t **v, size_t *n, dai_err *e)
{
	*v = NULL;
	const gguf_kv *kv = get_arr(g, key, is_int_type, "integers", n, e);
	if (!kv)
		return -1;
	if (kv->n == 0)
		return 0;
	int32_t *a = alloc_elems(g, kv, sizeof *a, e);
	if (!a)
		return -1;
	size_t size = vtype_size[kv->elem_type];
	for (uint64_t i = 0; i < kv->n; i++) {
		ival x;
		read_ival(kv->elem_type, kv->val + size * i, &x);
		if (!ival_fits(x, (uint64_t)INT32_MAX + 1, INT32_MAX)) {
			free(a);
			return dai_errf(e,
			                "%s: key '%s': element %" PRIu64 " (%s%" PRIu64
			                ") does not fit in i32",
			                g->name, key, i, x.neg ? "-" : "", x.mag);
		}
		a[i] = (int32_t)ival_i64(x);
	}
	*v = a;
	*n = (size_t)kv->n;
	return 0;
}

/* ---------------------------------------------------------------- summary */

static int arch_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s <= 0x20 || *s >= 0x7f)
			return 0;
	}
	return 1;
}

/* The ggml type holding the most bytes of 2-D tensors (ties: lowest id). */
static int main_weight_type(const gguf_file *g)
{
	uint64_t bytes[GGML_TYPE_COUNT] = {0};
	int best = -1;
	for (size_t i = 0; i < g->n_tensors; i++) {
		const gguf_tensor *t = &g->tensors[i];
		if (t->n_dims == 2)
			bytes[t->type] += t->size; /* sizes lie inside the file: no overflow */
	}
	for (int t = 0; t < GGML_TYPE_COUNT; t++) {
		if (bytes[t] && (best < 0 || bytes[t] > bytes[best]))
			best = t;
	}
	return best;
}

int gguf_summary(const gguf_file *g, gguf_info *s, dai_err *e)
{
	memset(s, 0, sizeof *s);
	if (gguf_find_key(g, "general.architecture")) {
		if (gguf_get_strz(g, "general.architecture", s->arch, sizeof s->arch, e))
			return -1;
		if (!arch_ok(s->arch))
			return dai_errf(e,
			                "%s: key 'general.architecture': not printable ASCII "
			                "without spaces",
			                g->name);
	}
	for (size_t i = 0; i < g->n_tensors; i++) {
		/* n_elements <= 256 * size and sizes sum to at most the file size. */
		if (__builtin_add_overflow(s->n_params, g->tensors[i].n_elements, &s->n_params))
			return dai_errf(e, "%s: parameter count overflows", g->name);
		s->tensor_bytes += g->tensors[i].size;
	}
	s->weight_type = main_weight_type(g);
	if (s->arch[0]) {
		char key[sizeof s->arch + 32];
		snprintf(key, sizeof key, "%s.context_length", s->arch);
		if (gguf_find_key(g, key) && gguf_get_u64(g, key, &s->context_length, e))
			return -1;
	}
	const gguf_kv *tok = gguf_find_key(g, "tokenizer.ggml.tokens");
	const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
	if (tok && tok->type == GGUF_T_ARRAY)
		s->vocab_size = tok->n;
	else if (tok)
		return wrong_type(g, tok, "an array", e);
	else if (emb && emb->n_dims >= 2)
		s->vocab_size = (uint64_t)emb->ne[1];
	return 0;
}

/* ---------------------------------------------------------------- listing */

#define PRINT_ITEMS 6 /* array items shown */
#define PRINT_STR 60  /* string bytes shown */

static void print_str(FILE *f, const unsigned char *s, uint64_t len)
{
	char buf[4 * PRINT_STR + 8];
	size_t n = len > PRINT_STR ? PRINT_STR : (size_t)len;
	esc(buf, sizeof buf, (const char *)s, n);
	fprintf(f, "\"%s\"%s", buf, len > n ? "..." : "");
}

/* Bytes taken by one value at p, which the parser has checked (so the
 * recursion is at most GGUF_ARRAY_DEPTH_MAX deep). */
static size_t value_size(uint32_t type, const unsigned char *p)
{
	if (type == GGUF_T_STRING)
		return 8 + (size_t)le64(p);
	if (type != GGUF_T_ARRAY)
		return vtype_size[type];
	uint32_t et = le32(p);
	uint64_t n = le64(p + 4);
	if (vtype_size[et])
		return 12 + (size_t)n * vtype_size[et];
	size_t off = 12;
	for (uint64_t i = 0; i < n; i++)
		off += value_size(et, p + off);
	return off;
}

/* Prints one value at p (already validated) and returns the bytes it takes. */
static size_t print_value(FILE *f, uint32_t type, const unsigned char *p)
{
	ival v;
	if (read_ival(type, p, &v) == 0) {
		fprintf(f, "%s%" PRIu64, v.neg ? "-" : "", v.mag);
		return vtype_size[type];
	}
	switch (type) {
	case GGUF_T_F32:
		fprintf(f, "%.9g", (double)f32_at(p));
		return 4;
	case GGUF_T_F64:
		fprintf(f, "%.17g", f64_at(p));
		return 8;
	case GGUF_T_BOOL:
		fputs(p[0] ? "true" : "false", f);
		return 1;
	case GGUF_T_STRING:
		print_str(f, p + 8, le64(p));
		return 8 + (size_t)le64(p);
	default: /* a nested array: its header only */
		fprintf(f, "[%s x %" PRIu64 "]", gguf_vtype_name(le32(p)), le64(p + 4));
		return value_size(type, p);
	}
}

static void print_kv(FILE *f, const gguf_kv *kv)
{
	fprintf(f, "key %s: ", kv->key);
	if (kv->type == GGUF_T_STRING) {
		fputs("string ", f);
		print_str(f, kv->val, kv->val_len);
	} else if (kv->type == GGUF_T_ARRAY) {
		fprintf(f, "[%s x %" PRIu64 "]", gguf_vtype_name(kv->elem_type), kv->n);
		size_t off = 0;
		for (uint64_t i = 0; i < kv->n && i < PRINT_ITEMS; i++) {
			fputs(i ? ", " : " ", f);
			off += print_value(f, kv->elem_type, kv->val + off);
		}
		if (kv->n > PRINT_ITEMS)
			fputs(", ...", f);
	} else {
		fprintf(f, "%s ", gguf_vtype_name(kv->type));
		print_value(f, kv->type, kv->val);
	}
	fputc('\n', f);
}

void gguf_print(const gguf_file *g, FILE *f)
{
	fprintf(f,
	        "gguf %s: version %" PRIu32 ", %zu keys, %zu tensors, alignment %" PRIu32
	        ", data at offset %" PRIu64 "\n",
	        g->name, g->version, g->n_kv, g->n_tensors, g->alignment, g->data_offset);
	for (size_t i = 0; i < g->n_kv; i++)
		print_kv(f, &g->kv[i]);
	for (size_t i = 0; i < g->n_tensors; i++) {
		const gguf_tensor *t = &g->tensors[i];
		fprintf(f, "tensor %s: %s [", t->name, ggml_type_name(t->type));
		for (uint32_t d = 0; d < t->n_dims; d++)
			fprintf(f, "%s%" PRId64, d ? ", " : "", t->ne[d]);
		fprintf(f, "] offset %" PRIu64 " (%" PRIu64 " bytes)\n", t->offset, t->size);
	}
}
