/* libFuzzer harness for the pack reader. Each input is read three ways:
 * as a tar stream by the strict tar reader alone (every member's data read
 * to the end), as a whole pack by pack_scan with a visitor (from memory, or
 * through the gzip source when the input starts with the gzip magic), and
 * as a MANIFEST document. When a pack verifies, its model is parsed in
 * place from the input's bytes, as pack_open_model does from a mapping. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fsio.h"
#include "pack.h"

static void walk_tar(const uint8_t *data, size_t size)
{
	pack_src s;
	tar_reader t;
	tar_member m;
	dai_err e;
	unsigned char buf[4096];
	pack_src_mem(&s, data, size, "fuzz.tar");
	tar_init(&t, &s);
	while (tar_next(&t, &m, &e) == 1) {
		if (m.offset > size || strlen(m.name) > TAR_NAME_MAX)
			abort();
		ssize_t n;
		uint64_t got = 0;
		while ((n = tar_read(&t, buf, sizeof buf, &e)) > 0)
			got += (uint64_t)n;
		if (n < 0)
			return;
		if (got != m.size)
			abort();
	}
}

typedef struct seen {
	uint64_t model_off;
	uint64_t bytes;
} seen;

static int v_begin(void *ctx, const pack_manifest *m, size_t i, uint64_t off, dai_err *e)
{
	(void)m, (void)e;
	if (i == 0)
		((seen *)ctx)->model_off = off;
	return 0;
}

static int v_data(void *ctx, const void *buf, size_t n, dai_err *e)
{
	(void)buf, (void)e;
	((seen *)ctx)->bytes += n;
	return 0;
}

static void scan_pack(const uint8_t *data, size_t size)
{
	pack_src s;
	pack_manifest m;
	dai_err e;
	seen sn = {0, 0};
	pack_visit v = {v_begin, v_data, NULL, &sn};
	int fd = -1;
	int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	if (gz) {
		fd = memfd_create("fuzz", MFD_CLOEXEC);
		if (fd < 0 || write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
			abort();
		if (pack_src_gzip(&s, fd, "fuzz.tgz", &e)) {
			close(fd);
			return;
		}
	} else {
		pack_src_mem(&s, data, size, "fuzz.tar");
	}
	int rc = pack_scan(&s, 0, &v, &m, &e);
	pack_src_close(&s);
	if (fd >= 0)
		close(fd);
	if (rc)
		return;
	uint64_t total = 0;
	for (size_t i = 0; i < m.n_files; i++)
		total += m.files[i].size;
	if (sn.bytes != total)
		abort();
	if (!gz) {
		gguf_file g;
		if (sn.model_off > size || m.files[0].size > size - sn.model_off)
			abort();
		if (gguf_open_mem(&g, data + sn.model_off, (size_t)m.files[0].size, "fuzz.gguf",
		                  &e) == 0) {
			pack_manifest_match(&m, &g, &e);
			gguf_close(&g);
		}
	}
	pack_manifest_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pack_manifest m;
	dai_err e;
	walk_tar(data, size);
	scan_pack(data, size);
	if (pack_manifest_parse(&m, (const char *)data, size, "fuzz", &e) == 0)
		pack_manifest_free(&m);
	return 0;
}
