/*
 * strmap.h - a hash table from NUL-terminated strings (dids, ids) to small
 * integers (indexes into an array the caller keeps). Open addressing with
 * linear probing; keys are copied; nothing is ever removed.
 */
#ifndef DAI_STRMAP_H
#define DAI_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct dai_strmap {
	char **keys;    /* cap slots, NULL when empty */
	uint32_t *vals; /* cap slots */
	size_t cap, n;
} dai_strmap;

/* The value stored for key, or -1. */
long strmap_get(const dai_strmap *m, const char *key);

/* Stores key -> val (replacing any value). -1 when out of memory. */
int strmap_put(dai_strmap *m, const char *key, uint32_t val);

/* A deep copy of src into dst; -1 when out of memory. */
int strmap_copy(dai_strmap *dst, const dai_strmap *src);

void strmap_free(dai_strmap *m);

#endif
