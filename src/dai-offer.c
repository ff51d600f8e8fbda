/* dai-offer: workers' offers, choosing one, and the buyer's signed job. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "doc_schema.h"
#include "docio.h"
#include "fsio.h"
#include "ledger_file.h"
#include "market.h"
#include "timefmt.h"

static const char usage[] =
    "usage: dai-offer make -k WORKER.key -m PACK_ID... --price P [--max-tokens N]\n"
    "                      [--expires DUR] [--stake S]\n"
    "       dai-offer match -m PACK_ID [--max-price P] [--ledger FILE] [FILE]\n"
    "       dai-offer ls [FILE]\n"
    "       dai-offer job -k BUYER.key (-p TEXT | -f FILE) [-m PACK_ID] [-n N] [-s SEED]\n"
    "                     [--temp T] [--top-k K] [--top-p P] [--max-price P]\n"
    "                     [--expires DUR] [FILE]\n"
    "  prices are per 1000 tokens, in the smallest unit; DUR is 90s, 15m, 2h or 7d\n";

static uint64_t uint_arg(const char *opt, const char *s)
{
	unsigned long long v;
	if (value_uint(s, strlen(s), &v))
		cli_die(EXIT_USAGE, "%s '%s' is not an unsigned integer", opt, s);
	return v;
}

static long long expiry_arg(const char *s, long long now)
{
	long long d;
	if (duration_parse(s, &d) || d <= 0 || __builtin_add_overflow(now, d, &d))
		cli_die(EXIT_USAGE, "--expires '%s' is not a duration such as 90s, 15m, 2h, 7d", s);
	return d;
}

static void check_pack_id(const char *m)
{
	if (value_check(V_ID, m, strlen(m)))
		cli_die(EXIT_USAGE, "-m '%s' is not a pack id (b2:<64 hex digits>)", m);
}

/* Every document of the input, parsed (invalid input is fatal). */
static dai_doc *read_all(const char *input, size_t *n)
{
	dai_reader r;
	dai_doc *docs = NULL;
	size_t cap = 0;
	*n = 0;
	cli_open_reader(&r, input);
	dai_doc d;
	while (cli_next_doc(&r, &d)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(docs = realloc(docs, cap * sizeof *docs)))
				cli_die(EXIT_BAD, "out of memory");
		}
		docs[(*n)++] = d;
	}
	reader_free(&r);
	return docs;
}

static void flush_out(void)
{
	if (fflush(stdout) != 0)
		cli_die(EXIT_BAD, "write error on stdout");
}

struct opts {
	const char *key, *prompt, *prompt_file, *ledger, *expires;
	const char **models;
	size_t nmodels;
	const char *price, *max_tokens, *stake, *max_price, *n, *seed, *temp, *top_k, *top_p;
	const char *input;
};

static int cmd_make(struct opts *o)
{
	dai_err e;
	dai_key k;
	dai_doc d;
	if (!o->key || !o->nmodels || !o->price || o->input)
		cli_usage(usage);
	for (size_t i = 0; i < o->nmodels; i++)
		check_pack_id(o->models[i]);
	long long now = time_now();
	offer_spec s = {
	    .models = o->models,
	    .nmodels = o->nmodels,
	    .price = uint_arg("--price", o->price),
	    .max_tokens = o->max_tokens ? uint_arg("--max-tokens", o->max_tokens) : 512,
	    .stake = o->stake ? uint_arg("--stake", o->stake) : 0,
	    .expires = expiry_arg(o->expires ? o->expires : "1d", now),
	};
	if (key_load(&k, o->key, &e) || offer_make(&k, &s, now, &d, &e) ||
	    doc_write(stdout, &d, &e))
		cli_fail(&e);
	key_free(&k);
	doc_free(&d);
	flush_out();
	return 0;
}

