/* pack_src.c - byte sources for the pack reader (see pack_tar.h). */
#include "pack_tar.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fsio.h"

#define GZ_IN (1u << 16)

struct gz_state {
	z_stream z;
	int end; /* the gzip member's trailer has been read and checked */
	unsigned char in[GZ_IN];
};

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

static ssize_t read_some(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

int pack_src_gzip(pack_src *s, int fd, const char *name, dai_err *e)
{
	src_init(s, SRC_GZIP, name);
	s->fd = fd;
	struct gz_state *g = calloc(1, sizeof *g);
	if (!g)
		return dai_errf(e, "%s: out of memory", name);
	/* The fixed header: magic, deflate, no flags, time 0. */
	size_t got = 0;
	while (got < 10) {
		ssize_t r = read_some(fd, g->in + got, 10 - got);
		if (r <= 0) {
			free(g);
			return dai_errf(e, "%s: %s", name,
			                r < 0 ? strerror(errno) : "truncated gzip header");
		}
		got += (size_t)r;
	}
	if (g->in[0] != 0x1f || g->in[1] != 0x8b || g->in[2] != 8 || g->in[3] != 0 ||
	    memcmp(g->in + 4, "\0\0\0\0", 4) != 0) {
		free(g);
		return dai_errf(e,
		                "%s: gzip header with flags or a time stamp: not a gzip pack "
		                "as dai-pack writes one",
		                name);
	}
	/* 16 + 15: a gzip wrapper, whose CRC-32 and length zlib checks. */
	if (inflateInit2(&g->z, 16 + 15) != Z_OK) {
		free(g);
		return dai_errf(e, "%s: gzip: cannot initialise zlib", name);
	}
	g->z.next_in = g->in;
	g->z.avail_in = 10;
	s->gz = g;
	return 0;
}

void pack_src_close(pack_src *s)
{
	if (s->gz) {
		inflateEnd(&s->gz->z);
		free(s->gz);
	}
	s->gz = NULL;
}

/* After the gzip member: nothing more. */
static int gz_check_end(pack_src *s, dai_err *e)
{
	struct gz_state *g = s->gz;
	unsigned char b;
	if (g->z.avail_in || read_some(s->fd, &b, 1) != 0)
		return dai_errf(e, "%s: data after the gzip stream", s->name);
	return 0;
}

static ssize_t gz_read(pack_src *s, unsigned char *buf, size_t n, dai_err *e)
{
	struct gz_state *g = s->gz;
	if (n > UINT_MAX)
		n = UINT_MAX;
	g->z.next_out = buf;
	g->z.avail_out = (unsigned)n;
	while (g->z.avail_out && !g->end) {
		if (g->z.avail_in == 0) {
			ssize_t r = read_some(s->fd, g->in, GZ_IN);
			if (r < 0)
				return dai_errf(e, "%s: read: %s", s->name, strerror(errno));
			if (r == 0)
				return dai_errf(e, "%s: gzip stream truncated", s->name);
			g->z.next_in = g->in;
			g->z.avail_in = (unsigned)r;
		}
		int rc = inflate(&g->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			g->end = 1;
			if (gz_check_end(s, e))
				return -1;
		} else if (rc != Z_OK) {
			return dai_errf(e, "%s: gzip: %s", s->name,
			                g->z.msg ? g->z.msg : "corrupt stream");
		}
	}
	return (ssize_t)(n - g->z.avail_out);
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
			r = read_some(s->fd, p + got, n - got);
			if (r < 0)
				return dai_errf(e, "%s: read: %s", s->name, strerror(errno));
			break;
		case SRC_GZIP:
			r = gz_read(s, p + got, n - got, e);
			if (r < 0)
				return -1;
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
