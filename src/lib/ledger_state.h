/*
 * ledger_state.h - the state of a ledger and the rules that change it.
 *
 * The state is the replay of the log: accounts (balance, stake, worker
 * record), jobs by id (escrow, claim, outcome), the head of the chain and
 * the genesis terms (challenge window, challenge bond, total money).
 * state_apply checks one entry against every rule and, only when all hold,
 * applies it; a refused entry leaves the state as it was. Money is never
 * made or destroyed after the genesis: balances, stakes, escrows and bonds
 * always sum to the genesis total.
 */
#ifndef DAI_LEDGER_STATE_H
#define DAI_LEDGER_STATE_H

#include <stdint.h>

#include "ledger_entry.h"
#include "strmap.h"

typedef struct ledger_account {
	char did[DAI_DID_MAX];
	uint64_t balance;   /* spendable */
	uint64_t stake;     /* staked as a worker; slashed by a proven challenge */
	uint64_t finalized; /* jobs this worker was paid for */
	uint64_t slashed;   /* jobs this worker was proven to have cheated on */
	uint64_t open;      /* claims of this worker still in their window */
} ledger_account;

enum ledger_job_status {
	JOB_ESCROWED,  /* money locked, no claim yet */
	JOB_CLAIMED,   /* claimed; the challenge window runs */
	JOB_FINALIZED, /* worker paid, rest refunded */
	JOB_SLASHED,   /* a challenge proved fraud */
	JOB_WITHDRAWN, /* never claimed; the buyer took the escrow back */
};

typedef struct ledger_job {
	char id[DAI_ID_LEN + 1];
	uint32_t buyer, worker; /* account indexes */
	char model[DAI_ID_LEN + 1];
	uint64_t max_tokens; /* the most tokens the worker may generate */
	uint64_t price;      /* per 1000 tokens */
	uint64_t locked;     /* the job's max-price, held in escrow */
	long long expires;
	enum ledger_job_status status;
	long long claimed_at; /* time of the claim entry */
	char receipt[DAI_ID_LEN + 1];
	uint64_t tokens_in, tokens_out;
	uint64_t paid; /* to the worker, once finalized */
} ledger_job;

typedef struct ledger_state {
	int started; /* the genesis is applied */
	char head[DAI_ID_LEN + 1];
	long long head_time;
	uint64_t entries;
	uint64_t window; /* challenge window in seconds */
	uint64_t bond;   /* what a challenge puts at stake */
	uint64_t total;  /* the money made by the genesis */
	ledger_account *acc;
	size_t nacc, cap_acc;
	ledger_job *jobs;
	size_t njobs, cap_jobs;
	dai_strmap acc_ix, job_ix;
} ledger_state;

void state_init(ledger_state *st);
void state_free(ledger_state *st);

/* Checks en against the rules and applies it. -1 (the state unchanged) with
 * the rule it breaks. */
int state_apply(ledger_state *st, const ledger_entry *en, dai_err *e);

const ledger_account *state_account(const ledger_state *st, const char *did);
const ledger_job *state_job(const ledger_state *st, const char *id);

/* Sum of every balance, stake and escrow still locked: always st->total. */
int state_sum(const ledger_state *st, uint64_t *sum);

/* What a job costs: price per 1000 tokens times (tokens_in + tokens_out),
 * divided by 1000 and rounded up, capped at cap (also when it overflows). */
uint64_t ledger_cost(uint64_t price, uint64_t tokens_in, uint64_t tokens_out, uint64_t cap);

#endif
