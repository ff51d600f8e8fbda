/* model.c - see model.h: Llama hyperparameters and tensors from GGUF, all checked. */
#include "model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH "llama"

/* A required integer key in [lo, hi]. */
static int get_int(const gguf_file *g, const char *key, int lo, int hi, int *out, dai_err *e)
{
	int32_t v;
	if (!gguf_find_key(g, key))
		return dai_errf(e, "%s: key '%s' is missing", g->name, key);
	if (gguf_get_i32(g, key, &v, e))
		return -1;
	if (v < lo || v > hi)
		return dai_errf(e, "%s: key '%s': %d is out of range [%d, %d]", g->name, key,
		                (int)v, lo, hi);
	*out = v;
	return 0;
}

/* An optional integer key; *out keeps its default when absent. */
static int opt_int(const gguf_file *g, const char *key, int lo, int hi, int *out, dai_err *e)
{
	if (!gguf_find_key(g, key))
		return 0;
	return get_int(g, key, lo, hi, out, e);
}

/* An optional float key, finite and > 0 (f32 or an f64 that is a float). */
static int opt_pos_float(const gguf_file *g, const char *key, float *out, dai_err *e)
{
	float v;
	if (!gguf_find_key(g, key))
		return 0;
	if (gguf_get_f32(g, key, &v, e))
		return -1;
	if (!(v > 0.0f) || isinf(v))
		return dai_errf(e, "%s: key '%s': %g is not a positive finite number", g->name, key,
		                (double)v);
	*out = v;
	return 0;
}

static int hparams(model *m, const gguf_file *g, dai_err *e)
{
	char arch[64];
	if (!gguf_find_key(g, "general.architecture"))
		return dai_errf(e, "%s: key 'general.architecture' is missing", g->name);
	if (gguf_get_strz(g, "general.architecture", arch, sizeof arch, e))
		return -1;
	if (strcmp(arch, ARCH) != 0)
		return dai_errf(e, "%s: architecture '%.40s' is not supported (only '" ARCH "')",
		                g->name, arch);
	if (get_int(g, ARCH ".embedding_length", 1, MODEL_DIM_MAX, &m->dim, e) ||
	    get_int(g, ARCH ".block_count", 1, MODEL_LAYERS_MAX, &m->n_layers, e) ||
	    get_int(g, ARCH ".feed_forward_length", 1, MODEL_DIM_MAX, &m->ffn_dim, e) ||
	    get_int(g, ARCH ".context_length", 1, MODEL_DIM_MAX, &m->n_ctx_train, e) ||
	    get_int(g, ARCH ".attention.head_count", 1, MODEL_DIM_MAX, &m->n_heads, e))
		return -1;
	m->n_kv_heads = m->n_heads;
	if (opt_int(g, ARCH ".attention.head_count_kv", 1, m->n_heads, &m->n_kv_heads, e))
		return -1;
	if (m->dim % m->n_heads)
		return dai_errf(e, "%s: embedding_length %d is not a multiple of head_count %d",
		                g->name, m->dim, m->n_heads);
	if (m->n_heads % m->n_kv_heads)
		return dai_errf(e, "%s: head_count %d is not a multiple of head_count_kv %d",
		                g->name, m->n_heads, m->n_kv_heads);
	m->head_dim = m->dim / m->n_heads;
	if (m->head_dim % 2)
		return dai_errf(e, "%s: head dimension %d is odd (RoPE rotates pairs)", g->name,
		                m->head_dim);
	int kl = m->head_dim, vl = m->head_dim, n_rot = m->head_dim, experts = 0;
	if (opt_int(g, ARCH ".attention.key_length", 1, MODEL_DIM_MAX, &kl, e) ||
	    opt_int(g, ARCH ".attention.value_length", 1, MODEL_DIM_MAX, &vl, e) ||
	    opt_int(g, ARCH ".rope.dimension_count", 1, MODEL_DIM_MAX, &n_rot, e) ||
	    opt_int(g, ARCH ".expert_count", 0, MODEL_DIM_MAX, &experts, e))
		return -1;
	if (kl != m->head_dim || vl != m->head_dim)
		return dai_errf(e,
		                "%s: key/value length %d/%d differs from the head dimension %d "
		                "(not supported)",
		                g->name, kl, vl, m->head_dim);
	if (n_rot != m->head_dim)
		return dai_errf(e,
		                "%s: key '" ARCH ".rope.dimension_count': %d, expected the head "
		                "dimension %d",
		                g->name, n_rot, m->head_dim);
	if (experts > 0)
		return dai_errf(e,
		                "%s: key '" ARCH ".expert_count': mixture of experts is not "
		                "supported",
		                g->name);

	const char *eps_key = ARCH ".attention.layer_norm_rms_epsilon";
	if (!gguf_find_key(g, eps_key))
		return dai_errf(e, "%s: key '%s' is missing", g->name, eps_key);
	m->rms_eps = 0.0f;
	if (opt_pos_float(g, eps_key, &m->rms_eps, e))
		return -1;
	m->rope_base = 10000.0f;
	if (opt_pos_float(g, ARCH ".rope.freq_base", &m->rope_base, e))
		return -1;

	/* RoPE scaling, as llama.cpp reads it: type "linear" (the default) or
	 * "none"; for linear, the factor (rope.scaling.factor, else the older
	 * rope.scale_linear) divides positions. */
	m->rope_freq_scale = 1.0f;
	int none = 0;
	const char *type_key = ARCH ".rope.scaling.type";
	if (gguf_find_key(g, type_key)) {
		char type[32];
		if (gguf_get_strz(g, type_key, type, sizeof type, e))
			return -1;
		if (strcmp(type, "linear") != 0 && strcmp(type, "none") != 0)
			return dai_errf(e, "%s: key '%s': scaling '%.20s' is not supported",
			                g->name, type_key, type);
		none = strcmp(type, "none") == 0; /* llama.cpp: never scale when "none" */
	}
	float factor = 0.0f;
	const char *fkey = ARCH ".rope.scaling.factor";
	if (!gguf_find_key(g, fkey))
		fkey = ARCH ".rope.scale_linear";
	if (gguf_find_key(g, fkey)) {
		if (gguf_get_f32(g, fkey, &factor, e))
			return -1;
		if (factor != 0.0f && (!(factor > 0.0f) || isinf(factor)))
			return dai_errf(e, "%s: key '%s': %g is not a valid factor", g->name, fkey,
			                (double)factor);
		if (factor != 0.0f && !none)
			m->rope_freq_scale = 1.0f / factor;
	}
	return 0;
}

