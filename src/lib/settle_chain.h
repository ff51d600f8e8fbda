/*
 * settle_chain.h - the settlement steps of dai documents on the DaiEscrow
 * contract (escrow.h): what dai-settle --chain does with a dai-job, a
 * dai-receipt or a dai-fraud instead of appending to the embedded ledger.
 *
 * Ids are the documents' own ("b2:" and 64 hex digits, 32 bytes on chain).
 * Ledger amounts are whole units; on chain they are unit wei each (the
 * job's price per 1000 tokens and its max-price). When the sender acts for
 * a dai identity (did set), the document must name it as the buyer of the
 * job or the worker of the receipt.
 */
#ifndef DAI_SETTLE_CHAIN_H
#define DAI_SETTLE_CHAIN_H

#include "chain.h"
#include "doc.h"
#include "escrow.h"

typedef struct settle_chain {
	chain *c;
	chain_account from;
	const char *did;        /* the sender's dai identity, or NULL (a node account) */
	const char *worker_did; /* escrow: the did a dai-bind gave the worker address, or NULL */
	unsigned char contract[20];
	u256 unit; /* wei per ledger unit */
} settle_chain;

/* "b2:" + 64 hex digits to the 32 id bytes. */
int settle_chain_id(const char *text, unsigned char id[32], const char *what, dai_err *e);

/* Escrows a signed dai-job's max-price for the worker's chain address
 * (which must be bound to the job's worker when s->worker_did is set). */
int settle_chain_escrow(const settle_chain *s, const dai_doc *job, const unsigned char worker[20],
                        chain_receipt *rc, dai_err *e);
/* Claims the job of a signed dai-receipt with its token counts, posting the
 * contract's worker bond. */
int settle_chain_claim(const settle_chain *s, const dai_doc *receipt, chain_receipt *rc,
                       dai_err *e);
/* Challenges the job a dai-fraud names with its id, posting the contract's
 * challenge bond. */
int settle_chain_challenge(const settle_chain *s, const dai_doc *fraud, chain_receipt *rc,
                           dai_err *e);

/* A referee's verdict on the challenge of job: fraud must be the document
 * challenged on chain and job_doc the escrowed job; the verdict is
 * fraud_check's (dai-prove's check), so referees sign what anyone can
 * recompute. *proven is 1 when the fraud is proven. */
int settle_chain_verdict(const settle_chain *s, const unsigned char job[32], const dai_doc *job_doc,
                         const dai_doc *fraud, int *proven, dai_err *e);

#endif
