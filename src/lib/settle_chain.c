/* settle_chain.c - dai documents settled on the escrow contract (see settle_chain.h). */
#include "settle_chain.h"

#include <string.h>

#include "codec.h"
#include "doc_schema.h"
#include "fraud_check.h"
#include "timefmt.h"

int settle_chain_id(const char *text, unsigned char id[32], const char *what, dai_err *e)
{
	if (!text || strlen(text) != DAI_ID_LEN || strncmp(text, "b2:", 3) != 0 ||
	    hex_decode(id, 32, text + 3, 64) < 0)
		return dai_errf(e, "%s: not a document id (b2: and 64 lowercase hex digits)", what);
	return 0;
}

static int need_kind(const dai_doc *d, const char *kind, const char *step, dai_err *e)
{
	if (strcmp(d->kind, kind) != 0)
		return dai_errf(e, "%s: a dai-%s is no dai-%s", step, d->kind, kind);
	return 0;
}

static int field_units(const settle_chain *s, const dai_doc *d, const char *key, u256 *wei,
                       dai_err *e)
{
	const char *v = doc_get(d, key);
	unsigned long long n;
	if (!v || value_uint(v, strlen(v), &n) != 0)
		return dai_errf(e, "dai-%s: %s is not an amount", d->kind, key);
	if (u256_mul_u64(wei, &s->unit, n) < 0)
		return dai_errf(e, "dai-%s: %s in wei does not fit 256 bits", d->kind, key);
	return 0;
}

static int field_u64(const dai_doc *d, const char *key, uint64_t *v, dai_err *e)
{
	const char *t = doc_get(d, key);
	unsigned long long n;
	if (!t || value_uint(t, strlen(t), &n) != 0)
		return dai_errf(e, "dai-%s: %s is not an unsigned integer", d->kind, key);
	*v = n;
	return 0;
}

/* The sender must be the party the document names (when it acts for an identity). */
static int party(const settle_chain *s, const dai_doc *d, const char *role, dai_err *e)
{
	const char *who = doc_get(d, role);
	if (s->did && (!who || strcmp(who, s->did) != 0))
		return dai_errf(e, "dai-%s: the %s is %s, not the key's %s", d->kind, role,
		                who ? who : "(none)", s->did);
	return 0;
}

int settle_chain_escrow(const settle_chain *s, const dai_doc *job, const unsigned char worker[20],
                        chain_receipt *rc, dai_err *e)
{
	char idt[DAI_ID_LEN + 1];
	unsigned char id[32];
	u256 rate, amount;
	long long expires;
	const char *ex = doc_get(job, "expires");
	if (need_kind(job, "job", "escrow", e) < 0 || party(s, job, "buyer", e) < 0 ||
	    field_units(s, job, "price", &rate, e) < 0 ||
	    field_units(s, job, "max-price", &amount, e) < 0)
		return -1;
	if (!ex || time_parse(ex, strlen(ex), &expires) != 0 || expires <= 0)
		return dai_errf(e, "dai-job: expires is not a time");
	const char *w = doc_get(job, "worker");
	if (s->worker_did && (!w || strcmp(w, s->worker_did) != 0))
		return dai_errf(e, "dai-job: the worker is %s, but the dai-bind is %s's",
		                w ? w : "(none)", s->worker_did);
	doc_id(job, idt);
	settle_chain_id(idt, id, "job", NULL);
	return escrow_escrow(s->c, &s->from, s->contract, id, worker, (uint64_t)expires, &rate,
	                     &amount, rc, e);
}

int settle_chain_claim(const settle_chain *s, const dai_doc *receipt, chain_receipt *rc, dai_err *e)
{
	char idt[DAI_ID_LEN + 1];
	unsigned char id[32], job[32];
	uint64_t tin, tout;
	u256 bond;
	if (need_kind(receipt, "receipt", "claim", e) < 0 || party(s, receipt, "worker", e) < 0 ||
	    settle_chain_id(doc_get(receipt, "job"), job, "dai-receipt: job", e) < 0 ||
	    field_u64(receipt, "tokens-in", &tin, e) < 0 ||
	    field_u64(receipt, "tokens-out", &tout, e) < 0 ||
	    escrow_get_param(s->c, s->contract, "workerBond", &bond, e) < 0)
		return -1;
	doc_id(receipt, idt);
	settle_chain_id(idt, id, "receipt", NULL);
	return escrow_claim(s->c, &s->from, s->contract, job, id, tin, tout, &bond, rc, e);
}

int settle_chain_challenge(const settle_chain *s, const dai_doc *fraud, chain_receipt *rc,
                           dai_err *e)
{
	char idt[DAI_ID_LEN + 1];
	unsigned char id[32], job[32], receipt[32];
	u256 bond;
	escrow_job j;
	const char *r = doc_get(fraud, "receipt");
	if (need_kind(fraud, "fraud", "challenge", e) < 0 ||
	    settle_chain_id(doc_get(fraud, "job"), job, "dai-fraud: job", e) < 0 ||
	    escrow_get_job(s->c, s->contract, job, &j, e) < 0 ||
	    escrow_get_param(s->c, s->contract, "challengeBond", &bond, e) < 0)
		return -1;
	/* a fraud document about another receipt than the one claimed proves
	 * nothing about this claim: refused before any bond is posted */
	if (r) {
		if (settle_chain_id(r, receipt, "dai-fraud: receipt", e) < 0)
			return -1;
		if (j.state == ESCROW_CLAIMED && memcmp(receipt, j.receipt, 32) != 0)
			return dai_errf(e,
			                "challenge: the dai-fraud is about receipt %s, not the one "
			                "the job was claimed with",
			                r);
	}
	doc_id(fraud, idt);
	settle_chain_id(idt, id, "fraud", NULL);
	return escrow_challenge(s->c, &s->from, s->contract, job, id, &bond, rc, e);
}

/* The document's id as 32 bytes. */
static void id_of(const dai_doc *d, unsigned char id[32])
{
	char t[DAI_ID_LEN + 1];
	doc_id(d, t);
	settle_chain_id(t, id, "id", NULL);
}

int settle_chain_verdict(const settle_chain *s, const unsigned char job[32], const dai_doc *job_doc,
                         const dai_doc *fraud, int *proven, dai_err *e)
{
	escrow_job j;
	unsigned char id[32];
	char job_text[DAI_ID_LEN + 1], receipt_text[DAI_ID_LEN + 1];
	if (escrow_get_job(s->c, s->contract, job, &j, e) < 0)
		return -1;
	if (j.state != ESCROW_CHALLENGED)
		return dai_errf(e, "verdict: the job is not under challenge");
	id_of(fraud, id);
	if (memcmp(id, j.fraud, 32) != 0)
		return dai_errf(e, "verdict: the dai-fraud given is not the one the job was "
		                   "challenged with");
	id_of(job_doc, id);
	if (strcmp(job_doc->kind, "job") != 0 || memcmp(id, job, 32) != 0)
		return dai_errf(e, "verdict: the dai-job given is not the escrowed job");
	doc_id(job_doc, job_text);
	memcpy(receipt_text, "b2:", 3);
	hex_encode(receipt_text + 3, j.receipt, 32);
	fraud_claim claim = {.job = job_text,
	                     .receipt = receipt_text,
	                     .worker = doc_get(job_doc, "worker"),
	                     .job_doc = job_doc->raw,
	                     .job_doc_len = job_doc->len};
	enum fraud_verdict v;
	if (fraud_check(fraud->raw, fraud->len, &claim, &v, e) < 0)
		return dai_err_prefix(e, "verdict");
	*proven = v == FRAUD_PROVEN;
	return 0;
}
