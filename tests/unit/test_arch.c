/*
 * Unit tests: the architectures beyond plain llama. qwen2 (q, k, v biases,
 * NEOX RoPE), phi3 (fused q/k/v and gate/up, sliding window), gemma
 * (scaled embedding, GELU gate, head dimension apart from dim), llama with attention biases and
 * rope_freqs (Llama 3.1 RoPE factors): the forward pass against a straightforward double-precision
 * implementation of llama.cpp's graph, bit-for-bit determinism across
 * threads, batch splits, kernel tables and generation vs replay, the RoPE
 * helpers against their formulas, and one-line errors for what is refused.
 * Test models come from tests/tools/llama_gen; two reference cases with
 * llama.cpp's logits are in tests/data.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fsio.h"
#include "ggml_type.h"
#include "gguf.h"
#include "kern/dmath.h"
#include "kern/kern_gelu.h"
#include "model.h"
#include "rope.h"
#include "session.h"
#include "model_test.h"
#include "tools/llama_gen.h"

TestSuite(arch);

struct loaded {
	unsigned char *buf;
	size_t len;
	gguf_file g;
	model m;
};

static void load_x(struct loaded *L, const llama_gen *p, void (*extra)(gguf_writer *))
{
	dai_err e;
	cr_assert_eq(llama_gen_mem(p, extra, &L->buf, &L->len, &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_open_mem(&L->g, L->buf, L->len, "gen.gguf", &e), 0, "%s", e.msg);
	cr_assert_eq(model_load(&L->m, &L->g, &e), 0, "%s", e.msg);
}

static void load(struct loaded *L, const llama_gen *p)
{
	load_x(L, p, NULL);
}

static void unload(struct loaded *L)
{
	model_free(&L->m);
	gguf_close(&L->g);
	free(L->buf);
}

static llama_gen qwen2(int dim, int heads, int kv, uint32_t type)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.arch = "qwen2";
	p.biases = LLAMA_GEN_BIAS_QKV;
	p.dim = dim, p.n_heads = heads, p.n_kv_heads = kv, p.type = type;
	p.seed = 100 + (uint64_t)dim;
	return p;
}

static llama_gen llama3(int dim, int heads, int kv, uint32_t type)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.rope_freqs = 1;
	p.biases = LLAMA_GEN_BIAS_QKV | LLAMA_GEN_BIAS_O;
	p.dim = dim, p.n_heads = heads, p.n_kv_heads = kv, p.type = type;
	p.seed = 200 + (uint64_t)dim;
	return p;
}

/* phi3: fused attn_qkv and ffn_up, untied output, a sliding window of swa */
static llama_gen phi3(int dim, int heads, int kv, uint32_t type, int swa)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.arch = "phi3";
	p.swa = swa;
	p.dim = dim, p.n_heads = heads, p.n_kv_heads = kv, p.type = type;
	p.seed = 300 + (uint64_t)dim + (uint64_t)swa;
	return p;
}

/* gemma: embedding times sqrt(dim), GELU gate, output tied; head_dim 0:
 * dim / heads, else attention.key_length (q_dim may differ from dim) */
static llama_gen gemma(int dim, int heads, int kv, uint32_t type, int head_dim)
{
	llama_gen p;
	llama_gen_defaults(&p);
	p.arch = "gemma";
	p.head_dim = head_dim;
	p.dim = dim, p.n_heads = heads, p.n_kv_heads = kv, p.type = type;
	p.seed = 400 + (uint64_t)dim + (uint64_t)head_dim;
	return p;
}

static void pseudo_ids(int32_t *ids, int n, int n_vocab, uint64_t r)
{
	for (int i = 0; i < n; i++) {
		r = r * 6364136223846793005u + 1442695040888963407u;
		ids[i] = (int32_t)((r >> 33) % (uint64_t)n_vocab);
	}
}

/* ---------------------------------------------------------------- reference */

static void ref_rmsnorm(const double *x, const float *w, double *y, int n, double eps)
{
	double ss = 0;
	for (int i = 0; i < n; i++)
		ss += x[i] * x[i];
	double s = 1.0 / sqrt(ss / n + eps);
	for (int i = 0; i < n; i++)
		y[i] = x[i] * s * w[i];
}

/* y = W x (+ b) for an F32 matrix */
static void ref_mv(const model_matrix *w, const double *x, const float *b, double *y)
{
	const float *W = w->data;
	for (int r = 0; r < w->rows; r++) {
		double acc = b ? b[r] : 0.0;
		for (int i = 0; i < w->n; i++)
			acc += (double)W[(size_t)r * w->n + i] * x[i];
		y[r] = acc;
	}
}

/* RoPE as llama.cpp defines it, in double: pair (2i, 2i+1) or (i, i+hd/2) */
static void ref_rope(const model *m, double *x, int n_heads, int pos)
{
	int hd = m->head_dim, half = hd / 2;
	for (int h = 0; h < n_heads; h++)
		for (int i = 0; i < half; i++) {
			double theta = pos * pow(m->rope_base, -2.0 * i / hd);
			if (m->rope_freqs)
				theta /= m->rope_freqs[i];
			theta *= m->rope_freq_scale;
			int a = m->rope_neox ? i : 2 * i, b = m->rope_neox ? i + half : 2 * i + 1;
			double *v = x + (size_t)h * hd, x0 = v[a], x1 = v[b];
			v[a] = x0 * cos(theta) - x1 * sin(theta);
			v[b] = x0 * sin(theta) + x1 * cos(theta);
		}
}

