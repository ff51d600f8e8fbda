/*
 * bigbuf.h - zeroed buffers of many megabytes (a session's KV cache, a
 * replay's logits) backed by transparent huge pages where the kernel
 * offers them.
 *
 * A fresh buffer costs a page fault per 4 KiB page on first touch: for the
 * 13 MB cache and 8 MB of logits of one replay that is ~5000 faults, about
 * a tenth of a 110M model's verification. With MADV_HUGEPAGE (honoured
 * when /sys/kernel/mm/transparent_hugepage/enabled is "always" or
 * "madvise") it is one fault per 2 MiB. Pages are still faulted in only
 * when touched, so a large context that is never filled costs nothing.
 * Small requests are plain calloc.
 */
#ifndef DAI_BIGBUF_H
#define DAI_BIGBUF_H

#include <stddef.h>

/* n zero bytes, 64-byte aligned, or NULL when out of memory (n 0: a
 * valid, empty buffer). Free with bigbuf_free. */
void *bigbuf_alloc(size_t n);

/* Frees what bigbuf_alloc returned (NULL: nothing). */
void bigbuf_free(void *p);

#endif
