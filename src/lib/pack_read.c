/* pack_read.c - reading and verifying a pack as a stream (see pack.h). */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blake2b.h"

#define CHUNK (1u << 20) /* bytes hashed per read */

static int read_manifest(tar_reader *t, pack_manifest *m, dai_err *e)
{
	const char *name = t->src->name;
	tar_member tm;
	int r = tar_next(t, &tm, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return dai_errf(e, "%s: empty archive, no MANIFEST", name);
	if (strcmp(tm.name, PACK_MANIFEST_NAME) != 0)
		return dai_errf(e, "%s: first member is '%s', not MANIFEST", name, tm.name);
	if (tm.size > PACK_MANIFEST_MAX)
		return dai_errf(e, "%s: MANIFEST is larger than %u bytes", name, PACK_MANIFEST_MAX);
	char *buf = malloc(tm.size ? (size_t)tm.size : 1);
	if (!buf)
		return dai_errf(e, "%s: out of memory", name);
	size_t got = 0;
	while (got < tm.size) {
		ssize_t n = tar_read(t, buf + got, (size_t)tm.size - got, e);
		if (n <= 0) {
			free(buf);
			return -1;
		}
		got += (size_t)n;
	}
	char where[512];
	snprintf(where, sizeof where, "%s: MANIFEST", name);
	r = pack_manifest_parse(m, buf, got, where, e);
	free(buf);
	return r;
}

/* The index of path among the files from `from` on, or -1. */
static long find_file(const pack_manifest *m, size_t from, const char *path)
{
	for (size_t i = from; i < m->n_files; i++)
		if (strcmp(m->files[i].path, path) == 0)
			return (long)i;
	return -1;
}

static int read_member(tar_reader *t, const pack_manifest *m, size_t i, const tar_member *tm,
                       const pack_visit *v, unsigned char *buf, dai_err *e)
{
	const char *name = t->src->name;
	const pack_file *f = &m->files[i];
	if (tm->size != f->size)
		return dai_errf(e, "%s: member '%s': %" PRIu64 " bytes, the manifest says %" PRIu64,
		                name, f->path, tm->size, f->size);
	if (v && v->begin && v->begin(v->ctx, m, i, tm->offset, e))
		return -1;
	blake2b_state st;
	blake2b_init(&st, NULL, 0, 32);
	for (;;) {
		ssize_t n = tar_read(t, buf, CHUNK, e);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		blake2b_update(&st, buf, (size_t)n);
		if (v && v->data && v->data(v->ctx, buf, (size_t)n, e))
			return -1;
	}
	unsigned char h[32];
	blake2b_final(&st, h, sizeof h);
	if (sodium_memcmp(h, f->hash, sizeof h) != 0)
		return dai_errf(e, "%s: member '%s': BLAKE2b-256 does not match the manifest", name,
		                f->path);
	if (v && v->end && v->end(v->ctx, e))
		return -1;
	return 0;
}

int pack_scan(pack_src *src, int flags, const pack_visit *v, pack_manifest *m, dai_err *e)
{
	const char *name = src->name;
	tar_reader t;
	tar_member tm;
	tar_init(&t, src);
	if (read_manifest(&t, m, e))
		return -1;
	if (flags & PACK_MANIFEST_ONLY)
		return 0;
	unsigned char *buf = malloc(CHUNK);
	if (!buf) {
		pack_manifest_free(m);
		return dai_errf(e, "%s: out of memory", name);
	}
	size_t i = 0;
	for (;; i++) {
		int r = tar_next(&t, &tm, e);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		if (i == m->n_files) {
			dai_errf(e, "%s: extra member '%s' not in the manifest", name, tm.name);
			goto fail;
		}
		if (strcmp(tm.name, m->files[i].path) != 0) {
			if (find_file(m, i + 1, tm.name) >= 0)
				dai_errf(
				    e, "%s: member '%s' out of order: the manifest lists '%s' next",
				    name, tm.name, m->files[i].path);
			else if (find_file(m, 0, tm.name) >= 0 ||
			         strcmp(tm.name, PACK_MANIFEST_NAME) == 0)
				dai_errf(e, "%s: member '%s' appears twice", name, tm.name);
			else
				dai_errf(e, "%s: member '%s' is not in the manifest", name,
				         tm.name);
			goto fail;
		}
		if (read_member(&t, m, i, &tm, v, buf, e))
			goto fail;
	}
	if (i < m->n_files) {
		dai_errf(e, "%s: member '%s' listed in the manifest is missing", name,
		         m->files[i].path);
		goto fail;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	pack_manifest_free(m);
	return -1;
}

int pack_detect(int fd, enum pack_format *fmt, const char *name, dai_err *e)
{
	unsigned char b[4];
	ssize_t n;
	do
		n = pread(fd, b, sizeof b, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return dai_errf(e, "%s: read: %s", name, strerror(errno));
	if (n == 4 && memcmp(b, "GGUF", 4) == 0)
		*fmt = PACK_FMT_GGUF;
	else if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		*fmt = PACK_FMT_GZIP;
	else
		*fmt = PACK_FMT_TAR;
	return 0;
}

int pack_verify(const char *path, int flags, pack_manifest *m, dai_err *e)
{
	enum pack_format fmt;
	pack_src src;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dai_errf(e, "%s: %s", path, strerror(errno));
	int rc = -1;
	if (pack_detect(fd, &fmt, path, e))
		goto out;
	if (fmt == PACK_FMT_GGUF) {
		dai_errf(e, "%s: a plain GGUF file, not a pack: it has no manifest", path);
		goto out;
	}
	if (fmt == PACK_FMT_TAR && !(flags & PACK_MANIFEST_ONLY)) {
		/* Opening the model in place verifies the same stream and then
		 * checks the GGUF and its facts too, at no extra read. */
		pack_model pm;
		close(fd);
		if (pack_open_model(&pm, path, e))
			return -1;
		*m = pm.manifest; /* the manifest changes owner */
		pm.has_manifest = 0;
		pack_close_model(&pm);
		return 0;
	}
	if (fmt == PACK_FMT_GZIP) {
		if (pack_src_gzip(&src, fd, path, e))
			goto out;
	} else {
		pack_src_fd(&src, fd, path);
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	rc = pack_scan(&src, flags, NULL, m, e);
	pack_src_close(&src);
out:
	close(fd);
	return rc;
}
