/* libFuzzer harness for the ledger's rules: the input is read as a sequence
 * of operations (op, actor, argument, time step; four bytes each) by four
 * fixed keys, turned into properly signed entries (escrowed jobs included)
 * and applied. Whatever is accepted or refused, the money must always add up
 * to the genesis total, a refused entry must leave the head and the entry
 * count as they were, and no balance may exceed the total.
 *
 * Seed (tests/fuzz/seeds/fuzz_ledger_ops/round), written by hand: escrow,
 * claim, finalize after the window, stake, transfer, escrow, withdraw after
 * expiry and window, then a claim and a challenge that must be refused: a
 * challenge's dai-fraud names a pack that is nowhere, so it is never
 * decided. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market.h"

#define T0 1767225600LL
#define MAXJOBS 32

static const char *const offers_model =
    "b2:0000000000000000000000000000000000000000000000000000000000000007";
static dai_key keys[4];
static unsigned char sks[4][64];
static dai_doc offers[4];

static void init_keys(void)
{
	dai_err e;
	if (sodium_init() < 0)
		abort();
	for (int i = 0; i < 4; i++) {
		unsigned char seed[32] = {(unsigned char)(i + 1)};
		crypto_sign_seed_keypair(keys[i].pk, sks[i], seed);
		keys[i].sk = sks[i];
		ed25519_did(keys[i].did, keys[i].pk);
		const char *models[] = {offers_model};
		offer_spec os = {models, 1, 100 + (uint64_t)i * 50, 64, 0, T0 + 1000000000LL};
		if (offer_make(&keys[i], &os, T0, &offers[i], &e))
			abort();
	}
}

static void check(const ledger_state *st)
{
	uint64_t sum;
	if (state_sum(st, &sum) || sum != st->total)
		abort();
	for (size_t i = 0; i < st->nacc; i++)
		if (st->acc[i].balance > st->total || st->acc[i].stake > st->total)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	dai_err e;
	if (!ready) {
		init_keys();
		ready = 1;
	}
	ledger_state st;
	state_init(&st);
	ledger_alloc al[4];
	for (int i = 0; i < 4; i++) {
		strcpy(al[i].did, keys[i].did);
		al[i].amount = 1000;
	}
	ledger_entry req = {.op = OP_GENESIS, .window = 100, .bond = 5, .alloc = al, .nalloc = 4};
	ledger_entry en;
	long long now = T0;
	req.time = now;
	if (entry_encode(&req, sks[0], &en, &e) || state_apply(&st, &en, &e))
		abort();
	entry_free(&en);
	dai_doc jobs[MAXJOBS];
	char jids[MAXJOBS][DAI_ID_LEN + 1];
	size_t njobs = 0;
	for (size_t p = 0; p + 4 <= size && p < 4 * 64; p += 4) {
		unsigned op = data[p] % (OP_COUNT - 1) + 1, actor = data[p + 1] % 4;
		unsigned x = data[p + 2], dt = data[p + 3];
		now += dt < 200 ? dt : (long long)dt * 10;
		memset(&req, 0, sizeof req);
		req.op = (enum ledger_op)op;
		strcpy(req.prev, st.head);
		req.time = now;
		dai_doc fraud = {0};
		const dai_key *signer = &keys[actor];
		switch (req.op) {
		case OP_TRANSFER:
			strcpy(req.to, keys[x % 4].did);
			req.amount = x * 7;
			break;
		case OP_STAKE:
		case OP_UNSTAKE:
			req.amount = x;
			break;
		case OP_ESCROW: {
			if (njobs == MAXJOBS)
				continue;
			job_spec js = {.prompt = (const unsigned char *)"p",
			               .prompt_len = 1,
			               .max_tokens = 1 + x % 64,
			               .top_p_milli = 1000,
			               .max_price = x * 3,
			               .expires = now + 1 + x % 300};
			if (job_make(&offers[x % 4], &keys[actor], &js, now, &jobs[njobs], &e))
				abort();
			doc_id(&jobs[njobs], jids[njobs]);
			strcpy(req.job, jids[njobs]);
			req.doc = jobs[njobs].raw;
			req.doc_len = jobs[njobs].len;
			njobs++;
			if (x & 0x80) /* someone else escrows the buyer's job */
				signer = &keys[(actor + 1) % 4];
			break;
		}
		default:
			if (njobs == 0)
				strcpy(req.job,
				       "b2:00000000000000000000000000000000000000000000000000"
				       "00000000000000");
			else
				strcpy(req.job, jids[x % njobs]);
			req.receipt[0] = 0;
			if (req.op == OP_CLAIM) {
				strcpy(req.receipt, req.job);
				req.tokens_in = x;
				req.tokens_out = (uint64_t)x * x;
			}
			if (req.op == OP_CHALLENGE) {
				dai_docb b;
				docb_init(&b, "fraud", 1);
				docb_add(&b, "job", req.job);
				docb_add(&b, "receipt", req.job);
				docb_add(&b, "model", offers_model);
				docb_add(&b, "worker", keys[x % 4].did);
				docb_add(&b, "kind", "replay");
				docb_add_b64_lines(&b, "receipt-doc", data, size);
				docb_add_b64_lines(&b, "job-doc", data, size);
				docb_add(&b, "time", "2026-01-01T00:00:00Z");
				if (docb_unsigned(&b, &fraud, &e))
					abort();
				req.doc = fraud.raw;
				req.doc_len = fraud.len;
			}
			break;
		}
		char head[DAI_ID_LEN + 1];
		uint64_t entries = st.entries;
		strcpy(head, st.head);
		if (entry_encode(&req, signer->sk, &en, &e))
			abort();
		int rc = state_apply(&st, &en, &e);
		entry_free(&en);
		doc_free(&fraud);
		if (rc && (strcmp(head, st.head) != 0 || st.entries != entries))
			abort();
		if (!rc && st.entries != entries + 1)
			abort();
		if (req.op == OP_CHALLENGE && rc == 0)
			abort(); /* no pack, no verdict: always refused */
		check(&st);
	}
	for (size_t i = 0; i < njobs; i++)
		doc_free(&jobs[i]);
	state_free(&st);
	return 0;
}
