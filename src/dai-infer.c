/* dai-infer: run a model on a prompt and print the generated text, or, with
 * -k, run the dai-job documents of a stream as a worker (job_stream.h). */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "engine.h"
#include "fsio.h"
#include "chat.h"
#include "generate.h"
#include "job_stream.h"
#include "timefmt.h"

static const char usage[] =
    "usage: dai-infer -m MODEL (-p TEXT | -f FILE | --prompt-ids FILE) [-n N] [-s SEED]\n"
    "                 [--chat [--system TEXT] | --raw]\n"
    "                 [--temp T] [--top-k K] [--top-p P] [-t N] [--batch B]\n"
    "                 [--ids OUT] [--logits OUT] [-v]\n"
    "       dai-infer -k WORKER.key -m PACK [-T TRACE] [-t N] [--batch B] [FILE]\n"
    "  -m MODEL         a model pack or a GGUF model file\n"
    "  -p TEXT          the prompt; -f FILE reads it from a file (- for stdin)\n"
    "  --chat           the prompt is a user message: wrap it in the model's chat format\n"
    "  --system TEXT    with --chat, a system message before it\n"
    "  --raw            the prompt is plain text (the default)\n"
    "  --prompt-ids F   the prompt as int32 little-endian token ids (no BOS added)\n"
    "  -n N             generate at most N tokens (default 128; stops early at end of text)\n"
    "  -s SEED          sampling seed (default: random, printed with -v)\n"
    "  --temp T         temperature (default 0.8; 0 = greedy)\n"
    "  --top-k K        keep the K most likely tokens (default 40; 0 = all)\n"
    "  --top-p P        keep the most likely tokens up to mass P (default 0.95; 1 = all)\n"
    "  -t N             threads (default: every core)\n"
    "  --batch B        evaluate the prompt B tokens at a time (default 64)\n"
    "  --ids OUT        write prompt and generated ids (int32 little-endian) to OUT\n"
    "  --logits OUT     write the float32 logits of every evaluated position to OUT\n"
    "  -v               report the model, the seed and the speed on stderr\n"
    "  -k WORKER.key    job mode: run each dai-job of the stream addressed to this worker\n"
    "                   and pack, pass every document through and add a signed dai-receipt\n"
    "  -T TRACE         job mode: write the job's trace to TRACE (a directory: one\n"
    "                   DIR/<job id>.trace per job)\n";

enum {
	OPT_PROMPT_IDS = 256,
	OPT_TEMP,
	OPT_TOPK,
	OPT_TOPP,
	OPT_BATCH,
	OPT_IDS,
	OPT_LOGITS,
	OPT_CHAT,
	OPT_RAW,
	OPT_SYSTEM
};

static const struct option longopts[] = {
    {"prompt-ids", required_argument, NULL, OPT_PROMPT_IDS},
    {"temp", required_argument, NULL, OPT_TEMP},
    {"top-k", required_argument, NULL, OPT_TOPK},
    {"top-p", required_argument, NULL, OPT_TOPP},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"ids", required_argument, NULL, OPT_IDS},
    {"logits", required_argument, NULL, OPT_LOGITS},
    {"chat", no_argument, NULL, OPT_CHAT},
    {"raw", no_argument, NULL, OPT_RAW},
    {"system", required_argument, NULL, OPT_SYSTEM},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static float parse_float(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	float v = strtof(s, &end);
	if (errno || end == s || *end)
		cli_die(EXIT_USAGE, "%s: expected a number, got '%s'", opt, s);
	return v;
}

/* Reads a whole input ("-" is stdin). */
static char *read_input(const char *path, size_t *len)
{
	dai_err e;
	char *data;
	if (strcmp(path, "-") == 0)
		path = "/dev/stdin";
	if (file_read_all(path, (size_t)1 << 30, &data, len, &e))
		cli_fail(&e);
	return data;
}

static void note_refusal(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn("%s", msg);
}

/* Job mode: the stream from FILE or stdin, documents and receipts to stdout. */
static int job_mode(const char *key_path, const char *model_path, const char *trace,
                    const char *input, int threads, int batch)
{
	dai_err e;
	dai_key k;
	engine en;
	const char *name;
	if (key_load(&k, key_path, &e))
		cli_fail(&e);
	if (engine_open(&en, model_path, &e))
		cli_fail(&e);
	int fd = cli_open_input(input, &name);
	job_stream_opts o = {.run = {.n_threads = threads, .n_batch = batch},
	                     .trace = trace,
	                     .now = time_now(),
	                     .note = note_refusal};
	job_stream_stats st;
	int rc = job_stream(&en, &k, fd, name, stdout, &o, &st, &e);
	engine_close(&en);
	key_free(&k);
	if (rc)
		cli_fail(&e);
	return 0;
}

