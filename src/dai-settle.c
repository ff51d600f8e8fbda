/* dai-settle: the embedded ledger: escrow, claim, challenge, finalize. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "chainkey.h"
#include "cli.h"
#include "codec.h"
#include "ethaddr.h"
#include "fsio.h"
#include "settle_chain.h"
#include "doc_schema.h"
#include "docio.h"
#include "settle.h"
#include "strmap.h"
#include "timefmt.h"

static const char usage[] =
    "usage: dai-settle [--ledger FILE] COMMAND ...\n"
    "  init -k KEY --window DUR [--bond N] --alloc DID=AMOUNT...   write the genesis\n"
    "  transfer -k KEY DID AMOUNT      stake -k KEY AMOUNT      unstake -k KEY AMOUNT\n"
    "  escrow -k BUYER.key [FILE]      lock the max-price of each dai-job of the stream\n"
    "  claim -k WORKER.key [FILE]      claim the job of each dai-receipt of the stream\n"
    "  challenge -k KEY [FILE]         challenge a claim with each dai-fraud of the stream\n"
    "  finalize -k KEY (--all | [FILE])   pay claims whose challenge window has passed\n"
    "  withdraw -k BUYER.key [FILE]    take back the escrow of jobs never claimed\n"
    "  balance [DID]   log   verify   repair\n"
    "  the ledger is FILE, else $DAI_LEDGER, else ~/.local/share/dai/ledger;\n"
    "  DAI_NOW=YYYY-MM-DDTHH:MM:SSZ sets the clock\n"
    "usage: dai-settle --chain URL [--chain-id N] [-k KEY | --from ADDR] [--contract ADDR]\n"
    "                  [--unit WEI] [-v] COMMAND ...   (the DaiEscrow contract; -v: gas)\n"
    "  deploy --referee ADDR... --threshold M --window DUR [--resolve-timeout DUR]\n"
    "         [--bond WEI] [--challenge-bond WEI]   print the new contract's address\n"
    "  escrow (--worker-bind FILE | --worker-address ADDR) [FILE]   claim [FILE]\n"
    "  challenge [FILE]   bind -k KEY   print the key's dai-bind (did to address)\n"
    "  sign-resolution -k REFEREE.key JOB (FRAUD-FILE JOB-FILE | proven|failed)\n"
    "                  check the challenge (or take the outcome) and print a signature\n"
    "  resolve JOB proven|failed SIG...      finalize JOB...   refund JOB...   withdraw\n"
    "  transfer ADDR WEI   address   balance [ADDR]   job JOB   log\n";

static const char *ledger_path;

static void open_ledger(ledger *l, enum ledger_mode mode)
{
	dai_err e;
	if (ledger_open(l, ledger_path, mode, &e))
		cli_fail(&e);
}

static uint64_t amount_arg(const char *s)
{
	unsigned long long v;
	if (value_uint(s, strlen(s), &v))
		cli_die(EXIT_USAGE, "'%s' is not an amount (an unsigned integer)", s);
	return v;
}

static void load_key(dai_key *k, const char *path)
{
	dai_err e;
	if (!path)
		cli_die(EXIT_USAGE, "this command needs a key (-k KEY)");
	if (key_load(k, path, &e))
		cli_fail(&e);
}

/* The stream commands: each document of the input passes through to
 * stdout; those of the command's kind are settled first, each under its own
 * lock so a slow stream never holds the ledger. */
enum stream_cmd { S_ESCROW, S_CLAIM, S_CHALLENGE, S_FINALIZE, S_WITHDRAW };

/* done: the jobs finalized or withdrawn so far in this stream, so that a
 * job and its receipt (both naming the job) settle it once. */
static int settle_one(enum stream_cmd cmd, const dai_key *k, const dai_doc *d, dai_strmap *done,
                      dai_err *e)
{
	static const char *const kinds[] = {"job", "receipt", "fraud", NULL, "job"};
	char job[DAI_ID_LEN + 1];
	if (kinds[cmd] ? strcmp(d->kind, kinds[cmd]) != 0
	               : strcmp(d->kind, "job") != 0 && strcmp(d->kind, "receipt") != 0)
		return 0;
	if (cmd == S_FINALIZE || cmd == S_WITHDRAW) {
		if (settle_job_of(d, job, e))
			return -1;
		if (strmap_get(done, job) >= 0)
			return 0;
		if (strmap_put(done, job, 0))
			return dai_errf(e, "out of memory");
	}
	ledger l;
	if (ledger_open(&l, ledger_path, LEDGER_WRITE, e))
		return -1;
	int rc;
	switch (cmd) {
	case S_ESCROW:
		rc = settle_escrow(&l, k, d, NULL, e);
		break;
	case S_CLAIM:
		rc = settle_claim(&l, k, d, NULL, e);
		break;
	case S_CHALLENGE:
		rc = settle_challenge(&l, k, d, NULL, e);
		break;
	case S_FINALIZE:
		rc = settle_finalize(&l, k, job, NULL, e);
		break;
	default:
		rc = settle_withdraw(&l, k, job, NULL, e);
		break;
	}
	ledger_close(&l);
	return rc ? -1 : 0;
}

