/* b64lines.c - see b64lines.h. */
#include "b64lines.h"

#include <stdlib.h>
#include <string.h>

void docb_add_b64_lines(dai_docb *b, const char *key, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t off = 0;
	do {
		size_t c = n - off < DAI_B64_CHUNK ? n - off : DAI_B64_CHUNK;
		docb_add_b64(b, key, p + off, c);
		off += c;
	} while (off < n);
}

int doc_get_b64_lines(const dai_doc *d, const char *key, size_t max, unsigned char **out, size_t *n,
                      dai_err *e)
{
	size_t total = 0, lines = 0;
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, key) == 0) {
			total += d->fields[i].vallen / 4 * 3;
			lines++;
		}
	if (!lines)
		return dai_errf(e, "dai-%s: no %s", d->kind, key);
	if (total > max + 2) /* the last line's padding is not known yet */
		return dai_errf(e, "dai-%s: %s is over %zu bytes", d->kind, key, max);
	unsigned char *buf = malloc(total + 1);
	if (!buf)
		return dai_errf(e, "out of memory");
	size_t have = 0, line = 0;
	for (size_t i = 0; i < d->nfields; i++) {
		const dai_field *f = &d->fields[i];
		size_t got = 0;
		if (strcmp(f->key, key) != 0)
			continue;
		line++;
		int bad = b64_decode(buf + have, total + 1 - have, &got, f->val, f->vallen);
		/* canonical cut: whole chunks, then one non-empty rest */
		if (!bad && got && got <= DAI_B64_CHUNK &&
		    (line == lines || got == DAI_B64_CHUNK)) {
			have += got;
			continue;
		}
		free(buf);
		return dai_errf(e, "dai-%s: %s line %zu of %zu: %s", d->kind, key, line, lines,
		                bad    ? "bad base64"
		                : !got ? "empty"
		                       : "not a whole chunk of 36864 bytes");
	}
	if (have > max) {
		free(buf);
		return dai_errf(e, "dai-%s: %s is over %zu bytes", d->kind, key, max);
	}
	buf[have] = 0;
	*out = buf;
	*n = have;
	return 0;
}
