/* pack_src.c - byte sources for the pack reader (see pack_tar.h). */
#include "pack_tar.h"

#include <archive.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fsio.h"

static void src_init(pack_src *s, enum pack_src_kind kind, const char *name)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->name = name;
	s->fd = -1;
	s->tee_fd = -1;
}

void pack_src_fd(pack_src *s, int fd, const char *name)
{
	src_init(s, SRC_FD, name);
	s->fd = fd;
}

void pack_src_mem(pack_src *s, const void *data, size_t len, const char *name)
{
	src_init(s, SRC_MEM, name);
	s->mem = data;
	s->mem_len = len;
}

int pack_src_gzip(pack_src *s, int fd, const char *name, dai_err *e)
{
	src_init(s, SRC_GZIP, name);
	s->fd = fd;
	/* The raw format hands over the decompressed bytes as one entry; only
	 * the gzip filter is enabled, so nothing else is taken for a pack. */
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	if (!a)
		return dai_errf(e, "%s: out of memory", name);
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ent) != ARCHIVE_OK) {
		dai_errf(e, "%s: gzip: %s", name, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	s->ar = a;
	return 0;
}

void pack_src_close(pack_src *s)
{
	if (s->ar)
		archive_read_free(s->ar);
	s->ar = NULL;
}

ssize_t pack_src_read(pack_src *s, void *buf, size_t n, dai_err *e)
{
	size_t got = 0;
	unsigned char *p = buf;
	while (got < n) {
		ssize_t r;
		switch (s->kind) {
		case SRC_MEM: {
			size_t left = s->mem_len - (size_t)s->pos - got;
			r = (ssize_t)(n - got < left ? n - got : left);
			memcpy(p + got, s->mem + s->pos + got, (size_t)r);
			break;
		}
		case SRC_FD:
			r = read(s->fd, p + got, n - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return dai_errf(e, "%s: read: %s", s->name, strerror(errno));
			break;
		case SRC_GZIP:
			r = archive_read_data(s->ar, p + got, n - got);
			if (r < 0)
				return dai_errf(e, "%s: gzip: %s", s->name,
				                archive_error_string(s->ar));
			break;
		default:
			return dai_errf(e, "%s: bad source", s->name);
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (s->tee_fd >= 0 && got && write_all(s->tee_fd, p, got) != 0)
		return dai_errf(e, "%s: write: %s", s->name, strerror(errno));
	s->pos += got;
	return (ssize_t)got;
}
