/* Unit tests: JSON-RPC, signed transactions and the DaiEscrow contract on a
 * local anvil node (one node and one deployment per test). Without anvil
 * (make npm-deps) the tests are skipped with a message.
 * DAI_GAS_REPORT=1 prints the gas of each settlement step on stderr. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "codec.h"
#include "escrow.h"
#include "ethaddr.h"
#include "ethkey.h"
#include "json.h"
#include "keccak.h"
#include "tools/anvil.h"

static anvil node;
static chain ch;
static unsigned char sk[3][32], ref_sk[3][32];
static chain_account buyer, worker, challenger; /* challenger: the node signs */
static unsigned char ref_addr[3][20], contract[20], job[32], receipt[32], fraud[32];
static const u256 *amount_p;
static u256 amount, rate, wbond, cbond;

static void setup(void)
{
	cr_assert(sodium_init() >= 0);
	if (!anvil_path())
		cr_skip_test("anvil not installed (make npm-deps): chain tests skipped");
	cr_assert_eq(anvil_start(&node), 0, "anvil did not start");
	dai_err e = {{0}};
	cr_assert_eq(chain_open(&ch, node.url, 31337, &e), 0, "%s", e.msg);
	chain_account *acc[3] = {&buyer, &worker, &challenger};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(hex_decode(sk[i], 32, anvil_key(i), 64), 0);
		cr_assert_eq(ethkey_address(acc[i]->addr, sk[i], NULL), 0);
		acc[i]->sk = i < 2 ? sk[i] : NULL;
		/* referee keys: Keccak-256 of "referee N" */
		char name[16];
		snprintf(name, sizeof name, "referee %d", i);
		keccak256(ref_sk[i], name, strlen(name));
		cr_assert_eq(ethkey_address(ref_addr[i], ref_sk[i], NULL), 0);
	}
	keccak256(job, "job", 3);
	keccak256(receipt, "receipt", 7);
	keccak256(fraud, "fraud", 5);
	/* 20 ETH: amounts beyond 2^64 wei */
	cr_assert_eq(u256_parse_dec(&amount, "20000000000000000000", 20, "amount", NULL), 0);
	/* 19 ETH per 1000 tokens; claims count 600 + 400 tokens: 19 ETH */
	cr_assert_eq(u256_parse_dec(&rate, "19000000000000000000", 20, "rate", NULL), 0);
	wbond = u256_from_u64(1000000000000000000ULL);
	cbond = u256_from_u64(500000000000000000ULL);
	amount_p = &amount;
}

static void teardown(void)
{
	chain_close(&ch);
	anvil_stop(&node);
}

TestSuite(chain, .init = setup, .fini = teardown, .timeout = 60);

/* Once per run, in the runner: say that the suite is skipped and why. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	if (!anvil_path())
		fprintf(stderr, "# skip: anvil not installed (make npm-deps): chain tests "
		                "skipped\n");
}

static void gas(const char *step, const chain_receipt *rc)
{
	if (getenv("DAI_GAS_REPORT"))
		fprintf(stderr, "gas %-10s %llu\n", step, (unsigned long long)rc->gas_used);
}

static void deploy(void)
{
	escrow_terms t = {.referees = (const unsigned char(*)[20])ref_addr,
	                  .n_referees = 3,
	                  .threshold = 2,
	                  .window = 3600,
	                  .resolve_timeout = 86400,
	                  .worker_bond = wbond,
	                  .challenge_bond = cbond};
	chain_receipt rc;
	dai_err e = {{0}};
	cr_assert_eq(escrow_deploy(&ch, &buyer, &t, contract, &rc, &e), 0, "%s", e.msg);
	gas("deploy", &rc);
}

/* Escrow by the buyer, claim by the worker. */
static void escrow_and_claim(void)
{
	chain_receipt rc;
	dai_err e = {{0}};
	cr_assert_eq(escrow_escrow(&ch, &buyer, contract, job, worker.addr, 4000000000ULL, &rate,
	                           amount_p, &rc, &e),
	             0, "%s", e.msg);
	gas("escrow", &rc);
	cr_assert_eq(escrow_claim(&ch, &worker, contract, job, receipt, 600, 400, &wbond, &rc, &e),
	             0, "%s", e.msg);
	gas("claim", &rc);
}

