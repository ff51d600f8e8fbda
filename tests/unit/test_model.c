/*
 * Unit tests: the model loader and the forward pass. Bit-for-bit
 * determinism (memcmp of logits and residuals) across thread counts, batch
 * splits, kernel tables, and generation vs teacher-forced replay, over
 * shapes with odd head counts, GQA and dims that are not multiples of 32;
 * rewind; bounds errors; and one-line errors for broken model files. Test
 * models come from tests/tools/llama_gen.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ggml_type.h"
#include "gguf.h"
#include "model.h"
#include "session.h"
#include "model_test.h"
#include "tools/llama_gen.h"

TestSuite(model);

/* ---------------------------------------------------------------- helpers */

struct loaded {
	unsigned char *buf;
	size_t len;
	gguf_file g;
	model m;
};

static void load(struct loaded *L, const llama_gen *p)
{
	dai_err e;
	cr_assert_eq(llama_gen_mem(p, NULL, &L->buf, &L->len, &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_open_mem(&L->g, L->buf, L->len, "gen.gguf", &e), 0, "%s", e.msg);
	cr_assert_eq(model_load(&L->m, &L->g, &e), 0, "%s", e.msg);
}

static void unload(struct loaded *L)
{
	model_free(&L->m);
	gguf_close(&L->g);
	free(L->buf);
}

/* Residual vectors recorded by the hook, indexed by (pos, layer). The
 * hook runs on the session's pool threads (session.h), so it counts with
 * atomics and notes a bad call for the test thread to report. */
struct trace {
	int n_pos, n_layers, dim, calls, bad;
	float *v;
};

static void trace_hook(void *ctx, int pos0, int n, int layer, const float *x, int dim)
{
	struct trace *t = ctx;
	if (pos0 < 0 || n < 1 || n > SESSION_HOOK_RUN || pos0 + n > t->n_pos || layer < 0 ||
	    layer > t->n_layers || dim != t->dim) {
		__atomic_store_n(&t->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	for (int i = 0; i < n; i++)
		memcpy(t->v + ((size_t)(pos0 + i) * (t->n_layers + 1) + layer) * dim,
		       x + (size_t)i * dim, sizeof(float) * dim);
	__atomic_fetch_add(&t->calls, n, __ATOMIC_RELAXED); /* vectors, not calls */
}

struct run {
	const kern_table *k;
	int threads;
	int n_batch;     /* session n_batch */
	const int *cuts; /* eval call sizes, 0-terminated; NULL: one call */
};

/* Evaluates ids[0..n) under r; returns all logits (n x vocab) and fills the trace. */
static float *eval_all(const model *m, const int32_t *ids, int n, struct run r, struct trace *tr)
{
	dai_err e;
	session_params sp = {
	    .n_ctx = n + 3, .n_batch = r.n_batch, .n_threads = r.threads, .kern = r.k};
	session *s = session_new(m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	tr->n_pos = n;
	tr->n_layers = m->n_layers;
	tr->dim = m->dim;
	tr->calls = 0;
	tr->bad = 0;
	tr->v = calloc((size_t)n * (m->n_layers + 1) * m->dim, sizeof(float));
	session_set_hook(s, trace_hook, tr);
	float *lg = malloc(sizeof(float) * n * m->n_vocab);
	cr_assert(lg && tr->v);
	int done = 0;
	for (int c = 0; done < n; c++) {
		int k = r.cuts && r.cuts[c] ? r.cuts[c] : n - done;
		k = k < n - done ? k : n - done;
		cr_assert_eq(session_eval(s, ids + done, k, lg + (size_t)done * m->n_vocab,
		                          SESSION_LOGITS_ALL, &e),
		             0, "%s", e.msg);
		done += k;
		cr_assert_eq(session_pos(s), done);
	}
	cr_assert_eq(tr->bad, 0, "the hook got a position, layer or width out of range");
	cr_assert_eq(tr->calls, n * (m->n_layers + 1));
	session_free(s);
	return lg;
}

static void check_shape(const llama_gen *p)
{
	struct loaded L;
	load(&L, p);
	const model *m = &L.m;
	enum { N = 23 };
	int32_t ids[N];
	uint64_t r = p->seed + 7;
	for (int i = 0; i < N; i++) {
		r = r * 6364136223846793005u + 1442695040888963407u;
		ids[i] = (int32_t)((r >> 33) % (uint64_t)m->n_vocab);
	}
	size_t lbytes = sizeof(float) * N * m->n_vocab;
	size_t tbytes = sizeof(float) * N * (m->n_layers + 1) * m->dim;

	struct trace t0, t1;
	float *base = eval_all(m, ids, N, (struct run){kern_ref(), 1, 0, NULL}, &t0);
	static const int cuts[] = {5, 11, 1, 6, 0};
	struct run runs[] = {
	    {kern_ref(), 2, 0, NULL},    {kern_ref(), 1, 1, NULL},    {kern_ref(), 3, 7, NULL},
	    {kern_ref(), 2, 4, cuts},    {kern_avx2(), 1, 0, NULL},   {kern_avx2(), 2, 0, NULL},
	    {kern_avx2(), 3, 0, NULL},   {kern_avx2(), 1, 1, NULL},   {kern_avx2(), 2, 7, NULL},
	    {kern_avx2(), 3, 3, cuts},   {kern_avx512(), 1, 0, NULL}, {kern_avx512(), 2, 0, NULL},
	    {kern_avx512(), 3, 7, NULL}, {kern_avx512(), 1, 1, NULL}, {kern_avx512(), 2, 5, cuts},
	    {kern_avx512(), 1, 4, NULL},
	};
	if (!kern_avx512())
		cr_log_warn("this CPU has no AVX-512 F/BW/VL/DQ+VNNI: the avx512 runs are skipped");
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		if (!runs[i].k)
			continue; /* no AVX2 or AVX-512 on this CPU */
		float *lg = eval_all(m, ids, N, runs[i], &t1);
		cr_expect(
		    memcmp(lg, base, lbytes) == 0,
		    "dim %d heads %d/%d type %u: run %zu (%s, %d threads, batch %d) logits differ",
		    p->dim, p->n_heads, p->n_kv_heads, p->type, i, runs[i].k->name, runs[i].threads,
		    runs[i].n_batch);
		cr_expect(memcmp(t1.v, t0.v, tbytes) == 0, "run %zu: residuals differ", i);
		free(lg);
		free(t1.v);
	}

	/* generation vs teacher-forced replay of the generated ids */
	enum { NP = 7, NG = 9 };
	int32_t gen[NP + NG];
	float *rows = malloc(sizeof(float) * (NG + 1) * m->n_vocab);
	cr_assert(rows);
	generate(m, ids, NP, NG, 2, gen, rows);
	float *replay = eval_all(m, gen, NP + NG, (struct run){NULL, 1, 0, NULL}, &t1);
	for (int i = 0; i < NG; i++)
		cr_expect(memcmp(rows + (size_t)i * m->n_vocab,
		                 replay + (size_t)(NP - 1 + i) * m->n_vocab,
		                 sizeof(float) * m->n_vocab) == 0,
		          "generation step %d differs from the replay", i);
	free(replay);
	free(t1.v);
	free(rows);

	/* sanity: logits are finite and not all equal */
	int varied = 0;
	for (size_t i = 0; i < (size_t)N * m->n_vocab; i++) {
		cr_assert(base[i] == base[i] && base[i] > -1e30f && base[i] < 1e30f);
		varied |= base[i] != base[0];
	}
	cr_assert(varied);
	free(base);
	free(t0.v);
	unload(&L);
}

static llama_gen shape(int dim, int layers, int heads, int kv, int ffn, uint32_t type)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.dim = dim, p.n_layers = layers, p.n_heads = heads, p.n_kv_heads = kv, p.ffn_dim = ffn;
	p.type = type;
	p.seed = (uint64_t)dim * 31 + (uint64_t)heads;
	return p;
}

/* ---------------------------------------------------------------- determinism */

Test(model, determinism_f32_gqa)
{
	llama_gen p = shape(64, 2, 4, 2, 128, GGML_TYPE_F32);
	check_shape(&p);
}

Test(model, determinism_f32_odd_heads_dims)
{
	/* 3 heads of 16 sharing one kv head; dim 48 and ffn 80 not multiples of 32 */
	llama_gen p = shape(48, 2, 3, 1, 80, GGML_TYPE_F32);
	check_shape(&p);
}

Test(model, determinism_f16_odd)
{
	/* 5 heads of 8, no GQA; dim 40 and ffn 72; linear RoPE scaling; tied output */
	llama_gen p = shape(40, 3, 5, 5, 72, GGML_TYPE_F16);
	p.rope_linear = 2.0f;
	p.tied = 1;
	check_shape(&p);
}

Test(model, determinism_f16_gqa)
{
	llama_gen p = shape(96, 2, 6, 2, 100, GGML_TYPE_F16);
	check_shape(&p);
}

Test(model, determinism_q8_0)
{
	/* 6 heads of 16, 3 kv heads: query pairs share a kv head */
	llama_gen p = shape(96, 2, 6, 3, 160, GGML_TYPE_Q8_0);
	check_shape(&p);
}

Test(model, determinism_q8_0_odd_heads_tied)
{
	llama_gen p = shape(64, 3, 1, 1, 96, GGML_TYPE_Q8_0);
	p.tied = 1;
	check_shape(&p);
}

/* ---------------------------------------------------------------- session behaviour */

/* the types of kern_quant.h (K-quants: dim and ffn multiples of 256) */
Test(model, determinism_quant_32)
{
	static const uint32_t types[] = {GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
	                                 GGML_TYPE_Q5_1};
	for (int i = 0; i < 4; i++) {
		llama_gen p = shape(96, 2, 6, 3 - i % 2, 160, types[i]);
		check_shape(&p);
	}
}

Test(model, determinism_bf16_odd)
{
	llama_gen p = shape(72, 2, 6, 3, 136, GGML_TYPE_BF16);
	check_shape(&p);
}

Test(model, determinism_k_quants)
{
	static const uint32_t types[] = {GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
	for (int i = 0; i < 3; i++) {
		llama_gen p = shape(256, 2 - i % 2, 4, 2 + 2 * (i == 1), 512, types[i]);
		check_shape(&p);
	}
}

Test(model, rewind_and_bounds)
{
	llama_gen p;
	llama_gen_defaults(&p);
	struct loaded L;
	load(&L, &p);
	dai_err e;
	session_params sp = {.n_ctx = 12, .n_threads = 2};
	session *s = session_new(&L.m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	cr_assert_eq(session_n_ctx(s), 12);
	int32_t ids[12] = {1, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
	int V = L.m.n_vocab;
	float *a = malloc(sizeof(float) * 12 * V), *b = malloc(sizeof(float) * 12 * V);
	cr_assert_eq(session_eval(s, ids, 10, a, SESSION_LOGITS_ALL, &e), 0, "%s", e.msg);
	cr_assert_eq(session_rewind(s, 4, &e), 0);
	cr_assert_eq(session_pos(s), 4);
	cr_assert_eq(session_eval(s, ids + 4, 6, b, SESSION_LOGITS_ALL, &e), 0, "%s", e.msg);
	cr_expect(memcmp(a + 4 * V, b, sizeof(float) * 6 * V) == 0, "rewound rows differ");
	/* LAST gives the last row of ALL */
	cr_assert_eq(session_rewind(s, 4, &e), 0);
	cr_assert_eq(session_eval(s, ids + 4, 6, b, SESSION_LOGITS_LAST, &e), 0, "%s", e.msg);
	cr_expect(memcmp(a + 9 * V, b, sizeof(float) * V) == 0, "LAST differs from ALL");
	cr_assert_eq(session_rewind(s, 11, &e), -1);

	/* overflow and bad ids fail without moving the position */
	cr_assert_eq(session_eval(s, ids, 3, b, SESSION_LOGITS_LAST, &e), -1);
	cr_expect(strstr(e.msg, "context overflow"), "%s", e.msg);
	int32_t bad[2] = {5, V};
	cr_assert_eq(session_eval(s, bad, 2, b, SESSION_LOGITS_LAST, &e), -1);
	cr_expect(strstr(e.msg, "outside the vocabulary"), "%s", e.msg);
	bad[1] = -1;
	cr_assert_eq(session_eval(s, bad, 2, b, SESSION_LOGITS_LAST, &e), -1);
	cr_assert_eq(session_eval(s, bad, 0, b, SESSION_LOGITS_LAST, &e), -1);
	cr_assert_eq(session_pos(s), 10);
	cr_assert_eq(session_eval(s, ids, 2, NULL, SESSION_LOGITS_NONE, &e), 0, "%s", e.msg);
	cr_assert_eq(session_pos(s), 12);
	session_reset(s);
	cr_assert_eq(session_pos(s), 0);
	session_free(s);
	free(a);
	free(b);
	unload(&L);
}

Test(model, hparams_and_weight_bytes)
{
	llama_gen p = shape(96, 3, 6, 2, 160, GGML_TYPE_Q8_0);
	p.rope_base = 500000.0f;
	p.rope_linear = 4.0f;
	struct loaded L;
	load(&L, &p);
	const model *m = &L.m;
	cr_expect_eq(m->dim, 96);
	cr_expect_eq(m->n_layers, 3);
	cr_expect_eq(m->n_heads, 6);
	cr_expect_eq(m->n_kv_heads, 2);
	cr_expect_eq(m->head_dim, 16);
	cr_expect_eq(m->ffn_dim, 160);
	cr_expect_eq(m->n_vocab, 300);
	cr_expect_eq(m->n_ctx_train, 128);
	cr_expect_eq(m->rope_base, 500000.0f);
	cr_expect_eq(m->rope_freq_scale, 0.25f);
	cr_expect_eq(m->rms_eps, 1e-5f);
	cr_expect_eq(m->output_tied, 0);
	cr_expect_eq(m->layers[1].wk.rows, 32);
	cr_expect_eq(m->layers[2].down.type, KERN_Q8_0);
	/* per layer (96*96*2 + 96*32*2 + 96*160*3) / 32 blocks of 34 bytes, + output */
	uint64_t per = (96 * 96 * 2 + 96 * 32 * 2 + 96 * 160 * 3) / 32 * 34;
	cr_expect_eq(model_weight_bytes(m), 3 * per + 96 * 300 / 32 * 34);
	unload(&L);
}

/* The generator's vocabulary is the reference models' vocabulary. */
Test(model, generator_vocab_matches_reference)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.n_vocab = 512;
	struct loaded L;
	load(&L, &p);
	gguf_file ref;
	dai_err e;
	cr_assert_eq(gguf_open(&ref, "tests/data/a_f32.gguf", &e), 0, "%s", e.msg);
	gguf_str *a, *b;
	float *sa, *sb;
	size_t na, nb, ns;
	cr_assert_eq(gguf_get_arr_str(&L.g, "tokenizer.ggml.tokens", &a, &na, &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_get_arr_str(&ref, "tokenizer.ggml.tokens", &b, &nb, &e), 0, "%s", e.msg);
	cr_assert_eq(na, nb);
	for (size_t i = 0; i < na; i++)
		cr_assert(a[i].len == b[i].len && memcmp(a[i].s, b[i].s, a[i].len) == 0,
		          "token %zu differs", i);
	cr_assert_eq(gguf_get_arr_f32(&L.g, "tokenizer.ggml.scores", &sa, &ns, &e), 0);
	cr_assert_eq(gguf_get_arr_f32(&ref, "tokenizer.ggml.scores", &sb, &ns, &e), 0);
	cr_assert(memcmp(sa, sb, ns * sizeof(float)) == 0, "scores differ");
	free(a);
	free(b);
	free(sa);
	free(sb);
	gguf_close(&ref);
	unload(&L);
}

/* Same seed, same bytes; another seed, other bytes. */
Test(model, generator_is_deterministic)
{
	llama_gen p = shape(64, 1, 2, 2, 96, GGML_TYPE_Q8_0);
	unsigned char *a, *b;
	size_t la, lb;
	dai_err e;
	cr_assert_eq(llama_gen_mem(&p, NULL, &a, &la, &e), 0, "%s", e.msg);
	cr_assert_eq(llama_gen_mem(&p, NULL, &b, &lb, &e), 0, "%s", e.msg);
	cr_assert(la == lb && memcmp(a, b, la) == 0);
	free(b);
	p.seed++;
	cr_assert_eq(llama_gen_mem(&p, NULL, &b, &lb, &e), 0, "%s", e.msg);
	cr_assert(la == lb && memcmp(a, b, la) != 0);
	free(a);
	free(b);
}

/* ---------------------------------------------------------------- bad models */

struct edit {
	const char *name; /* tensor to change */
	int drop;
	int64_t ne0, ne1; /* 0: keep */
	int type;         /* -1: keep */
};

static int edit_fn(void *ctx, llama_gen_tensor *t)
{
	const struct edit *ed = ctx;
	if (strcmp(t->name, ed->name))
		return 1;
	if (ed->drop)
		return 0;
	if (ed->ne0)
		t->ne[0] = ed->ne0;
	if (ed->ne1)
		t->ne[1] = ed->ne1, t->n_dims = 2;
	if (ed->type >= 0)
		t->type = (uint32_t)ed->type;
	return 1;
}

static const char *extra_key, *extra_str;
static uint32_t extra_u32;
static int extra_is_str;
static void extra_fn(gguf_writer *w)
{
	if (extra_is_str)
		gguf_w_str(w, extra_key, extra_str);
	else
		gguf_w_u32(w, extra_key, extra_u32);
}

static void expect_load_fail(const llama_gen *p, void (*extra)(gguf_writer *), const char *want1,
                             const char *want2)
{
	unsigned char *buf;
	size_t len;
	dai_err e = {{0}};
	cr_assert_eq(llama_gen_mem(p, extra, &buf, &len, &e), 0, "%s", e.msg);
	gguf_file g;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "bad.gguf", &e), 0, "%s", e.msg);
	model m;
	int rc = model_load(&m, &g, &e);
	if (rc == 0)
		model_free(&m);
	gguf_close(&g);
	free(buf);
	cr_assert_eq(rc, -1, "loaded, expected '%s'", want1);
	cr_expect(strncmp(e.msg, "bad.gguf: ", 10) == 0, "'%s' does not name the file", e.msg);
	cr_expect(strstr(e.msg, want1), "'%s' lacks '%s'", e.msg, want1);
	cr_expect(!want2 || strstr(e.msg, want2), "'%s' lacks '%s'", e.msg, want2);
	cr_expect(!strchr(e.msg, '\n'));
}

static void expect_edit_fail(struct edit ed, const char *want1, const char *want2)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.edit = edit_fn;
	p.edit_ctx = &ed;
	expect_load_fail(&p, NULL, want1, want2);
}

static void expect_key_fail(const char *omit, const char *key, int is_str, const char *s,
                            uint32_t u, const char *want1, const char *want2)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.omit_key = omit;
	extra_key = key, extra_is_str = is_str, extra_str = s, extra_u32 = u;
	expect_load_fail(&p, key ? extra_fn : NULL, want1, want2);
}

Test(model, bad_tensors)
{
	expect_edit_fail((struct edit){"blk.1.ffn_up.weight", 1, 0, 0, -1}, "blk.1.ffn_up.weight",
	                 "missing");
	expect_edit_fail((struct edit){"token_embd.weight", 1, 0, 0, -1}, "token_embd.weight",
	                 "missing");
	expect_edit_fail((struct edit){"output_norm.weight", 1, 0, 0, -1}, "output_norm",
	                 "missing");
	expect_edit_fail((struct edit){"blk.0.attn_k.weight", 0, 0, 64, -1}, "blk.0.attn_k.weight",
	                 "shape [64, 64], expected [64, 32]");
	expect_edit_fail((struct edit){"blk.0.ffn_down.weight", 0, 64, 128, -1},
	                 "blk.0.ffn_down.weight", "expected [128, 64]");
	expect_edit_fail((struct edit){"blk.1.attn_norm.weight", 0, 32, 0, -1},
	                 "blk.1.attn_norm.weight", "expected [64]");
	expect_edit_fail((struct edit){"blk.0.attn_q.weight", 0, 0, 0, GGML_TYPE_IQ4_NL},
	                 "blk.0.attn_q.weight", "iq4_nl is not supported");
	expect_edit_fail((struct edit){"output.weight", 0, 0, 0, GGML_TYPE_Q8_1}, "output.weight",
	                 "not supported");
	expect_edit_fail((struct edit){"blk.0.ffn_norm.weight", 0, 0, 0, GGML_TYPE_F16},
	                 "blk.0.ffn_norm.weight", "expected f32");
	/* a vector where a matrix belongs */
	expect_edit_fail((struct edit){"output.weight", 0, 0, 1, -1}, "output.weight", "shape");
}

/* a tensor the llama graph does not use (llama.cpp would add an ffn bias) is refused */
Test(model, unknown_tensor)
{
	/* a model whose tensors are all there plus an ffn_up bias */
	llama_gen p;
	llama_gen_defaults(&p);
	unsigned char *buf;
	size_t len;
	dai_err e;
	cr_assert_eq(llama_gen_mem(&p, NULL, &buf, &len, &e), 0, "%s", e.msg);
	/* rebuild with one more tensor by hand: copy the keys of the generated file */
	gguf_file g;
	cr_assert_eq(gguf_open_mem(&g, buf, len, "x.gguf", &e), 0, "%s", e.msg);
	gguf_writer w;
	gguf_w_init(&w);
	for (size_t i = 0; i < g.n_kv; i++) {
		const gguf_kv *kv = &g.kv[i];
		/* raw value: for arrays the element type and count come first */
		const unsigned char *val = kv->val;
		size_t vlen = (size_t)kv->val_len;
		if (kv->type == GGUF_T_ARRAY)
			val -= 12, vlen += 12;
		else if (kv->type == GGUF_T_STRING)
			val -= 8, vlen += 8;
		gguf_w_raw(&w, kv->key, kv->type, val, vlen);
	}
	for (size_t i = 0; i < g.n_tensors; i++) {
		const gguf_tensor *t = &g.tensors[i];
		gguf_w_tensor(&w, t->name, t->type, t->n_dims, t->ne, t->data, (size_t)t->size);
	}
	static const float bias[128];
	int64_t ne[1] = {128};
	gguf_w_tensor(&w, "blk.0.ffn_up.bias", GGML_TYPE_F32, 1, ne, bias, sizeof bias);
	gguf_close(&g);
	free(buf);
	cr_assert_eq(gguf_w_finish(&w, &buf, &len, &e), 0, "%s", e.msg);
	gguf_w_free(&w);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "bad.gguf", &e), 0, "%s", e.msg);
	model m;
	cr_assert_eq(model_load(&m, &g, &e), -1);
	cr_expect(strstr(e.msg, "blk.0.ffn_up.bias") && strstr(e.msg, "not supported"), "%s",
	          e.msg);
	gguf_close(&g);
	free(buf);
}

