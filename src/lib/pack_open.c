/* pack_open.c - opening the model of a pack: in place, through the cache,
 * or a plain GGUF file (see pack.h). */
#include "pack.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* Records where the model member's data starts. */
static int note_offset(void *ctx, const pack_manifest *m, size_t i, uint64_t offset, dai_err *e)
{
	(void)m;
	(void)e;
	if (i == 0)
		*(uint64_t *)ctx = offset;
	return 0;
}

/* Verifies an uncompressed pack and maps its model in place. want_id, when
 * not NULL, is the id the pack must have. */
static int open_tar(pack_model *pm, const char *path, const char *want_id, dai_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dai_errf(e, "%s: %s", path, strerror(errno));
	struct stat st;
	uint64_t off = 0;
	pack_src src;
	pack_visit v = {note_offset, NULL, NULL, &off};
	pack_manifest *m = &pm->manifest;
	pack_src_fd(&src, fd, path);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (pack_scan(&src, 0, &v, m, e)) {
		close(fd);
		return -1;
	}
	pm->has_manifest = 1;
	if (want_id && strcmp(m->id, want_id) != 0) {
		dai_errf(e, "%s: pack id %s, expected %s", path, m->id, want_id);
		goto fail;
	}
	/* The scan read the whole file; a file that grew or shrank since is
	 * not the one verified. */
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != src.pos) {
		dai_errf(e, "%s: changed while it was being read", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		dai_errf(e, "%s: too large to map", path);
		goto fail;
	}
	pm->map_len = (size_t)st.st_size;
	pm->map = mmap(NULL, pm->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (pm->map == MAP_FAILED) {
		pm->map = NULL;
		dai_errf(e, "%s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	char gname[PATH_MAX + TAR_NAME_MAX + 2];
	snprintf(gname, sizeof gname, "%s:%s", path, m->files[0].path);
	const unsigned char *base = (const unsigned char *)pm->map + off;
	if (gguf_open_mem(&pm->gguf, base, (size_t)m->files[0].size, gname, e))
		goto fail;
	if (((uintptr_t)base + pm->gguf.data_offset) % pm->gguf.alignment != 0) {
		dai_errf(e, "%s: data section not aligned to %" PRIu32 " in the pack", gname,
		         pm->gguf.alignment);
		goto fail;
	}
	if (pack_manifest_match(m, &pm->gguf, e))
		goto fail;
	if (!(pm->source = strdup(path))) {
		dai_errf(e, "out of memory");
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	pack_close_model(pm);
	return -1;
}

static int mkdir_one(const char *p, dai_err *e)
{
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		return dai_errf(e, "%s: mkdir: %s", p, strerror(errno));
	return 0;
}

int pack_cache_dir(char *buf, size_t cap, dai_err *e)
{
	const char *x = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	/* The XDG rule: a relative XDG_CACHE_HOME is ignored. */
	if (x && x[0] == '/') {
		if (snprintf(buf, cap, "%s/dai", x) >= (int)cap)
			return dai_errf(e, "XDG_CACHE_HOME: path too long");
		if (mkdir_one(x, e))
			return -1;
	} else if (home && home[0] == '/') {
		if (snprintf(buf, cap, "%s/.cache/dai", home) >= (int)cap)
			return dai_errf(e, "HOME: path too long");
		char c[PATH_MAX];
		snprintf(c, sizeof c, "%s/.cache", home);
		if (mkdir_one(c, e))
			return -1;
	} else {
		return dai_errf(e, "no cache directory: set XDG_CACHE_HOME or HOME");
	}
	if (mkdir_one(buf, e))
		return -1;
	struct stat st;
	if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
		return dai_errf(e, "%s: not a directory", buf);
	return 0;
}

/* Unpacks a gzip pack into the cache (verifying it on the way) unless a
 * copy is there already, then opens the copy in place. */
static int open_gzip(pack_model *pm, int fd, const char *path, dai_err *e)
{
	char dir[PATH_MAX], cpath[PATH_MAX + 80], id[DAI_ID_LEN + 1];
	pack_src src;
	pack_manifest m;
	dai_outfile of;
	if (pack_src_gzip(&src, fd, path, e))
		return -1;
	int rc = pack_scan(&src, PACK_MANIFEST_ONLY, NULL, &m, e);
	pack_src_close(&src);
	if (rc)
		return -1;
	memcpy(id, m.id, sizeof id);
	pack_manifest_free(&m);
	if (pack_cache_dir(dir, sizeof dir, e))
		return -1;
	snprintf(cpath, sizeof cpath, "%s/%s.dai.tar", dir, id + 3);
	if (access(cpath, F_OK) == 0) {
		dai_err e2;
		if (open_tar(pm, cpath, id, &e2) == 0)
			return 0;
		/* A damaged copy is only a cache entry: unpack again. */
		unlink(cpath);
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		return dai_errf(e, "%s: seek: %s", path, strerror(errno));
	if (pack_src_gzip(&src, fd, path, e))
		return -1;
	if (outfile_open(&of, cpath, 0644, 0, e)) {
		pack_src_close(&src);
		return -1;
	}
	src.tee_fd = of.fd;
	rc = pack_scan(&src, 0, NULL, &m, e);
	pack_src_close(&src);
	if (rc == 0 && strcmp(m.id, id) != 0)
		rc = dai_errf(e, "%s: pack id changed while unpacking", path);
	if (rc == 0)
		pack_manifest_free(&m);
	if (rc || outfile_commit(&of, 0, e)) {
		outfile_abort(&of);
		return -1;
	}
	return open_tar(pm, cpath, id, e);
}

int pack_open_model(pack_model *pm, const char *path, dai_err *e)
{
	enum pack_format fmt;
	memset(pm, 0, sizeof *pm);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dai_errf(e, "%s: %s", path, strerror(errno));
		pack_close_model(pm);
		return -1;
	}
	int rc = pack_detect(fd, &fmt, path, e);
	if (rc == 0) {
		switch (fmt) {
		case PACK_FMT_GGUF:
			rc = gguf_open(&pm->gguf, path, e);
			if (rc == 0 && !(pm->source = strdup(path)))
				rc = dai_errf(e, "out of memory");
			break;
		case PACK_FMT_TAR:
			rc = open_tar(pm, path, NULL, e);
			break;
		case PACK_FMT_GZIP:
			rc = open_gzip(pm, fd, path, e);
			break;
		}
	}
	close(fd);
	if (rc) {
		pack_close_model(pm);
		return -1;
	}
	return 0;
}

void pack_close_model(pack_model *pm)
{
	gguf_close(&pm->gguf);
	if (pm->has_manifest)
		pack_manifest_free(&pm->manifest);
	if (pm->map)
		munmap(pm->map, pm->map_len);
	free(pm->source);
	memset(pm, 0, sizeof *pm);
}
