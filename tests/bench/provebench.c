/*
 * provebench - what proofs cost on one model: generation with and without
 * the trace, verification (teacher-forced replay) against generation, the
 * check of one step against the full replay, trace bytes per token and
 * fraud proof sizes.
 *
 *   provebench MODEL.gguf [THREADS] [GEN_TOKENS]
 *
 * The model is opened once (no pack hashing in the timings) and given a
 * made-up pack id; keys are made in memory. Prints one "key=value" line
 * per measurement. Times are the best of three runs.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "generate.h"
#include "job.h"
#include "prove.h"
#include "timefmt.h"

/* Timings are CPU time of the process (all threads), so that a loaded
 * machine does not count other programs' time; with THREADS 1 it is the
 * work itself. PROVEBENCH_WALL=1 switches to wall-clock time. */
static double now_s(void)
{
	static int wall = -1;
	struct timespec t;
	if (wall < 0)
		wall = getenv("PROVEBENCH_WALL") != NULL;
	clock_gettime(wall ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void must(int rc, const dai_err *e)
{
	if (rc)
		cli_die(1, "%s", e->msg);
}

static const char prompt[] =
    "Once upon a time, in a small village by the sea, there lived an old fisherman who told "
    "stories to the children every evening.";

int main(int argc, char **argv)
{
	cli_init("provebench");
	if (argc < 2)
		cli_die(2, "usage: provebench MODEL.gguf [THREADS] [GEN_TOKENS]");
	int threads = argc > 2 ? atoi(argv[2]) : 0;
	int n_gen = argc > 3 ? atoi(argv[3]) : 128;
	dai_err e;
	engine en;
	dai_key worker, buyer, val;
	must(engine_open(&en, argv[1], &e), &e);
	snprintf(en.model_id, sizeof en.model_id, "b2:%064d", 1);
	must(key_generate(&worker, &e), &e);
	must(key_generate(&buyer, &e), &e);
	must(key_generate(&val, &e), &e);
	const model *m = &en.model;

	/* The job. */
	char t[DAI_TIME_LEN + 1], exp[DAI_TIME_LEN + 1];
	time_format(t, time_now());
	time_format(exp, time_now() + 3600);
	dai_docb b;
	dai_doc job, receipt, fraud;
	docb_init(&b, "job", 1);
	docb_addf(&b, "offer", "b2:%064d", 2);
	docb_add(&b, "worker", worker.did);
	docb_add(&b, "model", en.model_id);
	docb_add(&b, "buyer", buyer.did);
	docb_add_b64(&b, "prompt", prompt, strlen(prompt));
	docb_addf(&b, "max-tokens", "%d", n_gen);
	docb_add(&b, "seed", "7");
	docb_add(&b, "temp-milli", "800");
	docb_add(&b, "top-k", "40");
	docb_add(&b, "top-p-milli", "950");
	docb_add(&b, "price", "1");
	docb_add(&b, "max-price", "1000");
	docb_add(&b, "nonce", "00000000000000000000000000000000");
	docb_add(&b, "expires", exp);
	docb_add(&b, "time", t);
	must(docb_sign(&b, &job, buyer.sk, &e), &e);

	/* Generation without a trace (the plain loop), then the job with one.
	 * The model has no end-of-text in its random weights' favour, so
	 * generation without stopping at it keeps the counts equal. */
	job_terms jt;
	int32_t *ids, *out;
	size_t n_prompt;
	must(job_terms_read(&job, &jt, &e), &e);
	must(job_prompt_ids(&en, &jt, &ids, &n_prompt, &e), &e);
	session_params sp = {.n_ctx = (int)n_prompt + n_gen, .n_threads = threads};
	gen_opts go = {.n_predict = n_gen, .stop_at_eog = 1, .tok = en.tok};
	job_sample_params(jt.seed, jt.temp_milli, jt.top_k, jt.top_p_milli, &go.sample);
	int n_out;
	gen_stats st;
	double best_plain = 1e9, best_traced = 1e9;
	dai_trace tr;
	for (int rep = 0; rep < 3; rep++) {
		session *s = session_new(m, &sp, &e);
		must(!s, &e);
		double t0 = now_s();
		must(generate(s, ids, (int)n_prompt, &go, &out, &n_out, &st, &e), &e);
		double dt = now_s() - t0;
		best_plain = dt < best_plain ? dt : best_plain;
		free(out);
		session_free(s);
		job_run_opts jo = {.n_threads = threads};
		t0 = now_s();
		must(job_run(&en, &worker, &job, &jo, &receipt, &tr, &e), &e);
		dt = now_s() - t0;
		best_traced = dt < best_traced ? dt : best_traced;
		if (rep < 2) {
			doc_free(&receipt);
			trace_free(&tr);
		}
	}
	unsigned long long tokens_out = 0, tokens_in = n_prompt;
	sscanf(doc_get(&receipt, "tokens-out"), "%llu", &tokens_out);
	uint64_t P = tr.n_positions;
	printf("model=%s layers=%d dim=%d vocab=%d threads=%d\n", argv[1], m->n_layers, m->dim,
	       m->n_vocab, threads);
	printf("tokens_in=%llu tokens_out=%llu positions=%llu\n", tokens_in, tokens_out,
	       (unsigned long long)P);
	printf("generate_s=%.3f generate_traced_s=%.3f trace_overhead_pct=%.1f\n", best_plain,
	       best_traced, 100.0 * (best_traced - best_plain) / best_plain);
	printf("trace_bytes_per_token=%.0f trace_file_bytes=%llu\n",
	       (double)trace_n_leaves(&tr) * MERKLE_HASH / (double)P,
	       (unsigned long long)(TRACE_HEADER + trace_n_leaves(&tr) * MERKLE_HASH));

	/* Verification: the replay. */
	prove_opts po = {.n_threads = threads};
	prove_report r;
	double best_verify = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now_s();
		must(prove_verify(&en, &receipt, &job, &tr, &po, &r, &e), &e);
		double dt = now_s() - t0;
		best_verify = dt < best_verify ? dt : best_verify;
		if (!r.ok)
			cli_die(1, "the honest receipt does not verify: %s", r.reason);
	}
	printf("verify_s=%.3f generate_over_verify=%.1f\n", best_verify, best_traced / best_verify);

	/* Checks of single steps at the last position, the most expensive
	 * place (a layer step there runs one layer over every token). */
	struct {
		const char *what;
		uint32_t step;
	} steps[] = {{"embedding", 0},
	             {"layer_mid", (uint32_t)m->n_layers / 2 + 1},
	             {"layer_last", (uint32_t)m->n_layers},
	             {"next_token", (uint32_t)m->n_layers + 1}};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		prove_opts co = {.n_threads = threads,
		                 .at_leaf = 1,
		                 .at_position = P - 1,
		                 .at_step = steps[i].step};
		must(prove_challenge(&en, &receipt, &job, &tr, &val, &co, &fraud, &r, &e), &e);
		double best = 1e9;
		for (int rep = 0; rep < 3; rep++) {
			double t0 = now_s();
			must(prove_check(&en, &fraud, &po, &r, &e), &e);
			double dt = now_s() - t0;
			best = dt < best ? dt : best;
		}
		if (!r.ok)
			cli_die(1, "a check of an honest step says proven: %s", r.reason);
		printf("check_%s_s=%.4f replay_over_check=%.1f fraud_bytes=%zu\n", steps[i].what,
		       best, best_verify / best, fraud.len);
		doc_free(&fraud);
	}
	doc_free(&receipt);
	doc_free(&job);
	trace_free(&tr);
	job_terms_free(&jt);
	free(ids);
	key_free(&worker);
	key_free(&buyer);
	key_free(&val);
	engine_close(&en);
	return 0;
}
