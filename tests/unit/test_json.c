/* Unit tests: the strict JSON reader of JSON-RPC replies. */
#include <criterion/criterion.h>
#include <string.h>

#include "json.h"

static int parses(const char *s)
{
	json_doc d;
	if (json_parse(&d, s, strlen(s), NULL) < 0)
		return 0;
	json_free(&d);
	return 1;
}

Test(json, members_strings_and_nesting)
{
	const char *s =
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"status\":\"0x1\",\"logs\":[1,-2.5e3,"
	    "true,null,[]],\"msg\":\"a\\\"b\\u00e9\\ud83d\\ude00\\n\"}}";
	json_doc d;
	dai_err e;
	cr_assert_eq(json_parse(&d, s, strlen(s), &e), 0, "%s", e.msg);
	int r = json_member(&d, 0, "result");
	cr_assert_eq(d.nodes[r].type, JSON_OBJECT);
	cr_assert(json_str_eq(&d, json_member(&d, r, "status"), "0x1"));
	cr_assert(json_str_eq(&d, json_member(&d, 0, "jsonrpc"), "2.0"));
	cr_assert_eq(json_member(&d, r, "absent"), -1);
	cr_assert_eq(json_member(&d, json_member(&d, 0, "id"), "x"), -1, "not an object");
	char out[32];
	cr_assert_eq(json_str(&d, json_member(&d, r, "msg"), out, sizeof out, "msg", &e), 0);
	cr_assert_str_eq(out, "a\"b\xc3\xa9\xf0\x9f\x98\x80\n");
	cr_assert_eq(json_str(&d, json_member(&d, r, "msg"), out, 4, "msg", &e), -1, "too long");
	int logs = json_member(&d, r, "logs");
	int n = 0;
	for (int i = d.nodes[logs].first; i >= 0; i = d.nodes[i].next)
		n++;
	cr_assert_eq(n, 5);
	json_free(&d);
}

Test(json, refuses_what_is_not_json)
{
	static const char *bad[] = {
	    "",
	    "{",
	    "{\"a\":1,}",
	    "[1,]",
	    "{\"a\" 1}",
	    "01",
	    "1.",
	    "-",
	    "+1",
	    "1e",
	    "\"\\x\"",
	    "\"a\nb\"",
	    "\"\\ud800\"",
	    "\"\\udc00x\"",
	    "tru",
	    "nul",
	    "[1] x",
	    "{\"a\":1,\"a\":2}",
	    "/*c*/1",
	    "{'a':1}",
	    "[\"\\u12\"]",
	    "\"unterminated",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert(!parses(bad[i]), "accepted: %s", bad[i]);
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	json_doc d;
	cr_assert_eq(json_parse(&d, deep, 200, NULL), -1, "nesting too deep");
	cr_assert(parses(" [ 0 , -0.5 , 1E+2 , \"\" , {} ] "));
}

Test(json, duplicate_names_compared_unescaped)
{
	/* One name spelled twice is ambiguous whatever the escapes. */
	cr_assert_not(parses("{\"a\":1,\"a\":2}"));
	cr_assert_not(parses("{\"\\u0061\":1,\"a\":2}"));
	cr_assert_not(parses("{\"\\ud83d\\ude0e\":1,\"\xf0\x9f\x98\x8e\":2}"));
	cr_assert_not(parses("{\"\\u00e9\":1,\"\\u00E9\":2}"));
	cr_assert(parses("{\"\\u00e9\":1,\"e\":2}"));
	cr_assert(parses("{\"a\":{\"a\":1}}"));
}
