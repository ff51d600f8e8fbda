/* bytebuf.c - growable byte buffer (see bytebuf.h). */
#include "bytebuf.h"

#include <stdlib.h>
#include <string.h>

int bytebuf_reserve(bytebuf *b, size_t n)
{
	if (b->oom)
		return -1;
	if (n <= b->cap - b->len)
		return 0;
	if (n > (size_t)-1 / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void bytebuf_put(bytebuf *b, const void *data, size_t n)
{
	if (n == 0 || bytebuf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

void bytebuf_putc(bytebuf *b, unsigned char c)
{
	bytebuf_put(b, &c, 1);
}

void bytebuf_puts(bytebuf *b, const char *s)
{
	bytebuf_put(b, s, strlen(s));
}

void bytebuf_insert(bytebuf *b, size_t at, const void *data, size_t n)
{
	if (n == 0 || at > b->len || bytebuf_reserve(b, n) < 0)
		return;
	memmove(b->p + at + n, b->p + at, b->len - at);
	memcpy(b->p + at, data, n);
	b->len += n;
}

void bytebuf_free(bytebuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}