Test(model, bad_keys)
{
	expect_key_fail("general.architecture", "general.architecture", 1, "gpt2", 0, "gpt2",
	                "not supported");
	expect_key_fail("general.architecture", NULL, 0, NULL, 0, "general.architecture",
	                "missing");
	expect_key_fail("llama.block_count", NULL, 0, NULL, 0, "llama.block_count", "missing");
	expect_key_fail("llama.block_count", "llama.block_count", 0, NULL, 0, "llama.block_count",
	                "out of range");
	expect_key_fail("llama.attention.head_count_kv", "llama.attention.head_count_kv", 0, NULL,
	                3, "head_count 4 is not a multiple of head_count_kv 3", NULL);
	expect_key_fail("llama.attention.head_count", "llama.attention.head_count", 0, NULL, 5,
	                "embedding_length 64 is not a multiple of head_count 5", NULL);
	expect_key_fail("llama.rope.dimension_count", "llama.rope.dimension_count", 0, NULL, 8,
	                "llama.rope.dimension_count", "expected the head dimension 16");
	expect_key_fail("llama.attention.layer_norm_rms_epsilon", NULL, 0, NULL, 0,
	                "layer_norm_rms_epsilon", "missing");
	expect_key_fail("llama.vocab_size", "llama.vocab_size", 0, NULL, 299, "llama.vocab_size",
	                "299");
	expect_key_fail(NULL, "llama.rope.scaling.type", 1, "yarn", 0, "yarn", "not supported");
	expect_key_fail(NULL, "llama.expert_count", 0, NULL, 8, "expert", "not supported");
	expect_key_fail("llama.embedding_length", "llama.embedding_length", 1, "64", 0,
	                "llama.embedding_length", NULL);
}