static void assert_credit(const unsigned char who[20], const char *want_dec)
{
	u256 c;
	char d[U256_DEC_MAX];
	dai_err e = {{0}};
	cr_assert_eq(escrow_get_credit(&ch, contract, who, &c, &e), 0, "%s", e.msg);
	u256_format_dec(d, &c);
	cr_assert_str_eq(d, want_dec);
}

static void assert_refused(int rc, const dai_err *e, const char *reason)
{
	cr_assert_eq(rc, -1, "expected a revert: %s", reason);
	cr_assert(strstr(e->msg, "reverted: ") && strstr(e->msg, reason), "got: %s", e->msg);
}

Test(chain, chain_id_confirmed_before_anything)
{
	chain other;
	dai_err e;
	cr_assert_eq(chain_open(&other, node.url, 1, &e), -1);
	cr_assert(strstr(e.msg, "chain 31337, not 1"), "%s", e.msg);
	cr_assert_eq(chain_open(&other, "http://127.0.0.1:1", 0, &e), -1);
	cr_assert(strstr(e.msg, "eth_chainId"), "%s", e.msg);
	cr_assert_eq(chain_open(&other, "ftp://127.0.0.1:1", 0, &e), -1);
	cr_assert_eq(ch.chain_id, 31337);
}

/* A transfer of 20 ETH (beyond 2^64 wei) signed here: chain_send checks
 * that the node's hash is the hash computed locally; the balance moves by
 * exactly the value. */
Test(chain, signed_transfer_hash_and_balance)
{
	u256 before, after, diff;
	dai_err e = {{0}};
	cr_assert_eq(chain_balance(&ch, worker.addr, &before, &e), 0, "%s", e.msg);
	chain_tx tx = {.to = worker.addr, .value = amount};
	chain_receipt rc;
	cr_assert_eq(chain_send(&ch, &buyer, &tx, &rc, &e), 0, "%s", e.msg);
	cr_assert(rc.mined && rc.status == 1);
	cr_assert_eq(rc.gas_used, 21000);
	cr_assert_eq(chain_balance(&ch, worker.addr, &after, &e), 0, "%s", e.msg);
	cr_assert_eq(u256_sub(&diff, &after, &before), 0);
	cr_assert_eq(u256_cmp(&diff, &amount), 0);
	/* a second one: the nonce moves on */
	cr_assert_eq(chain_send(&ch, &buyer, &tx, &rc, &e), 0, "%s", e.msg);
}