static int cmd_match(struct opts *o)
{
	dai_err e;
	char path[4096];
	if (o->nmodels != 1)
		cli_usage(usage);
	check_pack_id(o->models[0]);
	uint64_t max_price = o->max_price ? uint_arg("--max-price", o->max_price) : UINT64_MAX;
	if (!o->ledger) {
		if (ledger_default_path(path, sizeof path, &e))
			cli_fail(&e);
		o->ledger = path;
	}
	ledger l;
	if (ledger_open(&l, o->ledger, LEDGER_READ, &e))
		cli_fail(&e);
	if (l.damaged)
		cli_warn("warning: %s; using the state before it", l.damage.msg);
	size_t n, npick = 0;
	dai_doc *docs = read_all(o->input, &n);
	offer_pick *picks = calloc(n ? n : 1, sizeof *picks);
	if (!picks)
		cli_die(EXIT_BAD, "out of memory");
	long long now = time_now();
	for (size_t i = 0; i < n; i++) {
		const dai_doc *d = &docs[i];
		if (strcmp(d->kind, "offer") != 0) {
			if (doc_write(stdout, d, &e))
				cli_fail(&e);
			continue;
		}
		if (!offer_has_model(d, o->models[0]))
			continue;
		if (offer_check(d, now, &e) || offer_pick_fill(&picks[npick], d, &l.st, &e)) {
			cli_warn("dropped: %s", e.msg);
			continue;
		}
		if (picks[npick].price > max_price) {
			cli_warn("dropped: dai-offer %s: price %llu is over %llu", picks[npick].id,
			         (unsigned long long)picks[npick].price,
			         (unsigned long long)max_price);
			continue;
		}
		npick++;
	}
	ledger_close(&l);
	if (npick == 0)
		cli_die(EXIT_BAD, "no valid, funded offer for %s", o->models[0]);
	offer_rank(picks, npick);
	if (doc_write(stdout, picks[0].doc, &e))
		cli_fail(&e);
	flush_out();
	for (size_t i = 0; i < n; i++)
		doc_free(&docs[i]);
	free(docs);
	free(picks);
	return 0;
}

static int cmd_ls(struct opts *o)
{
	size_t n;
	dai_doc *docs = read_all(o->input, &n);
	long long now = time_now();
	printf("%-19s %10s %10s %10s %-20s %-9s %s\n", "OFFER", "PRICE", "MAX-TOKENS", "STAKE",
	       "EXPIRES", "STATUS", "WORKER / MODELS");
	for (size_t i = 0; i < n; i++) {
		const dai_doc *d = &docs[i];
		char id[DAI_ID_LEN + 1];
		dai_err e;
		if (strcmp(d->kind, "offer") != 0)
			continue;
		doc_id(d, id);
		const char *status = "ok";
		if (offer_check(d, now, &e))
			status = strstr(e.msg, "expired") ? "expired" : "BAD-SIG";
		printf("%-19.19s %10s %10s %10s %-20s %-9s %s\n", id, doc_get(d, "price"),
		       doc_get(d, "max-tokens"), doc_get(d, "stake"), doc_get(d, "expires"), status,
		       doc_get(d, "worker"));
		for (size_t f = 0; f < d->nfields; f++)
			if (strcmp(d->fields[f].key, "model") == 0)
				printf("%84s%s\n", "", d->fields[f].val);
	}
	flush_out();
	for (size_t i = 0; i < n; i++)
		doc_free(&docs[i]);
	free(docs);
	return 0;
}

