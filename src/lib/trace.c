/* trace.c - see trace.h. */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

#include "blake2b.h"
#include "blake2b_x8.h"
#include "fsio.h"

/* Leaves hash the bytes of the values as they lie in memory, which is the
 * little-endian layout the format names. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "trace leaves assume little-endian");

#define TRACE_FILE_MAX (1ull << 31) /* 64 Mi leaves */

int trace_init(dai_trace *t, uint32_t n_layers, uint32_t dim, uint64_t n_positions, dai_err *e)
{
	memset(t, 0, sizeof *t);
	t->n_layers = n_layers;
	t->dim = dim;
	t->n_positions = n_positions;
	uint64_t n = trace_n_leaves(t);
	if (n_layers > 65536 || n_positions > (TRACE_FILE_MAX / MERKLE_HASH) ||
	    n > (TRACE_FILE_MAX - TRACE_HEADER) / MERKLE_HASH)
		return dai_errf(e, "trace of %llu positions x %u layers is too large",
		                (unsigned long long)n_positions, n_layers);
	t->leaves = calloc(n ? n : 1, MERKLE_HASH);
	if (!t->leaves)
		return dai_errf(e, "out of memory for a trace of %llu leaves",
		                (unsigned long long)n);
	return 0;
}

void trace_free(dai_trace *t)
{
	free(t->leaves);
	memset(t, 0, sizeof *t);
}

void trace_hash_vector(const float *x, uint32_t dim, unsigned char out[MERKLE_HASH])
{
	blake2b_256(out, x, (size_t)dim * sizeof(float));
}

void trace_hash_token(int32_t token, unsigned char out[MERKLE_HASH])
{
	unsigned char b[4];
	uint32_t u = (uint32_t)token;
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	blake2b_256(out, b, sizeof b);
}

void trace_set_vector(dai_trace *t, uint64_t pos, uint32_t step, const float *x)
{
	trace_hash_vector(x, t->dim, trace_leaf(t, pos, step));
}

void trace_set_vectors(dai_trace *t, uint64_t pos0, uint64_t n, uint32_t step, const float *x)
{
	size_t bytes = (size_t)t->dim * sizeof(float);
	for (uint64_t i = 0; i < n; i += 8) {
		int k = n - i < 8 ? (int)(n - i) : 8;
		const unsigned char *in[8];
		unsigned char out[8][MERKLE_HASH];
		for (int j = 0; j < k; j++)
			in[j] = (const unsigned char *)x + (i + (uint64_t)j) * bytes;
		blake2b_256_x8(in, bytes, k, out);
		for (int j = 0; j < k; j++)
			memcpy(trace_leaf(t, pos0 + i + (uint64_t)j, step), out[j], MERKLE_HASH);
	}
}

void trace_hook(void *ctx, int pos0, int n, int layer, const float *x, int dim)
{
	dai_trace *t = ctx;
	(void)dim;
	if ((uint64_t)pos0 >= t->n_positions)
		return;
	uint64_t left = t->n_positions - (uint64_t)pos0;
	trace_set_vectors(t, (uint64_t)pos0, left < (uint64_t)n ? left : (uint64_t)n,
	                  (uint32_t)layer, x);
}

void trace_set_token(dai_trace *t, uint64_t pos, int32_t next_token)
{
	trace_hash_token(next_token, trace_leaf(t, pos, t->n_layers + 1));
}

void trace_root(const dai_trace *t, unsigned char root[MERKLE_HASH])
{
	merkle_root(t->leaves, trace_n_leaves(t), root);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int trace_write(const dai_trace *t, const char *path, dai_err *e)
{
	uint64_t n = trace_n_leaves(t);
	size_t len = TRACE_HEADER + (size_t)n * MERKLE_HASH;
	unsigned char *buf = malloc(len);
	if (!buf)
		return dai_errf(e, "%s: out of memory", path);
	memcpy(buf, TRACE_MAGIC, 8);
	put32(buf + 8, TRACE_VERSION);
	put32(buf + 12, t->n_layers);
	put32(buf + 16, t->dim);
	put32(buf + 20, 0);
	put64(buf + 24, t->n_positions);
	put64(buf + 32, n);
	memcpy(buf + 40, t->job, 32);
	memcpy(buf + 72, t->model, 32);
	memset(buf + 104, 0, 8);
	memcpy(buf + TRACE_HEADER, t->leaves, (size_t)n * MERKLE_HASH);
	int rc = file_write_atomic(path, buf, len, 0644, 0, e);
	free(buf);
	return rc;
}

int trace_read(dai_trace *t, const char *path, dai_err *e)
{
	char *data;
	size_t len;
	memset(t, 0, sizeof *t);
	if (file_read_all(path, TRACE_FILE_MAX, &data, &len, e))
		return -1;
	const unsigned char *p = (const unsigned char *)data;
	int rc = -1;
	if (len < TRACE_HEADER || memcmp(p, TRACE_MAGIC, 8) != 0) {
		dai_errf(e, "%s: not a dai trace file", path);
		goto out;
	}
	if (get32(p + 8) != TRACE_VERSION) {
		dai_errf(e, "%s: offset 8: trace version %u is not supported", path, get32(p + 8));
		goto out;
	}
	for (int i = 104; i < TRACE_HEADER; i++)
		if (p[i] || get32(p + 20)) {
			dai_errf(e, "%s: reserved header bytes are not zero", path);
			goto out;
		}
	uint32_t layers = get32(p + 12), dim = get32(p + 16);
	uint64_t positions = get64(p + 24), leaves = get64(p + 32);
	if (trace_init(t, layers, dim, positions, e)) {
		dai_err_prefix(e, path);
		goto out;
	}
	if (trace_n_leaves(t) != leaves) {
		dai_errf(e, "%s: offset 32: %llu leaves, but %llu positions x %u steps need %llu",
		         path, (unsigned long long)leaves, (unsigned long long)positions,
		         layers + 2, (unsigned long long)trace_n_leaves(t));
		goto out;
	}
	if (len != TRACE_HEADER + leaves * MERKLE_HASH) {
		dai_errf(e, "%s: %zu bytes, but a trace of %llu leaves has %llu", path, len,
		         (unsigned long long)leaves,
		         (unsigned long long)(TRACE_HEADER + leaves * MERKLE_HASH));
		goto out;
	}
	memcpy(t->job, p + 40, 32);
	memcpy(t->model, p + 72, 32);
	memcpy(t->leaves, p + TRACE_HEADER, leaves * MERKLE_HASH);
	rc = 0;
out:
	if (rc)
		trace_free(t);
	free(data);
	return rc;
}
