/*
 * json.h - a small strict JSON reader for JSON-RPC replies (RFC 8259):
 * the text is parsed once into a flat array of nodes that point into it;
 * lookups walk the nodes. Anything outside the grammar (trailing commas,
 * comments, bad escapes, lone surrogates, control characters in strings,
 * leading zeros, trailing bytes) is refused, nesting is limited to
 * JSON_MAX_DEPTH, and an object may not repeat a key (compared as spelt,
 * so two spellings of one key through escapes are not caught).
 */
#ifndef DAI_JSON_H
#define DAI_JSON_H

#include <stddef.h>

#include "err.h"

#define JSON_MAX_DEPTH 32

typedef enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
} json_type;

/* Children of an array are its elements; children of an object are its
 * members as key (a string node) then value. */
typedef struct json_node {
	json_type type;
	size_t start, len; /* the value's text (a string's without its quotes) */
	int next;          /* next sibling, -1 at the end */
	int first;         /* first child, -1 when empty */
	int escaped;       /* a string holding backslash escapes */
} json_node;

typedef struct json_doc {
	const char *text;
	json_node *nodes;
	size_t n, cap;
} json_doc;

/* Parses text[0..len) (which must outlive doc); node 0 is the root. */
int json_parse(json_doc *doc, const char *text, size_t len, dai_err *e);
void json_free(json_doc *doc);

/* The value of member key in object node obj, or -1 (also when obj is not
 * an object). */
int json_member(const json_doc *doc, int obj, const char *key);

/* 1 when node i is a string equal to s (after unescaping). */
int json_str_eq(const json_doc *doc, int i, const char *s);

/* Copies string node i, unescaped to UTF-8, into out (cap bytes with the
 * NUL); -1 when it is not a string or does not fit (what names it). */
int json_str(const json_doc *doc, int i, char *out, size_t cap, const char *what, dai_err *e);

#endif
