/* docio.c - see docio.h. */
#include "docio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IN_CAP (DAI_LINE_MAX + 4096)

int reader_init(dai_reader *r, int fd, const char *name, dai_err *e)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->in = malloc(IN_CAP);
	if (!r->in)
		return dai_errf(e, "%s: out of memory", name);
	return 0;
}

void reader_free(dai_reader *r)
{
	free(r->in);
	free(r->doc);
	memset(r, 0, sizeof *r);
}

const char *reader_raw(const dai_reader *r, size_t *len)
{
	*len = r->doc_len;
	return r->doc;
}

/* Copies the bytes of the last document framed by reader_next to f, as a
 * filter passes an invalid document through. */
static int reader_copy_raw(const dai_reader *r, FILE *f, dai_err *e)
{
	if (fwrite(r->doc, 1, r->doc_len, f) != r->doc_len)
		return dai_errf(e, "writing the output failed");
	return 0;
}

int reader_pass(dai_reader *r, FILE *f, dai_doc *d, dai_err *e)
{
	int s = reader_next(r, d, e);
	if (s == DOC_BAD) {
		dai_err why = *e;
		if (reader_copy_raw(r, f, e))
			return DOC_FATAL;
		*e = why;
	} else if (s == DOC_OK && doc_write(f, d, e)) {
		doc_free(d);
		return DOC_FATAL;
	}
	return s;
}

/* Refills the input buffer; returns 0, or -1 on a read error. */
static int fill(dai_reader *r, dai_err *e)
{
	if (r->in_start > 0) {
		memmove(r->in, r->in + r->in_start, r->in_end - r->in_start);
		r->in_end -= r->in_start;
		r->in_start = 0;
	}
	while (r->in_end < IN_CAP) {
		ssize_t n = read(r->fd, r->in + r->in_end, IN_CAP - r->in_end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return dai_errf(e, "%s: read: %s", r->name, strerror(errno));
		if (n == 0)
			r->eof = 1;
		r->in_end += (size_t)n;
		return 0;
	}
	return 0;
}

static int doc_append(dai_reader *r, const char *p, size_t n, dai_err *e)
{
	if (r->doc_len + n > DAI_DOC_MAX)
		return dai_errf(e, "%s: line %lu: document longer than %u bytes", r->name,
		                r->line + 1, DAI_DOC_MAX);
	if (r->doc_len + n > r->doc_cap) {
		size_t cap = r->doc_cap ? r->doc_cap : 4096;
		while (cap < r->doc_len + n)
			cap *= 2;
		char *nd = realloc(r->doc, cap);
		if (!nd)
			return dai_errf(e, "%s: out of memory", r->name);
		r->doc = nd;
		r->doc_cap = cap;
	}
	memcpy(r->doc + r->doc_len, p, n);
	r->doc_len += n;
	return 0;
}

/* Frames one document into r->doc. Returns 1 when framed, 0 at a clean end
 * of input, -1 when the stream cannot be framed. */
static int frame(dai_reader *r, dai_err *e)
{
	r->doc_len = 0;
	r->doc_line = r->line + 1;
	for (;;) {
		char *p = r->in + r->in_start;
		size_t avail = r->in_end - r->in_start;
		char *nl = memchr(p, '\n', avail);
		if (!nl) {
			if (avail > DAI_LINE_MAX)
				return dai_errf(e, "%s: line %lu: line longer than %u bytes",
				                r->name, r->line + 1, DAI_LINE_MAX);
			if (r->eof) {
				if (avail == 0 && r->doc_len == 0)
					return 0;
				return dai_errf(e,
				                "%s: line %lu: input ends inside a document "
				                "(no sig line)",
				                r->name, r->line + (avail ? 1 : 0));
			}
			if (fill(r, e))
				return -1;
			continue;
		}
		size_t n = (size_t)(nl - p);
		if (n > DAI_LINE_MAX)
			return dai_errf(e, "%s: line %lu: line longer than %u bytes", r->name,
			                r->line + 1, DAI_LINE_MAX);
		if (doc_append(r, p, n + 1, e))
			return -1;
		r->in_start += n + 1;
		r->line++;
		if (n >= 4 && memcmp(p, "sig ", 4) == 0)
			return 1;
	}
}

int reader_next(dai_reader *r, dai_doc *d, dai_err *e)
{
	memset(d, 0, sizeof *d);
	int f = frame(r, e);
	if (f < 0)
		return DOC_FATAL;
	if (f == 0)
		return DOC_EOF;
	if (doc_parse(d, r->doc, r->doc_len, r->name, r->doc_line, e) != 0)
		return DOC_BAD;
	return DOC_OK;
}

int doc_write(FILE *f, const dai_doc *d, dai_err *e)
{
	if (fwrite(d->raw, 1, d->len, f) != d->len || fflush(f) != 0)
		return dai_errf(e, "write: %s", strerror(errno));
	return 0;
}
