/* market.c - see market.h. */
#include "market.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

int offer_make(const dai_key *k, const offer_spec *s, long long now, dai_doc *out, dai_err *e)
{
	char t[DAI_TIME_LEN + 1];
	dai_docb b;
	if (s->nmodels == 0)
		return dai_errf(e, "an offer names at least one model");
	if (s->expires <= now)
		return dai_errf(e, "the offer would expire before it is made");
	docb_init(&b, "offer", 1);
	docb_add(&b, "worker", k->did);
	for (size_t i = 0; i < s->nmodels; i++)
		docb_add(&b, "model", s->models[i]);
	docb_addf(&b, "price", "%llu", (unsigned long long)s->price);
	docb_addf(&b, "max-tokens", "%llu", (unsigned long long)s->max_tokens);
	docb_addf(&b, "stake", "%llu", (unsigned long long)s->stake);
	time_format(t, s->expires);
	docb_add(&b, "expires", t);
	time_format(t, now);
	docb_add(&b, "time", t);
	return docb_sign(&b, out, k->sk, e);
}

static int signed_by(const dai_doc *d, const char *field, dai_err *e)
{
	char did[DAI_DID_MAX], id[DAI_ID_LEN + 1];
	doc_id(d, id);
	if (doc_verify(d, e))
		return dai_errf(e, "dai-%s %s: bad signature", d->kind, id);
	ed25519_did(did, d->signer_pk);
	if (strcmp(did, doc_get(d, field)) != 0)
		return dai_errf(e, "dai-%s %s: signed by %s, not by its %s", d->kind, id, did,
		                field);
	return 0;
}

int offer_check(const dai_doc *d, long long now, dai_err *e)
{
	long long exp;
	char id[DAI_ID_LEN + 1];
	if (strcmp(d->kind, "offer") != 0)
		return dai_errf(e, "a dai-%s is no dai-offer", d->kind);
	if (signed_by(d, "worker", e))
		return -1;
	const char *x = doc_get(d, "expires");
	if (time_parse(x, strlen(x), &exp))
		return dai_errf(e, "dai-offer: bad expiry");
	if (exp <= now) {
		doc_id(d, id);
		return dai_errf(e, "dai-offer %s: expired at %s", id, x);
	}
	return 0;
}

int offer_has_model(const dai_doc *d, const char *model)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (strcmp(d->fields[i].key, "model") == 0 && strcmp(d->fields[i].val, model) == 0)
			return 1;
	return 0;
}

int offer_pick_fill(offer_pick *p, const dai_doc *d, const ledger_state *st, dai_err *e)
{
	memset(p, 0, sizeof *p);
	p->doc = d;
	doc_id(d, p->id);
	p->price = doc_get_uint(d, "price");
	if (!st)
		return 0;
	const char *worker = doc_get(d, "worker");
	const ledger_account *a = state_account(st, worker);
	uint64_t want = doc_get_uint(d, "stake"), have = a ? a->stake : 0;
	if (have < want)
		return dai_errf(e,
		                "dai-offer %s: unfunded: %s has %llu staked, the offer says %llu",
		                p->id, worker, (unsigned long long)have, (unsigned long long)want);
	if (a) {
		p->finalized = a->finalized;
		p->slashed = a->slashed;
	}
	return 0;
}

static int pick_cmp(const void *pa, const void *pb)
{
	const offer_pick *a = pa, *b = pb;
	if (a->price != b->price)
		return a->price < b->price ? -1 : 1;
	if (a->slashed != b->slashed)
		return a->slashed < b->slashed ? -1 : 1;
	if (a->finalized != b->finalized)
		return a->finalized > b->finalized ? -1 : 1;
	return strcmp(a->id, b->id);
}

void offer_rank(offer_pick *p, size_t n)
{
	qsort(p, n, sizeof *p, pick_cmp);
}

uint64_t job_random_seed(void)
{
	uint64_t seed;
	randombytes_buf(&seed, sizeof seed);
	return seed & (JOB_SEED_LIMIT - 1);
}

