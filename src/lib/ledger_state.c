/* ledger_state.c - see ledger_state.h. */
#include "ledger_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc_schema.h"
#include "fraud_check.h"
#include "timefmt.h"

void state_init(ledger_state *st)
{
	memset(st, 0, sizeof *st);
}

void state_free(ledger_state *st)
{
	free(st->acc);
	free(st->jobs);
	strmap_free(&st->acc_ix);
	strmap_free(&st->job_ix);
	memset(st, 0, sizeof *st);
}

uint64_t ledger_cost(uint64_t price, uint64_t tokens_in, uint64_t tokens_out, uint64_t cap)
{
	uint64_t tokens, product;
	if (__builtin_add_overflow(tokens_in, tokens_out, &tokens) ||
	    __builtin_mul_overflow(price, tokens, &product))
		return cap;
	uint64_t cost = product / 1000 + (product % 1000 != 0);
	return cost < cap ? cost : cap;
}

const ledger_account *state_account(const ledger_state *st, const char *did)
{
	long i = strmap_get(&st->acc_ix, did);
	return i < 0 ? NULL : &st->acc[i];
}

const ledger_job *state_job(const ledger_state *st, const char *id)
{
	long i = strmap_get(&st->job_ix, id);
	return i < 0 ? NULL : &st->jobs[i];
}

int state_sum(const ledger_state *st, uint64_t *sum)
{
	uint64_t s = 0;
	for (size_t i = 0; i < st->nacc; i++)
		if (__builtin_add_overflow(s, st->acc[i].balance, &s) ||
		    __builtin_add_overflow(s, st->acc[i].stake, &s))
			return -1;
	for (size_t i = 0; i < st->njobs; i++) {
		const ledger_job *j = &st->jobs[i];
		if ((j->status == JOB_ESCROWED || j->status == JOB_CLAIMED) &&
		    __builtin_add_overflow(s, j->locked, &s))
			return -1;
	}
	*sum = s;
	return 0;
}

/* The index of did's account, made (empty) when missing; -1 out of memory. */
static long account(ledger_state *st, const char *did)
{
	long i = strmap_get(&st->acc_ix, did);
	if (i >= 0)
		return i;
	if (st->nacc == st->cap_acc) {
		size_t cap = st->cap_acc ? st->cap_acc * 2 : 16;
		ledger_account *a = realloc(st->acc, cap * sizeof *a);
		if (!a)
			return -1;
		st->acc = a;
		st->cap_acc = cap;
	}
	ledger_account *a = &st->acc[st->nacc];
	memset(a, 0, sizeof *a);
	snprintf(a->did, sizeof a->did, "%s", did);
	if (strmap_put(&st->acc_ix, did, (uint32_t)st->nacc))
		return -1;
	return (long)st->nacc++;
}

static uint64_t balance_of(const ledger_state *st, const char *did)
{
	const ledger_account *a = state_account(st, did);
	return a ? a->balance : 0;
}

/* Adds to a balance; every balance is at most the total, so this only
 * fails on a broken state. */
static int credit(uint64_t *to, uint64_t amount, dai_err *e)
{
	if (__builtin_add_overflow(*to, amount, to))
		return dai_errf(e, "amount overflows");
	return 0;
}

#define REFUSE(...) dai_errf(e, __VA_ARGS__)

static int apply_genesis(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	uint64_t total = 0;
	if (en->window == 0)
		return REFUSE("genesis: the challenge window must be at least one second");
	if (en->nalloc == 0)
		return REFUSE("genesis: no allocations");
	for (size_t i = 0; i < en->nalloc; i++) {
		if (__builtin_add_overflow(total, en->alloc[i].amount, &total))
			return REFUSE("genesis: allocations overflow");
		for (size_t j = 0; j < i; j++)
			if (strcmp(en->alloc[i].did, en->alloc[j].did) == 0)
				return REFUSE("genesis: %s allocated twice", en->alloc[i].did);
	}
	for (size_t i = 0; i < en->nalloc; i++) {
		long a = account(st, en->alloc[i].did);
		if (a < 0)
			return REFUSE("out of memory");
		st->acc[a].balance = en->alloc[i].amount;
	}
	st->window = en->window;
	st->bond = en->bond;
	st->total = total;
	return 0;
}

