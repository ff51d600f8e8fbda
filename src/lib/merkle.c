/* merkle.c - see merkle.h. */
#include "merkle.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "blake2b.h"

/* Each node hash is one 33- or 65-byte message: one compression, so the
 * tag and the children are put side by side and hashed in one call. */
void merkle_leaf_node(const unsigned char leaf[MERKLE_HASH], unsigned char out[MERKLE_HASH])
{
	unsigned char msg[1 + MERKLE_HASH];
	msg[0] = 0x00;
	memcpy(msg + 1, leaf, MERKLE_HASH);
	blake2b_256(out, msg, sizeof msg);
}

void merkle_inner_node(const unsigned char a[MERKLE_HASH], const unsigned char b[MERKLE_HASH],
                       unsigned char out[MERKLE_HASH])
{
	unsigned char msg[1 + 2 * MERKLE_HASH];
	msg[0] = 0x01;
	memcpy(msg + 1, a, MERKLE_HASH);
	memcpy(msg + 1 + MERKLE_HASH, b, MERKLE_HASH);
	blake2b_256(out, msg, sizeof msg);
}

/* The largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH of n >= 1 leaves; recursion depth is the tree depth (<= 64). */
static void subtree(const unsigned char *leaves, uint64_t n, unsigned char out[MERKLE_HASH])
{
	if (n == 1) {
		merkle_leaf_node(leaves, out);
		return;
	}
	uint64_t k = split_point(n);
	unsigned char l[MERKLE_HASH], r[MERKLE_HASH];
	subtree(leaves, k, l);
	subtree(leaves + k * MERKLE_HASH, n - k, r);
	merkle_inner_node(l, r, out);
}

void merkle_root(const unsigned char *leaves, uint64_t n, unsigned char root[MERKLE_HASH])
{
	if (n == 0) {
		blake2b_256(root, NULL, 0);
		return;
	}
	subtree(leaves, n, root);
}

int merkle_path(const unsigned char *leaves, uint64_t n, uint64_t i,
                unsigned char path[][MERKLE_HASH])
{
	/* Walk down from the root, recording the sibling subtree at each level;
	 * the path lists them leaf first, so fill it from the far end. */
	unsigned char sib[MERKLE_PATH_MAX][MERKLE_HASH];
	int depth = 0;
	while (n > 1) {
		uint64_t k = split_point(n);
		if (i < k) {
			subtree(leaves + k * MERKLE_HASH, n - k, sib[depth++]);
			n = k;
		} else {
			subtree(leaves, k, sib[depth++]);
			leaves += k * MERKLE_HASH;
			i -= k;
			n -= k;
		}
	}
	for (int d = 0; d < depth; d++)
		memcpy(path[d], sib[depth - 1 - d], MERKLE_HASH);
	return depth;
}

int merkle_tree_build(merkle_tree *t, const unsigned char *leaves, uint64_t n)
{
	memset(t, 0, sizeof *t);
	if (n == 0)
		return -1;
	uint64_t total = 0, c = n;
	int levels = 0;
	for (;;) {
		t->count[levels++] = c;
		total += c;
		if (c == 1)
			break;
		c = (c + 1) / 2;
	}
	if (total > SIZE_MAX / MERKLE_HASH || !(t->nodes = malloc((size_t)total * MERKLE_HASH)))
		return -1;
	t->n = n;
	t->levels = levels;
	unsigned char *p = t->nodes;
	for (int h = 0; h < levels; h++) {
		t->level[h] = p;
		p += t->count[h] * MERKLE_HASH;
	}
	for (uint64_t i = 0; i < n; i++)
		merkle_leaf_node(leaves + i * MERKLE_HASH, t->level[0] + i * MERKLE_HASH);
	for (int h = 1; h < levels; h++) {
		const unsigned char *below = t->level[h - 1];
		for (uint64_t j = 0; j < t->count[h]; j++) {
			unsigned char *out = t->level[h] + j * MERKLE_HASH;
			if (2 * j + 1 < t->count[h - 1])
				merkle_inner_node(below + 2 * j * MERKLE_HASH,
				                  below + (2 * j + 1) * MERKLE_HASH, out);
			else
				memcpy(out, below + 2 * j * MERKLE_HASH, MERKLE_HASH);
		}
	}
	return 0;
}

int merkle_tree_path(const merkle_tree *t, uint64_t i, unsigned char path[][MERKLE_HASH])
{
	int len = 0;
	for (int h = 0; h + 1 < t->levels; h++, i /= 2)
		if ((i ^ 1) < t->count[h])
			memcpy(path[len++], t->level[h] + (i ^ 1) * MERKLE_HASH, MERKLE_HASH);
	return len;
}

void merkle_tree_free(merkle_tree *t)
{
	free(t->nodes);
	memset(t, 0, sizeof *t);
}

int merkle_check(const unsigned char leaf[MERKLE_HASH], uint64_t i, uint64_t n,
                 const unsigned char path[][MERKLE_HASH], int path_len,
                 const unsigned char root[MERKLE_HASH])
{
	/* RFC 9162, 2.1.3.2: verifying an inclusion proof. */
	if (i >= n || path_len < 0 || path_len > MERKLE_PATH_MAX)
		return -1;
	uint64_t fn = i, sn = n - 1;
	unsigned char r[MERKLE_HASH];
	merkle_leaf_node(leaf, r);
	for (int p = 0; p < path_len; p++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			merkle_inner_node(path[p], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_inner_node(r, path[p], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, MERKLE_HASH) == 0 ? 0 : -1;
}