struct printer {
	tok_stream *ts;
	int failed;
};

/* Prints each token's text as soon as it makes whole UTF-8. */
static void print_token(void *ctx, int32_t id)
{
	struct printer *p = ctx;
	const char *s;
	size_t n;
	dai_err e;
	if (tok_stream_put(p->ts, id, &s, &n, &e) == 0 && n) {
		if (fwrite(s, 1, n, stdout) != n)
			p->failed = 1;
		fflush(stdout);
	}
}

static void write_file(const char *path, const void *data, size_t len)
{
	dai_err e;
	if (file_write_atomic(path, data, len, 0644, 0, &e))
		cli_fail(&e);
}

int main(int argc, char **argv)
{
	const char *model_path = NULL, *text = NULL, *text_file = NULL, *ids_file = NULL;
	const char *ids_out = NULL, *logits_out = NULL, *key_path = NULL, *trace_path = NULL;
	long long n_predict = 128, threads = 0, batch = 0;
	int verbose = 0, seed_given = 0;
	gen_opts o = {.sample = {.temp = 0.8f, .top_k = 40, .top_p = 0.95f}, .stop_at_eog = 1};
	const char *system_text = NULL;
	int chat = 0;
	double t_start = now_s();
	int c;

	cli_init(argv[0]);
	while ((c = getopt_long(argc, argv, "m:p:f:n:s:t:vhk:T:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model_path = optarg;
			break;
		case 'p':
			text = optarg;
			break;
		case 'f':
			text_file = optarg;
			break;
		case OPT_PROMPT_IDS:
			ids_file = optarg;
			break;
		case 'n':
			n_predict = cli_int_arg("-n", optarg, 0, 1 << 24);
			break;
		case 's':
			o.sample.seed = (uint64_t)cli_int_arg("-s", optarg, 0, INT64_MAX);
			seed_given = 1;
			break;
		case 't':
			threads = cli_int_arg("-t", optarg, 1, 1024);
			break;
		case OPT_TEMP:
			o.sample.temp = parse_float("--temp", optarg);
			break;
		case OPT_TOPK:
			o.sample.top_k = (int32_t)cli_int_arg("--top-k", optarg, 0, INT32_MAX);
			break;
		case OPT_TOPP:
			o.sample.top_p = parse_float("--top-p", optarg);
			break;
		case OPT_BATCH:
			batch = cli_int_arg("--batch", optarg, 1, 1 << 20);
			break;
		case OPT_IDS:
			ids_out = optarg;
			break;
		case OPT_LOGITS:
			logits_out = optarg;
			break;
		case OPT_CHAT:
		case OPT_RAW:
			chat = c == OPT_CHAT;
			break;
		case OPT_SYSTEM:
			system_text = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'T':
			trace_path = optarg;
			break;
		case 'h':
			cli_help(usage);
		default:
			cli_usage(usage);
		}
	}
	if (key_path) {
		if (!model_path || text || text_file || ids_file || ids_out || logits_out ||
		    argc - optind > 1) {
			cli_usage(usage);
		}
		return job_mode(key_path, model_path, trace_path,
		                optind < argc ? argv[optind] : NULL, (int)threads, (int)batch);
	}
	if (trace_path) {
		cli_usage(usage);
	}
	if (optind != argc || !model_path || (!!text + !!text_file + !!ids_file) != 1) {
		cli_usage(usage);
	}
	if ((system_text && !chat) || (chat && ids_file))
		cli_die(EXIT_USAGE, "%s",
		        chat ? "--chat takes a text prompt, not --prompt-ids"
		             : "--system needs --chat");
	if (!seed_given)
		randombytes_buf(&o.sample.seed, sizeof o.sample.seed);
	o.sample.seed &= INT64_MAX; /* printable as the -s that repeats the run */
	dai_err e;
	if (sample_params_check(&o.sample, &e))
		cli_die(EXIT_USAGE, "%s", e.msg);
	verbose = verbose || isatty(STDERR_FILENO);

	engine en;
	if (engine_open(&en, model_path, &e))
		cli_fail(&e);
	const model *m = &en.model;

	int32_t *prompt = NULL;
	size_t n_prompt = 0;
	if (ids_file) {
		size_t len;
		char *raw = read_input(ids_file, &len);
		if (len % 4)
			cli_die(EXIT_BAD, "%s: %zu bytes is not a whole number of int32 ids",
			        ids_file, len);
		n_prompt = len / 4;
		prompt = malloc(len ? len : 1);
		memcpy(prompt, raw, len);
		free(raw);
		for (size_t i = 0; i < n_prompt; i++)
			if (prompt[i] < 0 || prompt[i] >= m->n_vocab)
				cli_die(EXIT_BAD,
				        "%s: id %zu: token %d is outside the vocabulary [0, %d)",
				        ids_file, i, prompt[i], m->n_vocab);
	} else {
		size_t len = text ? strlen(text) : 0;
		char *owned = text ? NULL : read_input(text_file, &len), *wrapped = NULL;
		const char *in = text ? text : owned;
		int flags = tok_default_flags(en.tok);
		if (chat) { /* the model's markers become its special tokens */
			if (chat_prompt(en.model.file, system_text, in, len, &wrapped, &len, &e))
				cli_fail(&e);
			in = wrapped;
			flags |= TOK_PARSE_SPECIAL;
		}
		if (tok_encode(en.tok, in, len, flags, &prompt, &n_prompt, &e))
			cli_fail(&e);
		free(owned);
		free(wrapped);
	}
	if (n_prompt == 0)
		cli_die(EXIT_BAD, "the prompt has no tokens");
	if ((long long)n_prompt + n_predict > m->n_ctx_train)
		cli_die(EXIT_BAD,
		        "%s: %zu prompt tokens + %lld to generate exceed the model's context of %d",
		        model_path, n_prompt, n_predict, m->n_ctx_train);

	session_params sp = {.n_ctx = (int)(n_prompt + (size_t)n_predict),
	                     .n_threads = (int)threads,
	                     .n_batch = (int)batch};
	session *s = session_new(m, &sp, &e);
	if (!s)
		cli_fail(&e);
	if (verbose)
		fprintf(stderr,
		        "%s: %s: %d layers, dim %d, vocab %d; %d prompt tokens; kernels %s; seed "
		        "%llu\n",
		        cli_name(), model_path, m->n_layers, m->dim, m->n_vocab, (int)n_prompt,
		        session_kern(s)->name, (unsigned long long)o.sample.seed);

	struct printer pr = {0};
	pr.ts = tok_stream_new(en.tok, 0, &e);
	if (!pr.ts)
		cli_fail(&e);
	float *logits = NULL;
	size_t logits_rows = 0;
	o.n_predict = (int)n_predict;
	o.tok = en.tok;
	o.on_token = print_token;
	o.ctx = &pr;
	if (logits_out) {
		o.logits = &logits;
		o.logits_rows = &logits_rows;
	}
	int32_t *out;
	int n_out;
	gen_stats st;
	double t_gen = now_s();
	if (generate(s, prompt, (int)n_prompt, &o, &out, &n_out, &st, &e))
		cli_fail(&e);
	const char *tail;
	size_t tail_len;
	if (tok_stream_flush(pr.ts, &tail, &tail_len, &e) == 0 && tail_len)
		pr.failed |= fwrite(tail, 1, tail_len, stdout) != tail_len;
	if (fflush(stdout) || pr.failed)
		cli_die(EXIT_BAD, "writing the output: %s", strerror(errno));

	if (ids_out) {
		int32_t *all = malloc(sizeof(int32_t) * (n_prompt + (size_t)n_out));
		memcpy(all, prompt, sizeof(int32_t) * n_prompt);
		if (n_out)
			memcpy(all + n_prompt, out, sizeof(int32_t) * (size_t)n_out);
		write_file(ids_out, all, sizeof(int32_t) * (n_prompt + (size_t)n_out));
		free(all);
	}
	if (logits_out)
		write_file(logits_out, logits, logits_rows * (size_t)m->n_vocab * sizeof(float));
	if (verbose) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		int evals = st.n_gen > 1 ? st.n_gen - 1 : 0;
		fprintf(stderr,
		        "%s: stats prompt_tokens=%d prompt_s=%.4f prompt_tps=%.2f gen_tokens=%d "
		        "gen_s=%.4f gen_tps=%.2f ttft_s=%.4f peak_rss_mib=%.1f\n",
		        cli_name(), st.n_prompt, st.prompt_s,
		        st.prompt_s > 0 ? st.n_prompt / st.prompt_s : 0.0, st.n_gen, st.gen_s,
		        st.gen_s > 0 && evals ? evals / st.gen_s : 0.0,
		        st.n_gen ? t_gen - t_start + st.first_s : 0.0,
		        (double)ru.ru_maxrss / 1024.0);
	}
	free(out);
	free(logits);
	free(prompt);
	tok_stream_free(pr.ts);
	session_free(s);
	engine_close(&en);
	return 0;
}
