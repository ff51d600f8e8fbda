/* dai-prove: verify receipts by replay, build fraud proofs, check them. */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "prove_stream.h"

static const char usage[] =
    "usage: dai-prove verify -m PACK [-k KEY] [--trace TRACE] [-t N] [--batch B] [FILE]\n"
    "       dai-prove challenge -m PACK -k KEY [--trace TRACE] [-t N] [--batch B] [FILE]\n"
    "       dai-prove check -m PACK [-k KEY] [-t N] [FILE]\n"
    "  verify     replay each dai-receipt of the stream (its dai-job must come before\n"
    "             it) and append a dai-verdict; exit 1 when one is invalid\n"
    "  challenge  append a dai-fraud proving each dishonest receipt, from the worker's\n"
    "             trace; exit 1 when a receipt is valid (nothing to prove)\n"
    "  check      check each dai-fraud and append a dai-verdict; exit 1 when fraud\n"
    "             is proven\n"
    "  -m PACK    the model pack the receipts name\n"
    "  -k KEY     signs verdicts (unsigned without it) and frauds (required)\n"
    "  -T, --trace TRACE  the worker's trace file\n"
    "  -t N       threads (default: every core); --batch B tokens per replay step\n"
    "  --leaf T:J challenge: prove step J of position T, whatever the replay says\n"
    "             (for testing a checker)\n";

enum { OPT_BATCH = 256, OPT_LEAF };

static const struct option longopts[] = {
    {"trace", required_argument, NULL, 'T'},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"leaf", required_argument, NULL, OPT_LEAF},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_int(const char *opt, const char *s, int lo, int hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		cli_die(EXIT_USAGE, "%s: expected an integer in [%d, %d], got '%s'", opt, lo, hi,
		        s);
	return (int)v;
}

static void note(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn("%s", msg);
}

int main(int argc, char **argv)
{
	const char *model_path = NULL, *key_path = NULL, *trace_path = NULL;
	prove_stream_opts o = {.note = note};
	int c;

	cli_init(argv[0]);
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0)
		o.mode = PROVE_VERIFY;
	else if (strcmp(argv[1], "challenge") == 0)
		o.mode = PROVE_CHALLENGE;
	else if (strcmp(argv[1], "check") == 0)
		o.mode = PROVE_CHECK;
	else
		cli_die(EXIT_USAGE, "unknown command '%s' (verify, challenge or check)", argv[1]);
	optind = 2;
	while ((c = getopt_long(argc, argv, "m:k:T:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model_path = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'T':
			trace_path = optarg;
			break;
		case 't':
			o.run.n_threads = parse_int("-t", optarg, 1, 1024);
			break;
		case OPT_BATCH:
			o.run.n_batch = parse_int("--batch", optarg, 1, 65536);
			break;
		case OPT_LEAF: {
			unsigned long long t;
			unsigned j;
			char extra;
			if (sscanf(optarg, "%llu:%u%c", &t, &j, &extra) != 2 || t > INT64_MAX)
				cli_die(EXIT_USAGE, "--leaf: expected POSITION:STEP, got '%s'",
				        optarg);
			o.run.at_leaf = 1;
			o.run.at_position = t;
			o.run.at_step = j;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!model_path || argc - optind > 1 || (o.mode == PROVE_CHALLENGE && !key_path) ||
	    (o.mode != PROVE_CHALLENGE && o.run.at_leaf) || (o.mode == PROVE_CHECK && trace_path)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}

	dai_err e;
	dai_key k;
	engine en;
	dai_trace tr;
	if (key_path) {
		if (key_load(&k, key_path, &e))
			cli_fail(&e);
		o.key = &k;
	}
	if (trace_path) {
		if (trace_read(&tr, trace_path, &e))
			cli_fail(&e);
		o.trace = &tr;
	}
	if (engine_open(&en, model_path, &e))
		cli_fail(&e);
	const char *name;
	int fd = cli_open_input(optind < argc ? argv[optind] : NULL, &name);
	prove_stream_stats st;
	if (prove_stream(&en, &o, fd, name, stdout, &st, &e))
		cli_fail(&e);
	engine_close(&en);
	if (trace_path)
		trace_free(&tr);
	if (key_path)
		key_free(&k);
	if (st.subjects == 0)
		cli_die(EXIT_BAD, "no dai-%s in the stream",
		        o.mode == PROVE_CHECK ? "fraud" : "receipt");
	if (st.errors)
		return EXIT_BAD;
	if (o.mode == PROVE_CHALLENGE)
		return st.failed == st.subjects ? 0 : EXIT_BAD;
	return st.failed ? EXIT_BAD : 0;
}
