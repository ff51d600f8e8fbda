/*
 * fraud_check.h - the one place where the ledger asks whether a challenge
 * proves that a worker cheated.
 *
 * A challenge entry carries a dai-fraud document; the ledger's rules call
 * fraud_check to decide it, both when the entry is appended and whenever
 * the log is replayed, so the verdict must be a pure function of the fraud
 * document and the claimed job. The proof check (dai-prove's fraud
 * documents) is not part of dai yet: until it is, fraud_check refuses every
 * challenge with "fraud proof checking is not available yet" and gives no
 * verdict, so no challenge can enter a ledger.
 */
#ifndef DAI_FRAUD_CHECK_H
#define DAI_FRAUD_CHECK_H

#include <stddef.h>

#include "err.h"

/* What a challenge is checked against: the claimed job and its claim. */
typedef struct fraud_claim {
	const char *job;     /* the job's id */
	const char *receipt; /* the claimed receipt's id */
	const char *worker;  /* the worker's did */
	const char *job_doc; /* the signed dai-job, as escrowed */
	size_t job_doc_len;
} fraud_claim;

enum fraud_verdict { FRAUD_NOT_PROVEN = 0, FRAUD_PROVEN = 1 };

/* Checks the fraud document fraud[0..len) against the claim. 0 with a
 * verdict, or -1 when the document cannot be checked (today: always). */
int fraud_check(const char *fraud, size_t len, const fraud_claim *claim,
                enum fraud_verdict *verdict, dai_err *e);

#endif