static void short_vocab(gguf_writer *w)
{
	static const char *const toks[] = {"a", "b", "c"};
	gguf_w_arr_str(w, "tokenizer.ggml.tokens", toks, 3);
}

Test(model, vocab_mismatch)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.omit_key = "tokenizer.ggml.tokens";
	expect_load_fail(&p, short_vocab, "tokenizer.ggml.tokens",
	                 "3 tokens, but token_embd has 300");
}

/* rope.scaling.type "none" ignores the factor; without a type, linear applies */
Test(model, rope_scaling_type)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.rope_linear = 4.0f;
	p.omit_key = "llama.rope.scaling.type";
	for (int with_none = 0; with_none < 2; with_none++) {
		extra_key = "llama.rope.scaling.type", extra_is_str = 1, extra_str = "none";
		unsigned char *buf;
		size_t len;
		dai_err e;
		cr_assert_eq(llama_gen_mem(&p, with_none ? extra_fn : NULL, &buf, &len, &e), 0,
		             "%s", e.msg);
		gguf_file g;
		model m;
		cr_assert_eq(gguf_open_mem(&g, buf, len, "r.gguf", &e), 0, "%s", e.msg);
		cr_assert_eq(model_load(&m, &g, &e), 0, "%s", e.msg);
		cr_expect_eq(m.rope_freq_scale, with_none ? 1.0f : 0.25f);
		model_free(&m);
		gguf_close(&g);
		free(buf);
	}
}

