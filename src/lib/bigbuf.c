/*
 * bigbuf.c - see bigbuf.h. A big buffer is its own anonymous mapping,
 * aligned to 2 MiB so that every whole huge page of it can be one; a
 * 64-byte header in front of the caller's bytes holds the mapping's
 * length (and says which kind the buffer is).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigbuf.h"

#define HUGE_PAGE ((size_t)2 << 20)
#define BIG_MIN ((size_t)1 << 20) /* below this, calloc */
#define HEADER 64

typedef struct {
	size_t map_len; /* 0: the buffer came from calloc */
	void *map;
} bigbuf_header;
_Static_assert(sizeof(bigbuf_header) <= HEADER, "the header fits its 64 bytes");

void *bigbuf_alloc(size_t n)
{
	if (n > SIZE_MAX - HEADER - 2 * HUGE_PAGE)
		return NULL;
	if (n < BIG_MIN) {
		void *p = NULL;
		if (posix_memalign(&p, HEADER, HEADER + n))
			return NULL;
		memset(p, 0, HEADER + n);
		((bigbuf_header *)p)->map_len = 0;
		return (char *)p + HEADER;
	}
	/* map a huge page more than needed, then trim to a 2 MiB start */
	size_t len = (HEADER + n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	char *raw =
	    mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uintptr_t a = ((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	char *start = (char *)a;
	if (start > raw)
		munmap(raw, (size_t)(start - raw));
	if (raw + len + HUGE_PAGE > start + len)
		munmap(start + len, (size_t)(raw + len + HUGE_PAGE - (start + len)));
#ifdef MADV_HUGEPAGE
	(void)madvise(start, len, MADV_HUGEPAGE); /* advice only: 4 KiB pages work too */
#endif
	bigbuf_header *h = (bigbuf_header *)start;
	h->map_len = len;
	h->map = start;
	return start + HEADER;
}

void bigbuf_free(void *p)
{
	if (!p)
		return;
	bigbuf_header *h = (bigbuf_header *)((char *)p - HEADER);
	if (h->map_len)
		munmap(h->map, h->map_len);
	else
		free(h);
}