static int run_stream(enum stream_cmd cmd, const char *keypath, const char *input)
{
	dai_err e;
	dai_key k;
	load_key(&k, keypath);
	dai_reader r;
	static dai_strmap done; /* static: reachable until exit */
	cli_open_reader(&r, input);
	dai_doc d;
	while (cli_next_doc(&r, &d)) {
		if (settle_one(cmd, &k, &d, &done, &e) || doc_write(stdout, &d, &e))
			cli_fail(&e);
		doc_free(&d);
	}
	strmap_free(&done);
	reader_free(&r);
	key_free(&k);
	if (fflush(stdout) != 0)
		cli_die(EXIT_BAD, "write error on stdout");
	return 0;
}

static int cmd_init(const char *keypath, const char *window, const char *bond, char **alloc,
                    size_t nalloc)
{
	dai_err e;
	long long secs;
	if (!window || nalloc == 0)
		cli_usage(usage);
	if (duration_parse(window, &secs) || secs <= 0)
		cli_die(EXIT_USAGE, "--window '%s' is not a duration such as 90s, 15m, 2h, 7d",
		        window);
	ledger_alloc *a = calloc(nalloc, sizeof *a);
	if (!a)
		cli_die(EXIT_BAD, "out of memory");
	for (size_t i = 0; i < nalloc; i++) {
		char *eq = strrchr(alloc[i], '=');
		if (!eq)
			cli_die(EXIT_USAGE, "--alloc '%s' is not DID=AMOUNT", alloc[i]);
		*eq = 0;
		if (key_read_did(alloc[i], a[i].did, &e))
			cli_fail(&e);
		a[i].amount = amount_arg(eq + 1);
	}
	dai_key k;
	load_key(&k, keypath);
	ledger l;
	char id[DAI_ID_LEN + 1];
	open_ledger(&l, LEDGER_CREATE);
	if (settle_genesis(&l, &k, (uint64_t)secs, bond ? amount_arg(bond) : 0, a, nalloc, id, &e))
		cli_fail(&e);
	ledger_close(&l);
	key_free(&k);
	free(a);
	printf("%s\n", id);
	return 0;
}

static int cmd_simple(const char *cmd, const char *keypath, char **args, int nargs)
{
	dai_err e;
	dai_key k;
	ledger l;
	char id[DAI_ID_LEN + 1], did[DAI_DID_MAX];
	int transfer = strcmp(cmd, "transfer") == 0;
	if (nargs != (transfer ? 2 : 1))
		cli_usage(usage);
	if (transfer && key_read_did(args[0], did, &e))
		cli_fail(&e);
	uint64_t amount = amount_arg(args[nargs - 1]);
	load_key(&k, keypath);
	open_ledger(&l, LEDGER_WRITE);
	int rc = transfer ? settle_transfer(&l, &k, did, amount, id, &e)
	                  : settle_stake(&l, &k, strcmp(cmd, "unstake") == 0, amount, id, &e);
	if (rc)
		cli_fail(&e);
	ledger_close(&l);
	key_free(&k);
	printf("%s\n", id);
	return 0;
}

static int cmd_finalize_all(const char *keypath)
{
	dai_err e;
	dai_key k;
	ledger l;
	unsigned long n;
	load_key(&k, keypath);
	open_ledger(&l, LEDGER_WRITE);
	int rc = settle_finalize_all(&l, &k, &n, &e);
	ledger_close(&l);
	key_free(&k);
	if (rc) {
		cli_warn("finalized %lu job(s) before the failure", n);
		cli_fail(&e);
	}
	printf("finalized %lu\n", n);
	return 0;
}

static void print_account(const ledger_account *a)
{
	printf("%s %llu %llu %llu %llu\n", a->did, (unsigned long long)a->balance,
	       (unsigned long long)a->stake, (unsigned long long)a->finalized,
	       (unsigned long long)a->slashed);
}

static void warn_damage(const ledger *l)
{
	if (l->damaged)
		cli_warn("warning: %s; showing the state before it; see 'dai-settle repair'",
		         l->damage.msg);
}

