/*
 * ledger_entry.h - one ledger entry: a dai-entry document signed by the
 * actor (the key whose money or claim it moves).
 *
 *   dai-entry 1
 *   op <genesis|transfer|stake|unstake|escrow|claim|challenge|finalize|withdraw>
 *   prev <id of the entry before>          (every op but genesis)
 *   ...the fields of the op, in the schema's order...
 *   time <when it was appended>
 *   sig <actor> <signature>
 *
 * Fields per op (every other optional field must be absent):
 *   genesis    window (seconds), bond, alloc "<did> <amount>" (repeated)
 *   transfer   to, amount
 *   stake      amount            unstake   amount
 *   escrow     job, doc (the signed dai-job)
 *   claim      job, receipt, tokens-in, tokens-out
 *   challenge  job, doc (the dai-fraud document)
 *   finalize   job               withdraw  job
 *
 * doc is an embedded document's bytes as base64 over repeated doc lines
 * (b64lines.h): each line but the last holds exactly DAI_B64_CHUNK (36864)
 * bytes, the last 1 to 36864, so an embedded document has one spelling.
 *
 * Parsing checks the form, the fields of the op and the signature; whether
 * the entry is allowed is the state's business (ledger_state.h).
 */
#ifndef DAI_LEDGER_ENTRY_H
#define DAI_LEDGER_ENTRY_H

#include <stdint.h>

#include "b64lines.h"
#include "doc.h"

enum ledger_op {
	OP_GENESIS,
	OP_TRANSFER,
	OP_STAKE,
	OP_UNSTAKE,
	OP_ESCROW,
	OP_CLAIM,
	OP_CHALLENGE,
	OP_FINALIZE,
	OP_WITHDRAW,
	OP_COUNT
};

/* The largest document an entry can embed: 8 MiB, in 228 doc lines. An
 * entry also has at most 5 other fields, and its 228 doc lines of 49157
 * bytes ("doc " + 49152 + newline) take 11.2 MB: it stays well inside
 * DAI_FIELDS_MAX and DAI_DOC_MAX. The largest dai-fraud that fits has a
 * compressed step proof of about 6 MiB (man/dai-settle.1 works it out). */
#define LEDGER_DOC_MAX (8u * 1024u * 1024u)
#define LEDGER_DOC_LINES ((LEDGER_DOC_MAX + DAI_B64_CHUNK - 1) / DAI_B64_CHUNK)
_Static_assert(LEDGER_DOC_LINES + 8 <= DAI_FIELDS_MAX, "doc lines must fit the field limit");
_Static_assert((DAI_B64_CHUNK / 3 * 4 + 5ull) * LEDGER_DOC_LINES + 4096 <= DAI_DOC_MAX,
               "an entry with the largest doc must fit the document limit");

typedef struct ledger_alloc {
	char did[DAI_DID_MAX];
	uint64_t amount;
} ledger_alloc;

typedef struct ledger_entry {
	enum ledger_op op;
	char prev[DAI_ID_LEN + 1]; /* "" for genesis */
	long long time;
	uint64_t window, bond; /* genesis */
	ledger_alloc *alloc;   /* genesis (owned) */
	size_t nalloc;
	char to[DAI_DID_MAX]; /* transfer */
	uint64_t amount;      /* transfer, stake, unstake */
	char job[DAI_ID_LEN + 1];
	char receipt[DAI_ID_LEN + 1]; /* claim */
	uint64_t tokens_in, tokens_out;
	char *doc; /* escrow, challenge: the embedded document's bytes (owned) */
	size_t doc_len;

	/* Set by parsing and encoding: */
	char id[DAI_ID_LEN + 1];
	char actor[DAI_DID_MAX]; /* the signer's did */
	dai_doc raw;             /* the entry document itself */
} ledger_entry;

const char *ledger_op_name(enum ledger_op op);

/* -1 when name is no op. */
int ledger_op_parse(const char *name);

/* Parses one entry from buf[0..len) (name and first_line place errors). */
int entry_parse(ledger_entry *en, const char *buf, size_t len, const char *name,
                unsigned long first_line, dai_err *e);

/* Builds and signs the entry whose op, prev, time and op fields are set in
 * in; out is the parsed result (as entry_parse gives it). */
int entry_encode(const ledger_entry *in, const unsigned char *sk, ledger_entry *out, dai_err *e);

void entry_free(ledger_entry *en);

#endif
