/*
 * b64lines.h - a value too big for one document line, as base64 over
 * several lines of one repeated key (doc_schema.h: F_REPEAT).
 *
 * The bytes are cut into chunks of DAI_B64_CHUNK bytes, the last one
 * shorter (but never empty), and each chunk is one line of canonical
 * padded base64: 49152 characters for a whole chunk. Reading joins the
 * lines and refuses any other cut (a short line before the last, an empty
 * line), so one value has exactly one spelling and a document that embeds
 * it keeps a single id.
 */
#ifndef DAI_B64LINES_H
#define DAI_B64LINES_H

#include <stddef.h>

#include "doc.h"

#define DAI_B64_CHUNK 36864u /* bytes per line: 49152 base64 characters */

/* Adds data[0..n) as lines of key (one empty line when n is 0). */
void docb_add_b64_lines(dai_docb *b, const char *key, const void *data, size_t n);

/* Joins and decodes every line of key. *out (malloc'd, NUL-terminated
 * past the *n bytes) is the value; -1 when key is absent, a line is not
 * cut canonically, or the value is over max bytes. */
int doc_get_b64_lines(const dai_doc *d, const char *key, size_t max, unsigned char **out, size_t *n,
                      dai_err *e);

#endif