/* rows [r0, r0 + rows) of the F32 tensor name of m's file, read from the
 * file itself (not from the loader's views) */
static model_matrix ref_rows(const model *m, const char *name, int r0, int rows)
{
	const gguf_tensor *t = gguf_find_tensor(m->file, name);
	cr_assert(t && t->type == GGML_TYPE_F32, "%s", name);
	cr_assert(r0 + rows <= t->ne[1]);
	model_matrix w = {name, KERN_F32, (int)t->ne[0], rows,
	                  (const float *)t->data + (size_t)r0 * t->ne[0]};
	return w;
}

/* Logits of every position of ids (n x vocab), F32 weights only. phi3's
 * fused matrices are cut here as llama.cpp's build_phi3 cuts them: q, k, v
 * rows in that order; ffn_up's first half through silu, times the second. */
static double *ref_forward(const model *m, const int32_t *ids, int n)
{
	int dim = m->dim, hd = m->head_dim, qd = m->n_heads * hd, kvd = m->n_kv_heads * hd;
	int ffn = m->ffn_dim, V = m->n_vocab;
	double *x = calloc((size_t)dim, sizeof *x), *h = calloc((size_t)dim, sizeof *h);
	double *q = calloc((size_t)qd, sizeof *q), *att = calloc((size_t)qd, sizeof *att);
	double *kc = calloc((size_t)m->n_layers * n * kvd, sizeof *kc);
	double *vc = calloc((size_t)m->n_layers * n * kvd, sizeof *vc);
	double *g = calloc((size_t)ffn, sizeof *g), *u = calloc((size_t)ffn, sizeof *u);
	double *o = calloc((size_t)(dim > ffn ? dim : ffn), sizeof *o), *p = calloc((size_t)n, 8);
	double *logits = calloc((size_t)n * V, sizeof *logits);
	cr_assert(x && h && q && att && kc && vc && g && u && o && p && logits);
	for (int t = 0; t < n; t++) {
		const float *emb = (const float *)m->tok_embd.data + (size_t)ids[t] * dim;
		for (int i = 0; i < dim; i++) /* gemma: times sqrt(dim) */
			x[i] = m->arch == MODEL_ARCH_GEMMA ? emb[i] * sqrt((double)dim) : emb[i];
		for (int l = 0; l < m->n_layers; l++) {
			model_layer phi;
			const model_layer *L = &m->layers[l];
			if (m->arch == MODEL_ARCH_PHI3) {
				char qkv[64], up[64];
				snprintf(qkv, sizeof qkv, "blk.%d.attn_qkv.weight", l);
				snprintf(up, sizeof up, "blk.%d.ffn_up.weight", l);
				phi = *L;
				phi.wq = ref_rows(m, qkv, 0, qd);
				phi.wk = ref_rows(m, qkv, qd, kvd);
				phi.wv = ref_rows(m, qkv, qd + kvd, kvd);
				phi.gate = ref_rows(m, up, 0, ffn);
				phi.up = ref_rows(m, up, ffn, ffn);
				L = &phi;
			}
			double *kl = kc + ((size_t)l * n + t) * kvd,
			       *vl = vc + ((size_t)l * n + t) * kvd;
			ref_rmsnorm(x, L->attn_norm, h, dim, m->rms_eps);
			ref_mv(&L->wq, h, L->bq, q);
			ref_mv(&L->wk, h, L->bk, kl);
			ref_mv(&L->wv, h, L->bv, vl);
			ref_rope(m, q, m->n_heads, t);
			ref_rope(m, kl, m->n_kv_heads, t);
			int group = m->n_heads / m->n_kv_heads;
			for (int hh = 0; hh < m->n_heads; hh++) {
				int kvh = hh / group;
				double mx = -INFINITY, sum = 0;
				/* a window of n_swa: keys j with t - j < n_swa */
				int lo = m->n_swa > 0 && t >= m->n_swa ? t - m->n_swa + 1 : 0;
				for (int j = 0; j < lo; j++)
					p[j] = 0;
				for (int j = lo; j <= t; j++) {
					const double *kr =
					    kc + ((size_t)l * n + j) * kvd + (size_t)kvh * hd;
					double d = 0;
					for (int i = 0; i < hd; i++)
						d += q[hh * hd + i] * kr[i];
					p[j] = d / sqrt((double)hd);
					mx = p[j] > mx ? p[j] : mx;
				}
				for (int j = lo; j <= t; j++)
					sum += p[j] = exp(p[j] - mx);
				for (int i = 0; i < hd; i++) {
					double a = 0;
					for (int j = lo; j <= t; j++)
						a += p[j] / sum *
						     vc[((size_t)l * n + j) * kvd +
						        (size_t)kvh * hd + i];
					att[hh * hd + i] = a;
				}
			}
			ref_mv(&L->wo, att, L->bo, o);
			for (int i = 0; i < dim; i++)
				x[i] += o[i];
			ref_rmsnorm(x, L->ffn_norm, h, dim, m->rms_eps);
			ref_mv(&L->gate, h, NULL, g);
			ref_mv(&L->up, h, NULL, u);
			/* gemma's GELU is the f16 table of kern_gelu.h (tested on its
			 * own against ggml's); the rest stays in double */
			for (int i = 0; i < ffn; i++)
				g[i] = m->arch == MODEL_ARCH_GEMMA
				           ? kern_gelu((float)g[i]) * u[i]
				           : g[i] / (1.0 + exp(-g[i])) * u[i];
			ref_mv(&L->down, g, NULL, o);
			for (int i = 0; i < dim; i++)
				x[i] += o[i];
		}
		ref_rmsnorm(x, m->output_norm, h, dim, m->rms_eps);
		ref_mv(&m->output, h, NULL, logits + (size_t)t * V);
	}
	free(x), free(h), free(q), free(att), free(kc), free(vc), free(g), free(u), free(o);
	free(p);
	return logits;
}