static int cmd_job(struct opts *o)
{
	dai_err e;
	dai_key k;
	char *prompt = NULL;
	size_t plen = 0;
	if (!o->key || !!o->prompt == !!o->prompt_file || o->nmodels > 1)
		cli_usage(usage);
	if (o->prompt_file) {
		if (file_read_all(o->prompt_file, JOB_PROMPT_MAX, &prompt, &plen, &e))
			cli_fail(&e);
	} else {
		prompt = strdup(o->prompt);
		plen = strlen(o->prompt);
	}
	long long now = time_now();
	job_spec s = {
	    .model = o->nmodels ? o->models[0] : NULL,
	    .prompt = (const unsigned char *)prompt,
	    .prompt_len = plen,
	    .max_tokens = o->n ? uint_arg("-n", o->n) : 0,
	    .seed = o->seed ? uint_arg("-s", o->seed) : job_random_seed(),
	    .temp_milli = JOB_TEMP_MILLI,
	    .top_k = o->top_k ? uint_arg("--top-k", o->top_k) : JOB_TOP_K,
	    .top_p_milli = JOB_TOP_P_MILLI,
	    .max_price = o->max_price ? uint_arg("--max-price", o->max_price) : 0,
	    .expires = expiry_arg(o->expires ? o->expires : "1h", now),
	};
	if (s.model)
		check_pack_id(s.model);
	if (s.seed >= JOB_SEED_LIMIT)
		cli_die(EXIT_USAGE, "-s %s: a seed is below 2^63", o->seed);
	if (o->n && s.max_tokens == 0)
		cli_die(EXIT_USAGE, "-n must be at least 1");
	if (o->temp && milli_parse(o->temp, 100000, &s.temp_milli))
		cli_die(EXIT_USAGE, "--temp '%s' is not a decimal such as 0.8 (at most 3 decimals)",
		        o->temp);
	if (o->top_p && milli_parse(o->top_p, 1000, &s.top_p_milli))
		cli_die(EXIT_USAGE,
		        "--top-p '%s' is not a decimal from 0 to 1 (at most 3 decimals)", o->top_p);
	size_t n;
	dai_doc *docs = read_all(o->input, &n), job;
	const dai_doc *offer = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(docs[i].kind, "offer") != 0)
			continue;
		if (offer)
			cli_die(EXIT_BAD, "several offers in the input: choose one with "
			                  "'dai-offer match'");
		offer = &docs[i];
	}
	if (!offer)
		cli_die(EXIT_BAD, "no dai-offer in the input");
	if (key_load(&k, o->key, &e) || job_make(offer, &k, &s, now, &job, &e))
		cli_fail(&e);
	for (size_t i = 0; i < n; i++)
		if (doc_write(stdout, &docs[i], &e))
			cli_fail(&e);
	if (doc_write(stdout, &job, &e))
		cli_fail(&e);
	flush_out();
	doc_free(&job);
	key_free(&k);
	for (size_t i = 0; i < n; i++)
		doc_free(&docs[i]);
	free(docs);
	free(prompt);
	return 0;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	static const struct option lopts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"model", required_argument, NULL, 'm'},
	    {"price", required_argument, NULL, 'P'},
	    {"max-tokens", required_argument, NULL, 'T'},
	    {"expires", required_argument, NULL, 'e'},
	    {"stake", required_argument, NULL, 'S'},
	    {"max-price", required_argument, NULL, 'M'},
	    {"ledger", required_argument, NULL, 'l'},
	    {"temp", required_argument, NULL, 't'},
	    {"top-k", required_argument, NULL, 'K'},
	    {"top-p", required_argument, NULL, 'p' + 256},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct opts o; /* static: reachable until exit */
	memset(&o, 0, sizeof o);
	o.models = calloc((size_t)argc, sizeof(char *));
	if (!o.models)
		cli_die(EXIT_BAD, "out of memory");
	int c;
	while ((c = getopt_long(argc, argv, "k:m:p:f:n:s:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.key = optarg;
			break;
		case 'm':
			o.models[o.nmodels++] = optarg;
			break;
		case 'p':
			o.prompt = optarg;
			break;
		case 'f':
			o.prompt_file = optarg;
			break;
		case 'n':
			o.n = optarg;
			break;
		case 's':
			o.seed = optarg;
			break;
		case 'P':
			o.price = optarg;
			break;
		case 'T':
			o.max_tokens = optarg;
			break;
		case 'e':
			o.expires = optarg;
			break;
		case 'S':
			o.stake = optarg;
			break;
		case 'M':
			o.max_price = optarg;
			break;
		case 'l':
			o.ledger = optarg;
			break;
		case 't':
			o.temp = optarg;
			break;
		case 'K':
			o.top_k = optarg;
			break;
		case 'p' + 256:
			o.top_p = optarg;
			break;
		case 'h':
			cli_help(usage);
		default:
			cli_usage(usage);
		}
	}
	if (optind >= argc || argc - optind > 2)
		cli_usage(usage);
	const char *cmd = argv[optind];
	o.input = argc - optind == 2 ? argv[optind + 1] : NULL;
	int is_make = !strcmp(cmd, "make"), is_match = !strcmp(cmd, "match"),
	    is_job = !strcmp(cmd, "job"), is_ls = !strcmp(cmd, "ls");
	/* Each option belongs to some commands only. */
	if ((o.price || o.max_tokens || o.stake) && !is_make)
		cli_usage(usage);
	if ((o.prompt || o.prompt_file || o.n || o.seed || o.temp || o.top_k || o.top_p) && !is_job)
		cli_usage(usage);
	if (o.ledger && !is_match)
		cli_usage(usage);
	if (o.max_price && !is_match && !is_job)
		cli_usage(usage);
	if (o.expires && !is_make && !is_job)
		cli_usage(usage);
	if (o.key && !is_make && !is_job)
		cli_usage(usage);
	if (is_make)
		return cmd_make(&o);
	if (is_match)
		return cmd_match(&o);
	if (is_job)
		return cmd_job(&o);
	if (is_ls && !o.nmodels)
		return cmd_ls(&o);
	cli_usage(usage);
}
