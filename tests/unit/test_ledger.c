/* Unit tests: the ledger. Every rule is broken once and must be refused
 * with the ledger unchanged; windows, payment and refunds; torn tails at
 * every byte of the last entry, corrupted middles, repair; replays; two
 * writers at once; money conserved throughout. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsio.h"
#include "market.h"
#include "settle.h"
#include "timefmt.h"

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */
#define WINDOW 3600
#define BOND 10

static char dir[64], path[128];
static dai_key op, buyer, worker, other;
static const char *model = "b2:0000000000000000000000000000000000000000000000000000000000000007";

static void set_now(long long ts)
{
	char s[32];
	snprintf(s, sizeof s, "%lld", ts);
	setenv("DAI_NOW", s, 1);
}

static void setup(void)
{
	dai_err e;
	cr_assert(sodium_init() >= 0);
	strcpy(dir, "/tmp/dai-ledger-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ledger", dir);
	cr_assert_eq(key_generate(&op, &e), 0);
	cr_assert_eq(key_generate(&buyer, &e), 0);
	cr_assert_eq(key_generate(&worker, &e), 0);
	cr_assert_eq(key_generate(&other, &e), 0);
	set_now(T0);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(ledger, .init = setup, .fini = teardown);

static void must(int rc, const dai_err *e)
{
	cr_assert_eq(rc, 0, "%s", e->msg);
}

/* A ledger with buyer 1000, worker 100, other 50; window 1h; bond 10. The
 * worker stakes 40. */
static void genesis(ledger *l)
{
	dai_err e;
	ledger_alloc a[3];
	snprintf(a[0].did, sizeof a[0].did, "%s", buyer.did);
	a[0].amount = 1000;
	snprintf(a[1].did, sizeof a[1].did, "%s", worker.did);
	a[1].amount = 100;
	snprintf(a[2].did, sizeof a[2].did, "%s", other.did);
	a[2].amount = 50;
	must(ledger_open(l, path, LEDGER_CREATE, &e), &e);
	must(settle_genesis(l, &op, WINDOW, BOND, a, 3, NULL, &e), &e);
	must(settle_stake(l, &worker, 0, 40, NULL, &e), &e);
}

static uint64_t bal(const ledger *l, const dai_key *k)
{
	const ledger_account *a = state_account(&l->st, k->did);
	return a ? a->balance : 0;
}

static void conserved(const ledger *l)
{
	uint64_t sum;
	cr_assert_eq(state_sum(&l->st, &sum), 0);
	cr_assert_eq(sum, 1150, "money not conserved: %llu", (unsigned long long)sum);
	cr_assert_eq(l->st.total, 1150);
}

/* A signed offer by worker w and a job on it by buyer b, max-price 100,
 * price 500 per 1000 tokens, expiring at T0 + 2h. */
static void make_job(const dai_key *w, const dai_key *b, dai_doc *job)
{
	dai_err e;
	dai_doc offer;
	const char *models[] = {model};
	offer_spec os = {models, 1, 500, 64, 40, T0 + 86400};
	must(offer_make(w, &os, T0, &offer, &e), &e);
	job_spec js = {.prompt = (const unsigned char *)"hi",
	               .prompt_len = 2,
	               .max_tokens = 16,
	               .top_p_milli = 1000,
	               .max_price = 100,
	               .expires = T0 + 7200};
	must(job_make(&offer, b, &js, T0, job, &e), &e);
	doc_free(&offer);
}

/* A receipt for job signed by k (the worker, unless testing). */
static void make_receipt(const dai_doc *job, const dai_key *k, const char *buyer_did, unsigned tin,
                         unsigned tout, dai_doc *r)
{
	dai_err e;
	dai_docb b;
	char id[DAI_ID_LEN + 1];
	doc_id(job, id);
	docb_init(&b, "receipt", 1);
	docb_add(&b, "job", id);
	docb_add(&b, "model", model);
	docb_add(&b, "worker", k->did);
	docb_add(&b, "buyer", buyer_did);
	docb_addf(&b, "tokens-in", "%u", tin);
	docb_addf(&b, "tokens-out", "%u", tout);
	docb_add(&b, "seed", "0");
	docb_add(&b, "temp-milli", "0");
	docb_add(&b, "top-k", "0");
	docb_add(&b, "top-p-milli", "1000");
	docb_add(&b, "trace-root", model);
	docb_add(&b, "trace-leaves", "1");
	docb_add(&b, "time", "2026-01-01T00:00:00Z");
	must(docb_sign(&b, r, k->sk, &e), &e);
}

/* rc must be -1 with want in the message, and the ledger unchanged (in
 * memory and on disk). */
static void refused(ledger *l, int rc, const dai_err *e, const char *want, uint64_t size,
                    const char *head)
{
	struct stat sb;
	cr_assert_eq(rc, -1, "accepted; wanted refusal with '%s'", want);
	cr_assert(strstr(e->msg, want), "message '%s' lacks '%s'", e->msg, want);
	cr_assert_eq(l->size, size);
	cr_assert_str_eq(l->st.head, head);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq((uint64_t)sb.st_size, size);
	conserved(l);
}

#define SNAP(l)                                                                                    \
	uint64_t size0 = (l)->size;                                                                \
	char head0[DAI_ID_LEN + 1];                                                                \
	strcpy(head0, (l)->st.head)

Test(ledger, cost_rounds_up_and_caps)
{
	cr_assert_eq(ledger_cost(500, 3, 10, 100), 7); /* 6.5 -> 7 */
	cr_assert_eq(ledger_cost(1000, 3, 10, 100), 13);
	cr_assert_eq(ledger_cost(1000, 0, 0, 100), 0);
	cr_assert_eq(ledger_cost(1, 1, 0, 100), 1);
	cr_assert_eq(ledger_cost(500, 300, 10, 100), 100);
	cr_assert_eq(ledger_cost(UINT64_MAX, 2, 0, 77), 77); /* overflow: the cap */
	cr_assert_eq(ledger_cost(1, UINT64_MAX, 1, 5), 5);
}

Test(ledger, milli_parse_exact)
{
	uint64_t v;
	cr_assert_eq(milli_parse("0.8", 100000, &v), 0);
	cr_assert_eq(v, 800);
	cr_assert_eq(milli_parse("1", 100000, &v), 0);
	cr_assert_eq(v, 1000);
	cr_assert_eq(milli_parse("0.95", 1000, &v), 0);
	cr_assert_eq(v, 950);
	cr_assert_eq(milli_parse("0.001", 1000, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(milli_parse("2.125", 100000, &v), 0);
	cr_assert_eq(v, 2125);
	const char *bad[] = {"", ".5", "2.", "1.2345", "-1", "0.8x", "1e3", " 1", "1.1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(milli_parse(bad[i], 1000, &v), -1, "accepted '%s'", bad[i]);
	cr_assert_eq(milli_parse("99999999999999999999", UINT64_MAX, &v), -1);
}

Test(ledger, genesis_transfer_and_overdraft)
{
	ledger l;
	dai_err e;
	genesis(&l);
	conserved(&l);
	must(settle_transfer(&l, &buyer, other.did, 300, NULL, &e), &e);
	cr_assert_eq(bal(&l, &buyer), 700);
	cr_assert_eq(bal(&l, &other), 350);
	SNAP(&l);
	refused(&l, settle_transfer(&l, &buyer, other.did, 701, NULL, &e), &e, "overdraft", size0,
	        head0);
	refused(&l, settle_transfer(&l, &buyer, buyer.did, 1, NULL, &e), &e, "to itself", size0,
	        head0);
	refused(&l, settle_transfer(&l, &buyer, other.did, 0, NULL, &e), &e, "zero", size0, head0);
	refused(&l, settle_stake(&l, &other, 0, 351, NULL, &e), &e, "overdraft", size0, head0);
	refused(&l, settle_stake(&l, &worker, 1, 41, NULL, &e), &e, "overdraft", size0, head0);
	/* A key with no account at all. */
	refused(&l, settle_transfer(&l, &op, other.did, 1, NULL, &e), &e, "overdraft", size0,
	        head0);
	ledger_alloc a = {"", 5};
	strcpy(a.did, op.did);
	refused(&l, settle_genesis(&l, &op, 60, 0, &a, 1, NULL, &e), &e, "one genesis", size0,
	        head0);
	ledger_close(&l);

	/* The state read back is the state written. */
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	cr_assert(!l.damaged);
	cr_assert_eq(l.st.entries, 3);
	cr_assert_eq(bal(&l, &buyer), 700);
	cr_assert_eq(state_account(&l.st, worker.did)->stake, 40);
	cr_assert_str_eq(l.st.head, head0);
	ledger_close(&l);
}

Test(ledger, escrow_claim_window_finalize)
{
	ledger l;
	dai_err e;
	dai_doc job, rc;
	char jid[DAI_ID_LEN + 1];
	genesis(&l);
	make_job(&worker, &buyer, &job);
	doc_id(&job, jid);
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	cr_assert_eq(bal(&l, &buyer), 900);
	conserved(&l);

	set_now(T0 + 60);
	make_receipt(&job, &worker, buyer.did, 3, 10, &rc);
	must(settle_claim(&l, &worker, &rc, NULL, &e), &e);
	const ledger_job *j = state_job(&l.st, jid);
	cr_assert_eq(j->status, JOB_CLAIMED);
	cr_assert_eq(j->claimed_at, T0 + 60);
	SNAP(&l);
	/* Window not passed: one second before its end. */
	set_now(T0 + 60 + WINDOW - 1);
	refused(&l, settle_finalize(&l, &other, jid, NULL, &e), &e, "window", size0, head0);
	refused(&l, settle_stake(&l, &worker, 1, 40, NULL, &e), &e, "challenge window", size0,
	        head0);
	unsigned long n;
	must(settle_finalize_all(&l, &other, &n, &e), &e);
	cr_assert_eq(n, 0);
	/* Passed: anyone may finalize. 500 per 1000 tokens x 13 = 6.5 -> 7. */
	set_now(T0 + 60 + WINDOW);
	must(settle_finalize_all(&l, &other, &n, &e), &e);
	cr_assert_eq(n, 1);
	j = state_job(&l.st, jid);
	cr_assert_eq(j->status, JOB_FINALIZED);
	cr_assert_eq(j->paid, 7);
	cr_assert_eq(bal(&l, &worker), 60 + 7);
	cr_assert_eq(bal(&l, &buyer), 1000 - 7);
	cr_assert_eq(state_account(&l.st, worker.did)->finalized, 1);
	conserved(&l);
	uint64_t size1 = l.size;
	char head1[DAI_ID_LEN + 1];
	strcpy(head1, l.st.head);
	refused(&l, settle_finalize(&l, &other, jid, NULL, &e), &e, "already finalized", size1,
	        head1);
	refused(&l, settle_claim(&l, &worker, &rc, NULL, &e), &e, "already finalized", size1,
	        head1);
	must(settle_stake(&l, &worker, 1, 40, NULL, &e), &e); /* no open claim now */
	ledger_close(&l);
	doc_free(&job);
	doc_free(&rc);
}

Test(ledger, payment_capped_by_max_price)
{
	ledger l;
	dai_err e;
	dai_doc job, rc;
	genesis(&l);
	make_job(&worker, &buyer, &job);
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	make_receipt(&job, &worker, buyer.did, 100000, 16, &rc);
	must(settle_claim(&l, &worker, &rc, NULL, &e), &e);
	set_now(T0 + WINDOW);
	unsigned long n;
	must(settle_finalize_all(&l, &op, &n, &e), &e);
	cr_assert_eq(bal(&l, &worker), 60 + 100);
	cr_assert_eq(bal(&l, &buyer), 900);
	conserved(&l);
	ledger_close(&l);
	doc_free(&job);
	doc_free(&rc);
}

Test(ledger, claim_rules)
{
	ledger l;
	dai_err e;
	dai_doc job, job2, rc, rc_other, rc2;
	genesis(&l);
	make_job(&worker, &buyer, &job);
	make_job(&worker, &buyer, &job2); /* never escrowed */
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	SNAP(&l);
	/* Claim for a job not escrowed. */
	make_receipt(&job2, &worker, buyer.did, 1, 1, &rc2);
	refused(&l, settle_claim(&l, &worker, &rc2, NULL, &e), &e, "not escrowed", size0, head0);
	/* Claim by another worker than the job's (its own signed receipt). */
	make_receipt(&job, &other, buyer.did, 1, 1, &rc_other);
	refused(&l, settle_claim(&l, &other, &rc_other, NULL, &e), &e, "not", size0, head0);
	cr_assert(strstr(e.msg, worker.did), "%s", e.msg);
	/* The worker's receipt presented by someone else. */
	make_receipt(&job, &worker, buyer.did, 1, 1, &rc);
	refused(&l, settle_claim(&l, &other, &rc, NULL, &e), &e, "the key is", size0, head0);
	/* Even bypassing the receipt checks, the rule holds in the state. */
	ledger_entry req = {.op = OP_CLAIM, .tokens_in = 1, .tokens_out = 1};
	doc_id(&job, req.job);
	doc_id(&rc, req.receipt);
	refused(&l, ledger_append(&l, &req, other.sk, NULL, &e), &e, "is for worker", size0, head0);
	/* More tokens generated than the job allows (16). */
	dai_doc rc_long;
	make_receipt(&job, &worker, buyer.did, 1, 17, &rc_long);
	refused(&l, settle_claim(&l, &worker, &rc_long, NULL, &e), &e, "allows 16", size0, head0);
	doc_free(&rc_long);
	/* Double claim. */
	must(settle_claim(&l, &worker, &rc, NULL, &e), &e);
	uint64_t size1 = l.size;
	char head1[DAI_ID_LEN + 1];
	strcpy(head1, l.st.head);
	refused(&l, settle_claim(&l, &worker, &rc, NULL, &e), &e, "already claimed", size1, head1);
	ledger_close(&l);
	doc_free(&job);
	doc_free(&job2);
	doc_free(&rc);
	doc_free(&rc2);
	doc_free(&rc_other);
}

Test(ledger, escrow_rules)
{
	ledger l;
	dai_err e;
	dai_doc job, poor_job, tampered;
	genesis(&l);
	make_job(&worker, &buyer, &job);
	SNAP(&l);
	/* Only the buyer may escrow its job. */
	refused(&l, settle_escrow(&l, &other, &job, NULL, &e), &e, "buyer", size0, head0);
	ledger_entry req = {.op = OP_ESCROW};
	doc_id(&job, req.job);
	req.doc = job.raw;
	req.doc_len = job.len;
	refused(&l, ledger_append(&l, &req, other.sk, NULL, &e), &e, "only the job's buyer", size0,
	        head0);
	/* A job whose signature does not hold (one byte of the prompt changed). */
	char *raw = strndup(job.raw, job.len);
	char *p = strstr(raw, "prompt aGk=");
	cr_assert(p);
	p[7] = 'b';
	cr_assert_eq(doc_parse(&tampered, raw, job.len, "t", 1, &e), 0, "%s", e.msg);
	refused(&l, settle_escrow(&l, &buyer, &tampered, NULL, &e), &e, "signature", size0, head0);
	doc_id(&tampered, req.job);
	req.doc = tampered.raw;
	refused(&l, ledger_append(&l, &req, buyer.sk, NULL, &e), &e, "signature", size0, head0);
	/* The entry's job id must be the embedded job's. */
	doc_id(&job, req.job);
	req.doc = tampered.raw;
	refused(&l, ledger_append(&l, &req, buyer.sk, NULL, &e), &e, "id", size0, head0);
	/* Expired job. */
	set_now(T0 + 7201);
	refused(&l, settle_escrow(&l, &buyer, &job, NULL, &e), &e, "expired", size0, head0);
	set_now(T0 + 7200); /* the last second it may be escrowed */
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	/* The same job again: a replayed job. */
	uint64_t size1 = l.size;
	char head1[DAI_ID_LEN + 1];
	strcpy(head1, l.st.head);
	refused(&l, settle_escrow(&l, &buyer, &job, NULL, &e), &e, "already on the ledger", size1,
	        head1);
	/* Overdraft: other has 50, the job's max-price is 100. */
	make_job(&worker, &other, &poor_job);
	refused(&l, settle_escrow(&l, &other, &poor_job, NULL, &e), &e, "overdraft", size1, head1);
	ledger_close(&l);
	free(raw);
	doc_free(&job);
	doc_free(&poor_job);
	doc_free(&tampered);
}

Test(ledger, withdraw_unclaimed)
{
	ledger l;
	dai_err e;
	dai_doc job, rc;
	char jid[DAI_ID_LEN + 1];
	genesis(&l);
	make_job(&worker, &buyer, &job);
	doc_id(&job, jid);
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	SNAP(&l);
	set_now(T0 + 7200 + WINDOW - 1);
	refused(&l, settle_withdraw(&l, &buyer, jid, NULL, &e), &e, "may still be claimed", size0,
	        head0);
	set_now(T0 + 7200 + WINDOW);
	refused(&l, settle_withdraw(&l, &other, jid, NULL, &e), &e, "only the buyer", size0, head0);
	must(settle_withdraw(&l, &buyer, jid, NULL, &e), &e);
	cr_assert_eq(bal(&l, &buyer), 1000);
	make_receipt(&job, &worker, buyer.did, 1, 1, &rc);
	uint64_t size1 = l.size;
	char head1[DAI_ID_LEN + 1];
	strcpy(head1, l.st.head);
	refused(&l, settle_claim(&l, &worker, &rc, NULL, &e), &e, "withdrawn", size1, head1);
	ledger_close(&l);
	doc_free(&job);
	doc_free(&rc);
}

Test(ledger, challenge_of_another_claim_refused)
{
	ledger l;
	dai_err e;
	dai_doc job, rc, fraud;
	char jid[DAI_ID_LEN + 1];
	genesis(&l);
	make_job(&worker, &buyer, &job);
	doc_id(&job, jid);
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	make_receipt(&job, &worker, buyer.did, 1, 1, &rc);
	must(settle_claim(&l, &worker, &rc, NULL, &e), &e);
	dai_docb b;
	docb_init(&b, "fraud", 1);
	docb_add(&b, "job", jid);
	docb_add(&b, "receipt",
	         "b2:0000000000000000000000000000000000000000000000000000000000000001");
	docb_add(&b, "model",
	         "b2:0000000000000000000000000000000000000000000000000000000000000002");
	docb_add(&b, "worker", worker.did);
	docb_add(&b, "kind", "replay");
	docb_add_b64(&b, "receipt-doc", rc.raw, rc.len);
	docb_add_b64(&b, "job-doc", job.raw, job.len);
	docb_add(&b, "time", "2026-01-01T00:00:00Z");
	must(docb_sign(&b, &fraud, other.sk, &e), &e);
	SNAP(&l);
	refused(&l, settle_challenge(&l, &other, &fraud, NULL, &e), &e,
	        "not about the claimed receipt", size0, head0);
	/* The bond and the window are checked before the proof. */
	refused(&l, settle_challenge(&l, &op, &fraud, NULL, &e), &e, "bond", size0, head0);
	set_now(T0 + WINDOW);
	refused(&l, settle_challenge(&l, &other, &fraud, NULL, &e), &e, "closed", size0, head0);
	ledger_close(&l);
	doc_free(&job);
	doc_free(&rc);
	doc_free(&fraud);
}

/* Writes a ledger of a few entries and returns its bytes and the offset
 * where its last entry starts. */
static char *small_ledger(size_t *len, size_t *last)
{
	ledger l;
	dai_err e;
	genesis(&l);
	must(settle_transfer(&l, &buyer, other.did, 5, NULL, &e), &e);
	*last = l.size;
	must(settle_transfer(&l, &other, worker.did, 7, NULL, &e), &e);
	ledger_close(&l);
	char *buf;
	must(file_read_all(path, 1 << 20, &buf, len, &e), &e);
	return buf;
}

static void write_bytes(const char *p, const char *buf, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write_all(fd, buf, n), 0);
	close(fd);
}

Test(ledger, torn_tail_at_every_byte)
{
	size_t len, last;
	char *buf = small_ledger(&len, &last);
	dai_err e;
	for (size_t cut = last; cut < len; cut++) {
		ledger l;
		write_bytes(path, buf, cut);
		must(ledger_open(&l, path, LEDGER_WRITE, &e), &e);
		cr_assert_eq(l.valid_end, last, "cut %zu", cut);
		cr_assert_eq(l.st.entries, 3);
		if (cut == last) {
			cr_assert(!l.damaged);
			ledger_close(&l);
			continue;
		}
		cr_assert(l.damaged, "torn tail at %zu not detected", cut);
		/* Appends refused until repaired. */
		int rc = settle_transfer(&l, &buyer, other.did, 1, NULL, &e);
		cr_assert_eq(rc, -1);
		cr_assert(strstr(e.msg, "repair"), "%s", e.msg);
		uint64_t dropped;
		must(ledger_repair(&l, &dropped, &e), &e);
		cr_assert_eq(dropped, cut - last);
		ledger_close(&l);
		struct stat sb;
		cr_assert_eq(stat(path, &sb), 0);
		cr_assert_eq((size_t)sb.st_size, last);
		must(ledger_open(&l, path, LEDGER_WRITE, &e), &e);
		cr_assert(!l.damaged);
		must(settle_transfer(&l, &buyer, other.did, 1, NULL, &e), &e);
		ledger_close(&l);
	}
	free(buf);
}

Test(ledger, corrupted_middle_entry)
{
	size_t len, last;
	char *buf = small_ledger(&len, &last);
	dai_err e;
	ledger l;
	/* Flip one character inside the second entry (the worker's stake). */
	char *second = strstr(buf + 1, "dai-entry 1\n");
	cr_assert(second);
	char *amount = strstr(second, "amount 40");
	cr_assert(amount);
	amount[7] = '5';
	write_bytes(path, buf, len);
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	cr_assert(l.damaged);
	cr_assert_eq(l.valid_end, (uint64_t)(second - buf));
	cr_assert_eq(l.st.entries, 1);
	cr_assert(strstr(l.damage.msg, "signature"), "%s", l.damage.msg);
	ledger_close(&l);
	/* A replayed entry (the last one, appended again) is caught too. */
	free(buf);
	unlink(path);
	buf = small_ledger(&len, &last);
	char *twice = malloc(len + (len - last));
	memcpy(twice, buf, len);
	memcpy(twice + len, buf + last, len - last);
	write_bytes(path, twice, len + (len - last));
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	cr_assert(l.damaged);
	cr_assert_eq(l.valid_end, len);
	cr_assert(strstr(l.damage.msg, "not the head"), "%s", l.damage.msg);
	ledger_close(&l);
	free(twice);
	free(buf);
}

Test(ledger, writer_holds_an_exclusive_lock)
{
	ledger l;
	genesis(&l);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		int got = flock(fd, LOCK_SH | LOCK_NB) == 0;
		_exit(got ? 1 : 0);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a reader got in beside the writer");
	ledger_close(&l);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		_exit(flock(fd, LOCK_SH | LOCK_NB) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the lock outlived the close");
}

Test(ledger, two_writers_lose_nothing, .timeout = 120)
{
	ledger l;
	dai_err e;
	enum { N = 50 }; /* the worker has 60 to spend */
	genesis(&l);
	ledger_close(&l);
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		cr_assert(kids[k] >= 0);
		if (kids[k] == 0) {
			const dai_key *from = k ? &worker : &buyer;
			for (int i = 0; i < N; i++) {
				ledger w;
				if (ledger_open(&w, path, LEDGER_WRITE, &e) ||
				    settle_transfer(&w, from, op.did, 1, NULL, &e))
					_exit(1);
				ledger_close(&w);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		cr_assert_eq(waitpid(kids[k], &st, 0), kids[k]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	cr_assert(!l.damaged, "%s", l.damage.msg);
	cr_assert_eq(l.st.entries, 2 + 2 * N);
	cr_assert_eq(bal(&l, &op), 2 * N);
	conserved(&l);
	ledger_close(&l);
}

Test(ledger, first_entry_must_be_genesis)
{
	ledger l;
	dai_err e;
	must(ledger_open(&l, path, LEDGER_CREATE, &e), &e);
	int rc = settle_transfer(&l, &buyer, other.did, 1, NULL, &e);
	cr_assert_eq(rc, -1);
	cr_assert(strstr(e.msg, "genesis"), "%s", e.msg);
	cr_assert_eq(l.size, 0);
	ledger_close(&l);
}

Test(ledger, clock_may_not_go_back)
{
	ledger l;
	dai_err e;
	genesis(&l);
	set_now(T0 - 1);
	int rc = settle_transfer(&l, &buyer, other.did, 1, NULL, &e);
	cr_assert_eq(rc, -1);
	cr_assert(strstr(e.msg, "clock"), "%s", e.msg);
	ledger_close(&l);
}

Test(ledger, offers_ranked_by_price_then_record)
{
	offer_pick p[4] = {
	    {.id = "b2:4", .price = 20, .finalized = 9, .slashed = 1},
	    {.id = "b2:3", .price = 20, .finalized = 5, .slashed = 0},
	    {.id = "b2:2", .price = 20, .finalized = 1, .slashed = 0},
	    {.id = "b2:1", .price = 30, .finalized = 99, .slashed = 0},
	};
	offer_rank(p, 4);
	cr_assert_str_eq(p[0].id, "b2:3"); /* cheapest, never slashed, most finalized */
	cr_assert_str_eq(p[1].id, "b2:2");
	cr_assert_str_eq(p[2].id, "b2:4"); /* slashed once */
	cr_assert_str_eq(p[3].id, "b2:1"); /* dearest */
}

Test(ledger, unfunded_offer_refused)
{
	ledger l;
	dai_err e;
	dai_doc offer;
	offer_pick p;
	const char *models[] = {model};
	genesis(&l);
	offer_spec os = {models, 1, 500, 64, 41, T0 + 86400};
	must(offer_make(&worker, &os, T0, &offer, &e), &e);
	cr_assert_eq(offer_pick_fill(&p, &offer, &l.st, &e), -1);
	cr_assert(strstr(e.msg, "unfunded"), "%s", e.msg);
	doc_free(&offer);
	os.stake = 40;
	must(offer_make(&worker, &os, T0, &offer, &e), &e);
	must(offer_pick_fill(&p, &offer, &l.st, &e), &e);
	must(offer_check(&offer, T0 + 86399, &e), &e);
	cr_assert_eq(offer_check(&offer, T0 + 86400, &e), -1);
	cr_assert(strstr(e.msg, "expired"), "%s", e.msg);
	doc_free(&offer);
	ledger_close(&l);
}

/* The snapshot: saved after a long replay, used when it matches the head,
 * ignored when it or the ledger changed; the state is the same either way. */
Test(ledger, snapshot_cache, .timeout = 120)
{
	ledger l, full;
	dai_err e;
	char snap[160];
	snprintf(snap, sizeof snap, "%s.snap", path);
	genesis(&l);
	for (int i = 0; i < LEDGER_SNAP_EVERY + 10; i++)
		must(settle_transfer(&l, i % 2 ? &other : &buyer, i % 2 ? buyer.did : other.did,
		                     1 + i % 3, NULL, &e),
		     &e);
	ledger_close(&l);
	cr_assert_neq(access(snap, F_OK), 0, "appends through one handle wrote a snapshot");
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	cr_assert(!l.from_snapshot);
	ledger_close(&l);
	cr_assert_eq(access(snap, F_OK), 0, "no snapshot after a long replay");

	/* Used, and the same state as a full replay; appends go on from it. */
	must(ledger_open(&l, path, LEDGER_WRITE, &e), &e);
	cr_assert(l.from_snapshot);
	must(settle_transfer(&l, &buyer, other.did, 2, NULL, &e), &e);
	ledger_close(&l);
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	must(ledger_open(&full, path, LEDGER_VERIFY, &e), &e);
	cr_assert(l.from_snapshot && !full.from_snapshot);
	cr_assert(!l.damaged && !full.damaged, "%s", full.damage.msg);
	cr_assert_str_eq(l.st.head, full.st.head);
	cr_assert_eq(l.st.entries, full.st.entries);
	cr_assert_eq(l.pos.line, full.pos.line);
	cr_assert_eq(l.st.nacc, full.st.nacc);
	for (size_t i = 0; i < l.st.nacc; i++)
		cr_assert_eq(memcmp(&l.st.acc[i], &full.st.acc[i], sizeof l.st.acc[i]), 0);
	conserved(&l);
	uint64_t entries = full.st.entries;
	ledger_close(&l);
	ledger_close(&full);

	/* A snapshot with one byte changed is ignored. */
	char *s;
	size_t n;
	must(file_read_all(snap, 1 << 20, &s, &n, &e), &e);
	char *bal = strstr(s, "\na ");
	cr_assert(bal);
	bal[strlen(bal) - 2] ^= 1;
	write_bytes(snap, s, n);
	must(ledger_open(&l, path, LEDGER_READ, &e), &e);
	cr_assert(!l.from_snapshot);
	cr_assert_eq(l.st.entries, entries);
	ledger_close(&l);
	free(s);

	/* A ledger cut below the snapshot's head: ignored too. */
	must(ledger_open(&l, path, LEDGER_READ, &e), &e); /* a fresh snapshot */
	ledger_close(&l);
	must(file_read_all(path, 1 << 24, &s, &n, &e), &e);
	write_bytes(path, s, n - 1);
	must(ledger_open(&l, path, LEDGER_WRITE, &e), &e);
	cr_assert(!l.from_snapshot);
	cr_assert(l.damaged);
	uint64_t dropped;
	must(ledger_repair(&l, &dropped, &e), &e);
	ledger_close(&l);
	free(s);
}

/* A replay long enough to check signatures on several threads finds a
 * corrupted entry exactly where a one-thread replay does. */
Test(ledger, parallel_replay_finds_damage, .timeout = 120)
{
	ledger l;
	dai_err e;
	genesis(&l);
	while (l.size < 300 * 1024)
		must(settle_transfer(&l, &buyer, other.did, 1, NULL, &e), &e);
	uint64_t entries = l.st.entries;
	char head[DAI_ID_LEN + 1];
	strcpy(head, l.st.head);
	ledger_close(&l);
	must(ledger_open(&l, path, LEDGER_VERIFY, &e), &e);
	cr_assert(!l.damaged, "%s", l.damage.msg);
	cr_assert_eq(l.st.entries, entries);
	cr_assert_str_eq(l.st.head, head);
	cr_assert_eq(bal(&l, &other), 50 + entries - 2);
	ledger_close(&l);

	/* Break the signature of entry 600 (in the third batch). */
	char *buf;
	size_t len;
	must(file_read_all(path, 1 << 24, &buf, &len, &e), &e);
	char *p = buf;
	for (int i = 0; i < 599; i++)
		p = strstr(p + 1, "dai-entry 1\n");
	char *sig = strstr(p, "\nsig ") + 60;
	*sig = *sig == 'A' ? 'B' : 'A';
	write_bytes(path, buf, len);
	must(ledger_open(&l, path, LEDGER_VERIFY, &e), &e);
	cr_assert(l.damaged);
	cr_assert_eq(l.valid_end, (uint64_t)(p - buf));
	cr_assert_eq(l.st.entries, 599);
	ledger_close(&l);
	free(buf);
}

/* An embedded document runs over several doc lines: 36864 bytes each but
 * the last. */
/* The first "\ndoc " in p[0..n), or NULL. */
static const char *next_doc_line(const char *p, size_t n)
{
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(p + i, "\ndoc ", 5) == 0)
			return p + i;
	return NULL;
}

static size_t doc_lines(const char *raw, size_t len)
{
	size_t n = 0;
	for (const char *p = raw; (p = next_doc_line(p, len - (size_t)(p - raw))); p++)
		n++;
	return n;
}

Test(ledger, multi_line_doc_round_trips)
{
	dai_err e;
	static const size_t sizes[] = {1, 36863, 36864, 36865, 2 * 36864, 3 * 36864 + 1234};
	static const size_t lines[] = {1, 1, 1, 2, 2, 4};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (int op = OP_ESCROW; op <= OP_CHALLENGE; op += OP_CHALLENGE - OP_ESCROW) {
			size_t n = sizes[i];
			char *doc = malloc(n);
			cr_assert(doc);
			randombytes_buf(doc, n);
			ledger_entry in = {
			    .op = (enum ledger_op)op, .time = T0, .doc = doc, .doc_len = n};
			strcpy(in.prev, model);
			strcpy(in.job, model);
			ledger_entry out, back;
			must(entry_encode(&in, op == OP_ESCROW ? buyer.sk : other.sk, &out, &e),
			     &e);
			cr_assert_eq(out.doc_len, n);
			cr_assert_eq(memcmp(out.doc, doc, n), 0);
			cr_assert_eq(doc_lines(out.raw.raw, out.raw.len), lines[i], "%zu bytes", n);
			must(entry_parse(&back, out.raw.raw, out.raw.len, "entry", 1, &e), &e);
			cr_assert_str_eq(back.id, out.id);
			cr_assert_eq(back.doc_len, n);
			cr_assert_eq(memcmp(back.doc, doc, n), 0);
			entry_free(&out);
			entry_free(&back);
			free(doc);
		}
	}
	/* Over the limit: refused when encoding. */
	ledger_entry big = {.op = OP_CHALLENGE, .time = T0, .doc_len = LEDGER_DOC_MAX + 1}, out;
	big.doc = calloc(1, big.doc_len);
	cr_assert(big.doc);
	strcpy(big.prev, model);
	strcpy(big.job, model);
	cr_assert_eq(entry_encode(&big, other.sk, &out, &e), -1);
	cr_assert(strstr(e.msg, "over"), "%s", e.msg);
	big.doc_len = LEDGER_DOC_MAX;
	must(entry_encode(&big, other.sk, &out, &e), &e);
	cr_assert_eq(doc_lines(out.raw.raw, out.raw.len), LEDGER_DOC_LINES);
	entry_free(&out);
	free(big.doc);
}

/* A signed challenge entry whose doc lines are the given base64 chunks of
 * data (cut by the caller, canonically or not); its parse result. */
static int parse_cut(const unsigned char *data, const size_t *cut, size_t ncut, dai_err *e)
{
	dai_docb b;
	dai_doc d;
	docb_init(&b, "entry", 1);
	docb_add(&b, "op", "challenge");
	docb_add(&b, "prev", model);
	docb_add(&b, "job", model);
	for (size_t i = 0, off = 0; i < ncut; off += cut[i++])
		docb_add_b64(&b, "doc", data + off, cut[i]);
	docb_add(&b, "time", "2026-01-01T00:00:00Z");
	if (docb_sign(&b, &d, other.sk, e))
		return -1; /* the document form itself refused it */
	ledger_entry en;
	int rc = entry_parse(&en, d.raw, d.len, "entry", 1, e);
	if (rc == 0)
		entry_free(&en);
	doc_free(&d);
	return rc;
}

Test(ledger, non_canonical_doc_lines_refused)
{
	dai_err e;
	static unsigned char data[3 * 36864];
	randombytes_buf(data, sizeof data);
	const size_t good[] = {36864, 36864, 100};
	must(parse_cut(data, good, 3, &e), &e);
	const size_t short_middle[] = {36864, 36000, 964};
	cr_assert_eq(parse_cut(data, short_middle, 3, &e), -1);
	cr_assert(strstr(e.msg, "line 2 of 3: not a whole chunk"), "%s", e.msg);
	const size_t short_first[] = {100, 36864};
	cr_assert_eq(parse_cut(data, short_first, 2, &e), -1);
	cr_assert(strstr(e.msg, "line 1 of 2"), "%s", e.msg);
	const size_t long_line[] = {36865};
	cr_assert_eq(parse_cut(data, long_line, 1, &e), -1);
	cr_assert(strstr(e.msg, "not a whole chunk"), "%s", e.msg);
	const size_t empty_last[] = {36864, 0};
	cr_assert_eq(parse_cut(data, empty_last, 2, &e), -1);
	const size_t empty_middle[] = {36864, 0, 36864};
	cr_assert_eq(parse_cut(data, empty_middle, 3, &e), -1);

	/* An empty line written by hand, signature and all. */
	char body[256];
	unsigned char sig[64];
	char sig64[89], text[512];
	int n = snprintf(body, sizeof body,
	                 "dai-entry 1\nop challenge\nprev %s\njob %s\ndoc AAAA\ndoc \n"
	                 "time 2026-01-01T00:00:00Z\n",
	                 model, model);
	crypto_sign_detached(sig, NULL, (const unsigned char *)body, (size_t)n, other.sk);
	b64_encode(sig64, sig, 64);
	int tn = snprintf(text, sizeof text, "%ssig %s %s\n", body, other.did + 8, sig64);
	ledger_entry en;
	cr_assert_eq(entry_parse(&en, text, (size_t)tn, "entry", 1, &e), -1);
}

/* A real escrow whose job (a long prompt) spans two doc lines: appended,
 * replayed, verified, saved in and resumed from a snapshot, claimed, and
 * its torn tail found wherever the write stopped. */
Test(ledger, multi_line_escrow_replays, .timeout = 120)
{
	ledger l;
	dai_err e;
	dai_doc offer, job, rc;
	const char *models[] = {model};
	offer_spec os = {models, 1, 500, 64, 40, T0 + 86400};
	static unsigned char prompt[40000];
	memset(prompt, 'x', sizeof prompt);
	must(offer_make(&worker, &os, T0, &offer, &e), &e);
	job_spec js = {.prompt = prompt,
	               .prompt_len = sizeof prompt,
	               .max_tokens = 16,
	               .top_p_milli = 1000,
	               .max_price = 100,
	               .expires = T0 + 7200};
	/* The longest prompt fits one line; one byte more is refused. */
	static unsigned char longest[JOB_PROMPT_MAX + 1];
	memset(longest, 'y', sizeof longest);
	js.prompt = longest;
	js.prompt_len = JOB_PROMPT_MAX;
	must(job_make(&offer, &buyer, &js, T0, &job, &e), &e);
	doc_free(&job);
	js.prompt_len++;
	cr_assert_eq(job_make(&offer, &buyer, &js, T0, &job, &e), -1);
	cr_assert(strstr(e.msg, "shorten"), "%s", e.msg);
	js.prompt = prompt;
	js.prompt_len = sizeof prompt;
	must(job_make(&offer, &buyer, &js, T0, &job, &e), &e);
	cr_assert_gt(job.len, DAI_B64_CHUNK);
	genesis(&l);
	uint64_t before = l.size;
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	uint64_t after = l.size;
	for (int i = 0; i < LEDGER_SNAP_EVERY + 2; i++)
		must(settle_transfer(&l, &buyer, other.did, 1, NULL, &e), &e);
	ledger_close(&l);

	char *buf;
	size_t len;
	must(file_read_all(path, 1 << 24, &buf, &len, &e), &e);
	cr_assert_eq(doc_lines(buf + before, after - before), 2);

	must(ledger_open(&l, path, LEDGER_VERIFY, &e), &e);
	cr_assert(!l.damaged, "%s", l.damage.msg);
	ledger_close(&l);
	must(ledger_open(&l, path, LEDGER_READ, &e), &e); /* saves a snapshot */
	ledger_close(&l);
	must(ledger_open(&l, path, LEDGER_WRITE, &e), &e);
	cr_assert(l.from_snapshot);
	make_receipt(&job, &worker, buyer.did, 1, 1, &rc);
	must(settle_claim(&l, &worker, &rc, NULL, &e), &e);
	ledger_close(&l);

	/* Torn inside the two-line entry: everything from it on is the tail. */
	const char *second = next_doc_line(buf + before, after - before);
	second = next_doc_line(second + 1, after - (size_t)(second + 1 - buf));
	size_t cuts[] = {before + 1, (size_t)(second - buf), (size_t)(second - buf) + 5, after - 2,
	                 after - 1};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		write_bytes(path, buf, cuts[i]);
		must(ledger_open(&l, path, LEDGER_READ, &e), &e);
		cr_assert(l.damaged, "cut at %zu not detected", cuts[i]);
		cr_assert_eq(l.valid_end, before);
		ledger_close(&l);
	}
	free(buf);
	doc_free(&offer);
	doc_free(&job);
	doc_free(&rc);
}

/* A challenge bigger than an entry can hold is refused up front. */
Test(ledger, oversized_challenge_refused)
{
	ledger l;
	dai_err e;
	dai_doc job, rc, fraud;
	char jid[DAI_ID_LEN + 1];
	genesis(&l);
	make_job(&worker, &buyer, &job);
	doc_id(&job, jid);
	must(settle_escrow(&l, &buyer, &job, NULL, &e), &e);
	make_receipt(&job, &worker, buyer.did, 1, 1, &rc);
	must(settle_claim(&l, &worker, &rc, NULL, &e), &e);
	size_t n = LEDGER_DOC_MAX / 4 * 3;
	unsigned char *proof = calloc(1, n);
	cr_assert(proof);
	dai_docb b;
	docb_init(&b, "fraud", 1);
	docb_add(&b, "job", jid);
	docb_add(&b, "receipt", model);
	docb_add(&b, "model", model);
	docb_add(&b, "worker", worker.did);
	docb_add(&b, "kind", "step");
	docb_add_b64(&b, "receipt-doc", rc.raw, rc.len);
	docb_add_b64(&b, "job-doc", job.raw, job.len);
	docb_add_b64_lines(&b, "proof", proof, n);
	docb_add(&b, "time", "2026-01-01T00:00:00Z");
	must(docb_sign(&b, &fraud, other.sk, &e), &e);
	cr_assert_gt(fraud.len, LEDGER_DOC_MAX);
	SNAP(&l);
	refused(&l, settle_challenge(&l, &other, &fraud, NULL, &e), &e, "at most", size0, head0);
	ledger_close(&l);
	free(proof);
	doc_free(&job);
	doc_free(&rc);
	doc_free(&fraud);
}
