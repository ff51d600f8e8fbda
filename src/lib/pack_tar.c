/* pack_tar.c - the strict tar reader (see pack_tar.h). */
#include "pack_tar.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ustar header fields: offset and width. */
enum {
	H_NAME = 0,
	H_NAME_W = 100,
	H_SIZE = 124,
	H_SIZE_W = 12,
	H_CHKSUM = 148,
	H_CHKSUM_W = 8,
	H_TYPE = 156,
	H_LINK = 157,
	H_LINK_W = 100,
	H_MAGIC = 257, /* "ustar\0" then version "00" */
	H_PREFIX = 345,
	H_PREFIX_W = 155,
};

#define PAX_MAX 4096 /* bytes of a pax extended header's data */
#define SIZE_MAX_MEMBER (UINT64_C(1) << 62)

void tar_init(tar_reader *t, pack_src *src)
{
	memset(t, 0, sizeof *t);
	t->src = src;
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Reads exactly n bytes; a short read is "truncated" at the offset. */
static int read_exact(tar_reader *t, void *buf, size_t n, const char *what, dai_err *e)
{
	uint64_t at = t->src->pos;
	ssize_t r = pack_src_read(t->src, buf, n, e);
	if (r < 0)
		return -1;
	if ((size_t)r != n)
		return dai_errf(e, "%s: truncated at offset %" PRIu64 " (in %s)", t->src->name,
		                at + (uint64_t)r, what);
	return 0;
}

/* An octal number: digits, then only spaces and NULs to the field's end. */
static int parse_octal(const unsigned char *f, size_t w, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < w && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	if (i == 0)
		return -1;
	for (; i < w; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	*out = v;
	return 0;
}

/* The size field: octal, or base-256 (first byte 0x80) for 8 GiB and up. */
static int parse_size(const unsigned char *f, uint64_t *out)
{
	if (f[0] != 0x80)
		return parse_octal(f, H_SIZE_W, out);
	uint64_t v = 0;
	for (int i = 1; i < H_SIZE_W; i++) {
		if (v >> 55)
			return -1;
		v = v << 8 | f[i];
	}
	*out = v;
	return 0;
}

/* The checksum: the sum of the header's bytes with the checksum field
 * taken as spaces, written as six octal digits, NUL, space. */
static int checksum_ok(const unsigned char *h)
{
	unsigned sum = 0;
	uint64_t want;
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += (i >= H_CHKSUM && i < H_CHKSUM + H_CHKSUM_W) ? ' ' : h[i];
	const unsigned char *f = h + H_CHKSUM;
	for (int i = 0; i < 6; i++)
		if (f[i] < '0' || f[i] > '7')
			return 0;
	if (f[6] != 0 || f[7] != ' ' || parse_octal(f, 6, &want))
		return 0;
	return want == sum;
}

static const char *type_name(unsigned char c)
{
	switch (c) {
	case '1':
		return "a hard link";
	case '2':
		return "a symbolic link";
	case '3':
		return "a character device";
	case '4':
		return "a block device";
	case '5':
		return "a directory";
	case '6':
		return "a FIFO";
	case '7':
		return "a contiguous file";
	case 'g':
		return "a global pax header";
	case 'L':
	case 'K':
		return "a GNU long-name header";
	default:
		return NULL;
	}
}

/* Parses a pax extended header's records ("LEN size=N\n" only). */
static int parse_pax(const char *p, size_t n, uint64_t at, const char *name, uint64_t *size,
                     int *have_size, dai_err *e)
{
	size_t i = 0;
	while (i < n) {
		size_t len = 0, j = i;
		for (; j < n && p[j] >= '0' && p[j] <= '9'; j++) {
			if (len > PAX_MAX)
				break;
			len = len * 10 + (size_t)(p[j] - '0');
		}
		if (j == i || (p[i] == '0') || j >= n || p[j] != ' ' || len > n - i ||
		    len < j - i + 2 || p[i + len - 1] != '\n')
			return dai_errf(e, "%s: offset %" PRIu64 ": malformed pax record", name,
			                at);
		const char *kv = p + j + 1;
		size_t kvlen = len - (j - i) - 2; /* without the space and newline */
		if (kvlen < 6 || memcmp(kv, "size=", 5) != 0) {
			/* Name the keyword when it is short and printable. */
			size_t kw = 0;
			while (kw < kvlen && kw < 32 && kv[kw] > 0x20 && kv[kw] < 0x7f &&
			       kv[kw] != '=')
				kw++;
			if (kw == kvlen || kv[kw] != '=')
				kw = 0;
			return dai_errf(e,
			                "%s: offset %" PRIu64 ": pax record%s%.*s%s not allowed in "
			                "a pack (only size)",
			                name, at, kw ? " '" : "", (int)kw, kv, kw ? "'" : "");
		}
		uint64_t v = 0;
		for (size_t k = 5; k < kvlen; k++) {
			if (kv[k] < '0' || kv[k] > '9' || (k == 5 && kv[k] == '0' && kvlen > 6) ||
			    v > SIZE_MAX_MEMBER / 10)
				return dai_errf(e, "%s: offset %" PRIu64 ": bad pax size", name,
				                at);
			v = v * 10 + (uint64_t)(kv[k] - '0');
		}
		if (v > SIZE_MAX_MEMBER)
			return dai_errf(e, "%s: offset %" PRIu64 ": bad pax size", name, at);
		if (*have_size)
			return dai_errf(e, "%s: offset %" PRIu64 ": pax size given twice", name,
			                at);
		*have_size = 1;
		*size = v;
		i += len;
	}
	return 0;
}

/* Skips the rest of the current member: its data and its padding. */
static int skip_rest(tar_reader *t, dai_err *e)
{
	unsigned char buf[4096];
	while (t->left) {
		size_t n = t->left < sizeof buf ? (size_t)t->left : sizeof buf;
		if (read_exact(t, buf, n, "member data", e))
			return -1;
		t->left -= n;
	}
	if (t->pad) {
		uint64_t at = t->src->pos;
		if (read_exact(t, buf, t->pad, "padding", e))
			return -1;
		if (!all_zero(buf, t->pad))
			return dai_errf(e, "%s: offset %" PRIu64 ": non-zero byte in padding",
			                t->src->name, at);
		t->pad = 0;
	}
	return 0;
}

/* After the first zero block: a second one, then the end of the stream. */
static int read_trailer(tar_reader *t, dai_err *e)
{
	unsigned char buf[TAR_BLOCK];
	uint64_t at = t->src->pos;
	if (read_exact(t, buf, TAR_BLOCK, "end-of-archive blocks", e))
		return -1;
	if (!all_zero(buf, TAR_BLOCK))
		return dai_errf(e,
		                "%s: offset %" PRIu64 ": second end-of-archive block is not zero",
		                t->src->name, at);
	at = t->src->pos;
	ssize_t r = pack_src_read(t->src, buf, 1, e);
	if (r < 0)
		return -1;
	if (r)
		return dai_errf(e, "%s: offset %" PRIu64 ": data after the end of the archive",
		                t->src->name, at);
	t->done = 1;
	return 0;
}

int tar_next(tar_reader *t, tar_member *m, dai_err *e)
{
	const char *name = t->src->name;
	unsigned char h[TAR_BLOCK];
	uint64_t pax_size = 0;
	int have_pax = 0, have_size = 0;
	if (t->done)
		return 0;
	if (skip_rest(t, e))
		return -1;
	for (;;) {
		uint64_t at = t->src->pos, size;
		if (read_exact(t, h, TAR_BLOCK, "a header", e))
			return -1;
		if (all_zero(h, TAR_BLOCK)) {
			if (have_pax)
				return dai_errf(
				    e, "%s: offset %" PRIu64 ": pax header without a member", name,
				    at);
			return read_trailer(t, e) ? -1 : 0;
		}
		if (!checksum_ok(h))
			return dai_errf(e, "%s: offset %" PRIu64 ": bad tar header checksum", name,
			                at);
		if (memcmp(h + H_MAGIC,
		           "ustar\0"
		           "00",
		           8) != 0)
			return dai_errf(e, "%s: offset %" PRIu64 ": not a ustar or pax header",
			                name, at);
		if (parse_size(h + H_SIZE, &size) || size > SIZE_MAX_MEMBER)
			return dai_errf(e, "%s: offset %" PRIu64 ": bad size field", name, at);
		unsigned char type = h[H_TYPE];
		if (type == 'x') {
			char pax[PAX_MAX];
			if (have_pax)
				return dai_errf(e,
				                "%s: offset %" PRIu64 ": two pax headers in a row",
				                name, at);
			if (size > PAX_MAX)
				return dai_errf(e, "%s: offset %" PRIu64 ": pax header too large",
				                name, at);
			if (read_exact(t, pax, (size_t)size, "a pax header", e))
				return -1;
			if (parse_pax(pax, (size_t)size, at, name, &pax_size, &have_size, e))
				return -1;
			t->left = 0;
			t->pad = (uint32_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
			if (skip_rest(t, e))
				return -1;
			have_pax = 1;
			continue;
		}
		/* The name: NUL-terminated in its field, zeros after; no prefix. */
		const unsigned char *nul = memchr(h + H_NAME, 0, H_NAME_W);
		if (!nul || !all_zero(nul, (size_t)(h + H_NAME + H_NAME_W - nul)) ||
		    !all_zero(h + H_PREFIX, H_PREFIX_W))
			return dai_errf(e,
			                "%s: offset %" PRIu64 ": member name longer than %d bytes",
			                name, at, TAR_NAME_MAX);
		size_t nlen = (size_t)(nul - (h + H_NAME));
		memcpy(m->name, h + H_NAME, nlen);
		m->name[nlen] = 0;
		if (nlen == 0)
			return dai_errf(e, "%s: offset %" PRIu64 ": member with an empty name",
			                name, at);
		for (size_t i = 0; i < nlen; i++)
			if (m->name[i] < 0x20 || m->name[i] > 0x7e)
				return dai_errf(e,
				                "%s: offset %" PRIu64 ": member name with a byte "
				                "that is not printable ASCII",
				                name, at);
		if (type != '0') {
			const char *what = type_name(type);
			if (what)
				return dai_errf(e, "%s: member '%s': %s, not a regular file", name,
				                m->name, what);
			return dai_errf(e, "%s: member '%s': unknown tar type 0x%02x", name,
			                m->name, type);
		}
		if (!all_zero(h + H_LINK, H_LINK_W))
			return dai_errf(e, "%s: member '%s': regular file with a link name", name,
			                m->name);
		if (have_size)
			size = pax_size;
		m->size = size;
		m->offset = t->src->pos;
		t->left = size;
		t->pad = (uint32_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
		return 1;
	}
}

ssize_t tar_read(tar_reader *t, void *buf, size_t n, dai_err *e)
{
	if (n > t->left)
		n = (size_t)t->left;
	if (n == 0)
		return 0;
	if (read_exact(t, buf, n, "member data", e))
		return -1;
	t->left -= n;
	return (ssize_t)n;
}
