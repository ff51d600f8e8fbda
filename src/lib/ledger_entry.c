/* ledger_entry.c - see ledger_entry.h. */
#include "ledger_entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc_schema.h"
#include "timefmt.h"

static const char *const op_names[OP_COUNT] = {
    "genesis", "transfer",  "stake",    "unstake",  "escrow",
    "claim",   "challenge", "finalize", "withdraw",
};

/* The optional fields, as bits, and which of them each op carries. */
enum {
	X_PREV = 1 << 0,
	X_WINDOW = 1 << 1,
	X_BOND = 1 << 2,
	X_ALLOC = 1 << 3,
	X_TO = 1 << 4,
	X_AMOUNT = 1 << 5,
	X_JOB = 1 << 6,
	X_RECEIPT = 1 << 7,
	X_TIN = 1 << 8,
	X_TOUT = 1 << 9,
	X_DOC = 1 << 10,
};
static const struct {
	const char *key;
	unsigned bit;
} opt_keys[] = {
    {"prev", X_PREV},     {"window", X_WINDOW},   {"bond", X_BOND}, {"alloc", X_ALLOC},
    {"to", X_TO},         {"amount", X_AMOUNT},   {"job", X_JOB},   {"receipt", X_RECEIPT},
    {"tokens-in", X_TIN}, {"tokens-out", X_TOUT}, {"doc", X_DOC},
};
static const unsigned op_fields[OP_COUNT] = {
    [OP_GENESIS] = X_WINDOW | X_BOND | X_ALLOC,
    [OP_TRANSFER] = X_PREV | X_TO | X_AMOUNT,
    [OP_STAKE] = X_PREV | X_AMOUNT,
    [OP_UNSTAKE] = X_PREV | X_AMOUNT,
    [OP_ESCROW] = X_PREV | X_JOB | X_DOC,
    [OP_CLAIM] = X_PREV | X_JOB | X_RECEIPT | X_TIN | X_TOUT,
    [OP_CHALLENGE] = X_PREV | X_JOB | X_DOC,
    [OP_FINALIZE] = X_PREV | X_JOB,
    [OP_WITHDRAW] = X_PREV | X_JOB,
};

const char *ledger_op_name(enum ledger_op op)
{
	return (unsigned)op < OP_COUNT ? op_names[op] : "?";
}