static int apply_transfer(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	if (en->amount == 0)
		return REFUSE("transfer: amount is zero");
	if (strcmp(en->to, en->actor) == 0)
		return REFUSE("transfer: %s to itself", en->actor);
	uint64_t have = balance_of(st, en->actor);
	if (have < en->amount)
		return REFUSE("transfer: overdraft: %s has %llu, needs %llu", en->actor,
		              (unsigned long long)have, (unsigned long long)en->amount);
	long to = account(st, en->to), from = account(st, en->actor);
	if (to < 0 || from < 0)
		return REFUSE("out of memory");
	if (credit(&st->acc[to].balance, en->amount, e))
		return -1;
	st->acc[from].balance -= en->amount;
	return 0;
}

static int apply_stake(ledger_state *st, const ledger_entry *en, int unstake, dai_err *e)
{
	const ledger_account *a = state_account(st, en->actor);
	const char *op = unstake ? "unstake" : "stake";
	if (en->amount == 0)
		return REFUSE("%s: amount is zero", op);
	uint64_t have = a ? (unstake ? a->stake : a->balance) : 0;
	if (have < en->amount)
		return REFUSE("%s: overdraft: %s has %llu %s, needs %llu", op, en->actor,
		              (unsigned long long)have, unstake ? "staked" : "spendable",
		              (unsigned long long)en->amount);
	if (unstake && a->open)
		return REFUSE("unstake: %s has %llu claim(s) still in their challenge window",
		              en->actor, (unsigned long long)a->open);
	long i = account(st, en->actor);
	ledger_account *m = &st->acc[i];
	if (unstake) {
		m->stake -= en->amount;
		m->balance += en->amount;
	} else {
		m->balance -= en->amount;
		m->stake += en->amount;
	}
	return 0;
}

/* The escrowed dai-job: signed by the buyer, who is the actor. */
static int apply_escrow(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	dai_doc j;
	char id[DAI_ID_LEN + 1];
	unsigned long long price, maxp, maxtok;
	long long expires;
	int rc = -1;
	if (doc_parse(&j, en->doc, en->doc_len, "escrowed job", 1, e))
		return -1;
	doc_id(&j, id);
	const char *buyer = doc_get(&j, "buyer"), *worker = doc_get(&j, "worker");
	if (strcmp(j.kind, "job") != 0) {
		REFUSE("escrow: the embedded document is a dai-%s, not a dai-job", j.kind);
		goto out;
	}
	if (strcmp(id, en->job) != 0) {
		REFUSE("escrow: the embedded job's id is %s, not %s", id, en->job);
		goto out;
	}
	if (doc_verify(&j, e)) {
		dai_err_prefix(e, "escrow: job");
		goto out;
	}
	char signer[DAI_DID_MAX];
	ed25519_did(signer, j.signer_pk);
	if (strcmp(signer, buyer) != 0) {
		REFUSE("escrow: job %s is signed by %s, not by its buyer", id, signer);
		goto out;
	}
	if (strcmp(en->actor, buyer) != 0) {
		REFUSE("escrow: only the job's buyer %s may escrow it, not %s", buyer, en->actor);
		goto out;
	}
	if (state_job(st, id)) {
		REFUSE("escrow: job %s is already on the ledger (replayed job)", id);
		goto out;
	}
	const char *exp = doc_get(&j, "expires"), *p = doc_get(&j, "price"),
	           *mp = doc_get(&j, "max-price"), *mt = doc_get(&j, "max-tokens");
	if (time_parse(exp, strlen(exp), &expires) || value_uint(p, strlen(p), &price) ||
	    value_uint(mp, strlen(mp), &maxp) || value_uint(mt, strlen(mt), &maxtok)) {
		REFUSE("escrow: bad job");
		goto out;
	}
	if (en->time > expires) {
		REFUSE("escrow: job %s expired at %s", id, exp);
		goto out;
	}
	uint64_t have = balance_of(st, buyer);
	if (have < maxp) {
		REFUSE("escrow: overdraft: %s has %llu, the job's max-price is %llu", buyer,
		       (unsigned long long)have, maxp);
		goto out;
	}
	long b = account(st, buyer), w = account(st, worker);
	if (b < 0 || w < 0) {
		REFUSE("out of memory");
		goto out;
	}
	if (st->njobs == st->cap_jobs) {
		size_t cap = st->cap_jobs ? st->cap_jobs * 2 : 16;
		ledger_job *nj = realloc(st->jobs, cap * sizeof *nj);
		if (!nj) {
			REFUSE("out of memory");
			goto out;
		}
		st->jobs = nj;
		st->cap_jobs = cap;
	}
	if (strmap_put(&st->job_ix, id, (uint32_t)st->njobs)) {
		REFUSE("out of memory");
		goto out;
	}
	ledger_job *nj = &st->jobs[st->njobs++];
	memset(nj, 0, sizeof *nj);
	strcpy(nj->id, id);
	nj->buyer = (uint32_t)b;
	nj->worker = (uint32_t)w;
	snprintf(nj->model, sizeof nj->model, "%s", doc_get(&j, "model"));
	nj->max_tokens = maxtok;
	nj->price = price;
	nj->locked = maxp;
	nj->expires = expires;
	nj->status = JOB_ESCROWED;
	st->acc[b].balance -= maxp;
	rc = 0;
out:
	doc_free(&j);
	return rc;
}