static int alignment_of(enum kern_type t)
{
	return t == KERN_F32 ? 4 : 2;
}

/*
 * Finds a tensor, checks its type (matrix: F32/F16/Q8_0; else F32 only),
 * shape (ne0 = n, and ne1 = rows for a matrix) and alignment, and marks it
 * used. rows < 0 means a vector.
 */
static const gguf_tensor *take(const gguf_file *g, unsigned char *used, const char *name, int n,
                               int rows, dai_err *e)
{
	const gguf_tensor *t = gguf_find_tensor(g, name);
	if (!t)
		return dai_errf(e, "%s: tensor %s is missing", g->name, name), NULL;
	int matrix = rows >= 0;
	if (matrix && t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16 &&
	    t->type != GGML_TYPE_Q8_0)
		return dai_errf(e, "%s: tensor %s: type %s is not supported (F32, F16, Q8_0)",
		                g->name, name, ggml_type_name(t->type)),
		       NULL;
	if (!matrix && t->type != GGML_TYPE_F32)
		return dai_errf(e, "%s: tensor %s: type %s, expected f32", g->name, name,
		                ggml_type_name(t->type)),
		       NULL;
	int ok = matrix ? t->n_dims == 2 && t->ne[0] == n && t->ne[1] == rows
	                : t->n_dims == 1 && t->ne[0] == n;
	if (!ok) {
		char got[96];
		int len = 0;
		for (uint32_t d = 0; d < t->n_dims && len < 80; d++)
			len += snprintf(got + len, sizeof got - (size_t)len, "%s%lld",
			                d ? ", " : "", (long long)t->ne[d]);
		if (matrix)
			return dai_errf(e, "%s: tensor %s: shape [%s], expected [%d, %d]", g->name,
			                name, got, n, rows),
			       NULL;
		return dai_errf(e, "%s: tensor %s: shape [%s], expected [%d]", g->name, name, got,
		                n),
		       NULL;
	}
	if (t->type == GGML_TYPE_Q8_0 && n % KERN_QK8_0)
		return dai_errf(e, "%s: tensor %s: Q8_0 rows of %d are not a multiple of 32",
		                g->name, name, n),
		       NULL;
	if ((uintptr_t)t->data % (uintptr_t)alignment_of((enum kern_type)t->type))
		return dai_errf(e, "%s: tensor %s: data is misaligned for its type", g->name, name),
		       NULL;
	used[t - g->tensors] = 1;
	return t;
}

static int take_matrix(const gguf_file *g, unsigned char *used, const char *name, int n, int rows,
                       model_matrix *mm, dai_err *e)
{
	const gguf_tensor *t = take(g, used, name, n, rows, e);
	if (!t)
		return -1;
	mm->name = t->name;
	mm->type = (enum kern_type)t->type;
	mm->n = n;
	mm->rows = rows;
	mm->data = t->data;
	return 0;
}

static int take_vector(const gguf_file *g, unsigned char *used, const char *name, int n,
                       const float **v, dai_err *e)
{
	const gguf_tensor *t = take(g, used, name, n, -1, e);
	if (!t)
		return -1;
	*v = t->data;
	return 0;
}