int ledger_op_parse(const char *name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

void entry_free(ledger_entry *en)
{
	free(en->alloc);
	free(en->doc);
	doc_free(&en->raw);
	memset(en, 0, sizeof *en);
}

static int get_uint(const dai_doc *d, const char *key, uint64_t *out)
{
	size_t n;
	const char *v = doc_get(d, key);
	unsigned long long x;
	n = v ? strlen(v) : 0;
	if (!v || value_uint(v, n, &x))
		return -1;
	*out = x;
	return 0;
}

/* "did:key:z6Mk... 123": a did, one space, an amount. */
static int parse_alloc(const char *v, size_t n, ledger_alloc *a)
{
	const char *sp = memchr(v, ' ', n);
	unsigned char pk[32];
	unsigned long long x;
	if (!sp || (size_t)(sp - v) >= DAI_DID_MAX || ed25519_from_did(pk, v, (size_t)(sp - v)) ||
	    value_uint(sp + 1, n - (size_t)(sp + 1 - v), &x))
		return -1;
	memcpy(a->did, v, (size_t)(sp - v));
	a->did[sp - v] = 0;
	a->amount = x;
	return 0;
}

/* Fills en from its parsed document d (which it takes over). */
static int entry_fill(ledger_entry *en, dai_doc *d, const char *where, dai_err *e)
{
	memset(en, 0, sizeof *en);
	en->raw = *d;
	d = &en->raw;
	if (strcmp(d->kind, "entry") != 0) {
		dai_errf(e, "%s: a dai-%s where a ledger entry was expected", where, d->kind);
		goto fail;
	}
	int op = ledger_op_parse(doc_get(d, "op"));
	if (op < 0) {
		dai_errf(e, "%s: unknown op '%.40s'", where, doc_get(d, "op"));
		goto fail;
	}
	en->op = (enum ledger_op)op;
	unsigned have = 0;
	for (size_t i = 0; i < d->nfields; i++)
		for (size_t k = 0; k < sizeof opt_keys / sizeof opt_keys[0]; k++)
			if (strcmp(d->fields[i].key, opt_keys[k].key) == 0)
				have |= opt_keys[k].bit;
	unsigned want = op_fields[op];
	for (size_t k = 0; k < sizeof opt_keys / sizeof opt_keys[0]; k++) {
		unsigned bit = opt_keys[k].bit;
		if ((want & bit) && !(have & bit)) {
			dai_errf(e, "%s: %s entry lacks '%s'", where, op_names[op],
			         opt_keys[k].key);
			goto fail;
		}
		if (!(want & bit) && (have & bit)) {
			dai_errf(e, "%s: %s entry must not have '%s'", where, op_names[op],
			         opt_keys[k].key);
			goto fail;
		}
	}
	if (!d->is_signed) {
		dai_errf(e, "%s: entry is not signed", where);
		goto fail;
	}
	if (doc_verify(d, e)) {
		dai_err_prefix(e, where);
		goto fail;
	}
	ed25519_did(en->actor, d->signer_pk);
	doc_id(d, en->id);
	const char *t = doc_get(d, "time");
	if (time_parse(t, strlen(t), &en->time)) {
		dai_errf(e, "%s: bad time", where); /* the schema checked it */
		goto fail;
	}
	if (have & X_PREV)
		strcpy(en->prev, doc_get(d, "prev"));
	if (have & X_WINDOW)
		get_uint(d, "window", &en->window);
	if (have & X_BOND)
		get_uint(d, "bond", &en->bond);
	if (have & X_AMOUNT)
		get_uint(d, "amount", &en->amount);
	if (have & X_TIN)
		get_uint(d, "tokens-in", &en->tokens_in);
	if (have & X_TOUT)
		get_uint(d, "tokens-out", &en->tokens_out);
	if (have & X_TO)
		snprintf(en->to, sizeof en->to, "%s", doc_get(d, "to"));
	if (have & X_JOB)
		strcpy(en->job, doc_get(d, "job"));
	if (have & X_RECEIPT)
		strcpy(en->receipt, doc_get(d, "receipt"));
	if (have & X_ALLOC) {
		en->alloc = calloc(d->nfields, sizeof *en->alloc);
		if (!en->alloc) {
			dai_errf(e, "%s: out of memory", where);
			goto fail;
		}
		for (size_t i = 0; i < d->nfields; i++) {
			const dai_field *f = &d->fields[i];
			if (strcmp(f->key, "alloc") != 0)
				continue;
			if (parse_alloc(f->val, f->vallen, &en->alloc[en->nalloc])) {
				dai_errf(e, "%s: alloc '%.80s' is not '<did> <amount>'", where,
				         f->val);
				goto fail;
			}
			en->nalloc++;
		}
	}
	if (have & X_DOC) {
		unsigned char *doc;
		if (doc_get_b64_lines(d, "doc", LEDGER_DOC_MAX, &doc, &en->doc_len, e)) {
			dai_err_prefix(e, where);
			goto fail;
		}
		en->doc = (char *)doc;
	}
	return 0;
fail:
	entry_free(en);
	return -1;
}

int entry_parse(ledger_entry *en, const char *buf, size_t len, const char *name,
                unsigned long first_line, dai_err *e)
{
	dai_doc d;
	char where[128];
	memset(en, 0, sizeof *en);
	if (doc_parse(&d, buf, len, name, first_line, e))
		return -1;
	snprintf(where, sizeof where, "%s: line %lu", name, first_line);
	return entry_fill(en, &d, where, e);
}

int entry_encode(const ledger_entry *in, const unsigned char *sk, ledger_entry *out, dai_err *e)
{
	if ((unsigned)in->op >= OP_COUNT)
		return dai_errf(e, "entry: bad op");
	unsigned want = op_fields[in->op];
	char t[DAI_TIME_LEN + 1];
	dai_docb b;
	dai_doc d;
	docb_init(&b, "entry", 1);
	docb_add(&b, "op", op_names[in->op]);
	if (want & X_PREV)
		docb_add(&b, "prev", in->prev);
	if (want & X_WINDOW)
		docb_addf(&b, "window", "%llu", (unsigned long long)in->window);
	if (want & X_BOND)
		docb_addf(&b, "bond", "%llu", (unsigned long long)in->bond);
	if (want & X_ALLOC)
		for (size_t i = 0; i < in->nalloc; i++)
			docb_addf(&b, "alloc", "%s %llu", in->alloc[i].did,
			          (unsigned long long)in->alloc[i].amount);
	if (want & X_TO)
		docb_add(&b, "to", in->to);
	if (want & X_AMOUNT)
		docb_addf(&b, "amount", "%llu", (unsigned long long)in->amount);
	if (want & X_JOB)
		docb_add(&b, "job", in->job);
	if (want & X_RECEIPT)
		docb_add(&b, "receipt", in->receipt);
	if (want & X_TIN)
		docb_addf(&b, "tokens-in", "%llu", (unsigned long long)in->tokens_in);
	if (want & X_TOUT)
		docb_addf(&b, "tokens-out", "%llu", (unsigned long long)in->tokens_out);
	if ((want & X_DOC) && in->doc_len > LEDGER_DOC_MAX) {
		docb_free(&b);
		return dai_errf(e, "entry: the embedded document is %zu bytes, over %u",
		                in->doc_len, LEDGER_DOC_MAX);
	}
	if (want & X_DOC)
		docb_add_b64_lines(&b, "doc", in->doc, in->doc_len);
	time_format(t, in->time);
	docb_add(&b, "time", t);
	if (docb_sign(&b, &d, sk, e))
		return -1;
	return entry_fill(out, &d, "new entry", e);
}
