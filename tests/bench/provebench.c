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
 * per measurement. Times are the best of three runs (five alternating
 * runs for generation with and without the trace).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "generate.h"
#include "job.h"
#include "prove.h"
#include "timefmt.h"

/* Alternating runs of generation with and without the trace. */
#define REPS 5

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

static double wall_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void must(int rc, const dai_err *e)
{
	if (rc)
		cli_die(1, "%s", e->msg);
}

/* The parts of tracing alone, on a trace shaped like the job's: hashing
 * the leaves (the vectors are in cache, as a residual just computed is),
 * the Merkle root, writing the file. Each is repeated for at least a
 * quarter second and the best of three averages is kept, so the parts
 * are measured far more precisely than the difference of two
 * generations. Prints them and their sum as a share of plain_s. */
static void trace_parts(const dai_trace *job_tr, const char *path, double plain_s)
{
	dai_err e;
	dai_trace t;
	uint32_t L = job_tr->n_layers, dim = job_tr->dim;
	uint64_t P = job_tr->n_positions;
	must(trace_init(&t, L, dim, P, &e), &e);
	float *x = malloc((size_t)dim * sizeof(float));
	if (!x)
		cli_die(1, "out of memory");
	for (uint32_t i = 0; i < dim; i++)
		x[i] = (float)i * 0.001f - 0.3f;
	double part[3] = {1e9, 1e9, 1e9}, write_wall = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		for (int k = 0; k < 3; k++) {
			int n = 0;
			double t0 = now_s(), w0 = wall_s(), dt;
			do {
				unsigned char root[MERKLE_HASH];
				if (k == 0)
					for (uint64_t p = 0; p < P; p++) {
						for (uint32_t l = 0; l <= L; l++)
							trace_set_vector(&t, p, l, x);
						trace_set_token(&t, p, (int32_t)p);
					}
				else if (k == 1)
					trace_root(&t, root);
				else
					must(trace_write(&t, path, &e), &e);
				n++;
				dt = now_s() - t0;
			} while (dt < 0.25 && (k < 2 || n < 20)); /* 20 fsyncs are plenty */
			part[k] = dt / n < part[k] ? dt / n : part[k];
			if (k == 2)
				write_wall = (wall_s() - w0) / n < write_wall ? (wall_s() - w0) / n
				                                              : write_wall;
		}
	}
	double sum = part[0] + part[1] + part[2];
	printf("trace_leaves_s=%.5f trace_root_s=%.5f trace_write_s=%.5f trace_write_wall_s=%.5f\n",
	       part[0], part[1], part[2], write_wall);
	printf("trace_work_s=%.5f trace_work_pct=%.2f\n", sum, 100.0 * sum / plain_s);
	free(x);
	trace_free(&t);
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

	/* Generation without the trace, then the same generation with it: the
	 * hook hashing every residual, the token leaves, the root and the
	 * trace file (temp file, fsync, rename), all a job adds for its trace.
	 * The runs alternate, so that a change in the machine's load hits
	 * both; the model has no end-of-text in its random weights' favour,
	 * so both generate the same tokens. */
	job_terms jt;
	int32_t *ids, *out;
	size_t n_prompt;
	must(job_terms_read(&job, &jt, &e), &e);
	must(job_prompt_ids(&en, &jt, &ids, &n_prompt, &e), &e);
	session_params sp = {.n_ctx = (int)n_prompt + n_gen, .n_threads = threads};
	gen_opts go = {.n_predict = n_gen, .stop_at_eog = 1, .tok = en.tok};
	job_sample_params(jt.seed, jt.temp_milli, jt.top_k, jt.top_p_milli, &go.sample);
	char trace_path[64];
	snprintf(trace_path, sizeof trace_path, "/tmp/provebench.%d.trace", (int)getpid());
	int n_out;
	gen_stats st;
	double best_plain = 1e9, best_traced = 1e9, best_job = 1e9;
	dai_trace tr;
	for (int rep = 0; rep < REPS; rep++) {
		for (int traced = 0; traced < 2; traced++) {
			session *s = session_new(m, &sp, &e);
			must(!s, &e);
			gen_opts o = go;
			double t0 = now_s();
			if (traced) {
				must(trace_init(&tr, (uint32_t)m->n_layers, (uint32_t)m->dim,
				                n_prompt + (size_t)n_gen - 1, &e),
				     &e);
				o.trace = &tr;
			}
			must(generate(s, ids, (int)n_prompt, &o, &out, &n_out, &st, &e), &e);
			if (traced) {
				unsigned char root[MERKLE_HASH];
				trace_root(&tr, root);
				must(trace_write(&tr, trace_path, &e), &e);
			}
			double dt = now_s() - t0;
			double *best = traced ? &best_traced : &best_plain;
			*best = dt < *best ? dt : *best;
			if (traced)
				trace_free(&tr);
			free(out);
			session_free(s);
		}
	}
	/* The whole job (tokenizing, generation with the trace, the signed
	 * receipt), whose receipt the rest checks. */
	for (int rep = 0; rep < 3; rep++) {
		job_run_opts jo = {.n_threads = threads};
		double t0 = now_s();
		must(job_run(&en, &worker, &job, &jo, &receipt, &tr, &e), &e);
		double dt = now_s() - t0;
		best_job = dt < best_job ? dt : best_job;
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
	printf("generate_s=%.3f generate_traced_s=%.3f trace_overhead_pct=%.1f job_s=%.3f\n",
	       best_plain, best_traced, 100.0 * (best_traced - best_plain) / best_plain, best_job);
	trace_parts(&tr, trace_path, best_plain);
	unlink(trace_path);
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
	printf("verify_s=%.3f generate_over_verify=%.1f\n", best_verify, best_job / best_verify);

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
