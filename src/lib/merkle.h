/*
 * merkle.h - binary Merkle trees over 32-byte leaves, for inference traces.
 *
 * The tree is the one of RFC 6962 (Certificate Transparency), with
 * BLAKE2b-256 and domain separation so that a leaf can never pass for an
 * inner node or the other way round:
 *
 *   leaf node  L(d)      = BLAKE2b-256(0x00 || d)          (d: a 32-byte leaf)
 *   inner node N(a, b)   = BLAKE2b-256(0x01 || a || b)
 *   MTH([d])             = L(d)
 *   MTH(D[0..n)), n > 1  = N(MTH(D[0..k)), MTH(D[k..n)))
 *                          with k the largest power of two below n
 *
 * A tree of n leaves has depth ceil(log2 n), so a path has at most 64
 * entries. The root of an empty tree is BLAKE2b-256 of nothing (never used
 * by dai; defined so every n has a root).
 *
 * A path (an audit path, RFC 6962 2.1.1) proves that leaf i of n is under a
 * root: the sibling hashes from the leaf upwards.
 */
#ifndef DAI_MERKLE_H
#define DAI_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH 32
#define MERKLE_PATH_MAX 64

/* The root of n leaves (each MERKLE_HASH bytes, contiguous). Uses O(log n)
 * stack and no allocation. */
void merkle_root(const unsigned char *leaves, uint64_t n, unsigned char root[MERKLE_HASH]);

/* Fills path with the audit path of leaf i (< n); returns its length. */
int merkle_path(const unsigned char *leaves, uint64_t n, uint64_t i,
                unsigned char path[][MERKLE_HASH]);

/*
 * Every node of a tree, for many paths: merkle_path recomputes the tree
 * for each path (O(n) hashes apiece), this builds it once (2n hashes) and
 * then gives each path by lookup. Built bottom up: level h + 1 pairs the
 * nodes of level h and carries a last odd node up unhashed, which is the
 * same tree as the split at the largest power of two above.
 */
typedef struct merkle_tree {
	uint64_t n;                          /* leaves */
	int levels;                          /* level 0: leaf nodes; the last: the root */
	uint64_t count[MERKLE_PATH_MAX + 1]; /* nodes per level */
	unsigned char *level[MERKLE_PATH_MAX + 1];
	unsigned char *nodes; /* every level, one allocation */
} merkle_tree;

/* Builds the tree of n >= 1 leaves; -1 when out of memory. */
int merkle_tree_build(merkle_tree *t, const unsigned char *leaves, uint64_t n);
/* The same as merkle_path for leaf i (< t->n). */
int merkle_tree_path(const merkle_tree *t, uint64_t i, unsigned char path[][MERKLE_HASH]);
void merkle_tree_free(merkle_tree *t);

/* 0 when leaf (the raw 32-byte leaf, not its leaf node) is leaf i of n
 * under root with the given path, -1 otherwise. */
int merkle_check(const unsigned char leaf[MERKLE_HASH], uint64_t i, uint64_t n,
                 const unsigned char path[][MERKLE_HASH], int path_len,
                 const unsigned char root[MERKLE_HASH]);

/* The node hashes, exposed for tests and for callers that build leaves. */
void merkle_leaf_node(const unsigned char leaf[MERKLE_HASH], unsigned char out[MERKLE_HASH]);
void merkle_inner_node(const unsigned char a[MERKLE_HASH], const unsigned char b[MERKLE_HASH],
                       unsigned char out[MERKLE_HASH]);

#endif
