/* Unit tests: trace leaves, root and the trace file (trace.h). */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"
#include "trace.h"

/* A plain write: these files are scratch, so no fsync (it makes the loops slow). */
static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void make(dai_trace *t)
{
	dai_err e;
	cr_assert(sodium_init() >= 0);
	cr_assert_eq(trace_init(t, 3, 8, 5, &e), 0, "%s", e.msg);
	float x[8];
	for (uint64_t p = 0; p < 5; p++) {
		for (uint32_t s = 0; s <= 3; s++) {
			for (int i = 0; i < 8; i++)
				x[i] = (float)(p * 100 + s * 10 + (unsigned)i) * 0.25f;
			trace_set_vector(t, p, s, x);
		}
		trace_set_token(t, p, (int32_t)(p + 7));
	}
	memset(t->job, 0xaa, 32);
	memset(t->model, 0x55, 32);
}

Test(trace, leaves_and_root)
{
	dai_trace t;
	make(&t);
	cr_assert_eq(trace_n_leaves(&t), 25);
	/* Leaf (2, 4) is the token leaf of position 2: the int32 9 as LE bytes. */
	unsigned char want[32], b[4] = {9, 0, 0, 0};
	crypto_generichash(want, 32, b, 4, NULL, 0);
	cr_assert_eq(memcmp(trace_leaf(&t, 2, 4), want, 32), 0);
	float x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (float)(100 + 20 + i) * 0.25f;
	crypto_generichash(want, 32, (unsigned char *)x, sizeof x, NULL, 0);
	cr_assert_eq(memcmp(trace_leaf(&t, 1, 2), want, 32), 0);
	unsigned char r1[32], r2[32];
	trace_root(&t, r1);
	merkle_root(t.leaves, 25, r2);
	cr_assert_eq(memcmp(r1, r2, 32), 0);
	/* Changing one bit of one vector changes the root. */
	x[3] = -x[3];
	trace_set_vector(&t, 1, 2, x);
	trace_root(&t, r2);
	cr_assert_neq(memcmp(r1, r2, 32), 0);
	trace_free(&t);
}

Test(trace, file_round_trip_and_damage)
{
	dai_trace t, u;
	dai_err e;
	make(&t);
	char dir[] = "/tmp/dai-trace-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256], bad[256];
	snprintf(path, sizeof path, "%s/t.trace", dir);
	snprintf(bad, sizeof bad, "%s/bad.trace", dir);
	cr_assert_eq(trace_write(&t, path, &e), 0, "%s", e.msg);
	cr_assert_eq(trace_read(&u, path, &e), 0, "%s", e.msg);
	cr_assert_eq(u.n_layers, 3);
	cr_assert_eq(u.dim, 8);
	cr_assert_eq(u.n_positions, 5);
	cr_assert_eq(memcmp(u.job, t.job, 32), 0);
	cr_assert_eq(memcmp(u.model, t.model, 32), 0);
	cr_assert_eq(memcmp(u.leaves, t.leaves, 25 * 32), 0);
	trace_free(&u);

	char *data;
	size_t len;
	cr_assert_eq(file_read_all(path, 1 << 20, &data, &len, &e), 0);
	cr_assert_eq(len, TRACE_HEADER + 25 * 32);
	/* Every truncation is refused with a message naming the file. */
	for (size_t cut = 0; cut < len; cut++) {
		put(bad, data, cut);
		cr_assert_eq(trace_read(&u, bad, &e), -1, "cut at %zu accepted", cut);
		cr_assert(strstr(e.msg, bad), "%s", e.msg);
	}
	/* Every header byte that the reader can check: magic, version,
	 * reserved, the counts. (The dim and the ids are only meaningful
	 * against a model and a job: dai-prove checks those.) */
	for (size_t off = 0; off < TRACE_HEADER; off++) {
		if ((off >= 16 && off < 20) || (off >= 40 && off < 104))
			continue;
		data[off] ^= 0x10;
		put(bad, data, len);
		cr_assert_eq(trace_read(&u, bad, &e), -1, "flip at %zu accepted", off);
		data[off] ^= 0x10;
	}
	/* A trailing byte is refused too. */
	data = realloc(data, len + 1);
	data[len] = 0;
	put(bad, data, len + 1);
	cr_assert_eq(trace_read(&u, bad, &e), -1);
	free(data);
	unlink(bad);
	unlink(path);
	rmdir(dir);
	trace_free(&t);
}

/* Leaves set eight at a time are those set one at a time, for runs of
 * every length up to past two groups of eight, at any start, for widths
 * that fill blocks exactly and ones that do not. */
Test(trace, runs_of_vectors_match_single_leaves)
{
	static const uint32_t dims[] = {1, 5, 32, 96, 768};
	for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
		uint32_t dim = dims[d];
		dai_trace a, b;
		cr_assert_eq(trace_init(&a, 2, dim, 40, NULL), 0);
		cr_assert_eq(trace_init(&b, 2, dim, 40, NULL), 0);
		float *x = malloc((size_t)20 * dim * sizeof(float));
		cr_assert_not_null(x);
		for (uint32_t n = 1; n <= 20; n++) {
			uint64_t pos0 = (n * 7) % (40 - n + 1);
			uint32_t step = n % 3;
			for (size_t i = 0; i < (size_t)n * dim; i++)
				x[i] = (float)(i * 31 % 997) * 0.25f - (float)n;
			trace_set_vectors(&a, pos0, n, step, x);
			for (uint32_t i = 0; i < n; i++)
				trace_set_vector(&b, pos0 + i, step, x + (size_t)i * dim);
			cr_assert_arr_eq(a.leaves, b.leaves, trace_n_leaves(&a) * MERKLE_HASH,
			                 "dim %u, %u vectors from position %llu", dim, n,
			                 (unsigned long long)pos0);
		}
		free(x);
		trace_free(&a);
		trace_free(&b);
	}
}