static int cmd_balance(char **args, int nargs)
{
	dai_err e;
	ledger l;
	char did[DAI_DID_MAX];
	if (nargs > 1)
		cli_usage(usage);
	if (nargs == 1 && key_read_did(args[0], did, &e))
		cli_fail(&e);
	open_ledger(&l, LEDGER_READ);
	warn_damage(&l);
	if (nargs == 1) {
		const ledger_account *a = state_account(&l.st, did);
		ledger_account zero = {0};
		if (!a) {
			snprintf(zero.did, sizeof zero.did, "%s", did);
			a = &zero;
		}
		print_account(a);
	} else {
		uint64_t sum, locked = 0;
		for (size_t i = 0; i < l.st.nacc; i++)
			print_account(&l.st.acc[i]);
		for (size_t i = 0; i < l.st.njobs; i++)
			if (l.st.jobs[i].status == JOB_ESCROWED ||
			    l.st.jobs[i].status == JOB_CLAIMED)
				locked += l.st.jobs[i].locked;
		if (state_sum(&l.st, &sum) || sum != l.st.total)
			cli_die(EXIT_BAD, "%s: the balances do not add up to the genesis total",
			        ledger_path);
		printf("escrowed %llu\ntotal %llu\n", (unsigned long long)locked,
		       (unsigned long long)sum);
	}
	ledger_close(&l);
	return 0;
}

static void log_entry(void *arg, const ledger_entry *en, const ledger_state *st, uint64_t off)
{
	(void)arg;
	(void)off;
	char t[DAI_TIME_LEN + 1];
	const ledger_job *j = en->job[0] ? state_job(st, en->job) : NULL;
	time_format(t, en->time);
	printf("%llu %s %s %s %s", (unsigned long long)st->entries, t, ledger_op_name(en->op),
	       en->id, en->actor);
	switch (en->op) {
	case OP_GENESIS:
		printf(" window=%llu bond=%llu total=%llu", (unsigned long long)en->window,
		       (unsigned long long)en->bond, (unsigned long long)st->total);
		break;
	case OP_TRANSFER:
		printf(" to=%s amount=%llu", en->to, (unsigned long long)en->amount);
		break;
	case OP_STAKE:
	case OP_UNSTAKE:
		printf(" amount=%llu", (unsigned long long)en->amount);
		break;
	case OP_ESCROW:
		printf(" job=%s locked=%llu", en->job, (unsigned long long)j->locked);
		break;
	case OP_CLAIM:
		printf(" job=%s receipt=%s tokens=%llu+%llu", en->job, en->receipt,
		       (unsigned long long)en->tokens_in, (unsigned long long)en->tokens_out);
		break;
	case OP_FINALIZE:
		printf(" job=%s paid=%llu refund=%llu", en->job, (unsigned long long)j->paid,
		       (unsigned long long)(j->locked - j->paid));
		break;
	default:
		printf(" job=%s", en->job);
		break;
	}
	putchar('\n');
}

static int cmd_log(void)
{
	dai_err e;
	ledger l;
	if (ledger_open_visit(&l, ledger_path, LEDGER_READ, log_entry, NULL, &e))
		cli_fail(&e);
	warn_damage(&l);
	ledger_close(&l);
	return 0;
}

static int cmd_verify(void)
{
	ledger l;
	uint64_t sum;
	open_ledger(&l, LEDGER_VERIFY);
	if (l.damaged)
		cli_die(EXIT_BAD, "%s (%llu valid entries before it)", l.damage.msg,
		        (unsigned long long)l.st.entries);
	if (!l.st.started)
		cli_die(EXIT_BAD, "%s: empty ledger", ledger_path);
	if (state_sum(&l.st, &sum) || sum != l.st.total)
		cli_die(EXIT_BAD, "%s: the balances do not add up to the genesis total",
		        ledger_path);
	printf("ok %llu entries head %s\n", (unsigned long long)l.st.entries, l.st.head);
	ledger_close(&l);
	return 0;
}

static int cmd_repair(void)
{
	dai_err e;
	ledger l;
	uint64_t dropped;
	open_ledger(&l, LEDGER_WRITE);
	if (!l.damaged) {
		printf("intact: %llu entries head %s\n", (unsigned long long)l.st.entries,
		       l.st.head);
	} else {
		char why[sizeof l.damage.msg];
		snprintf(why, sizeof why, "%s", l.damage.msg);
		if (ledger_repair(&l, &dropped, &e))
			cli_fail(&e);
		cli_warn("cut %llu bytes after byte %llu: %s", (unsigned long long)dropped,
		         (unsigned long long)l.valid_end, why);
		printf("repaired: %llu entries head %s\n", (unsigned long long)l.st.entries,
		       l.st.head);
	}
	ledger_close(&l);
	return 0;
}