Test(chain, finalize_after_window)
{
	chain_receipt rc;
	dai_err e = {{0}};
	deploy();
	escrow_and_claim();
	escrow_job j;
	cr_assert_eq(escrow_get_job(&ch, contract, job, &j, &e), 0, "%s", e.msg);
	cr_assert_eq(j.state, ESCROW_CLAIMED);
	cr_assert_eq(memcmp(j.receipt, receipt, 32), 0);
	cr_assert_eq(memcmp(j.worker, worker.addr, 20), 0);
	cr_assert_eq(u256_cmp(&j.amount, &amount), 0);

	assert_refused(
	    escrow_claim(&ch, &worker, contract, job, receipt, 600, 400, &wbond, &rc, &e), &e,
	    "job not open to a claim");
	assert_refused(escrow_finalize(&ch, &challenger, contract, job, &rc, &e), &e,
	               "challenge window still open");
	assert_refused(escrow_escrow(&ch, &buyer, contract, job, worker.addr, 4000000000ULL, &rate,
	                             &amount, &rc, &e),
	               &e, "job id already used");
	cr_assert_eq(chain_dev_advance(&ch, 3601, &e), 0, "%s", e.msg);
	assert_refused(escrow_challenge(&ch, &challenger, contract, job, fraud, &cbond, &rc, &e),
	               &e, "challenge window closed");
	cr_assert_eq(escrow_finalize(&ch, &challenger, contract, job, &rc, &e), 0, "%s", e.msg);
	gas("finalize", &rc);
	assert_refused(escrow_finalize(&ch, &challenger, contract, job, &rc, &e), &e,
	               "job not claimed");
	assert_credit(worker.addr, "20000000000000000000"); /* price + bond */
	assert_credit(buyer.addr, "1000000000000000000");   /* amount - price */

	u256 before, after, diff;
	cr_assert_eq(chain_balance(&ch, contract, &before, &e), 0, "%s", e.msg);
	cr_assert_eq(escrow_withdraw(&ch, &worker, contract, &rc, &e), 0, "%s", e.msg);
	gas("withdraw", &rc);
	cr_assert_eq(chain_balance(&ch, contract, &after, &e), 0, "%s", e.msg);
	cr_assert_eq(u256_sub(&diff, &before, &after), 0);
	char d[U256_DEC_MAX];
	u256_format_dec(d, &diff);
	cr_assert_str_eq(d, "20000000000000000000");
	assert_credit(worker.addr, "0");
	assert_refused(escrow_withdraw(&ch, &worker, contract, &rc, &e), &e, "nothing to withdraw");
}

/* Signatures of referees i and k (of 0..2) on the outcome. */
static void sign2(unsigned char sigs[2][65], int i, int k, int proven)
{
	unsigned char res[32];
	escrow_job j;
	dai_err e = {{0}};
	cr_assert_eq(escrow_get_job(&ch, contract, job, &j, &e), 0, "%s", e.msg);
	cr_assert_eq(
	    escrow_resolution(ch.chain_id, contract, job, j.receipt, j.fraud, proven, res, &e), 0);
	cr_assert_eq(escrow_sign_resolution(ref_sk[i], res, sigs[0], &e), 0);
	cr_assert_eq(escrow_sign_resolution(ref_sk[k], res, sigs[1], &e), 0);
}

Test(chain, proven_challenge_slashes)
{
	chain_receipt rc;
	dai_err e = {{0}};
	unsigned char sigs[2][65];
	deploy();
	escrow_and_claim();
	cr_assert_eq(escrow_challenge(&ch, &challenger, contract, job, fraud, &cbond, &rc, &e), 0,
	             "%s", e.msg);
	gas("challenge", &rc);
	sign2(sigs, 0, 2, 1);
	/* one signature is not enough; a non-referee's does not count */
	assert_refused(escrow_resolve(&ch, &challenger, contract, job, 1,
	                              (const unsigned char(*)[65])sigs, 1, &rc, &e),
	               &e, "too few referee signatures");
	unsigned char bad[2][65];
	unsigned char stranger[32], res[32];
	escrow_job j;
	memcpy(bad[0], sigs[0], 65);
	keccak256(stranger, "stranger", 8);
	cr_assert_eq(escrow_get_job(&ch, contract, job, &j, &e), 0);
	cr_assert_eq(escrow_resolution(ch.chain_id, contract, job, j.receipt, j.fraud, 1, res, &e),
	             0);
	cr_assert_eq(escrow_sign_resolution(stranger, res, bad[1], &e), 0);
	assert_refused(escrow_resolve(&ch, &challenger, contract, job, 1,
	                              (const unsigned char(*)[65])bad, 2, &rc, &e),
	               &e, "signer is not a referee");
	/* the same referee twice */
	memcpy(bad[1], sigs[0], 65);
	assert_refused(escrow_resolve(&ch, &challenger, contract, job, 1,
	                              (const unsigned char(*)[65])bad, 2, &rc, &e),
	               &e, "signers not in ascending order");
	/* signatures of the other outcome do not settle this one */
	assert_refused(escrow_resolve(&ch, &challenger, contract, job, 0,
	                              (const unsigned char(*)[65])sigs, 2, &rc, &e),
	               &e, "signer is not a referee");
	cr_assert_eq(escrow_resolve(&ch, &challenger, contract, job, 1,
	                            (const unsigned char(*)[65])sigs, 2, &rc, &e),
	             0, "%s", e.msg);
	gas("resolve", &rc);
	assert_credit(buyer.addr, "20000000000000000000");     /* the whole escrow back */
	assert_credit(challenger.addr, "1500000000000000000"); /* both bonds */
	assert_credit(worker.addr, "0");
	assert_refused(escrow_finalize(&ch, &worker, contract, job, &rc, &e), &e,
	               "job not claimed");
}

