/*
 * packrss - shows that a model opened from a pack is mapped, not copied:
 * prints the process's resident memory (VmRSS) before opening, after
 * opening (the pack fully verified and the model mapped), and after
 * reading every byte of the first N tensors.
 *
 *   cc -Isrc/lib -o build/packrss tests/bench/packrss.c build/rel/libdai.a \
 *      $(pkg-config --libs libsodium libarchive zlib) -lm
 *   build/packrss PACK [N]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: packrss PACK [N]\n");
		return 2;
	}
	size_t n = argc == 3 ? strtoul(argv[2], NULL, 10) : 3;
	pack_model pm;
	dai_err e;
	long before = rss_kib();
	if (pack_open_model(&pm, argv[1], &e)) {
		fprintf(stderr, "packrss: %s\n", e.msg);
		return 1;
	}
	long opened = rss_kib();
	uint64_t touched = 0;
	unsigned sum = 0;
	for (size_t i = 0; i < n && i < pm.gguf.n_tensors; i++) {
		const gguf_tensor *t = &pm.gguf.tensors[pm.gguf.n_tensors - 1 - i];
		const volatile unsigned char *p = t->data;
		for (uint64_t j = 0; j < t->size; j += 64)
			sum += p[j];
		touched += t->size;
	}
	long after = rss_kib();
	printf("pack %s: %zu bytes mapped, model in place at offset %td\n", argv[1], pm.map_len,
	       (const unsigned char *)pm.gguf.base - (const unsigned char *)pm.map);
	printf("VmRSS before open %ld KiB, after open %ld KiB, after reading %zu tensors "
	       "(%" PRIu64 " KiB) %ld KiB (checksum %u)\n",
	       before, opened, n, touched / 1024, after, sum);
	pack_close_model(&pm);
	return 0;
}