/* Our logits of every position (kernel table k, threads, n_batch). */
static float *eval_all(const model *m, const int32_t *ids, int n, const kern_table *k, int threads,
                       int n_batch, const int *cuts)
{
	dai_err e;
	session_params sp = {.n_ctx = n + 2, .n_batch = n_batch, .n_threads = threads, .kern = k};
	session *s = session_new(m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	float *lg = malloc(sizeof(float) * (size_t)n * m->n_vocab);
	cr_assert(lg);
	for (int done = 0, c = 0; done < n; c++) {
		int cnt = cuts && cuts[c] ? cuts[c] : n - done;
		cnt = cnt < n - done ? cnt : n - done;
		cr_assert_eq(session_eval(s, ids + done, cnt, lg + (size_t)done * m->n_vocab,
		                          SESSION_LOGITS_ALL, &e),
		             0, "%s", e.msg);
		done += cnt;
	}
	session_free(s);
	return lg;
}

/* Our F32 forward pass is the double-precision graph up to float rounding. */
static void check_against_reference(const llama_gen *p)
{
	struct loaded L;
	load(&L, p);
	const model *m = &L.m;
	enum { N = 12 };
	int32_t ids[N];
	pseudo_ids(ids, N, m->n_vocab, p->seed);
	double *want = ref_forward(m, ids, N);
	float *got = eval_all(m, ids, N, kern_ref(), 1, 0, NULL);
	double worst = 0, scale = 0;
	for (size_t i = 0; i < (size_t)N * m->n_vocab; i++) {
		double d = fabs(got[i] - want[i]);
		worst = d > worst ? d : worst;
		scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
	}
	cr_expect(scale > 0.5, "logits too small to tell anything (%g)", scale);
	cr_expect(worst < 2e-4 * scale, "%s: logits differ from the reference by %g (scale %g)",
	          m->arch_name, worst, scale);
	free(want);
	free(got);
	unload(&L);
}

Test(arch, qwen2_matches_reference)
{
	llama_gen p = qwen2(64, 4, 2, GGML_TYPE_F32);
	check_against_reference(&p);
	p.tied = 1, p.n_kv_heads = 4, p.seed = 5;
	check_against_reference(&p);
}

Test(arch, llama_rope_freqs_biases_match_reference)
{
	llama_gen p = llama3(64, 4, 2, GGML_TYPE_F32);
	p.rope_base = 500000.0f; /* Llama 3's base, so that the factors matter early */
	check_against_reference(&p);
	p.biases = 0, p.rope_linear = 2.0f, p.seed = 9;
	check_against_reference(&p);
}

Test(arch, phi3_matches_reference)
{
	llama_gen p = phi3(64, 4, 2, GGML_TYPE_F32, 0);
	check_against_reference(&p);
	p = phi3(64, 4, 4, GGML_TYPE_F32, 5); /* 12 positions: the window of 5 slides */
	check_against_reference(&p);
	p = phi3(48, 3, 1, GGML_TYPE_F32, 1); /* each token sees only itself */
	check_against_reference(&p);
}

Test(arch, gemma_matches_reference)
{
	llama_gen p = gemma(64, 4, 2, GGML_TYPE_F32, 0);
	check_against_reference(&p);
	p = gemma(64, 4, 2, GGML_TYPE_F32, 32); /* q_dim 128 != dim 64, as Gemma 7B */
	check_against_reference(&p);
	p = gemma(48, 2, 1, GGML_TYPE_F32, 8); /* q_dim 16 < dim */
	check_against_reference(&p);
}

/* The window matters: the same weights without it differ after n_swa tokens. */
Test(arch, phi3_window_matters)
{
	llama_gen p = phi3(64, 4, 2, GGML_TYPE_F32, 4);
	struct loaded L;
	load(&L, &p);
	enum { N = 9 };
	int32_t ids[N];
	pseudo_ids(ids, N, L.m.n_vocab, 8);
	float *a = eval_all(&L.m, ids, N, kern_ref(), 1, 0, NULL);
	L.m.n_swa = 0;
	float *b = eval_all(&L.m, ids, N, kern_ref(), 1, 0, NULL);
	size_t row = (size_t)L.m.n_vocab;
	cr_expect(memcmp(a, b, sizeof(float) * row * 4) == 0);
	cr_expect(memcmp(a + row * 4, b + row * 4, sizeof(float) * row) != 0);
	free(a);
	free(b);
	unload(&L);
}

/* The reference notices a wrong pairing: a qwen2 file read as llama differs. */
Test(arch, neox_pairing_matters)
{
	llama_gen p = qwen2(64, 4, 2, GGML_TYPE_F32);
	struct loaded L;
	load(&L, &p);
	enum { N = 6 };
	int32_t ids[N];
	pseudo_ids(ids, N, L.m.n_vocab, 3);
	float *a = eval_all(&L.m, ids, N, kern_ref(), 1, 0, NULL);
	L.m.rope_neox = 0;
	float *b = eval_all(&L.m, ids, N, kern_ref(), 1, 0, NULL);
	/* position 0 does not rotate; later positions must differ */
	size_t row = (size_t)L.m.n_vocab;
	cr_expect(memcmp(a, b, sizeof(float) * row) == 0);
	cr_expect(memcmp(a + row, b + row, sizeof(float) * row * (N - 1)) != 0);
	free(a);
	free(b);
	unload(&L);
}

/* ---------------------------------------------------------------- determinism */

static void check_determinism(const llama_gen *p)
{
	struct loaded L;
	load(&L, p);
	const model *m = &L.m;
	enum { N = 19 };
	int32_t ids[N];
	pseudo_ids(ids, N, m->n_vocab, p->seed + 1);
	size_t bytes = sizeof(float) * N * m->n_vocab;
	float *base = eval_all(m, ids, N, kern_ref(), 1, 0, NULL);
	static const int cuts[] = {4, 9, 1, 0};
	struct {
		const kern_table *k;
		int threads, n_batch;
		const int *cuts;
	} runs[] = {
	    {kern_ref(), 3, 0, NULL},    {kern_ref(), 1, 1, NULL},    {kern_ref(), 2, 5, cuts},
	    {kern_avx2(), 1, 0, NULL},   {kern_avx2(), 3, 7, NULL},   {kern_avx2(), 2, 1, cuts},
	    {kern_avx512(), 1, 0, NULL}, {kern_avx512(), 3, 7, NULL}, {kern_avx512(), 2, 4, cuts},
	};
	if (!kern_avx512())
		cr_log_warn("this CPU has no AVX-512 F/BW/VL/DQ+VNNI: the avx512 runs are skipped");
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		if (!runs[i].k)
			continue; /* no AVX2 or AVX-512 on this CPU */
		float *lg =
		    eval_all(m, ids, N, runs[i].k, runs[i].threads, runs[i].n_batch, runs[i].cuts);
		cr_expect(memcmp(lg, base, bytes) == 0, "%s type %u: run %zu (%s) logits differ",
		          m->arch_name, p->type, i, runs[i].k->name);
		free(lg);
	}

	/* greedy generation, one token per eval, vs the teacher-forced replay */
	enum { NP = 5, NG = 8 };
	int32_t gen[NP + NG];
	float *rows = malloc(sizeof(float) * (NG + 1) * m->n_vocab);
	cr_assert(rows);
	generate(m, ids, NP, NG, 2, gen, rows);
	float *replay = eval_all(m, gen, NP + NG, NULL, 1, 0, NULL);
	for (int i = 0; i < NG; i++)
		cr_expect(memcmp(rows + (size_t)i * m->n_vocab,
		                 replay + (size_t)(NP - 1 + i) * m->n_vocab,
		                 sizeof(float) * m->n_vocab) == 0,
		          "generation step %d differs from the replay", i);
	free(replay);
	free(rows);
	free(base);
	unload(&L);
}

