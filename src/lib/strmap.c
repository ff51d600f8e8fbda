/* strmap.c - see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: the keys are hashes or dids, already well spread. */
static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static size_t slot(const dai_strmap *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);
	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

long strmap_get(const dai_strmap *m, const char *key)
{
	if (m->cap == 0)
		return -1;
	size_t i = slot(m, key);
	return m->keys[i] ? (long)m->vals[i] : -1;
}

static int grow(dai_strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	dai_strmap g = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(uint32_t)), cap, m->n};
	if (!g.keys || !g.vals) {
		free(g.keys);
		free(g.vals);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = slot(&g, m->keys[i]);
		g.keys[j] = m->keys[i];
		g.vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	*m = g;
	return 0;
}

int strmap_put(dai_strmap *m, const char *key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -1;
	size_t i = slot(m, key);
	if (!m->keys[i]) {
		if (!(m->keys[i] = strdup(key)))
			return -1;
		m->n++;
	}
	m->vals[i] = val;
	return 0;
}

int strmap_copy(dai_strmap *dst, const dai_strmap *src)
{
	*dst = (dai_strmap){0};
	if (src->cap == 0)
		return 0;
	dst->keys = calloc(src->cap, sizeof(char *));
	dst->vals = malloc(src->cap * sizeof(uint32_t));
	dst->cap = src->cap;
	if (!dst->keys || !dst->vals) {
		strmap_free(dst);
		return -1;
	}
	memcpy(dst->vals, src->vals, src->cap * sizeof(uint32_t));
	for (size_t i = 0; i < src->cap; i++) {
		if (src->keys[i] && !(dst->keys[i] = strdup(src->keys[i]))) {
			strmap_free(dst);
			return -1;
		}
	}
	dst->n = src->n;
	return 0;
}

void strmap_free(dai_strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys ? m->keys[i] : NULL);
	free(m->keys);
	free(m->vals);
	*m = (dai_strmap){0};
}
