/* settle.c - see settle.h. */
#include "settle.h"

#include <stdio.h>
#include <string.h>

#include "doc_schema.h"
#include "timefmt.h"

static int signed_by_field(const dai_doc *d, const char *field, dai_err *e)
{
	char did[DAI_DID_MAX];
	if (doc_verify(d, e))
		return dai_err_prefix(e, d->kind);
	ed25519_did(did, d->signer_pk);
	if (strcmp(did, doc_get(d, field)) != 0)
		return dai_errf(e, "dai-%s is signed by %s, not by its %s %s", d->kind, did, field,
		                doc_get(d, field));
	return 0;
}

int settle_escrow(ledger *l, const dai_key *k, const dai_doc *job, char id[DAI_ID_LEN + 1],
                  dai_err *e)
{
	if (strcmp(job->kind, "job") != 0)
		return dai_errf(e, "escrow: a dai-%s is no dai-job", job->kind);
	if (signed_by_field(job, "buyer", e))
		return -1;
	if (strcmp(k->did, doc_get(job, "buyer")) != 0)
		return dai_errf(e, "escrow: the job's buyer is %s, the key is %s",
		                doc_get(job, "buyer"), k->did);
	if (job->len > LEDGER_DOC_MAX)
		return dai_errf(e,
		                "escrow: the job is %zu bytes; a ledger entry holds jobs of at "
		                "most %u bytes",
		                job->len, LEDGER_DOC_MAX);
	ledger_entry req = {.op = OP_ESCROW};
	doc_id(job, req.job);
	req.doc = job->raw;
	req.doc_len = job->len;
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_claim(ledger *l, const dai_key *k, const dai_doc *receipt, char id[DAI_ID_LEN + 1],
                 dai_err *e)
{
	unsigned long long tin, tout;
	if (strcmp(receipt->kind, "receipt") != 0)
		return dai_errf(e, "claim: a dai-%s is no dai-receipt", receipt->kind);
	if (signed_by_field(receipt, "worker", e))
		return -1;
	if (strcmp(k->did, doc_get(receipt, "worker")) != 0)
		return dai_errf(e, "claim: the receipt's worker is %s, the key is %s",
		                doc_get(receipt, "worker"), k->did);
	const char *job = doc_get(receipt, "job");
	const ledger_job *j = state_job(&l->st, job);
	if (j && strcmp(l->st.acc[j->buyer].did, doc_get(receipt, "buyer")) != 0)
		return dai_errf(e, "claim: the receipt's buyer is not job %s's buyer", job);
	if (j && strcmp(j->model, doc_get(receipt, "model")) != 0)
		return dai_errf(e, "claim: the receipt's model is not job %s's model %s", job,
		                j->model);
	const char *a = doc_get(receipt, "tokens-in"), *b = doc_get(receipt, "tokens-out");
	if (value_uint(a, strlen(a), &tin) || value_uint(b, strlen(b), &tout))
		return dai_errf(e, "claim: bad token counts");
	ledger_entry req = {.op = OP_CLAIM, .tokens_in = tin, .tokens_out = tout};
	snprintf(req.job, sizeof req.job, "%s", job);
	doc_id(receipt, req.receipt);
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_challenge(ledger *l, const dai_key *k, const dai_doc *fraud, char id[DAI_ID_LEN + 1],
                     dai_err *e)
{
	if (strcmp(fraud->kind, "fraud") != 0)
		return dai_errf(e, "challenge: a dai-%s is no dai-fraud", fraud->kind);
	const char *job = doc_get(fraud, "job");
	if (!job || strlen(job) != DAI_ID_LEN)
		return dai_errf(e, "challenge: the dai-fraud names no job");
	if (fraud->len > LEDGER_DOC_MAX)
		return dai_errf(e,
		                "challenge: the dai-fraud is %zu bytes; a ledger entry holds "
		                "documents of at most %u bytes",
		                fraud->len, LEDGER_DOC_MAX);
	ledger_entry req = {.op = OP_CHALLENGE};
	snprintf(req.job, sizeof req.job, "%s", job);
	req.doc = fraud->raw;
	req.doc_len = fraud->len;
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_finalize(ledger *l, const dai_key *k, const char *job, char id[DAI_ID_LEN + 1],
                    dai_err *e)
{
	ledger_entry req = {.op = OP_FINALIZE};
	snprintf(req.job, sizeof req.job, "%s", job);
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_finalize_all(ledger *l, const dai_key *k, unsigned long *count, dai_err *e)
{
	long long now = time_now();
	*count = 0;
	for (size_t i = 0; i < l->st.njobs; i++) {
		const ledger_job *j = &l->st.jobs[i];
		if (j->status != JOB_CLAIMED || now - j->claimed_at < (long long)l->st.window)
			continue;
		char job[DAI_ID_LEN + 1];
		strcpy(job, j->id); /* the append may move the job table */
		if (settle_finalize(l, k, job, NULL, e))
			return -1;
		(*count)++;
	}
	return 0;
}

int settle_withdraw(ledger *l, const dai_key *k, const char *job, char id[DAI_ID_LEN + 1],
                    dai_err *e)
{
	ledger_entry req = {.op = OP_WITHDRAW};
	snprintf(req.job, sizeof req.job, "%s", job);
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_transfer(ledger *l, const dai_key *k, const char *to, uint64_t amount,
                    char id[DAI_ID_LEN + 1], dai_err *e)
{
	ledger_entry req = {.op = OP_TRANSFER, .amount = amount};
	snprintf(req.to, sizeof req.to, "%s", to);
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_stake(ledger *l, const dai_key *k, int unstake, uint64_t amount, char id[DAI_ID_LEN + 1],
                 dai_err *e)
{
	ledger_entry req = {.op = unstake ? OP_UNSTAKE : OP_STAKE, .amount = amount};
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_genesis(ledger *l, const dai_key *k, uint64_t window, uint64_t bond,
                   const ledger_alloc *alloc, size_t nalloc, char id[DAI_ID_LEN + 1], dai_err *e)
{
	if (l->size != 0)
		return dai_errf(e, "%s: not empty: a ledger has one genesis", l->path);
	ledger_entry req = {.op = OP_GENESIS, .window = window, .bond = bond, .nalloc = nalloc};
	req.alloc = (ledger_alloc *)alloc;
	return ledger_append(l, &req, k->sk, id, e);
}

int settle_job_of(const dai_doc *d, char job[DAI_ID_LEN + 1], dai_err *e)
{
	if (strcmp(d->kind, "job") == 0) {
		doc_id(d, job);
		return 0;
	}
	const char *j = doc_get(d, "job");
	if ((strcmp(d->kind, "receipt") == 0 || strcmp(d->kind, "fraud") == 0) && j &&
	    strlen(j) == DAI_ID_LEN) {
		strcpy(job, j);
		return 0;
	}
	return dai_errf(e, "a dai-%s names no job", d->kind);
}