/* ---- dai-settle --chain: the same steps on the DaiEscrow contract ---- */

typedef struct chain_opts {
	const char *url, *contract, *from, *unit, *worker, *worker_bind, *threshold,
	    *resolve_timeout, *challenge_bond, *chain_id;
	char **referees;
	size_t nreferees;
	int verbose;
} chain_opts;

static settle_chain sc;
static chain ch;
static dai_key chain_id_key;
static unsigned char *chain_sk; /* guarded memory */
static int verbose_gas;
static int have_sender; /* -k or --from given */

static void parse_addr(const char *s, unsigned char a[20], const char *what)
{
	dai_err e;
	if (eth_address_parse(a, s, strlen(s), what, &e))
		cli_fail(&e);
}

static void parse_wei(const char *s, u256 *v, const char *what)
{
	dai_err e;
	if (u256_parse_dec(v, s, strlen(s), what, &e))
		cli_fail(&e);
}

static uint64_t parse_secs(const char *s, const char *what)
{
	long long secs;
	if (duration_parse(s, &secs) || secs <= 0)
		cli_die(EXIT_USAGE, "%s '%s' is not a duration such as 90s, 15m, 2h, 7d", what, s);
	return (uint64_t)secs;
}

static void report(const char *step, const chain_receipt *rc)
{
	if (verbose_gas) {
		char h[65];
		hex_encode(h, rc->hash, 32);
		fprintf(stderr, "%s: %s tx 0x%s block %llu gas %llu\n", cli_name(), step, h,
		        (unsigned long long)rc->block, (unsigned long long)rc->gas_used);
	}
}

/* Opens the node (chain id first), the sender and the contract. */
static void chain_setup(const chain_opts *o, const char *keypath, int need_sender,
                        int need_contract)
{
	dai_err e;
	uint64_t want = 0;
	if (o->chain_id) {
		unsigned long long v;
		if (value_uint(o->chain_id, strlen(o->chain_id), &v) || v == 0)
			cli_die(EXIT_USAGE, "--chain-id '%s' is not a chain id", o->chain_id);
		want = v;
	}
	if (keypath && o->from)
		cli_die(EXIT_USAGE, "give either -k KEY or --from ADDR, not both");
	if (need_sender && !keypath && !o->from)
		cli_die(EXIT_USAGE, "this command sends a transaction: give -k KEY or --from ADDR");
	if (need_contract && !o->contract)
		cli_die(EXIT_USAGE, "this command needs --contract ADDR");
	if (o->contract)
		parse_addr(o->contract, sc.contract, "--contract");
	sc.unit = u256_from_u64(1000000000); /* 1 gwei per ledger unit */
	if (o->unit)
		parse_wei(o->unit, &sc.unit, "--unit");
	if (keypath) {
		load_key(&chain_id_key, keypath);
		chain_sk = sodium_malloc(32);
		if (!chain_sk)
			cli_die(EXIT_BAD, "out of memory");
		if (chainkey_derive(&chain_id_key, chain_sk, sc.from.addr, &e))
			cli_fail(&e);
		sc.from.sk = chain_sk;
		sc.did = chain_id_key.did;
		have_sender = 1;
	} else if (o->from) {
		parse_addr(o->from, sc.from.addr, "--from");
		have_sender = 1;
	}
	if (chain_open(&ch, o->url, want, &e))
		cli_fail(&e);
	sc.c = &ch;
}

static int chain_deploy(const chain_opts *o, const char *window, const char *bond)
{
	dai_err e;
	escrow_terms t = {0};
	unsigned long long m;
	if (!o->nreferees || !o->threshold || !window)
		cli_die(EXIT_USAGE, "deploy needs --referee ADDR (one or more), --threshold M and "
		                    "--window DUR");
	if (value_uint(o->threshold, strlen(o->threshold), &m) || m == 0 || m > o->nreferees)
		cli_die(EXIT_USAGE, "--threshold must be 1 to the number of referees (%zu)",
		        o->nreferees);
	unsigned char(*refs)[20] = calloc(o->nreferees, 20);
	if (!refs)
		cli_die(EXIT_BAD, "out of memory");
	for (size_t i = 0; i < o->nreferees; i++)
		parse_addr(o->referees[i], refs[i], "--referee");
	t.referees = (const unsigned char(*)[20])refs;
	t.n_referees = o->nreferees;
	t.threshold = m;
	t.window = parse_secs(window, "--window");
	t.resolve_timeout =
	    parse_secs(o->resolve_timeout ? o->resolve_timeout : "1d", "--resolve-timeout");
	t.worker_bond = t.challenge_bond = u256_from_u64(0);
	if (bond)
		parse_wei(bond, &t.worker_bond, "--bond");
	if (o->challenge_bond)
		parse_wei(o->challenge_bond, &t.challenge_bond, "--challenge-bond");
	unsigned char addr[20];
	char text[ETH_ADDR_TEXT];
	chain_receipt rc;
	if (escrow_deploy(&ch, &sc.from, &t, addr, &rc, &e))
		cli_fail(&e);
	report("deploy", &rc);
	eth_address_format(text, addr);
	printf("%s\n", text);
	free(refs);
	return 0;
}

