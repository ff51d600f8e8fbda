/*
 * bytebuf.h - a growable byte buffer for encoders (RLP, ABI, JSON-RPC
 * bodies). An append that cannot allocate sets oom and leaves the buffer
 * as it was; callers check oom once at the end instead of after each call.
 */
#ifndef DAI_BYTEBUF_H
#define DAI_BYTEBUF_H

#include <stddef.h>

typedef struct bytebuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
} bytebuf;

/* Makes room for n more bytes; 0, or -1 (and oom set). */
int bytebuf_reserve(bytebuf *b, size_t n);
void bytebuf_put(bytebuf *b, const void *data, size_t n);
void bytebuf_putc(bytebuf *b, unsigned char c);
void bytebuf_puts(bytebuf *b, const char *s);
/* Inserts n bytes at offset at, moving what follows. */
void bytebuf_insert(bytebuf *b, size_t at, const void *data, size_t n);
void bytebuf_free(bytebuf *b);

#endif
