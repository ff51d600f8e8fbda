/*
 * settle.h - the ledger operations dai-settle performs, each turning a
 * document or a request into one checked, durable ledger entry.
 */
#ifndef DAI_SETTLE_H
#define DAI_SETTLE_H

#include "key.h"
#include "ledger_file.h"

/* Locks the max-price of a signed dai-job from its buyer (k). */
int settle_escrow(ledger *l, const dai_key *k, const dai_doc *job, char id[DAI_ID_LEN + 1],
                  dai_err *e);

/* Claims the job of a signed dai-receipt for its worker (k), opening the
 * challenge window. */
int settle_claim(ledger *l, const dai_key *k, const dai_doc *receipt, char id[DAI_ID_LEN + 1],
                 dai_err *e);

/* Challenges a claim with a dai-fraud document; the challenger (k) puts up
 * the genesis bond. The verdict is fraud_check's (fraud_check.h). */
int settle_challenge(ledger *l, const dai_key *k, const dai_doc *fraud, char id[DAI_ID_LEN + 1],
                     dai_err *e);

/* Pays a claimed job whose window has passed; anyone (k) may sign it. */
int settle_finalize(ledger *l, const dai_key *k, const char *job, char id[DAI_ID_LEN + 1],
                    dai_err *e);

/* Finalizes every claim whose window has passed at the current time;
 * *count gets how many. Stops at the first failure. */
int settle_finalize_all(ledger *l, const dai_key *k, unsigned long *count, dai_err *e);

/* Gives the buyer (k) back the escrow of a job never claimed, once the
 * job's expiry plus the window has passed. */
int settle_withdraw(ledger *l, const dai_key *k, const char *job, char id[DAI_ID_LEN + 1],
                    dai_err *e);

/* transfer (to, amount), stake and unstake (amount) for k. */
int settle_transfer(ledger *l, const dai_key *k, const char *to, uint64_t amount,
                    char id[DAI_ID_LEN + 1], dai_err *e);
int settle_stake(ledger *l, const dai_key *k, int unstake, uint64_t amount, char id[DAI_ID_LEN + 1],
                 dai_err *e);

/* Writes the genesis of an empty ledger. */
int settle_genesis(ledger *l, const dai_key *k, uint64_t window, uint64_t bond,
                   const ledger_alloc *alloc, size_t nalloc, char id[DAI_ID_LEN + 1], dai_err *e);

/* The job a document names: a dai-job's own id, a dai-receipt's job. */
int settle_job_of(const dai_doc *d, char job[DAI_ID_LEN + 1], dai_err *e);

#endif