/* escrow, claim, challenge: documents pass through to stdout; those of the
 * command's kind are settled on the contract first. */
static int chain_stream(const char *cmd, const chain_opts *o, const char *input)
{
	dai_err e;
	unsigned char worker[20];
	int is_escrow = !strcmp(cmd, "escrow"), is_claim = !strcmp(cmd, "claim");
	const char *kind = is_escrow ? "job" : is_claim ? "receipt" : "fraud";
	if (is_escrow) {
		static char bound_did[DAI_DID_MAX];
		if (!o->worker == !o->worker_bind)
			cli_die(EXIT_USAGE,
			        "escrow needs --worker-bind FILE or --worker-address ADDR");
		if (o->worker)
			parse_addr(o->worker, worker, "--worker-address");
		else {
			/* the worker's address, from its dai-bind */
			char *buf;
			size_t len;
			dai_doc bd;
			if (file_read_all(o->worker_bind, DAI_KEYFILE_MAX, &buf, &len, &e) ||
			    doc_parse(&bd, buf, len, o->worker_bind, 1, &e) ||
			    bind_check(&bd, bound_did, worker, &e)) {
				dai_err_prefix(&e, o->worker_bind);
				cli_fail(&e);
			}
			free(buf);
			doc_free(&bd);
			sc.worker_did = bound_did;
		}
	}
	dai_reader r;
	cli_open_reader(&r, input);
	dai_doc d;
	while (cli_next_doc(&r, &d)) {
		if (!strcmp(d.kind, kind)) {
			chain_receipt rc;
			int rc_ = 0;
			/* jobs and receipts are signed by the party that settles them */
			if (strcmp(kind, "fraud") != 0 && doc_verify(&d, &e))
				rc_ = -1;
			else if (is_escrow)
				rc_ = settle_chain_escrow(&sc, &d, worker, &rc, &e);
			else if (is_claim)
				rc_ = settle_chain_claim(&sc, &d, &rc, &e);
			else
				rc_ = settle_chain_challenge(&sc, &d, &rc, &e);
			if (rc_)
				cli_fail(&e);
			report(cmd, &rc);
		}
		if (doc_write(stdout, &d, &e))
			cli_fail(&e);
		doc_free(&d);
	}
	reader_free(&r);
	if (fflush(stdout) != 0)
		cli_die(EXIT_BAD, "write error on stdout");
	return 0;
}

static int outcome_arg(const char *s)
{
	if (!strcmp(s, "proven"))
		return 1;
	if (!strcmp(s, "failed"))
		return 0;
	cli_die(EXIT_USAGE, "the outcome is 'proven' or 'failed', not '%s'", s);
}

static void job_arg(const char *s, unsigned char id[32])
{
	dai_err e;
	if (settle_chain_id(s, id, "JOB", &e))
		cli_fail(&e);
}

/* Reads one document from a file. */
static void read_doc(const char *path, dai_doc *d)
{
	dai_err e;
	char *buf;
	size_t len;
	if (file_read_all(path, 64u << 20, &buf, &len, &e) || doc_parse(d, buf, len, path, 1, &e))
		cli_fail(&e);
	free(buf);
}

/* JOB proven|failed: signs that outcome. JOB FRAUD-FILE JOB-FILE: runs the
 * proof check on the challenged fraud document and signs its verdict. */
static int chain_sign_resolution(char **args, int nargs)
{
	dai_err e;
	unsigned char job[32], res[32], sig[65];
	char hex[131];
	escrow_job j;
	int proven;
	if (nargs != 2 && nargs != 3)
		cli_usage(usage);
	job_arg(args[0], job);
	if (nargs == 3) {
		dai_doc fraud, jd;
		read_doc(args[1], &fraud);
		read_doc(args[2], &jd);
		if (settle_chain_verdict(&sc, job, &jd, &fraud, &proven, &e))
			cli_fail(&e);
		fprintf(stderr, "%s: verdict: %s\n", cli_name(), proven ? "proven" : "failed");
		doc_free(&fraud);
		doc_free(&jd);
	} else {
		proven = outcome_arg(args[1]);
	}
	if (escrow_get_job(&ch, sc.contract, job, &j, &e))
		cli_fail(&e);
	if (j.state != ESCROW_CHALLENGED)
		cli_die(EXIT_BAD, "job %s is not under challenge", args[0]);
	if (escrow_resolution(ch.chain_id, sc.contract, job, j.receipt, j.fraud, proven, res, &e) ||
	    escrow_sign_resolution(chain_sk, res, sig, &e))
		cli_fail(&e);
	hex_encode(hex, sig, 65);
	printf("0x%s\n", hex);
	return 0;
}