static int tensors(model *m, const gguf_file *g, unsigned char *used, dai_err *e)
{
	const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
	if (!emb)
		return dai_errf(e, "%s: tensor token_embd.weight is missing", g->name);
	if (emb->n_dims != 2 || emb->ne[1] < 1 || emb->ne[1] > MODEL_DIM_MAX)
		return dai_errf(e,
		                "%s: tensor token_embd.weight: expected 2 dimensions with 1 to %d "
		                "rows",
		                g->name, MODEL_DIM_MAX);
	m->n_vocab = (int)emb->ne[1];
	if (take_matrix(g, used, "token_embd.weight", m->dim, m->n_vocab, &m->tok_embd, e))
		return -1;

	int q_dim = m->n_heads * m->head_dim, kv_dim = m->n_kv_heads * m->head_dim;
	for (int l = 0; l < m->n_layers; l++) {
		model_layer *L = &m->layers[l];
		char nm[GGUF_TENSOR_NAME_MAX + 1];
#define NAME(s) (snprintf(nm, sizeof nm, "blk.%d." s ".weight", l), nm)
		if (take_vector(g, used, NAME("attn_norm"), m->dim, &L->attn_norm, e) ||
		    take_matrix(g, used, NAME("attn_q"), m->dim, q_dim, &L->wq, e) ||
		    take_matrix(g, used, NAME("attn_k"), m->dim, kv_dim, &L->wk, e) ||
		    take_matrix(g, used, NAME("attn_v"), m->dim, kv_dim, &L->wv, e) ||
		    take_matrix(g, used, NAME("attn_output"), q_dim, m->dim, &L->wo, e) ||
		    take_vector(g, used, NAME("ffn_norm"), m->dim, &L->ffn_norm, e) ||
		    take_matrix(g, used, NAME("ffn_gate"), m->dim, m->ffn_dim, &L->gate, e) ||
		    take_matrix(g, used, NAME("ffn_up"), m->dim, m->ffn_dim, &L->up, e) ||
		    take_matrix(g, used, NAME("ffn_down"), m->ffn_dim, m->dim, &L->down, e))
			return -1;
#undef NAME
	}
	if (take_vector(g, used, "output_norm.weight", m->dim, &m->output_norm, e))
		return -1;
	if (gguf_find_tensor(g, "output.weight")) {
		if (take_matrix(g, used, "output.weight", m->dim, m->n_vocab, &m->output, e))
			return -1;
	} else {
		m->output = m->tok_embd;
		m->output_tied = 1;
	}
	for (size_t i = 0; i < g->n_tensors; i++)
		if (!used[i])
			return dai_errf(
			    e, "%s: tensor %s is not part of a llama model (not supported)",
			    g->name, g->tensors[i].name);
	return 0;
}

/* The tokenizer's vocabulary, when the file has one, must match the embedding. */
static int check_vocab(const model *m, const gguf_file *g, dai_err *e)
{
	const gguf_kv *tok = gguf_find_key(g, "tokenizer.ggml.tokens");
	if (tok && (tok->type != GGUF_T_ARRAY || tok->n != (uint64_t)m->n_vocab))
		return dai_errf(e,
		                "%s: key 'tokenizer.ggml.tokens': %llu tokens, but token_embd has "
		                "%d rows",
		                g->name,
		                tok->type == GGUF_T_ARRAY ? (unsigned long long)tok->n : 0ull,
		                m->n_vocab);
	int vs = m->n_vocab;
	if (opt_int(g, ARCH ".vocab_size", 1, MODEL_DIM_MAX, &vs, e))
		return -1;
	if (vs != m->n_vocab)
		return dai_errf(e, "%s: key '" ARCH ".vocab_size': %d, but token_embd has %d rows",
		                g->name, vs, m->n_vocab);
	return 0;
}

int model_load(model *m, const gguf_file *g, dai_err *e)
{
	memset(m, 0, sizeof *m);
	m->file = g;
	unsigned char *used = NULL;
	if (hparams(m, g, e))
		goto fail;
	m->layers = calloc((size_t)m->n_layers, sizeof *m->layers);
	used = calloc(g->n_tensors + 1, 1);
	if (!m->layers || !used) {
		dai_errf(e, "%s: out of memory", g->name);
		goto fail;
	}
	if (tensors(m, g, used, e) || check_vocab(m, g, e))
		goto fail;
	free(used);
	return 0;
fail:
	free(used);
	model_free(m);
	return -1;
}

void model_free(model *m)
{
	free(m->layers);
	memset(m, 0, sizeof *m);
}

static uint64_t matrix_bytes(const model_matrix *mm)
{
	uint64_t rows = (uint64_t)mm->rows, n = (uint64_t)mm->n;
	switch (mm->type) {
	case KERN_Q8_0:
		return rows * (n / KERN_QK8_0) * sizeof(kern_q8_0);
	case KERN_F16:
		return rows * n * 2;
	default:
		return rows * n * 4;
	}
}

uint64_t model_weight_bytes(const model *m)
{
	uint64_t b = matrix_bytes(&m->output);
	for (int l = 0; l < m->n_layers; l++) {
		const model_layer *L = &m->layers[l];
		b += matrix_bytes(&L->wq) + matrix_bytes(&L->wk) + matrix_bytes(&L->wv) +
		     matrix_bytes(&L->wo) + matrix_bytes(&L->gate) + matrix_bytes(&L->up) +
		     matrix_bytes(&L->down);
	}
	return b;
}
