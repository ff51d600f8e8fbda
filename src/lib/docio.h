/*
 * docio.h - streams of documents: a reader that yields the documents of a
 * file descriptor one by one, and writing documents out byte for byte.
 *
 * The reader frames a document by its lines (first line through the line
 * starting "sig "), then parses it. A document that is framed but invalid
 * is reported as DOC_BAD and the stream goes on; a stream that cannot be
 * framed (a line or document over the limits, input ending inside a
 * document, a read error) is DOC_FATAL.
 */
#ifndef DAI_DOCIO_H
#define DAI_DOCIO_H

#include <stdio.h>

#include "doc.h"

enum { DOC_FATAL = -2, DOC_BAD = -1, DOC_EOF = 0, DOC_OK = 1 };

typedef struct dai_reader {
	int fd;
	const char *name; /* for messages: a file name or "<stdin>" */
	char *in;         /* input buffer */
	size_t in_start, in_end;
	int eof;
	char *doc; /* the document being framed */
	size_t doc_len, doc_cap;
	unsigned long line;     /* lines consumed so far */
	unsigned long doc_line; /* first line of the last document */
} dai_reader;

int reader_init(dai_reader *r, int fd, const char *name, dai_err *e);
void reader_free(dai_reader *r);

/* Reads the next document into d (DOC_OK; free it with doc_free). DOC_BAD:
 * the document was read but is invalid; the message is in e and its bytes
 * stay available through reader_raw until the next call. */
int reader_next(dai_reader *r, dai_doc *d, dai_err *e);

/* The bytes of the last document framed by reader_next. */
const char *reader_raw(const dai_reader *r, size_t *len);

/* Reads the next document as a filter does, passing it through to f:
 * DOC_OK, d read and written (free it with doc_free); DOC_BAD, an invalid
 * document whose bytes went to f unchanged, the reason in e; DOC_EOF; or
 * DOC_FATAL, a read or write error, the message in e. */
int reader_pass(dai_reader *r, FILE *f, dai_doc *d, dai_err *e);

/* Writes a document's exact bytes; -1 with a message on a write error. */
int doc_write(FILE *f, const dai_doc *d, dai_err *e);

#endif
