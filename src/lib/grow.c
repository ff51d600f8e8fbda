/* grow.c - see grow.h. */
#include "grow.h"

#include <stdlib.h>

void *grow_array(void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap)
		return v;
	size_t c = *cap ? *cap : first, bytes;
	if (*cap && __builtin_mul_overflow(c, 2, &c))
		return NULL;
	if (__builtin_mul_overflow(c, elem, &bytes))
		return NULL;
	void *p = realloc(v, bytes);
	if (p)
		*cap = c;
	return p;
}
