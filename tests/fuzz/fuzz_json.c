/* libFuzzer harness for what a JSON-RPC node sends back: the input parsed
 * as a JSON reply, and the same bytes read as ABI return data and revert
 * data. Must hold for every input:
 *   - a parsed document's nodes lie inside the input, siblings and children
 *     point forward, and every string unescapes into at most its own length
 *     plus a third (\u escapes: 6 bytes give at most 3, pairs 12 give 4);
 *   - object lookups of every member name find a value;
 *   - ABI bytes found in return data lie inside it; a revert reason is
 *     always a NUL-terminated line within its buffer.
 * Anything else aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "json.h"

#define CHECK(c) ((c) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #c), abort()))

static void check_json(const char *s, size_t n)
{
	json_doc d;
	if (json_parse(&d, s, n, NULL) < 0)
		return;
	CHECK(d.n > 0);
	for (size_t i = 0; i < d.n; i++) {
		const json_node *x = &d.nodes[i];
		CHECK(x->start <= n && x->len <= n - x->start);
		CHECK(x->next < 0 || (size_t)x->next > i);
		CHECK(x->first < 0 || (size_t)x->first > i);
		if (x->type == JSON_STRING) {
			size_t cap = x->len + 1;
			char *out = malloc(cap);
			CHECK(out);
			CHECK(json_str(&d, (int)i, out, cap, "s", NULL) == 0);
			CHECK(strlen(out) <= x->len);
			free(out);
		}
		if (x->type == JSON_OBJECT)
			for (int k = x->first; k >= 0; k = d.nodes[d.nodes[k].next].next) {
				CHECK(d.nodes[k].type == JSON_STRING);
				CHECK(d.nodes[k].next >= 0);
				if (!d.nodes[k].escaped && d.nodes[k].len < 64) {
					char key[64];
					memcpy(key, s + d.nodes[k].start, d.nodes[k].len);
					key[d.nodes[k].len] = 0;
					if (!memchr(key, 0, d.nodes[k].len))
						CHECK(json_member(&d, (int)i, key) ==
						      d.nodes[k].next);
				}
			}
	}
	json_free(&d);
}

static void check_abi(const unsigned char *p, size_t n)
{
	for (size_t w = 0; w < 4; w++) {
		const unsigned char *b;
		size_t len;
		if (abi_get_bytes(p, n, w, &b, &len, NULL) == 0)
			CHECK(b >= p && len <= n && (size_t)(b - p) <= n - len);
	}
	char reason[64];
	memset(reason, 'x', sizeof reason);
	abi_revert_reason(reason, sizeof reason, p, n);
	CHECK(memchr(reason, 0, sizeof reason) != NULL);
	CHECK(strchr(reason, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_json((const char *)data, size);
	check_abi(data, size);
	return 0;
}