/* The file writer (mkgguf's) writes the same bytes as the memory one, and
 * a bad shape is an error that leaves no file behind. */
Test(model, generator_file)
{
	char dir[] = "/tmp/dai-gen-XXXXXX";
	cr_assert(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/m.gguf", dir);
	llama_gen p = shape(64, 1, 2, 1, 96, GGML_TYPE_F16);
	dai_err e;
	cr_assert_eq(llama_gen_file(&p, path, &e), 0, "%s", e.msg);
	unsigned char *a;
	size_t la;
	cr_assert_eq(llama_gen_mem(&p, NULL, &a, &la, &e), 0, "%s", e.msg);
	gguf_file g;
	cr_assert_eq(gguf_open(&g, path, &e), 0, "%s", e.msg);
	cr_expect(g.size == la && memcmp(g.base, a, la) == 0, "file and memory differ");
	gguf_close(&g);
	free(a);
	unlink(path);
	p.n_heads = 3; /* 64 is not a multiple of 3 */
	cr_assert_eq(llama_gen_file(&p, path, &e), -1);
	cr_expect(strstr(e.msg, "bad shape"), "%s", e.msg);
	cr_expect_eq(access(path, F_OK), -1);
	cr_assert_eq(rmdir(dir), 0, "temporary files left in %s", dir);
}