static const char *status_name(enum ledger_job_status s)
{
	switch (s) {
	case JOB_ESCROWED:
		return "escrowed and not claimed";
	case JOB_CLAIMED:
		return "already claimed";
	case JOB_FINALIZED:
		return "already finalized";
	case JOB_SLASHED:
		return "already slashed";
	case JOB_WITHDRAWN:
		return "withdrawn by its buyer";
	}
	return "?";
}

/* The job an entry names, or NULL with "op: no escrow for job". */
static ledger_job *job_of(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	long i = strmap_get(&st->job_ix, en->job);
	if (i < 0) {
		REFUSE("%s: job %s is not escrowed", ledger_op_name(en->op), en->job);
		return NULL;
	}
	return &st->jobs[i];
}

static int apply_claim(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	ledger_job *j = job_of(st, en, e);
	if (!j)
		return -1;
	if (j->status != JOB_ESCROWED)
		return REFUSE("claim: job %s is %s", j->id, status_name(j->status));
	const char *worker = st->acc[j->worker].did;
	if (strcmp(en->actor, worker) != 0)
		return REFUSE("claim: job %s is for worker %s, not %s", j->id, worker, en->actor);
	if (en->tokens_out > j->max_tokens)
		return REFUSE("claim: %llu tokens generated, job %s allows %llu",
		              (unsigned long long)en->tokens_out, j->id,
		              (unsigned long long)j->max_tokens);
	j->status = JOB_CLAIMED;
	j->claimed_at = en->time;
	strcpy(j->receipt, en->receipt);
	j->tokens_in = en->tokens_in;
	j->tokens_out = en->tokens_out;
	st->acc[j->worker].open++;
	return 0;
}

static int window_ends(const ledger_state *st, const ledger_job *j, long long *end)
{
	return __builtin_add_overflow(j->claimed_at, (long long)st->window, end);
}

/* The entry's job, which must be claimed (challenge and finalize act on
 * an open claim); NULL with the reason. */
static ledger_job *claimed_job(ledger_state *st, const ledger_entry *en, const char *op, dai_err *e)
{
	ledger_job *j = job_of(st, en, e);
	if (j && j->status != JOB_CLAIMED) {
		REFUSE("%s: job %s is %s", op, j->id,
		       j->status == JOB_ESCROWED ? "not claimed" : status_name(j->status));
		return NULL;
	}
	return j;
}

static int apply_challenge(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	ledger_job *j = claimed_job(st, en, "challenge", e);
	long long end;
	char t[DAI_TIME_LEN + 1];
	if (!j)
		return -1;
	if (window_ends(st, j, &end) || en->time >= end) {
		time_format(t, end);
		return REFUSE("challenge: the window of job %s closed at %s", j->id, t);
	}
	if (balance_of(st, en->actor) < st->bond)
		return REFUSE("challenge: overdraft: %s cannot put up the bond of %llu", en->actor,
		              (unsigned long long)st->bond);
	ledger_account *w = &st->acc[j->worker];
	if (strcmp(en->actor, w->did) == 0)
		return REFUSE("challenge: a worker cannot challenge its own claim");
	enum fraud_verdict v;
	fraud_claim c = {j->id, j->receipt, w->did, NULL, 0};
	int fc = fraud_check(en->doc, en->doc_len, &c, &v, e);
	if (fc) {
		dai_err_prefix(e, "challenge");
		return fc == FRAUD_UNAVAILABLE ? LEDGER_UNAVAILABLE : -1;
	}
	long ch = account(st, en->actor);
	if (ch < 0)
		return REFUSE("out of memory");
	w = &st->acc[j->worker];
	if (v == FRAUD_PROVEN) {
		/* The buyer gets everything back, the challenger the worker's
		 * whole stake (its bond stays its own). */
		st->acc[j->buyer].balance += j->locked;
		st->acc[ch].balance += w->stake;
		w->stake = 0;
		w->slashed++;
		w->open--;
		j->status = JOB_SLASHED;
	} else {
		/* A failed challenge pays its bond to the worker it accused. */
		st->acc[ch].balance -= st->bond;
		w->balance += st->bond;
	}
	return 0;
}

