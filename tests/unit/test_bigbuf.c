/* Unit tests: big buffers (bigbuf.h): zeroed, aligned, whole, on both
 * sides of the size where calloc gives way to a mapping of its own. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "bigbuf.h"

TestSuite(bigbuf);

Test(bigbuf, zeroed_aligned_and_writable)
{
	static const size_t sizes[] = {0,
	                               1,
	                               63,
	                               4096,
	                               (1u << 20) - 65,
	                               (1u << 20) - 64,
	                               1u << 20,
	                               (2u << 20) - 64,
	                               2u << 20,
	                               (5u << 20) + 3};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		unsigned char *p = bigbuf_alloc(n);
		cr_assert_not_null(p, "size %zu", n);
		cr_assert_eq((uintptr_t)p % 64, 0, "size %zu: not 64-byte aligned", n);
		for (size_t j = 0; j < n; j++)
			if (p[j]) {
				cr_assert_fail("size %zu: byte %zu is %d, not 0", n, j, p[j]);
				break;
			}
		memset(p, 0xa5, n); /* every byte is ours to write */
		if (n)
			cr_assert_eq(p[n - 1], 0xa5);
		bigbuf_free(p);
	}
	bigbuf_free(NULL);
}

Test(bigbuf, impossible_sizes_fail_cleanly)
{
	cr_assert_null(bigbuf_alloc(SIZE_MAX));
	cr_assert_null(bigbuf_alloc(SIZE_MAX - 100));
}
