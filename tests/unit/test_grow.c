/* Unit tests: grow_array's doubling rule and its refusals. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"

Test(grow, doubles_from_first)
{
	int32_t *v = NULL;
	size_t n = 0, cap = 0;
	for (int32_t i = 0; i < 100; i++) {
		v = grow_array(v, n, &cap, sizeof *v, 4);
		cr_assert_not_null(v);
		v[n++] = i;
		cr_assert(cap >= n);
	}
	cr_assert_eq(cap, 128, "4 doubled five times, got %zu", cap);
	for (int32_t i = 0; i < 100; i++)
		cr_assert_eq(v[i], i);
	int32_t *same = grow_array(v, 100, &cap, sizeof *v, 4);
	cr_assert_eq(same, v, "room left: no reallocation");
	cr_assert_eq(cap, 128);
	free(v);
}

Test(grow, refuses_an_overflowing_size)
{
	size_t cap = SIZE_MAX / 2 + 1;
	char dummy;
	cr_assert_null(grow_array(&dummy, cap, &cap, 1, 16), "doubling overflows");
	cr_assert_eq(cap, SIZE_MAX / 2 + 1, "cap unchanged");
	cap = 0;
	cr_assert_null(grow_array(NULL, 0, &cap, SIZE_MAX / 8, 16), "first * elem overflows");
	cr_assert_eq(cap, 0);
}