Test(arch, determinism_qwen2)
{
	llama_gen p = qwen2(64, 4, 2, GGML_TYPE_F32);
	check_determinism(&p);
	p = qwen2(96, 3, 1, GGML_TYPE_F16); /* head_dim 32, odd head count */
	check_determinism(&p);
	p = qwen2(64, 2, 2, GGML_TYPE_Q8_0); /* head_dim 32 */
	p.tied = 1;
	check_determinism(&p);
	p = qwen2(40, 2, 1, GGML_TYPE_F32); /* head_dim 20: pairs not a multiple of 8 */
	check_determinism(&p);
	p = qwen2(64, 4, 2, GGML_TYPE_Q4_0);
	check_determinism(&p);
	p = qwen2(256, 1, 1, GGML_TYPE_Q4_K); /* head_dim 256: two NEOX gather chunks */
	p.ffn_dim = 256, p.tied = 1;
	check_determinism(&p);
}

Test(arch, determinism_llama_rope_freqs)
{
	llama_gen p = llama3(64, 4, 2, GGML_TYPE_F32);
	check_determinism(&p);
	p = llama3(64, 2, 1, GGML_TYPE_Q8_0);
	p.biases = 0;
	check_determinism(&p);
	p = llama3(48, 3, 3, GGML_TYPE_F16);
	check_determinism(&p);
	p = llama3(256, 4, 2, GGML_TYPE_Q6_K);
	p.ffn_dim = 256;
	check_determinism(&p);
	p = llama3(64, 4, 4, GGML_TYPE_BF16);
	check_determinism(&p);
}

