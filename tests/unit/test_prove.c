/*
 * test_prove.c - the pieces fraud proofs stand on: the forward pass run one
 * step at a time (session_embed, session_layer, session_layer_last,
 * session_head) gives the
 * same bits as session_eval, on every matrix type, batch split and kernel
 * table; base64 over several document lines; the one sampling conversion.
 * The detection matrix itself is tests/cli/t_prove.sh.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ggml_type.h"
#include "job.h"
#include "prove_impl.h"
#include "model_test.h"
#include "session.h"
#include "tools/llama_gen.h"

TestSuite(prove);

static void pieces(uint32_t type, int n_batch, int ref_kernels)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.dim = 96;
	p.n_heads = 6;
	p.n_kv_heads = 2;
	p.ffn_dim = 160;
	p.n_layers = 3;
	p.type = type;
	unsigned char *buf;
	size_t len;
	gguf_file g;
	model m;
	dai_err e;
	cr_assert_eq(llama_gen_mem(&p, NULL, &buf, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "gen.gguf", &e), 0, "%s", e.msg);
	cr_assert_eq(model_load(&m, &g, &e), 0, "%s", e.msg);
	const kern_table *k = ref_kernels ? kern_ref() : NULL;
	enum { N = 21 };
	int32_t toks[N];
	for (int i = 0; i < N; i++)
		toks[i] = (int32_t)((i * 37 + 5) % m.n_vocab);
	size_t dim = (size_t)m.dim, L = (size_t)m.n_layers, V = (size_t)m.n_vocab;
	struct rec r = {m.n_layers, m.dim, malloc(N * (L + 1) * dim * sizeof(float))};
	float *logits = malloc(N * V * sizeof(float));
	session_params sp = {.n_ctx = N, .n_threads = 2};
	session *s = session_new(&m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	session_set_hook(s, rec_hook, &r);
	cr_assert_eq(session_eval(s, toks, N, logits, SESSION_LOGITS_ALL, &e), 0, "%s", e.msg);
	session_free(s);

	session_params sp2 = {.n_ctx = N, .n_threads = 3, .n_batch = n_batch, .kern = k};
	s = session_new(&m, &sp2, &e);
	cr_assert(s, "%s", e.msg);
	float *in = malloc(N * dim * sizeof(float)), *out = malloc(N * dim * sizeof(float));
	float *lg = malloc(V * sizeof(float));
	for (int t = 0; t < N; t++) {
		cr_assert_eq(session_embed(s, toks[t], out, &e), 0);
		cr_assert_eq(memcmp(out, r.v + (size_t)t * (L + 1) * dim, dim * sizeof(float)), 0,
		             "embedding of position %d", t);
	}
	for (size_t l = 0; l < L; l++) {
		for (int t = 0; t < N; t++)
			memcpy(in + t * dim, r.v + ((size_t)t * (L + 1) + l) * dim,
			       dim * sizeof(float));
		/* every prefix length, as a check for position t uses tokens 0..t */
		for (int n = N; n >= 1; n -= 6) {
			cr_assert_eq(session_layer(s, (int)l, in, n, out, &e), 0, "%s", e.msg);
			for (int t = 0; t < n; t++)
				cr_assert_eq(memcmp(out + t * dim,
				                    r.v + ((size_t)t * (L + 1) + l + 1) * dim,
				                    dim * sizeof(float)),
				             0, "layer %zu, position %d of %d", l, t, n);
		}
		for (int n = N; n >= 1; n--) {
			memset(out, 0, dim * sizeof(float));
			cr_assert_eq(session_layer_last(s, (int)l, in, n, out, &e), 0, "%s", e.msg);
			cr_assert_eq(memcmp(out, r.v + ((size_t)(n - 1) * (L + 1) + l + 1) * dim,
			                    dim * sizeof(float)),
			             0, "last token of layer %zu, %d tokens", l, n);
		}
	}
	for (int t = 0; t < N; t++) {
		session_head(s, r.v + ((size_t)t * (L + 1) + L) * dim, lg);
		cr_assert_eq(memcmp(lg, logits + t * V, V * sizeof(float)), 0, "head at %d", t);
	}
	cr_assert_neq(session_layer(s, (int)L, in, 1, out, &e), 0);
	cr_assert_neq(session_layer(s, 0, in, N + 1, out, &e), 0);
	cr_assert_neq(session_embed(s, m.n_vocab, out, &e), 0);
	session_free(s);
	free(in);
	free(out);
	free(lg);
	free(r.v);
	free(logits);
	model_free(&m);
	gguf_close(&g);
	free(buf);
}

Test(prove, pieces_f32)
{
	pieces(GGML_TYPE_F32, 0, 0);
}
Test(prove, pieces_f16_batch5)
{
	pieces(GGML_TYPE_F16, 5, 0);
}
Test(prove, pieces_q8_0_batch1)
{
	pieces(GGML_TYPE_Q8_0, 1, 0);
}
Test(prove, pieces_q8_0_reference_kernels)
{
	pieces(GGML_TYPE_Q8_0, 4, 1);
}

Test(prove, b64_lines)
{
	size_t n = 3 * PROVE_B64_CHUNK + 1234;
	unsigned char *data = malloc(n), *back;
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 9));
	dai_docb b;
	dai_doc d;
	dai_err e;
	const char *id = "b2:0000000000000000000000000000000000000000000000000000000000000001";
	docb_init(&b, "fraud", 1);
	docb_add(&b, "job", id);
	docb_add(&b, "receipt", id);
	docb_add(&b, "model", id);
	docb_add(&b, "worker", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
	docb_add(&b, "kind", "step");
	prove_add_b64_lines(&b, "receipt-doc", data, n);
	prove_add_b64_lines(&b, "job-doc", data, 1);
	docb_add(&b, "time", "2026-01-01T00:00:00Z");
	cr_assert_eq(docb_unsigned(&b, &d, &e), 0, "%s", e.msg);
	size_t got;
	cr_assert_eq(prove_get_b64_lines(&d, "receipt-doc", n, &back, &got, &e), 0, "%s", e.msg);
	cr_assert_eq(got, n);
	cr_assert_eq(memcmp(back, data, n), 0);
	free(back);
	cr_assert_neq(prove_get_b64_lines(&d, "receipt-doc", n - 1, &back, &got, &e), 0);
	cr_assert_neq(prove_get_b64_lines(&d, "proof", n, &back, &got, &e), 0);
	doc_free(&d);
	free(data);
}

Test(prove, sampling_conversion)
{
	dai_sample_params p;
	dai_err e;
	job_sample_params(9, 800, 40, 950, &p);
	cr_assert(p.temp == 0.8f && p.top_p == 0.95f && p.top_k == 40 && p.seed == 9);
	job_sample_params(0, 0, 0, 1000, &p);
	cr_assert(p.temp == 0.0f && p.top_p == 1.0f);
	cr_assert_eq(sample_params_check(&p, &e), 0);
	cr_assert_neq(job_sampling_check(800, 0, 0, &e), 0);
	cr_assert_neq(job_sampling_check(800, 0, 1001, &e), 0);
	cr_assert_neq(job_sampling_check(1000001, 0, 1000, &e), 0);
	cr_assert_neq(job_sampling_check(800, (uint64_t)INT32_MAX + 1, 1000, &e), 0);
	cr_assert_eq(job_sampling_check(1000000, INT32_MAX, 1, &e), 0);
}
