/*
 * grow.h - the growth rule of the library's growable arrays: an array that
 * is full doubles its capacity (starting from a first capacity), with the
 * size checked for overflow.
 */
#ifndef DAI_GROW_H
#define DAI_GROW_H

#include <stddef.h>

/*
 * v is a malloc'd array (or NULL) of *cap elements of elem bytes, n of them
 * used. Returns v when n < *cap; else v reallocated to twice *cap elements
 * (first when *cap is 0) and *cap updated. NULL when the memory cannot be
 * had or the size overflows; v and *cap are then unchanged.
 */
void *grow_array(void *v, size_t n, size_t *cap, size_t elem, size_t first);

#endif