Test(arch, determinism_phi3)
{
	llama_gen p = phi3(64, 4, 2, GGML_TYPE_F32, 6);
	check_determinism(&p);
	p = phi3(96, 3, 1, GGML_TYPE_F16, 0); /* head_dim 32, odd head count */
	check_determinism(&p);
	p = phi3(64, 2, 2, GGML_TYPE_Q8_0, 3);
	check_determinism(&p);
	p = phi3(64, 4, 2, GGML_TYPE_Q5_1, 1);
	check_determinism(&p);
	p = phi3(256, 2, 1, GGML_TYPE_Q4_K, 7); /* views of K-quant rows */
	p.ffn_dim = 256;
	check_determinism(&p);
}

Test(arch, determinism_gemma)
{
	llama_gen p = gemma(64, 4, 2, GGML_TYPE_F32, 0);
	check_determinism(&p);
	p = gemma(64, 4, 1, GGML_TYPE_F16, 32);
	check_determinism(&p);
	p = gemma(64, 2, 2, GGML_TYPE_Q8_0, 0);
	check_determinism(&p);
	p = gemma(64, 2, 1, GGML_TYPE_BF16, 48);
	check_determinism(&p);
	p = gemma(256, 1, 1, GGML_TYPE_Q4_K, 256);
	p.ffn_dim = 256;
	check_determinism(&p);
}

/* ---------------------------------------------------------------- RoPE helpers */

/* NEOX mode is the formula of rope.h, bit for bit, on both kernel tables,
 * including heads of more than one gather chunk (64 pairs). */
Test(arch, rope_neox_formula)
{
	static const int dims[] = {2, 6, 16, 130, 256};
	const kern_table *tabs[] = {kern_ref(), kern_avx2(), kern_avx512()};
	for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
		int hd = dims[d], half = hd / 2, heads = 3;
		model m = {
		    .head_dim = hd, .rope_neox = 1, .rope_base = 10000.0f, .rope_freq_scale = 1.0f};
		float *cs = malloc(sizeof(float) * hd), *x = malloc(sizeof(float) * hd * heads);
		float *want = malloc(sizeof(float) * hd * heads),
		      *y = malloc(sizeof(float) * hd * heads);
		cr_assert(cs && x && want && y);
		rope_table(&m, 37, cs, cs + half);
		uint64_t r = 99;
		for (int i = 0; i < hd * heads; i++) {
			r = r * 6364136223846793005u + 1442695040888963407u;
			x[i] = (float)((int64_t)(r >> 40) - (1 << 23)) / (float)(1 << 21);
		}
		for (int h = 0; h < heads; h++)
			for (int i = 0; i < half; i++) {
				float x0 = x[h * hd + i], x1 = x[h * hd + i + half];
				float c = cs[i], s = cs[half + i];
				float a = x0 * c, b = x1 * s, e = x0 * s, f = x1 * c;
				want[h * hd + i] = a - b;
				want[h * hd + i + half] = e + f;
			}
		for (size_t t = 0; t < 3; t++) {
			if (!tabs[t])
				continue;
			memcpy(y, x, sizeof(float) * hd * heads);
			rope_apply(tabs[t], &m, y, heads, cs, cs + half);
			cr_expect(memcmp(y, want, sizeof(float) * hd * heads) == 0,
			          "head_dim %d, %s: NEOX RoPE differs from the formula", hd,
			          tabs[t]->name);
		}
		free(cs), free(x), free(want), free(y);
	}
}

/* Without factors the table is dm_rope_table_scaled's; with them, theta / factor. */
Test(arch, rope_table_factors)
{
	enum { HD = 16 };
	float ff[HD / 2], c0[HD / 2], s0[HD / 2], c1[HD / 2], s1[HD / 2];
	for (int i = 0; i < HD / 2; i++)
		ff[i] = 1.0f + (float)i;
	model m = {.head_dim = HD, .rope_base = 500000.0f, .rope_freq_scale = 0.5f};
	for (int pos = 0; pos < 300; pos += 37) {
		rope_table(&m, pos, c0, s0);
		dm_rope_table_scaled(pos, HD, m.rope_base, m.rope_freq_scale, c1, s1);
		cr_expect(memcmp(c0, c1, sizeof c0) == 0 && memcmp(s0, s1, sizeof s0) == 0);
		m.rope_freqs = ff;
		rope_table(&m, pos, c0, s0);
		float theta_scale = dm_powf(m.rope_base, -2.0f / HD), theta = (float)pos;
		for (int i = 0; i < HD / 2; i++) {
			float t = m.rope_freq_scale * (theta / ff[i]);
			cr_expect(c0[i] == dm_cosf(t) && s0[i] == dm_sinf(t), "pos %d pair %d", pos,
			          i);
			theta = theta * theta_scale;
		}
		m.rope_freqs = NULL;
	}
}

/* ---------------------------------------------------------------- refusals */

static void expect_fail_x(const llama_gen *p, void (*extra)(gguf_writer *), const char *want1,
                          const char *want2)
{
	unsigned char *buf;
	size_t len;
	dai_err e;
	gguf_file g;
	model m;
	cr_assert_eq(llama_gen_mem(p, extra, &buf, &len, &e), 0, "%s", e.msg);
	cr_assert_eq(gguf_open_mem(&g, buf, len, "bad.gguf", &e), 0, "%s", e.msg);
	cr_assert_eq(model_load(&m, &g, &e), -1, "loaded, expected '%s'", want1);
	cr_expect(strstr(e.msg, "bad.gguf") && strstr(e.msg, want1) &&
	              (!want2 || strstr(e.msg, want2)),
	          "got '%s', expected '%s' and '%s'", e.msg, want1, want2 ? want2 : "");
	cr_expect(!strchr(e.msg, '\n'));
	gguf_close(&g);
	free(buf);
}