int job_make(const dai_doc *offer, const dai_key *k, const job_spec *s, long long now, dai_doc *out,
             dai_err *e)
{
	char t[DAI_TIME_LEN + 1], oid[DAI_ID_LEN + 1];
	const char *model = s->model;
	doc_id(offer, oid);
	if (offer_check(offer, now, e))
		return -1;
	if (!model) {
		size_t n = 0;
		for (size_t i = 0; i < offer->nfields; i++)
			if (strcmp(offer->fields[i].key, "model") == 0) {
				model = offer->fields[i].val;
				n++;
			}
		if (n != 1)
			return dai_errf(e, "dai-offer %s lists %zu models: name one (-m)", oid, n);
	} else if (!offer_has_model(offer, model)) {
		return dai_errf(e, "dai-offer %s does not list model %s", oid, model);
	}
	uint64_t price = doc_get_uint(offer, "price"), cap = doc_get_uint(offer, "max-tokens");
	uint64_t n = s->max_tokens ? s->max_tokens : cap;
	if (n > cap)
		return dai_errf(e, "%llu tokens asked, dai-offer %s allows at most %llu",
		                (unsigned long long)n, oid, (unsigned long long)cap);
	if (s->prompt_len > JOB_PROMPT_MAX)
		return dai_errf(e, "the prompt is %zu bytes, over the %u a job holds: shorten it",
		                s->prompt_len, JOB_PROMPT_MAX);
	if (s->expires <= now)
		return dai_errf(e, "the job would expire before it is made");
	if (s->seed >= JOB_SEED_LIMIT || s->top_p_milli > 1000)
		return dai_errf(e, "the seed must be below 2^63 and top-p at most 1");
	uint64_t max_price = s->max_price;
	if (!max_price)
		max_price =
		    ledger_cost(price, (uint64_t)s->prompt_len + JOB_PROMPT_SLACK, n, UINT64_MAX);
	unsigned char nonce[16];
	char nonce_hex[33];
	randombytes_buf(nonce, sizeof nonce);
	hex_encode(nonce_hex, nonce, sizeof nonce);

	dai_docb b;
	docb_init(&b, "job", 1);
	docb_add(&b, "offer", oid);
	docb_add(&b, "worker", doc_get(offer, "worker"));
	docb_add(&b, "model", model);
	docb_add(&b, "buyer", k->did);
	docb_add_b64(&b, "prompt", s->prompt, s->prompt_len);
	docb_addf(&b, "max-tokens", "%llu", (unsigned long long)n);
	docb_addf(&b, "seed", "%llu", (unsigned long long)s->seed);
	docb_addf(&b, "temp-milli", "%llu", (unsigned long long)s->temp_milli);
	docb_addf(&b, "top-k", "%llu", (unsigned long long)s->top_k);
	docb_addf(&b, "top-p-milli", "%llu", (unsigned long long)s->top_p_milli);
	docb_addf(&b, "price", "%llu", (unsigned long long)price);
	docb_addf(&b, "max-price", "%llu", (unsigned long long)max_price);
	docb_add(&b, "nonce", nonce_hex);
	time_format(t, s->expires);
	docb_add(&b, "expires", t);
	time_format(t, now);
	docb_add(&b, "time", t);
	return docb_sign(&b, out, k->sk, e);
}

int milli_parse(const char *s, uint64_t max_milli, uint64_t *out)
{
	uint64_t whole = 0, frac = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole))
			return -1;
	int digits = 0;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits == 3)
				return -1; /* finer than a thousandth */
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
	}
	if (*p)
		return -1;
	for (; digits < 3; digits++)
		frac *= 10;
	uint64_t v;
	if (__builtin_mul_overflow(whole, 1000, &v) || __builtin_add_overflow(v, frac, &v) ||
	    v > max_milli)
		return -1;
	*out = v;
	return 0;
}
