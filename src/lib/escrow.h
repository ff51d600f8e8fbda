/*
 * escrow.h - the DaiEscrow contract (contracts/DaiEscrow.sol) from C:
 * deployment with its referees and terms, the settlement steps as
 * transactions, and its state read back with eth_call.
 *
 * Job, receipt and fraud document ids are the 32-byte ids of the dai
 * documents. Referees sign escrow_resolution_digest, computed here from
 * the chain id, the contract, the job, its receipt and fraud ids and the
 * outcome, so a referee need not trust the node for what it signs; resolve
 * sorts the signatures by signer as the contract requires.
 */
#ifndef DAI_ESCROW_H
#define DAI_ESCROW_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "err.h"
#include "u256.h"

typedef struct escrow_terms {
	const unsigned char (*referees)[20];
	size_t n_referees;
	uint64_t threshold;       /* signatures needed, 1..n_referees */
	uint64_t window;          /* seconds a claim stays open to challenge */
	uint64_t resolve_timeout; /* seconds the referees have */
	u256 worker_bond, challenge_bond;
} escrow_terms;

/* The contract's job states (enum State). */
enum { ESCROW_NONE, ESCROW_ESCROWED, ESCROW_CLAIMED, ESCROW_CHALLENGED, ESCROW_DONE };

typedef struct escrow_job {
	unsigned char buyer[20], worker[20], challenger[20];
	uint64_t expiry, deadline;
	int state;
	u256 amount, rate, price; /* rate: wei per 1000 tokens; price: the claim's cost */
	unsigned char receipt[32], fraud[32];
} escrow_job;

/* Deploys the embedded bytecode; the new contract's address in addr. */
int escrow_deploy(chain *c, const chain_account *from, const escrow_terms *t,
                  unsigned char addr[20], chain_receipt *rc, dai_err *e);

/* Locks amount (the job's maximum price) for worker until expiry (Unix
 * seconds), at rate wei per 1000 tokens. */
int escrow_escrow(chain *c, const chain_account *from, const unsigned char contract[20],
                  const unsigned char job[32], const unsigned char worker[20], uint64_t expiry,
                  const u256 *rate, const u256 *amount, chain_receipt *rc, dai_err *e);
/* Claims the job for a receipt and its token counts; the contract prices
 * them as the embedded ledger does (rate times tokens / 1000, rounded up,
 * at most the escrow). */
int escrow_claim(chain *c, const chain_account *from, const unsigned char contract[20],
                 const unsigned char job[32], const unsigned char receipt[32], uint64_t tokens_in,
                 uint64_t tokens_out, const u256 *bond, chain_receipt *rc, dai_err *e);
int escrow_challenge(chain *c, const chain_account *from, const unsigned char contract[20],
                     const unsigned char job[32], const unsigned char fraud[32], const u256 *bond,
                     chain_receipt *rc, dai_err *e);
/* sigs: n signatures of 65 bytes (r, s, v); any order. */
int escrow_resolve(chain *c, const chain_account *from, const unsigned char contract[20],
                   const unsigned char job[32], int fraud_proven, const unsigned char (*sigs)[65],
                   size_t n, chain_receipt *rc, dai_err *e);
int escrow_finalize(chain *c, const chain_account *from, const unsigned char contract[20],
                    const unsigned char job[32], chain_receipt *rc, dai_err *e);
int escrow_refund(chain *c, const chain_account *from, const unsigned char contract[20],
                  const unsigned char job[32], chain_receipt *rc, dai_err *e);
int escrow_withdraw(chain *c, const chain_account *from, const unsigned char contract[20],
                    chain_receipt *rc, dai_err *e);

int escrow_get_job(chain *c, const unsigned char contract[20], const unsigned char job[32],
                   escrow_job *j, dai_err *e);
int escrow_get_credit(chain *c, const unsigned char contract[20], const unsigned char who[20],
                      u256 *wei, dai_err *e);
/* A uint256 getter without arguments: "workerBond", "challengeBond",
 * "threshold", "window", "resolveTimeout", "refereeCount". */
int escrow_get_param(chain *c, const unsigned char contract[20], const char *name, u256 *v,
                     dai_err *e);

/* The 32 bytes a referee signs as an EIP-191 personal message: keccak256 of
 * abi.encode("dai-resolve", chainId, contract, job, receipt, fraud, proven). */
int escrow_resolution(uint64_t chain_id, const unsigned char contract[20],
                      const unsigned char job[32], const unsigned char receipt[32],
                      const unsigned char fraud[32], int fraud_proven, unsigned char out[32],
                      dai_err *e);

/* A referee's 65-byte signature of that resolution. */
int escrow_sign_resolution(const unsigned char sk[32], const unsigned char resolution[32],
                           unsigned char sig[65], dai_err *e);

/* The contract's events (eth_getLogs from block 0), oldest first, each as
 * one line: "BLOCK TX EVENT field=value ...", e.g.
 * "7 0x1f.. Claimed job=b2:.. receipt=b2:.. tokens-in=7 tokens-out=20 price=5400000000".
 * fn gets each line; a log the contract cannot have written is an error. */
typedef void (*escrow_log_fn)(void *arg, const char *line);
int escrow_log(chain *c, const unsigned char contract[20], escrow_log_fn fn, void *arg, dai_err *e);

#endif