static void expect_fail(const llama_gen *p, const char *want1, const char *want2)
{
	expect_fail_x(p, NULL, want1, want2);
}

static const char *drop_name;
static int drop(void *ctx, llama_gen_tensor *t)
{
	(void)ctx;
	return strcmp(t->name, drop_name) != 0;
}

static int shorten_freqs(void *ctx, llama_gen_tensor *t)
{
	(void)ctx;
	if (!strcmp(t->name, "rope_freqs.weight"))
		t->ne[0]--;
	return 1;
}

static const char *extra_key, *extra_str;
static float extra_f32;
static void extra_fn(gguf_writer *w)
{
	if (extra_str)
		gguf_w_str(w, extra_key, extra_str);
	else
		gguf_w_f32(w, extra_key, extra_f32);
}
static void extra_u32_fn(gguf_writer *w)
{
	gguf_w_u32(w, extra_key, (uint32_t)extra_f32);
}

static const char *rename_from, *rename_to;
static int rename_tensor(void *ctx, llama_gen_tensor *t)
{
	(void)ctx;
	if (!strcmp(t->name, rename_from))
		snprintf(t->name, sizeof t->name, "%s", rename_to);
	return 1;
}

/* blk.1's output bias becomes output.weight, blk.0's is left out */
static int bias_to_output(void *ctx, llama_gen_tensor *t)
{
	(void)ctx;
	if (!strcmp(t->name, "blk.1.attn_output.bias"))
		snprintf(t->name, sizeof t->name, "output.weight");
	return strcmp(t->name, "blk.0.attn_output.bias") != 0;
}

Test(arch, gemma_refusals)
{
	llama_gen p = gemma(64, 4, 2, GGML_TYPE_F32, 32);
	/* no biases, no rope_freqs */
	p.biases = LLAMA_GEN_BIAS_QKV;
	expect_fail(&p, "blk.0.attn_q.bias", "not part of a gemma model");
	p.biases = 0;
	p.rope_freqs = 1;
	expect_fail(&p, "rope_freqs.weight", "not part of a gemma model");
	p.rope_freqs = 0;
	/* llama.cpp reads gemma's output from token_embd only: an output.weight
	 * (here a renamed bias, so that the file has one) is left over */
	p.biases = LLAMA_GEN_BIAS_O;
	p.edit = bias_to_output;
	expect_fail(&p, "output.weight", "not part of a gemma model");
	p.edit = NULL, p.biases = 0;
	/* key and value lengths must agree */
	llama_gen v = gemma(64, 4, 2, GGML_TYPE_F32, 0);
	extra_key = "gemma.attention.value_length", extra_f32 = 8;
	expect_fail_x(&v, extra_u32_fn, "key/value length 16/8", "not supported");
	/* other architectures keep head_dim = dim / heads */
	p.arch = "llama";
	expect_fail(&p, "key/value length 32/32 differs from the head dimension 16", NULL);
	/* gemma's embedding scale and GELU come with the architecture only */
	p = gemma(64, 4, 2, GGML_TYPE_F32, 0);
	struct loaded L;
	load(&L, &p);
	cr_expect(L.m.embd_scale == 8.0f && L.m.ffn_gelu && L.m.output_tied && L.m.rope_neox);
	unload(&L);
}

Test(arch, phi3_refusals)
{
	llama_gen p = phi3(64, 4, 2, GGML_TYPE_F32, 8);
	/* the window key is required for shapes without a default */
	p.omit_key = "phi3.attention.sliding_window";
	expect_fail(&p, "phi3.attention.sliding_window", "missing");
	p.omit_key = NULL;
	/* LongRoPE factors are named and refused */
	p.rope_freqs = 1;
	rename_from = "rope_freqs.weight";
	rename_to = "rope_factors_long.weight";
	p.edit = rename_tensor;
	expect_fail(&p, "rope_factors_long.weight", "LongRoPE");
	rename_to = "rope_factors_short.weight";
	expect_fail(&p, "rope_factors_short.weight", "LongRoPE");
	p.rope_freqs = 0;
	p.edit = NULL;
	/* the output is not tied */
	p.tied = 1;
	expect_fail(&p, "output.weight", "missing");
	p.tied = 0;
	/* the fused matrices with the wrong number of rows */
	rename_from = "blk.0.attn_qkv.weight", rename_to = "blk.0.attn_q.weight";
	p.edit = rename_tensor;
	expect_fail(&p, "blk.0.attn_qkv.weight", "missing");
	p.edit = NULL;
	p.biases = LLAMA_GEN_BIAS_QKV;
	expect_fail(&p, "blk.0.attn_q.bias", "not part of a phi3 model");
	p.biases = 0;
	/* a llama-layout file named phi3: the fused tensors are missing */
	llama_gen l = llama3(64, 4, 2, GGML_TYPE_F32);
	l.biases = 0, l.rope_freqs = 0;
	l.arch = NULL;
	extra_key = "llama.attention.sliding_window", extra_f32 = 128;
	struct loaded L;
	load_x(&L, &l, extra_u32_fn); /* as llama: loads (window = context) */
	cr_expect(L.m.n_swa == 0);
	unload(&L);
	/* Phi-3-mini-4k's shape takes llama.cpp's default window of 2047 */
	p = phi3(64, 4, 4, GGML_TYPE_F32, 0);
	p.n_layers = 32, p.n_ctx = 4096, p.ffn_dim = 32;
	p.omit_key = "phi3.attention.sliding_window";
	load(&L, &p);
	cr_expect_eq(L.m.n_swa, 2047);
	unload(&L);
	/* an explicit 0 turns the window off */
	p.omit_key = NULL;
	load(&L, &p);
	cr_expect_eq(L.m.n_swa, 0);
	unload(&L);
}

