/* Unit tests: Merkle trees (merkle.h) against a direct transcription of the
 * RFC 6962 definition, every inclusion path of small trees, and tampering. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "merkle.h"

enum { MAXN = 70 };

/* MTH straight from the definition, hashing concatenated buffers. */
static void mth(const unsigned char *d, uint64_t n, unsigned char out[32])
{
	unsigned char buf[65];
	if (n == 1) {
		buf[0] = 0;
		memcpy(buf + 1, d, 32);
		crypto_generichash(out, 32, buf, 33, NULL, 0);
		return;
	}
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	buf[0] = 1;
	mth(d, k, buf + 1);
	mth(d + 32 * k, n - k, buf + 33);
	crypto_generichash(out, 32, buf, 65, NULL, 0);
}

static void fill(unsigned char *leaves, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		for (int j = 0; j < 32; j++)
			leaves[32 * i + j] = (unsigned char)(i * 31 + j * 7 + 1);
}

Test(merkle, root_matches_definition)
{
	cr_assert(sodium_init() >= 0);
	static unsigned char leaves[MAXN * 32];
	fill(leaves, MAXN);
	for (uint64_t n = 1; n <= MAXN; n++) {
		unsigned char a[32], b[32];
		merkle_root(leaves, n, a);
		mth(leaves, n, b);
		cr_assert_eq(memcmp(a, b, 32), 0, "n = %lu", (unsigned long)n);
	}
	/* A leaf is hashed as a leaf node, never used bare. */
	unsigned char r[32];
	merkle_root(leaves, 1, r);
	cr_assert_neq(memcmp(r, leaves, 32), 0);
}

Test(merkle, every_path_checks)
{
	cr_assert(sodium_init() >= 0);
	static unsigned char leaves[MAXN * 32];
	fill(leaves, MAXN);
	for (uint64_t n = 1; n <= MAXN; n++) {
		unsigned char root[32], path[MERKLE_PATH_MAX][32];
		merkle_root(leaves, n, root);
		for (uint64_t i = 0; i < n; i++) {
			int len = merkle_path(leaves, n, i, path);
			int depth = 0;
			while ((1ull << depth) < n)
				depth++;
			cr_assert(len <= depth, "n %lu i %lu: path %d > depth %d", (unsigned long)n,
			          (unsigned long)i, len, depth);
			cr_assert_eq(merkle_check(leaves + 32 * i, i, n, path, len, root), 0,
			             "n %lu i %lu", (unsigned long)n, (unsigned long)i);
			/* Wrong index, wrong size, wrong leaf, wrong sibling: all refused. */
			if (n > 1) {
				cr_assert_neq(
				    merkle_check(leaves + 32 * i, (i + 1) % n, n, path, len, root),
				    0);
				cr_assert_neq(merkle_check(leaves + 32 * ((i + 1) % n), i, n, path,
				                           len, root),
				              0);
				path[len - 1][5] ^= 1;
				cr_assert_neq(merkle_check(leaves + 32 * i, i, n, path, len, root),
				              0);
			}
			cr_assert_neq(merkle_check(leaves + 32 * i, i, n + 1, path, len, root), 0);
			cr_assert_neq(merkle_check(leaves + 32 * i, n, n, path, len, root), 0);
		}
	}
}

Test(merkle, leaf_cannot_pose_as_node)
{
	cr_assert(sodium_init() >= 0);
	/* A two-leaf tree's root is N(L(a), L(b)); presenting L(a)||L(b) content
	 * as a single leaf must not give the same root. */
	unsigned char leaves[64], la[32], lb[32], root2[32], fake[32];
	fill(leaves, 2);
	merkle_root(leaves, 2, root2);
	merkle_leaf_node(leaves, la);
	merkle_leaf_node(leaves + 32, lb);
	merkle_inner_node(la, lb, fake);
	cr_assert_eq(memcmp(fake, root2, 32), 0);
	unsigned char one[32];
	merkle_root(fake, 1, one);
	cr_assert_neq(memcmp(one, root2, 32), 0);
}

/* The built tree gives merkle_path's paths and merkle_root's root for
 * every leaf of every tree size to 300, and a few larger ones. */
Test(merkle, built_tree_matches_paths_and_root)
{
	enum { MAXN = 1100 };
	static unsigned char leaves[MAXN][MERKLE_HASH];
	for (int i = 0; i < MAXN; i++)
		for (int k = 0; k < MERKLE_HASH; k++)
			leaves[i][k] = (unsigned char)(i * 131 + k * 7);
	static const uint64_t big[] = {511, 512, 513, 1023, 1024, 1025, 1100};
	for (uint64_t n = 1; n <= 300 + sizeof big / sizeof big[0]; n++) {
		uint64_t size = n <= 300 ? n : big[n - 301];
		merkle_tree t;
		cr_assert_eq(merkle_tree_build(&t, leaves[0], size), 0);
		unsigned char root[MERKLE_HASH];
		merkle_root(leaves[0], size, root);
		cr_assert_arr_eq(t.level[t.levels - 1], root, MERKLE_HASH, "root of %llu",
		                 (unsigned long long)size);
		for (uint64_t i = 0; i < size; i++) {
			unsigned char a[MERKLE_PATH_MAX][MERKLE_HASH],
			    b[MERKLE_PATH_MAX][MERKLE_HASH];
			int la = merkle_path(leaves[0], size, i, a);
			int lb = merkle_tree_path(&t, i, b);
			cr_assert_eq(la, lb, "leaf %llu of %llu: path lengths %d, %d",
			             (unsigned long long)i, (unsigned long long)size, la, lb);
			cr_assert_arr_eq(a, b, (size_t)la * MERKLE_HASH, "leaf %llu of %llu",
			                 (unsigned long long)i, (unsigned long long)size);
		}
		merkle_tree_free(&t);
	}
	merkle_tree t;
	cr_assert_eq(merkle_tree_build(&t, leaves[0], 0), -1, "no tree of no leaves");
}
