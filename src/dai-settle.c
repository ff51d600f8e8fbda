/* dai-settle: the embedded ledger: escrow, claim, challenge, finalize. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
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
    "  DAI_NOW=YYYY-MM-DDTHH:MM:SSZ sets the clock\n";

static const char *ledger_path;

static _Noreturn void bad_usage(void)
{
	fputs(usage, stderr);
	exit(EXIT_USAGE);
}

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
	const char *name;
	int fd = cli_open_input(input, &name);
	dai_reader r;
	static dai_strmap done; /* static: reachable until exit */
	if (reader_init(&r, fd, name, &e))
		cli_fail(&e);
	for (;;) {
		dai_doc d;
		int st = reader_next(&r, &d, &e);
		if (st == DOC_EOF)
			break;
		if (st != DOC_OK)
			cli_fail(&e);
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
		bad_usage();
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
		bad_usage();
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
		bad_usage();
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

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	static const struct option opts[] = {
	    {"ledger", required_argument, NULL, 'l'}, {"key", required_argument, NULL, 'k'},
	    {"window", required_argument, NULL, 'w'}, {"bond", required_argument, NULL, 'b'},
	    {"alloc", required_argument, NULL, 'a'},  {"all", no_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	const char *keypath = NULL, *window = NULL, *bond = NULL;
	static char **alloc; /* static: reachable until exit */
	alloc = calloc((size_t)argc, sizeof(char *));
	size_t nalloc = 0;
	int all = 0, c;
	if (!alloc)
		cli_die(EXIT_BAD, "out of memory");
	while ((c = getopt_long(argc, argv, "l:k:h", opts, NULL)) != -1) {
		switch (c) {
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
			fputs(usage, stdout);
			return 0;
		default:
			bad_usage();
		}
	}
	if (optind >= argc)
		bad_usage();
	const char *cmd = argv[optind];
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	static char path[4096];
	dai_err e;
	if (!ledger_path) {
		if (ledger_default_path(path, sizeof path, &e))
			cli_fail(&e);
		ledger_path = path;
	}
	int is_init = strcmp(cmd, "init") == 0;
	if (!is_init && (window || bond || nalloc))
		bad_usage();
	if (all && strcmp(cmd, "finalize") != 0)
		bad_usage();
	if (is_init)
		return nargs ? (bad_usage(), 0) : cmd_init(keypath, window, bond, alloc, nalloc);
	if (!strcmp(cmd, "transfer") || !strcmp(cmd, "stake") || !strcmp(cmd, "unstake"))
		return cmd_simple(cmd, keypath, args, nargs);
	static const char *const streams[] = {"escrow", "claim", "challenge", "finalize",
	                                      "withdraw"};
	for (int i = 0; i < 5; i++) {
		if (strcmp(cmd, streams[i]) != 0)
			continue;
		if (nargs > 1 || (all && nargs))
			bad_usage();
		if (all)
			return cmd_finalize_all(keypath);
		return run_stream((enum stream_cmd)i, keypath, nargs ? args[0] : NULL);
	}
	if (keypath)
		bad_usage();
	if (!strcmp(cmd, "balance"))
		return cmd_balance(args, nargs);
	if (nargs)
		bad_usage();
	if (!strcmp(cmd, "log"))
		return cmd_log();
	if (!strcmp(cmd, "verify"))
		return cmd_verify();
	if (!strcmp(cmd, "repair"))
		return cmd_repair();
	bad_usage();
}