static int chain_resolve(char **args, int nargs)
{
	dai_err e;
	unsigned char job[32];
	chain_receipt rc;
	if (nargs < 3)
		cli_usage(usage);
	job_arg(args[0], job);
	int proven = outcome_arg(args[1]);
	size_t n = (size_t)nargs - 2;
	unsigned char(*sigs)[65] = calloc(n, 65);
	if (!sigs)
		cli_die(EXIT_BAD, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = args[2 + i];
		if (strlen(s) != 132 || s[0] != '0' || s[1] != 'x' ||
		    hex_decode(sigs[i], 65, s + 2, 130))
			cli_die(EXIT_USAGE, "'%s' is not a signature (0x and 130 hex digits)", s);
	}
	if (escrow_resolve(&ch, &sc.from, sc.contract, job, proven,
	                   (const unsigned char(*)[65])sigs, n, &rc, &e))
		cli_fail(&e);
	report("resolve", &rc);
	free(sigs);
	return 0;
}

static int chain_jobs_step(const char *cmd, char **args, int nargs)
{
	dai_err e;
	chain_receipt rc;
	if (nargs < 1)
		cli_usage(usage);
	for (int i = 0; i < nargs; i++) {
		unsigned char job[32];
		job_arg(args[i], job);
		int r = !strcmp(cmd, "finalize")
		            ? escrow_finalize(&ch, &sc.from, sc.contract, job, &rc, &e)
		            : escrow_refund(&ch, &sc.from, sc.contract, job, &rc, &e);
		if (r)
			cli_fail(&e);
		report(cmd, &rc);
	}
	return 0;
}

static int chain_balance_cmd(char **args, int nargs)
{
	dai_err e;
	unsigned char who[20];
	u256 bal, credit = u256_from_u64(0);
	char t[ETH_ADDR_TEXT], b[U256_DEC_MAX], c[U256_DEC_MAX];
	if (nargs > 1 || (nargs == 0 && !have_sender))
		cli_die(EXIT_USAGE, "balance of whom? give ADDR, -k KEY or --from ADDR");
	if (nargs == 1)
		parse_addr(args[0], who, "ADDR");
	else
		memcpy(who, sc.from.addr, 20);
	if (chain_balance(&ch, who, &bal, &e))
		cli_fail(&e);
	if (memcmp(sc.contract, (unsigned char[20]){0}, 20) &&
	    escrow_get_credit(&ch, sc.contract, who, &credit, &e))
		cli_fail(&e);
	eth_address_format(t, who);
	u256_format_dec(b, &bal);
	u256_format_dec(c, &credit);
	printf("%s balance %s credit %s\n", t, b, c);
	return 0;
}

/* Sends wei from the sender to an account (to fund a chain key). */
static int chain_transfer(char **args, int nargs)
{
	dai_err e;
	unsigned char to[20];
	chain_tx tx = {0};
	chain_receipt rc;
	if (nargs != 2)
		cli_usage(usage);
	parse_addr(args[0], to, "ADDR");
	parse_wei(args[1], &tx.value, "WEI");
	tx.to = to;
	if (chain_send(&ch, &sc.from, &tx, &rc, &e))
		cli_fail(&e);
	report("transfer", &rc);
	return 0;
}

static int chain_job_cmd(char **args, int nargs)
{
	static const char *const states[] = {"none", "escrowed", "claimed", "challenged", "done"};
	dai_err e;
	unsigned char job[32];
	escrow_job j;
	char buyer[ETH_ADDR_TEXT], worker[ETH_ADDR_TEXT], amount[U256_DEC_MAX], price[U256_DEC_MAX];
	char receipt[65], fraud[65];
	if (nargs != 1)
		cli_usage(usage);
	job_arg(args[0], job);
	if (escrow_get_job(&ch, sc.contract, job, &j, &e))
		cli_fail(&e);
	eth_address_format(buyer, j.buyer);
	eth_address_format(worker, j.worker);
	u256_format_dec(amount, &j.amount);
	u256_format_dec(price, &j.price);
	hex_encode(receipt, j.receipt, 32);
	hex_encode(fraud, j.fraud, 32);
	printf("%s %s buyer=%s worker=%s amount=%s price=%s deadline=%llu receipt=b2:%s "
	       "fraud=b2:%s\n",
	       args[0], states[j.state], buyer, worker, amount, price,
	       (unsigned long long)j.deadline, receipt, fraud);
	return 0;
}