Test(arch, refusals)
{
	llama_gen p = qwen2(64, 4, 2, GGML_TYPE_F32);
	/* qwen2 needs its biases */
	drop_name = "blk.1.attn_k.bias";
	p.edit = drop;
	expect_fail(&p, "blk.1.attn_k.bias", "missing");
	p.edit = NULL;
	/* and has no output bias or rope_freqs */
	p.biases = LLAMA_GEN_BIAS_QKV | LLAMA_GEN_BIAS_O;
	expect_fail(&p, "blk.0.attn_output.bias", "not part of a qwen2 model");
	p.biases = LLAMA_GEN_BIAS_QKV;
	p.rope_freqs = 1;
	expect_fail(&p, "rope_freqs.weight", "not part of a qwen2 model");

	/* an architecture not supported is named */
	llama_gen g;
	llama_gen_defaults(&g);
	g.arch = "gemma2";
	expect_fail(&g, "architecture 'gemma2' is not supported", "llama, qwen2, phi3, gemma");

	/* rope_freqs of the wrong length */
	llama_gen l = llama3(64, 4, 2, GGML_TYPE_F32);
	l.edit = shorten_freqs;
	expect_fail(&l, "rope_freqs.weight", "shape [7], expected [8]");
	l.edit = NULL;

	/* RoPE scalings and windows that are not computed */
	extra_key = "llama.rope.scaling.type", extra_str = "llama3";
	expect_fail_x(&l, extra_fn, "llama.rope.scaling.type", "'llama3' is not supported");
	extra_str = "yarn";
	expect_fail_x(&l, extra_fn, "llama.rope.scaling.type", "'yarn' is not supported");
	extra_key = "llama.rope.scaling.attn_factor", extra_str = NULL, extra_f32 = 2.0f;
	expect_fail_x(&l, extra_fn, "llama.rope.scaling.attn_factor", "only 1");
	extra_key = "llama.attention.sliding_window", extra_f32 = 64;
	expect_fail_x(&l, extra_u32_fn, "llama.attention.sliding_window", "sliding window of 64");

	/* a window no shorter than the context changes nothing and loads */
	extra_f32 = 128;
	struct loaded L;
	load_x(&L, &l, extra_u32_fn);
	cr_expect(L.m.rope_freqs && L.m.layers[1].bo && !L.m.rope_neox);
	unload(&L);
}

/* ---------------------------------------------------------------- llama.cpp */

/*
 * Conformance with llama.cpp (tests/data/README.md): q_f32 (qwen2, biases,
 * tied) and r_f32 (llama, q/k/v biases, rope_freqs, base 500000), 58
 * teacher-forced rows within the F32 tolerance of the conformance set
 * (max 1e-4, mean 1e-5), and free-running greedy generation from the 26
 * prompt ids giving llama.cpp's 32 ids. Run from the repository root.
 */
enum { C_PROMPT = 26, C_IDS = 58, C_VOCAB = 512 };