static int apply_finalize(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	ledger_job *j = claimed_job(st, en, "finalize", e);
	long long end;
	char t[DAI_TIME_LEN + 1];
	if (!j)
		return -1;
	if (!window_ends(st, j, &end) && en->time < end) {
		time_format(t, end);
		return REFUSE("finalize: the challenge window of job %s is open until %s", j->id,
		              t);
	}
	uint64_t pay = ledger_cost(j->price, j->tokens_in, j->tokens_out, j->locked);
	ledger_account *w = &st->acc[j->worker];
	w->balance += pay;
	st->acc[j->buyer].balance += j->locked - pay;
	w->finalized++;
	w->open--;
	j->paid = pay;
	j->status = JOB_FINALIZED;
	return 0;
}

static int apply_withdraw(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	ledger_job *j = job_of(st, en, e);
	long long end;
	char t[DAI_TIME_LEN + 1];
	if (!j)
		return -1;
	const char *buyer = st->acc[j->buyer].did;
	if (strcmp(en->actor, buyer) != 0)
		return REFUSE("withdraw: only the buyer %s may withdraw job %s", buyer, j->id);
	if (j->status != JOB_ESCROWED)
		return REFUSE("withdraw: job %s is %s", j->id, status_name(j->status));
	if (__builtin_add_overflow(j->expires, (long long)st->window, &end) || en->time < end) {
		time_format(t, end);
		return REFUSE("withdraw: job %s may still be claimed until %s", j->id, t);
	}
	st->acc[j->buyer].balance += j->locked;
	j->status = JOB_WITHDRAWN;
	return 0;
}

int state_apply(ledger_state *st, const ledger_entry *en, dai_err *e)
{
	int rc;
	if (!st->started) {
		if (en->op != OP_GENESIS)
			return REFUSE("the first entry must be the genesis, not a %s",
			              ledger_op_name(en->op));
	} else {
		if (en->op == OP_GENESIS)
			return REFUSE("a second genesis");
		if (strcmp(en->prev, st->head) != 0)
			return REFUSE("%s entry %s: prev is %s, not the head %s (replayed or "
			              "out of order)",
			              ledger_op_name(en->op), en->id, en->prev, st->head);
		if (en->time < st->head_time)
			return REFUSE("%s entry %s: time goes backwards", ledger_op_name(en->op),
			              en->id);
	}
	switch (en->op) {
	case OP_GENESIS:
		rc = apply_genesis(st, en, e);
		break;
	case OP_TRANSFER:
		rc = apply_transfer(st, en, e);
		break;
	case OP_STAKE:
		rc = apply_stake(st, en, 0, e);
		break;
	case OP_UNSTAKE:
		rc = apply_stake(st, en, 1, e);
		break;
	case OP_ESCROW:
		rc = apply_escrow(st, en, e);
		break;
	case OP_CLAIM:
		rc = apply_claim(st, en, e);
		break;
	case OP_CHALLENGE:
		rc = apply_challenge(st, en, e);
		break;
	case OP_FINALIZE:
		rc = apply_finalize(st, en, e);
		break;
	case OP_WITHDRAW:
		rc = apply_withdraw(st, en, e);
		break;
	default:
		rc = REFUSE("unknown op");
	}
	if (rc)
		return rc == LEDGER_UNAVAILABLE ? LEDGER_UNAVAILABLE : -1;
	st->started = 1;
	strcpy(st->head, en->id);
	st->head_time = en->time;
	st->entries++;
	return 0;
}
