/*
 * modelbench - speed of the forward pass on one model file: prompt
 * processing (one batched eval of n_prompt tokens), generation (n_gen
 * greedy tokens, one eval each), teacher-forced replay of the whole
 * sequence (one batched eval, the way a verifier checks a job), time to
 * first token (load + prompt), decode bandwidth (weights read per token x
 * tokens/s) against the machine's measured read bandwidth, and peak RSS.
 *
 * Usage: modelbench MODEL [threads [n_prompt [n_gen]]]     (defaults 1 128 64)
 * Prints one line of "key=value" fields (easy to tabulate; see bench.sh);
 * *_tpcs are tokens per CPU second (see cpu_s).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gguf.h"
#include "model.h"
#include "session.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of the process (all threads): on a loaded machine, tokens per
 * CPU second at one thread estimate the speed the machine would give alone */
static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Read bandwidth of one thread over a buffer far larger than the caches (GB/s). */
static double read_bandwidth(void)
{
	size_t n = (size_t)256 << 20;
	uint64_t *buf = malloc(n);
	if (!buf)
		return 0;
	memset(buf, 1, n);
	double best = 0;
	volatile uint64_t sink = 0;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now_s();
		uint64_t a = 0, b = 0, c = 0, d = 0;
		for (size_t i = 0; i < n / 8; i += 4) {
			a += buf[i];
			b += buf[i + 1];
			c += buf[i + 2];
			d += buf[i + 3];
		}
		sink += a + b + c + d;
		double gbs = (double)n / (now_s() - t0) / 1e9;
		best = gbs > best ? gbs : best;
	}
	(void)sink;
	free(buf);
	return best;
}

static int argmax(const float *x, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: modelbench MODEL [threads [n_prompt [n_gen]]]\n");
		return 2;
	}
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	int np = argc > 3 ? atoi(argv[3]) : 128;
	int ng = argc > 4 ? atoi(argv[4]) : 64;
	if (threads < 1 || np < 1 || ng < 1) {
		fprintf(stderr, "modelbench: bad arguments\n");
		return 2;
	}
	dai_err e;
	gguf_file g;
	model m;
	double t_load = now_s();
	if (gguf_open(&g, argv[1], &e) || model_load(&m, &g, &e)) {
		fprintf(stderr, "modelbench: %s\n", e.msg);
		return 1;
	}
	session_params sp = {.n_ctx = np + ng + 1, .n_threads = threads, .n_batch = np};
	session *s = session_new(&m, &sp, &e);
	if (!s) {
		fprintf(stderr, "modelbench: %s\n", e.msg);
		return 1;
	}
	int32_t *ids = malloc(sizeof(int32_t) * (size_t)(np + ng));
	float *logits = malloc(sizeof(float) * (size_t)m.n_vocab);
	uint64_t r = 12345;
	for (int i = 0; i < np; i++) {
		r = r * 6364136223846793005u + 1442695040888963407u;
		ids[i] = (int32_t)((r >> 33) % (uint64_t)m.n_vocab);
	}
	ids[0] = 1;

	double t0 = now_s(), c0 = cpu_s();
	if (session_eval(s, ids, np, logits, SESSION_LOGITS_LAST, &e))
		goto fail;
	double t1 = now_s(), c1 = cpu_s();
	for (int i = 0; i < ng; i++) {
		ids[np + i] = argmax(logits, m.n_vocab);
		if (session_eval(s, &ids[np + i], 1, logits, SESSION_LOGITS_LAST, &e))
			goto fail;
	}
	double t2 = now_s(), c2 = cpu_s();
	session_reset(s);
	if (session_eval(s, ids, np + ng, logits, SESSION_LOGITS_LAST, &e))
		goto fail;
	double t3 = now_s();

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double bw = read_bandwidth(); /* after the RSS reading: its buffer is large */
	double wbytes = (double)model_weight_bytes(&m);
	double gen_tps = ng / (t2 - t1);
	printf("model=%s threads=%d kern=%s prompt_tps=%.1f gen_tps=%.2f replay_tps=%.1f "
	       "replay_speedup=%.1f ttft_ms=%.0f decode_gbs=%.2f read_gbs=%.2f roofline=%.0f%% "
	       "rss_mib=%.0f file_mib=%.0f kv_mib=%.1f prompt_tpcs=%.1f gen_tpcs=%.2f\n",
	       argv[1], threads, session_kern(s)->name, np / (t1 - t0), gen_tps,
	       (np + ng) / (t3 - t2), ((np + ng) / (t3 - t2)) / gen_tps, (t1 - t_load) * 1e3,
	       wbytes * gen_tps / 1e9, bw, 100.0 * wbytes * gen_tps / 1e9 / bw,
	       (double)ru.ru_maxrss / 1024.0, (double)g.size / (1 << 20),
	       2.0 * m.n_layers * (np + ng + 1) * m.n_kv_heads * m.head_dim * 4 / (1 << 20),
	       np / (c1 - c0), ng / (c2 - c1));
	session_free(s);
	model_free(&m);
	gguf_close(&g);
	free(ids);
	free(logits);
	return 0;
fail:
	fprintf(stderr, "modelbench: %s\n", e.msg);
	return 1;
}