Test(chain, failed_challenge_costs_the_challenger)
{
	chain_receipt rc;
	dai_err e = {{0}};
	unsigned char sigs[2][65];
	deploy();
	escrow_and_claim();
	cr_assert_eq(escrow_challenge(&ch, &challenger, contract, job, fraud, &cbond, &rc, &e), 0,
	             "%s", e.msg);
	sign2(sigs, 2, 1, 0);
	cr_assert_eq(escrow_resolve(&ch, &worker, contract, job, 0,
	                            (const unsigned char(*)[65])sigs, 2, &rc, &e),
	             0, "%s", e.msg);
	gas("resolve-failed", &rc);
	assert_credit(worker.addr, "20500000000000000000"); /* price, bond, challenger's bond */
	assert_credit(buyer.addr, "1000000000000000000");
	assert_credit(challenger.addr, "0");
}

Test(chain, unresolved_challenge_times_out_for_the_worker)
{
	chain_receipt rc;
	dai_err e = {{0}};
	deploy();
	escrow_and_claim();
	cr_assert_eq(escrow_challenge(&ch, &challenger, contract, job, fraud, &cbond, &rc, &e), 0,
	             "%s", e.msg);
	assert_refused(escrow_finalize(&ch, &worker, contract, job, &rc, &e), &e,
	               "challenge still open to resolution");
	cr_assert_eq(chain_dev_advance(&ch, 86401, &e), 0, "%s", e.msg);
	unsigned char sigs[2][65];
	sign2(sigs, 0, 1, 1);
	assert_refused(escrow_resolve(&ch, &challenger, contract, job, 1,
	                              (const unsigned char(*)[65])sigs, 2, &rc, &e),
	               &e, "resolution deadline passed");
	cr_assert_eq(escrow_finalize(&ch, &worker, contract, job, &rc, &e), 0, "%s", e.msg);
	gas("finalize-timeout", &rc);
	assert_credit(worker.addr, "20000000000000000000");
	assert_credit(buyer.addr, "1000000000000000000");
	assert_credit(challenger.addr, "500000000000000000"); /* its bond back, once */
	assert_refused(escrow_finalize(&ch, &worker, contract, job, &rc, &e), &e,
	               "job not claimed");
}

Test(chain, unclaimed_escrow_refunded_after_expiry)
{
	chain_receipt rc;
	dai_err e = {{0}};
	deploy();
	escrow_job j;
	u256 one = u256_from_u64(1);
	cr_assert_eq(escrow_escrow(&ch, &buyer, contract, job, worker.addr, 4000000000ULL, &rate,
	                           &one, &rc, &e),
	             0, "%s", e.msg);
	assert_refused(escrow_refund(&ch, &buyer, contract, job, &rc, &e), &e, "job not expired");
	cr_assert_eq(escrow_get_job(&ch, contract, job, &j, &e), 0);
	/* move past the expiry */
	cr_assert_eq(chain_dev_advance(&ch, 4000000000ULL, &e), 0, "%s", e.msg);
	assert_refused(escrow_claim(&ch, &worker, contract, job, receipt, 1, 1, &wbond, &rc, &e),
	               &e, "job expired");
	cr_assert_eq(escrow_refund(&ch, &buyer, contract, job, &rc, &e), 0, "%s", e.msg);
	gas("refund", &rc);
	assert_credit(buyer.addr, "1");
	assert_refused(escrow_refund(&ch, &buyer, contract, job, &rc, &e), &e, "job not open");
}

