/* pack_extract.c - writing a pack's members into a directory (see pack.h).
 *
 * Members are written to hidden temporary files in the directory while the
 * pack streams by and given their names only after the whole pack has
 * verified. Member paths are plain file names (pack_path_check), and every
 * file is opened relative to the directory with O_NOFOLLOW | O_EXCL and
 * named with link(2), which never follows or replaces what is there: a
 * symbolic link planted in the directory cannot redirect a write. */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "fsio.h"

typedef struct xtmp {
	char tmp[32]; /* ".dai-<hex>.tmp" */
	char name[TAR_NAME_MAX + 1];
	int linked;
} xtmp;

typedef struct xctx {
	int dirfd;
	const char *dir;
	xtmp t[PACK_FILES_MAX + 1];
	size_t n;
	int fd; /* the member being written */
} xctx;

static int tmp_create(xctx *x, const char *name, dai_err *e)
{
	xtmp *t = &x->t[x->n];
	if (faccessat(x->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return dai_errf(e, "%s/%s: already exists, not overwriting", x->dir, name);
	for (int tries = 0; tries < 16; tries++) {
		unsigned char r[8];
		char hex[17];
		randombytes_buf(r, sizeof r);
		hex_encode(hex, r, sizeof r);
		snprintf(t->tmp, sizeof t->tmp, ".dai-%s.tmp", hex);
		x->fd = openat(x->dirfd, t->tmp,
		               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (x->fd >= 0) {
			snprintf(t->name, sizeof t->name, "%s", name);
			t->linked = 0;
			x->n++;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	return dai_errf(e, "%s: cannot create a file: %s", x->dir, strerror(errno));
}

static int tmp_finish(xctx *x, dai_err *e)
{
	int rc = fsync(x->fd);
	if (close(x->fd) != 0)
		rc = -1;
	x->fd = -1;
	if (rc)
		return dai_errf(e, "%s/%s: write: %s", x->dir, x->t[x->n - 1].name,
		                strerror(errno));
	return 0;
}

static int x_data(void *ctx, const void *buf, size_t n, dai_err *e)
{
	xctx *x = ctx;
	if (write_all(x->fd, buf, n) != 0)
		return dai_errf(e, "%s/%s: write: %s", x->dir, x->t[x->n - 1].name,
		                strerror(errno));
	return 0;
}

static int x_begin(void *ctx, const pack_manifest *m, size_t i, uint64_t off, dai_err *e)
{
	xctx *x = ctx;
	(void)off;
	/* The manifest first, from the bytes the scan has verified. */
	if (i == 0 && (tmp_create(x, PACK_MANIFEST_NAME, e) ||
	               x_data(x, m->doc.raw, m->doc.len, e) || tmp_finish(x, e)))
		return -1;
	return tmp_create(x, m->files[i].path, e);
}

static int x_end(void *ctx, dai_err *e)
{
	return tmp_finish(ctx, e);
}

/* Removes the temporary files and, after a failure, the names given so far. */
static void cleanup(xctx *x, int failed)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	for (size_t i = 0; i < x->n; i++) {
		unlinkat(x->dirfd, x->t[i].tmp, 0);
		if (failed && x->t[i].linked)
			unlinkat(x->dirfd, x->t[i].name, 0);
	}
}

int pack_extract(const char *path, const char *dir, pack_manifest *m, dai_err *e)
{
	xctx *x = calloc(1, sizeof *x);
	if (!x)
		return dai_errf(e, "out of memory");
	x->fd = -1;
	x->dir = dir;
	x->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x->dirfd < 0) {
		dai_errf(e, "%s: %s", dir, strerror(errno));
		free(x);
		return -1;
	}
	int rc = -1;
	enum pack_format fmt;
	pack_src src;
	pack_visit v = {x_begin, x_data, x_end, x};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dai_errf(e, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (pack_detect(fd, &fmt, path, e)) {
		close(fd);
		goto out;
	}
	if (fmt == PACK_FMT_GGUF) {
		dai_errf(e, "%s: a plain GGUF file, not a pack: nothing to extract", path);
		close(fd);
		goto out;
	}
	if (fmt == PACK_FMT_GZIP) {
		if (pack_src_gzip(&src, fd, path, e)) {
			close(fd);
			goto out;
		}
	} else {
		pack_src_fd(&src, fd, path);
	}
	rc = pack_scan(&src, 0, &v, m, e);
	pack_src_close(&src);
	close(fd);
	if (rc)
		goto out;
	rc = -1;
	for (size_t i = 0; i < x->n; i++) {
		if (linkat(x->dirfd, x->t[i].tmp, x->dirfd, x->t[i].name, 0) != 0) {
			int err = errno;
			dai_errf(e, "%s/%s: %s", dir, x->t[i].name,
			         err == EEXIST ? "already exists, not overwriting" : strerror(err));
			goto out_m;
		}
		x->t[i].linked = 1;
	}
	if (fsync(x->dirfd) != 0) {
		dai_errf(e, "%s: fsync: %s", dir, strerror(errno));
		goto out_m;
	}
	rc = 0;
	goto out;
out_m:
	pack_manifest_free(m);
out:
	cleanup(x, rc != 0);
	close(x->dirfd);
	free(x);
	return rc;
}
