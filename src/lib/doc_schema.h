/*
 * doc_schema.h - the kinds of document dai knows: for each, its version and
 * its keys in their one canonical order, with the type of each value.
 *
 * A document of a known kind must list its keys in this order, with every
 * required key present, no key twice (except a "repeat" key, whose lines
 * stand together), and each value of the declared type. A kind that is not
 * here is still parsed (tools pass it through) with the generic rules only.
 * Later modules add their kinds to the table in doc_schema.c.
 */
#ifndef DAI_DOC_SCHEMA_H
#define DAI_DOC_SCHEMA_H

#include <stddef.h>

enum dai_vtype {
	V_TEXT,       /* printable UTF-8 */
	V_WORD,       /* [a-z0-9._-]+ */
	V_UINT,       /* decimal unsigned 64-bit, no leading zeros */
	V_ID,         /* b2:<64 lowercase hex> */
	V_DID,        /* did:key:z6Mk... (Ed25519) */
	V_B64,        /* canonical padded base64 */
	V_B64_SECRET, /* the same, of secret bytes: checked in constant time */
	V_TIME,       /* YYYY-MM-DDTHH:MM:SSZ, UTC */
};

enum {
	F_OPT = 1,    /* may be absent */
	F_REPEAT = 2, /* may appear on several consecutive lines */
};

typedef struct dai_schema_field {
	const char *key;
	enum dai_vtype type;
	unsigned flags;
} dai_schema_field;

typedef struct dai_schema {
	const char *kind; /* without the "dai-" prefix */
	unsigned version;
	const dai_schema_field *fields;
	size_t nfields;
} dai_schema;

/* The schema of a kind, or NULL when dai does not know it. */
const dai_schema *schema_find(const char *kind);

/* NULL when v[0..n) is a valid value of type t, else what is wrong. */
const char *value_check(enum dai_vtype t, const char *v, size_t n);

/* Parses a V_UINT value; -1 when it is not one. */
int value_uint(const char *v, size_t n, unsigned long long *out);

#endif