static void print_line(void *arg, const char *line)
{
	(void)arg;
	puts(line);
}

static int chain_main(const char *cmd, char **args, int nargs, const chain_opts *o,
                      const char *keypath, const char *window, const char *bond)
{
	int is_deploy = !strcmp(cmd, "deploy");
	int sends = is_deploy || !strcmp(cmd, "escrow") || !strcmp(cmd, "claim") ||
	            !strcmp(cmd, "challenge") || !strcmp(cmd, "resolve") ||
	            !strcmp(cmd, "finalize") || !strcmp(cmd, "refund") ||
	            !strcmp(cmd, "withdraw") || !strcmp(cmd, "transfer");
	int is_address = !strcmp(cmd, "address");
	if (!is_deploy && (window || bond || o->nreferees || o->threshold || o->resolve_timeout ||
	                   o->challenge_bond))
		cli_usage(usage);
	if ((o->worker || o->worker_bind) && strcmp(cmd, "escrow") != 0)
		cli_usage(usage);
	if (is_address) {
		/* offline: the address of the key's chain account */
		dai_err e;
		char t[ETH_ADDR_TEXT];
		if (nargs)
			cli_usage(usage);
		load_key(&chain_id_key, keypath);
		chain_sk = sodium_malloc(32);
		if (!chain_sk)
			cli_die(EXIT_BAD, "out of memory");
		if (chainkey_derive(&chain_id_key, chain_sk, sc.from.addr, &e))
			cli_fail(&e);
		eth_address_format(t, sc.from.addr);
		printf("%s\n", t);
		return 0;
	}
	if (!strcmp(cmd, "bind")) {
		/* made offline: no node needed */
		dai_err e;
		dai_doc d;
		if (!keypath || nargs)
			cli_die(EXIT_USAGE, "bind needs -k KEY and no arguments");
		load_key(&chain_id_key, keypath);
		if (bind_make(&chain_id_key, &d, &e) || doc_write(stdout, &d, &e))
			cli_fail(&e);
		doc_free(&d);
		if (fflush(stdout) != 0)
			cli_die(EXIT_BAD, "write error on stdout");
		return 0;
	}
	if ((is_address || !strcmp(cmd, "sign-resolution")) && !keypath)
		cli_die(EXIT_USAGE, "%s needs -k KEY", cmd);
	verbose_gas = o->verbose;
	chain_setup(o, keypath, sends,
	            !is_deploy && !is_address && strcmp(cmd, "balance") != 0 &&
	                strcmp(cmd, "transfer") != 0);
	if (is_deploy)
		return nargs ? (cli_usage(usage), 0) : chain_deploy(o, window, bond);
	if (!strcmp(cmd, "escrow") || !strcmp(cmd, "claim") || !strcmp(cmd, "challenge")) {
		if (nargs > 1)
			cli_usage(usage);
		return chain_stream(cmd, o, nargs ? args[0] : NULL);
	}
	if (!strcmp(cmd, "sign-resolution"))
		return chain_sign_resolution(args, nargs);
	if (!strcmp(cmd, "resolve"))
		return chain_resolve(args, nargs);
	if (!strcmp(cmd, "finalize") || !strcmp(cmd, "refund"))
		return chain_jobs_step(cmd, args, nargs);
	if (!strcmp(cmd, "withdraw")) {
		dai_err e;
		chain_receipt rc;
		if (nargs)
			cli_usage(usage);
		if (escrow_withdraw(&ch, &sc.from, sc.contract, &rc, &e))
			cli_fail(&e);
		report("withdraw", &rc);
		return 0;
	}
	if (!strcmp(cmd, "balance"))
		return chain_balance_cmd(args, nargs);
	if (!strcmp(cmd, "transfer"))
		return chain_transfer(args, nargs);
	if (!strcmp(cmd, "job"))
		return chain_job_cmd(args, nargs);
	if (!strcmp(cmd, "log")) {
		dai_err e;
		if (nargs)
			cli_usage(usage);
		if (escrow_log(&ch, sc.contract, print_line, NULL, &e))
			cli_fail(&e);
		return 0;
	}
	cli_usage(usage);
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	static const struct option opts[] = {
	    {"ledger", required_argument, NULL, 'l'},
	    {"key", required_argument, NULL, 'k'},
	    {"window", required_argument, NULL, 'w'},
	    {"bond", required_argument, NULL, 'b'},
	    {"alloc", required_argument, NULL, 'a'},
	    {"all", no_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    /* --chain mode */
	    {"chain", required_argument, NULL, 'C'},
	    {"chain-id", required_argument, NULL, 'I'},
	    {"contract", required_argument, NULL, 'K'},
	    {"from", required_argument, NULL, 'F'},
	    {"unit", required_argument, NULL, 'U'},
	    {"worker-address", required_argument, NULL, 'W'},
	    {"worker-bind", required_argument, NULL, 'N'},
	    {"referee", required_argument, NULL, 'R'},
	    {"threshold", required_argument, NULL, 'T'},
	    {"resolve-timeout", required_argument, NULL, 'O'},
	    {"challenge-bond", required_argument, NULL, 'B'},
	    {NULL, 0, NULL, 0},
	};
	static chain_opts co; /* static: reachable until exit */
	co.referees = calloc((size_t)argc, sizeof(char *));
	if (!co.referees)
		cli_die(EXIT_BAD, "out of memory");
	const char *keypath = NULL, *window = NULL, *bond = NULL;
	static char **alloc; /* static: reachable until exit */
	alloc = calloc((size_t)argc, sizeof(char *));
	size_t nalloc = 0;
	int all = 0, c;
	if (!alloc)
		cli_die(EXIT_BAD, "out of memory");
	while ((c = getopt_long(argc, argv, "l:k:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			co.url = optarg;
			break;
		case 'I':
			co.chain_id = optarg;
			break;
		case 'K':
			co.contract = optarg;
			break;
		case 'F':
			co.from = optarg;
			break;
		case 'U':
			co.unit = optarg;
			break;
		case 'W':
			co.worker = optarg;
			break;
		case 'N':
			co.worker_bind = optarg;
			break;
		case 'R':
			co.referees[co.nreferees++] = optarg;
			break;
		case 'T':
			co.threshold = optarg;
			break;
		case 'O':
			co.resolve_timeout = optarg;
			break;
		case 'B':
			co.challenge_bond = optarg;
			break;
		case 'v':
			co.verbose = 1;
			break;
		case 'l':
			ledger_path = optarg;
			break;
		case 'k':
			keypath = optarg;
			break;
		case 'w':
			window = optarg;
			break;
		case 'b':
			bond = optarg;
			break;
		case 'a':
			alloc[nalloc++] = optarg;
			break;
		case 'A':
			all = 1;
			break;
		case 'h':
			cli_help(usage);
		default:
			cli_usage(usage);
		}
	}
	if (optind >= argc)
		cli_usage(usage);
	const char *cmd = argv[optind];
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	if (co.url) {
		if (ledger_path || nalloc || all)
			cli_usage(usage);
		return chain_main(cmd, args, nargs, &co, keypath, window, bond);
	}
	if (co.chain_id || co.contract || co.from || co.unit || co.worker || co.worker_bind ||
	    co.nreferees || co.threshold || co.resolve_timeout || co.challenge_bond || co.verbose)
		cli_die(EXIT_USAGE, "chain options need --chain URL");
	static char path[4096];
	dai_err e;
	if (!ledger_path) {
		if (ledger_default_path(path, sizeof path, &e))
			cli_fail(&e);
		ledger_path = path;
	}
	int is_init = strcmp(cmd, "init") == 0;
	if (!is_init && (window || bond || nalloc))
		cli_usage(usage);
	if (all && strcmp(cmd, "finalize") != 0)
		cli_usage(usage);
	if (is_init)
		return nargs ? (cli_usage(usage), 0)
		             : cmd_init(keypath, window, bond, alloc, nalloc);
	if (!strcmp(cmd, "transfer") || !strcmp(cmd, "stake") || !strcmp(cmd, "unstake"))
		return cmd_simple(cmd, keypath, args, nargs);
	static const char *const streams[] = {"escrow", "claim", "challenge", "finalize",
	                                      "withdraw"};
	for (int i = 0; i < 5; i++) {
		if (strcmp(cmd, streams[i]) != 0)
			continue;
		if (nargs > 1 || (all && nargs))
			cli_usage(usage);
		if (all)
			return cmd_finalize_all(keypath);
		return run_stream((enum stream_cmd)i, keypath, nargs ? args[0] : NULL);
	}
	if (keypath)
		cli_usage(usage);
	if (!strcmp(cmd, "balance"))
		return cmd_balance(args, nargs);
	if (nargs)
		cli_usage(usage);
	if (!strcmp(cmd, "log"))
		return cmd_log();
	if (!strcmp(cmd, "verify"))
		return cmd_verify();
	if (!strcmp(cmd, "repair"))
		return cmd_repair();
	cli_usage(usage);
}