static void conformance_case_tol(const char *c, const char *arch, double tol_max, double tol_mean)
{
	int32_t *ids = read_fixture(c, "greedy.i32", C_IDS * 4);
	int32_t *prompt = read_fixture(c, "prompt.i32", C_PROMPT * 4);
	float *ref = read_fixture(c, "logits.f32", (size_t)C_IDS * C_VOCAB * 4);
	char path[256];
	snprintf(path, sizeof path, "tests/data/%s.gguf", c);
	gguf_file g;
	model m;
	dai_err e;
	cr_assert_eq(gguf_open(&g, path, &e), 0, "%s", e.msg);
	cr_assert_eq(model_load(&m, &g, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.arch_name, arch);
	cr_assert(!memcmp(ids, prompt, sizeof(int32_t) * C_PROMPT));

	float *got = eval_all(&m, ids, C_IDS, NULL, 2, 0, NULL);
	double max = 0, sum = 0;
	for (size_t i = 0; i < (size_t)C_IDS * C_VOCAB; i++) {
		double d = fabs((double)got[i] - ref[i]);
		max = d > max ? d : max;
		sum += d;
	}
	cr_expect(max <= tol_max, "%s: max |logit difference| %g > %g", c, max, tol_max);
	cr_expect(sum / (C_IDS * C_VOCAB) <= tol_mean, "%s: mean |logit difference| %g > %g", c,
	          sum / (C_IDS * C_VOCAB), tol_mean);

	/* free-running greedy generation */
	session_params sp = {.n_ctx = C_IDS, .n_threads = 2};
	session *s = session_new(&m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	float row[C_VOCAB];
	int32_t next;
	cr_assert_eq(session_eval(s, prompt, C_PROMPT, row, SESSION_LOGITS_LAST, &e), 0, "%s",
	             e.msg);
	for (int i = C_PROMPT; i < C_IDS; i++) {
		next = argmax(row, C_VOCAB);
		cr_expect_eq(next, ids[i], "%s: greedy id %d is %d, llama.cpp %d", c, i, next,
		             ids[i]);
		if (next != ids[i] || i == C_IDS - 1)
			break;
		cr_assert_eq(session_eval(s, &next, 1, row, SESSION_LOGITS_LAST, &e), 0, "%s",
		             e.msg);
	}
	session_free(s);
	free(got);
	model_free(&m);
	gguf_close(&g);
	free(ids);
	free(prompt);
	free(ref);
}

static void conformance_case(const char *c, const char *arch)
{
	conformance_case_tol(c, arch, 1e-4, 1e-5);
}

Test(arch, conformance_qwen2)
{
	conformance_case("q_f32", "qwen2");
}

Test(arch, conformance_llama_rope_freqs)
{
	conformance_case("r_f32", "llama");
}

/*
 * gemma (tests/data/README.md): g_f32 with a head dimension of 32 for dim 64
 * and 4 heads; its tolerance is wider than F32's (max 2e-3, mean 1e-4),
 * because the GELU goes through halves: an input that rounds to the
 * neighbouring half moves its output by one half ulp, and llama.cpp
 * itself disagrees by 7.1e-4 between batched and one-token decoding.
 * g_q8_0 (2 heads, 1 kv head) takes the Q8_0 tolerance.
 */
Test(arch, conformance_gemma)
{
	conformance_case_tol("g_f32", "gemma", 2e-3, 1e-4);
	conformance_case_tol("g_q8_0", "gemma", 0.5, 0.03);
}

/* phi3 with a window of 16 (p_f32; F32 tolerance) and without one
 * (p_q8_0; the Q8_0 tolerance of the conformance set, max 0.5, mean 0.03) */
Test(arch, conformance_phi3)
{
	conformance_case("p_f32", "phi3");
	conformance_case_tol("p_q8_0", "phi3", 0.5, 0.03);
}

/* ---------------------------------------------------------------- layer pieces */

/* session_layer and session_layer_last (the steps a fraud proof checks)
 * give session_eval's residuals bit for bit with biases, NEOX RoPE and
 * frequency factors too. */
static void check_pieces(const llama_gen *p)
{
	struct loaded Ld;
	load(&Ld, p);
	const model *m = &Ld.m;
	enum { N = 13 };
	int32_t toks[N];
	pseudo_ids(toks, N, m->n_vocab, 11);
	size_t dim = (size_t)m->dim, L = (size_t)m->n_layers;
	struct rec r = {m->n_layers, m->dim, malloc(N * (L + 1) * dim * sizeof(float))};
	float *in = malloc(N * dim * sizeof(float)), *out = malloc(N * dim * sizeof(float));
	cr_assert(r.v && in && out);
	dai_err e;
	session_params sp = {.n_ctx = N, .n_threads = 2};
	session *s = session_new(m, &sp, &e);
	cr_assert(s, "%s", e.msg);
	session_set_hook(s, rec_hook, &r);
	cr_assert_eq(session_eval(s, toks, N, NULL, SESSION_LOGITS_NONE, &e), 0, "%s", e.msg);
	session_free(s);
	session_params sp2 = {.n_ctx = N, .n_threads = 3, .n_batch = 4};
	s = session_new(m, &sp2, &e);
	cr_assert(s, "%s", e.msg);
	for (size_t l = 0; l < L; l++) {
		for (int t = 0; t < N; t++)
			memcpy(in + t * dim, r.v + ((size_t)t * (L + 1) + l) * dim,
			       dim * sizeof(float));
		cr_assert_eq(session_layer(s, (int)l, in, N, out, &e), 0, "%s", e.msg);
		cr_expect(memcmp(out + (N - 1) * dim,
		                 r.v + ((size_t)(N - 1) * (L + 1) + l + 1) * dim,
		                 dim * sizeof(float)) == 0,
		          "%s: session_layer %zu", m->arch_name, l);
		for (int n = N; n >= 1; n -= 5) {
			cr_assert_eq(session_layer_last(s, (int)l, in, n, out, &e), 0, "%s", e.msg);
			cr_expect(memcmp(out, r.v + ((size_t)(n - 1) * (L + 1) + l + 1) * dim,
			                 dim * sizeof(float)) == 0,
			          "%s: last token of layer %zu, %d tokens", m->arch_name, l, n);
		}
	}
	session_free(s);
	free(in);
	free(out);
	free(r.v);
	unload(&Ld);
}

Test(arch, layer_pieces)
{
	llama_gen p = qwen2(64, 4, 2, GGML_TYPE_F32);
	check_pieces(&p);
	p = llama3(64, 4, 2, GGML_TYPE_Q8_0);
	check_pieces(&p);
	p = phi3(64, 4, 2, GGML_TYPE_Q8_0, 5);
	check_pieces(&p);
	p = gemma(64, 4, 2, GGML_TYPE_F16, 32);
	check_pieces(&p);
}
