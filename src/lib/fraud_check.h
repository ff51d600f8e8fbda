/*
 * fraud_check.h - the one place where the ledger asks whether a challenge
 * proves that a worker cheated.
 *
 * A challenge entry carries a dai-fraud document; the ledger's rules call
 * fraud_check to decide it, both when the entry is appended and whenever
 * the log is replayed, so the verdict must be a pure function of the fraud
 * document and the claimed job. It is dai-prove's check (prove.h), run on
 * the pack the fraud names, after checking that the fraud is about this
 * claim: its job, its receipt and its worker (and, when the claim carries
 * it, the escrowed job document itself).
 *
 * The pack is found by its id: in DAI_PACKS, a colon-separated list of
 * pack files (each one's manifest read to learn its id), then in the pack
 * cache as <cache>/<id hex>.dai.tar (pack.h). No pack, no verdict: the
 * challenge is refused (-1), never decided without the model.
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
	const char *job_doc; /* the signed dai-job, as escrowed (may be NULL) */
	size_t job_doc_len;
} fraud_claim;

enum fraud_verdict { FRAUD_NOT_PROVEN = 0, FRAUD_PROVEN = 1 };

/* Checks the fraud document fraud[0..len) against the claim. 0 with a
 * verdict, or -1 when the document cannot be checked (malformed, about
 * another claim, its pack not found). */
int fraud_check(const char *fraud, size_t len, const fraud_claim *claim,
                enum fraud_verdict *verdict, dai_err *e);

#endif