/* Claims by someone else than the job's worker and wrong bonds are
 * refused; a claim of more tokens than the escrow pays for costs the whole
 * escrow. A reverting transaction sent with a fixed gas limit is mined with
 * status 0: the reason comes from replaying it. */
Test(chain, mined_revert_reports_its_reason)
{
	chain_receipt rc;
	dai_err e = {{0}};
	deploy();
	cr_assert_eq(escrow_escrow(&ch, &buyer, contract, job, worker.addr, 4000000000ULL, &rate,
	                           &amount, &rc, &e),
	             0, "%s", e.msg);
	assert_refused(escrow_claim(&ch, &buyer, contract, job, receipt, 600, 400, &wbond, &rc, &e),
	               &e, "not the job's worker");
	assert_refused(
	    escrow_claim(&ch, &worker, contract, job, receipt, 600, 400, &cbond, &rc, &e), &e,
	    "wrong worker bond");
	/* more tokens than the escrow pays for: the claim costs the whole escrow */
	cr_assert_eq(
	    escrow_claim(&ch, &worker, contract, job, receipt, 1000000, 0, &wbond, &rc, &e), 0,
	    "%s", e.msg);
	escrow_job j;
	cr_assert_eq(escrow_get_job(&ch, contract, job, &j, &e), 0, "%s", e.msg);
	cr_assert_eq(u256_cmp(&j.price, &amount), 0);
	cr_assert_eq(u256_cmp(&j.rate, &rate), 0);

	unsigned char data[4 + 32];
	unsigned char sel[4];
	abi_selector(sel, "finalize(bytes32)");
	memcpy(data, sel, 4);
	memcpy(data + 4, job, 32);
	chain_tx tx = {.to = contract, .data = data, .data_len = sizeof data, .gas = 100000};
	cr_assert_eq(chain_send(&ch, &buyer, &tx, &rc, &e), -1);
	cr_assert(rc.mined, "%s", e.msg);
	cr_assert_eq(rc.status, 0);
	cr_assert_str_eq(rc.reason, "challenge window still open");
	cr_assert(strstr(e.msg, "reverted: challenge window still open"), "%s", e.msg);
}

/* The resolution a referee computes off chain is the contract's. */
Test(chain, resolution_matches_contract)
{
	chain_receipt rc;
	dai_err e = {{0}};
	deploy();
	escrow_and_claim();
	cr_assert_eq(escrow_challenge(&ch, &challenger, contract, job, fraud, &cbond, &rc, &e), 0,
	             "%s", e.msg);
	for (int proven = 0; proven < 2; proven++) {
		unsigned char local[32];
		cr_assert_eq(escrow_resolution(ch.chain_id, contract, job, receipt, fraud, proven,
		                               local, &e),
		             0);
		abi_enc a;
		bytebuf call = {0}, out = {0};
		abi_enc_init(&a, "resolution(bytes32,bool)", 2);
		abi_bytes32(&a, job);
		abi_u64(&a, (uint64_t)proven);
		cr_assert_eq(abi_enc_finish(&a, &call, &e), 0);
		cr_assert_eq(chain_call(&ch, contract, call.p, call.len, &out, &e), 0, "%s", e.msg);
		cr_assert_eq(out.len, 32);
		cr_assert_eq(memcmp(out.p, local, 32), 0);
		bytebuf_free(&call);
		bytebuf_free(&out);
	}
	u256 v;
	cr_assert_eq(escrow_get_param(&ch, contract, "threshold", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v.w[0], 2);
	cr_assert_eq(escrow_get_param(&ch, contract, "refereeCount", &v, &e), 0, "%s", e.msg);
	cr_assert_eq(v.w[0], 3);
}
