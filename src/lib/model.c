/* model.c - see model.h: llama, qwen2, phi3 and gemma hyperparameters and tensors from GGUF, all
 * checked.
 */
#include "model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The architectures model_load accepts (model.h says how they differ). */
static const struct {
	const char *name;
	enum model_arch arch;
	int rope_neox;
} archs[] = {
    {"llama", MODEL_ARCH_LLAMA, 0},
    {"qwen2", MODEL_ARCH_QWEN2, 1},
    {"phi3", MODEL_ARCH_PHI3, 1},
    {"gemma", MODEL_ARCH_GEMMA, 1},
};
#define ARCH_LIST "llama, qwen2, phi3, gemma"

/* "<arch>.<suffix>" in buf (the keys of the hyperparameters). */
#define KEY_MAX 96
static const char *key(char *buf, const model *m, const char *suffix)
{
	snprintf(buf, KEY_MAX, "%s.%s", m->arch_name, suffix);
	return buf;
}

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

static int find_arch(model *m, const gguf_file *g, dai_err *e)
{
	char arch[64];
	if (!gguf_find_key(g, "general.architecture"))
		return dai_errf(e, "%s: key 'general.architecture' is missing", g->name);
	if (gguf_get_strz(g, "general.architecture", arch, sizeof arch, e))
		return -1;
	for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
		if (strcmp(arch, archs[i].name) == 0) {
			m->arch = archs[i].arch;
			m->arch_name = archs[i].name;
			m->rope_neox = archs[i].rope_neox;
			return 0;
		}
	return dai_errf(e, "%s: architecture '%.40s' is not supported (supported: " ARCH_LIST ")",
	                g->name, arch);
}

/*
 * RoPE scaling, as llama.cpp reads it: type "linear" (the default) or
 * "none"; for linear, the factor (rope.scaling.factor, else the older
 * rope.scale_linear) divides positions. Llama 3.1 scaling comes as the
 * rope_freqs tensor, not as keys. What changes the angles in a way this
 * does not compute (YaRN, LongRoPE, an attention factor) is refused.
 */
static int rope_scaling(model *m, const gguf_file *g, dai_err *e)
{
	char k[KEY_MAX];
	m->rope_freq_scale = 1.0f;
	int none = 0;
	if (gguf_find_key(g, key(k, m, "rope.scaling.type"))) {
		char type[32];
		if (gguf_get_strz(g, k, type, sizeof type, e))
			return -1;
		if (strcmp(type, "linear") != 0 && strcmp(type, "none") != 0)
			return dai_errf(e,
			                "%s: key '%s': scaling '%.20s' is not supported (linear, "
			                "none)",
			                g->name, k, type);
		none = strcmp(type, "none") == 0; /* llama.cpp: never scale when "none" */
	}
	float factor = 0.0f;
	if (!gguf_find_key(g, key(k, m, "rope.scaling.factor")))
		key(k, m, "rope.scale_linear");
	if (gguf_find_key(g, k)) {
		if (gguf_get_f32(g, k, &factor, e))
			return -1;
		if (factor != 0.0f && (!(factor > 0.0f) || isinf(factor)))
			return dai_errf(e, "%s: key '%s': %g is not a valid factor", g->name, k,
			                (double)factor);
		if (factor != 0.0f && !none)
			m->rope_freq_scale = 1.0f / factor;
	}
	float attn_factor = 1.0f;
	if (opt_pos_float(g, key(k, m, "rope.scaling.attn_factor"), &attn_factor, e))
		return -1;
	if (attn_factor != 1.0f)
		return dai_errf(e, "%s: key '%s': %g, only 1 is supported", g->name, k,
		                (double)attn_factor);
	return 0;
}

/*
 * phi3's attention window, as llama.cpp reads it: a default for the shapes
 * of the Phi-3 releases whose files predate the key, then the key; with
 * neither, the file is refused (llama.cpp: "invalid value for
 * sliding_window"). 0 means no window (Phi-4).
 */
static int phi3_window(model *m, const gguf_file *g, dai_err *e)
{
	char k[KEY_MAX];
	int L = m->n_layers, ctx = m->n_ctx_train;
	m->n_swa = 0;
	if ((L == 32 || L == 40) && ctx == 4096)
		m->n_swa = 2047;
	else if (L == 32 && m->n_kv_heads == 32 && ctx == 131072)
		m->n_swa = 262144;
	else if (L == 40 && ctx == 131072)
		m->n_swa = 131072;
	key(k, m, "attention.sliding_window");
	if (gguf_find_key(g, k))
		return get_int(g, k, 0, INT32_MAX, &m->n_swa, e);
	if (m->n_swa == 0)
		return dai_errf(e, "%s: key '%s' is missing (0 for no window)", g->name, k);
	return 0;
}

static int hparams(model *m, const gguf_file *g, dai_err *e)
{
	char k[KEY_MAX];
	if (find_arch(m, g, e))
		return -1;
	if (get_int(g, key(k, m, "embedding_length"), 1, MODEL_DIM_MAX, &m->dim, e) ||
	    get_int(g, key(k, m, "block_count"), 1, MODEL_LAYERS_MAX, &m->n_layers, e) ||
	    get_int(g, key(k, m, "feed_forward_length"), 1, MODEL_DIM_MAX, &m->ffn_dim, e) ||
	    get_int(g, key(k, m, "context_length"), 1, MODEL_DIM_MAX, &m->n_ctx_train, e) ||
	    get_int(g, key(k, m, "attention.head_count"), 1, MODEL_DIM_MAX, &m->n_heads, e))
		return -1;
	m->n_kv_heads = m->n_heads;
	if (opt_int(g, key(k, m, "attention.head_count_kv"), 1, m->n_heads, &m->n_kv_heads, e))
		return -1;
	int gemma = m->arch == MODEL_ARCH_GEMMA;
	int kl = 0, vl = 0, n_rot = 0, experts = 0, swa = 0;
	if (opt_int(g, key(k, m, "attention.key_length"), 1, MODEL_DIM_MAX, &kl, e) ||
	    opt_int(g, key(k, m, "attention.value_length"), 1, MODEL_DIM_MAX, &vl, e))
		return -1;
	if (m->dim % m->n_heads && !(gemma && kl))
		return dai_errf(e, "%s: embedding_length %d is not a multiple of head_count %d",
		                g->name, m->dim, m->n_heads);
	if (m->n_heads % m->n_kv_heads)
		return dai_errf(e, "%s: head_count %d is not a multiple of head_count_kv %d",
		                g->name, m->n_heads, m->n_kv_heads);
	m->head_dim = gemma && kl ? kl : m->dim / m->n_heads;
	if ((int64_t)m->head_dim * m->n_heads > MODEL_DIM_MAX)
		return dai_errf(e, "%s: %d heads of %d are too many", g->name, m->n_heads,
		                m->head_dim);
	if (m->head_dim % 2)
		return dai_errf(e, "%s: head dimension %d is odd (RoPE rotates pairs)", g->name,
		                m->head_dim);
	kl = kl ? kl : m->head_dim, vl = vl ? vl : m->head_dim, n_rot = m->head_dim;
	if (opt_int(g, key(k, m, "rope.dimension_count"), 1, MODEL_DIM_MAX, &n_rot, e) ||
	    opt_int(g, key(k, m, "expert_count"), 0, MODEL_DIM_MAX, &experts, e) ||
	    opt_int(g, key(k, m, "attention.sliding_window"), 0, INT32_MAX, &swa, e))
		return -1;
	if (kl != m->head_dim || vl != m->head_dim)
		return dai_errf(e,
		                "%s: key/value length %d/%d differs from the head dimension %d "
		                "(not supported)",
		                g->name, kl, vl, m->head_dim);
	if (n_rot != m->head_dim)
		return dai_errf(e, "%s: key '%s': %d, expected the head dimension %d", g->name,
		                key(k, m, "rope.dimension_count"), n_rot, m->head_dim);
	if (experts > 0)
		return dai_errf(e, "%s: key '%s': mixture of experts is not supported", g->name,
		                key(k, m, "expert_count"));
	if (m->arch == MODEL_ARCH_PHI3) {
		if (phi3_window(m, g, e))
			return -1;
	} else if (swa > 0 && swa < m->n_ctx_train)
		return dai_errf(e,
		                "%s: key '%s': attention over a sliding window of %d tokens is "
		                "not supported",
		                g->name, key(k, m, "attention.sliding_window"), swa);

	if (!gguf_find_key(g, key(k, m, "attention.layer_norm_rms_epsilon")))
		return dai_errf(e, "%s: key '%s' is missing", g->name, k);
	m->rms_eps = 0.0f;
	if (opt_pos_float(g, k, &m->rms_eps, e))
		return -1;
	m->rope_base = 10000.0f;
	if (opt_pos_float(g, key(k, m, "rope.freq_base"), &m->rope_base, e))
		return -1;
	if (gemma) { /* llama.cpp's build_gemma: ggml_scale(inpL, sqrtf(n_embd)) */
		m->embd_scale = sqrtf((float)m->dim);
		m->ffn_gelu = 1;
	}
	return rope_scaling(m, g, e);
}

/* the weight types the kernels take (kern.h, kern_quant.h) */
static int matrix_type_ok(uint32_t t)
{
	switch (t) {
	case GGML_TYPE_F32:
	case GGML_TYPE_F16:
	case GGML_TYPE_BF16:
	case GGML_TYPE_Q8_0:
	case GGML_TYPE_Q4_0:
	case GGML_TYPE_Q4_1:
	case GGML_TYPE_Q5_0:
	case GGML_TYPE_Q5_1:
	case GGML_TYPE_Q4_K:
	case GGML_TYPE_Q5_K:
	case GGML_TYPE_Q6_K:
		return 1;
	default:
		return 0;
	}
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
	if (matrix && !matrix_type_ok(t->type))
		return dai_errf(e,
		                "%s: tensor %s: type %s is not supported (F32, F16, BF16, Q8_0, "
		                "Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)",
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
	int block = matrix ? kern_type_block((enum kern_type)t->type) : 1;
	if (n % block)
		return dai_errf(e, "%s: tensor %s: %s rows of %d are not a multiple of %d", g->name,
		                name, ggml_type_name(t->type), n, block),
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

/* A vector that may be absent (*v NULL), unless required. */
static int take_opt_vector(const gguf_file *g, unsigned char *used, const char *name, int n,
                           int required, const float **v, dai_err *e)
{
	*v = NULL;
	if (!required && !gguf_find_tensor(g, name))
		return 0;
	return take_vector(g, used, name, n, v, e);
}

/*
 * The tensors an architecture adds to the llama set: attention biases
 * (qwen2: q, k, v required; llama: q, k, v, output optional, as llama.cpp
 * loads them) and llama's RoPE frequency factors (one tensor for every
 * layer; each factor must be positive and finite, it divides an angle).
 */
static int arch_tensors(model *m, const gguf_file *g, unsigned char *used, dai_err *e)
{
	if (m->arch == MODEL_ARCH_GEMMA)
		return 0; /* no biases, no rope_freqs: refused as left over */
	if (m->arch == MODEL_ARCH_PHI3) {
		static const char *const longrope[] = {"rope_factors_long.weight",
		                                       "rope_factors_short.weight"};
		for (int i = 0; i < 2; i++)
			if (gguf_find_tensor(g, longrope[i]))
				return dai_errf(e,
				                "%s: tensor %s: LongRoPE scaling is not supported "
				                "(llama.cpp chooses the long or short factors by "
				                "the context size of the run)",
				                g->name, longrope[i]);
		return 0;
	}
	int qwen2 = m->arch == MODEL_ARCH_QWEN2;
	int q_dim = m->n_heads * m->head_dim, kv_dim = m->n_kv_heads * m->head_dim;
	for (int l = 0; l < m->n_layers; l++) {
		model_layer *L = &m->layers[l];
		char nm[GGUF_TENSOR_NAME_MAX + 1];
#define NAME(s) (snprintf(nm, sizeof nm, "blk.%d." s ".bias", l), nm)
		if (take_opt_vector(g, used, NAME("attn_q"), q_dim, qwen2, &L->bq, e) ||
		    take_opt_vector(g, used, NAME("attn_k"), kv_dim, qwen2, &L->bk, e) ||
		    take_opt_vector(g, used, NAME("attn_v"), kv_dim, qwen2, &L->bv, e))
			return -1;
		if (!qwen2 && take_opt_vector(g, used, NAME("attn_output"), m->dim, 0, &L->bo, e))
			return -1;
#undef NAME
	}
	if (qwen2)
		return 0;
	const char *rf = "rope_freqs.weight";
	if (take_opt_vector(g, used, rf, m->head_dim / 2, 0, &m->rope_freqs, e))
		return -1;
	for (int i = 0; m->rope_freqs && i < m->head_dim / 2; i++)
		if (!(m->rope_freqs[i] > 0.0f) || isinf(m->rope_freqs[i]))
			return dai_errf(e, "%s: tensor %s: factor %d is %g, not a positive number",
			                g->name, rf, i, (double)m->rope_freqs[i]);
	return 0;
}

/* rows [r0, r0 + rows) of w, in place */
static model_matrix row_view(const model_matrix *w, int r0, int rows)
{
	model_matrix v = *w;
	v.rows = rows;
	v.data = (const char *)w->data + (size_t)r0 * kern_row_bytes(w->type, w->n);
	return v;
}

/* One phi3 layer: the fused attn_qkv and ffn_up cut into the llama views. */
static int phi3_layer(model *m, const gguf_file *g, unsigned char *used, int l, model_layer *L,
                      dai_err *e)
{
	int q_dim = m->n_heads * m->head_dim, kv_dim = m->n_kv_heads * m->head_dim;
	model_matrix qkv, up;
	char nm[GGUF_TENSOR_NAME_MAX + 1];
#define NAME(s) (snprintf(nm, sizeof nm, "blk.%d." s ".weight", l), nm)
	if (take_vector(g, used, NAME("attn_norm"), m->dim, &L->attn_norm, e) ||
	    take_matrix(g, used, NAME("attn_qkv"), m->dim, q_dim + 2 * kv_dim, &qkv, e) ||
	    take_matrix(g, used, NAME("attn_output"), q_dim, m->dim, &L->wo, e) ||
	    take_vector(g, used, NAME("ffn_norm"), m->dim, &L->ffn_norm, e) ||
	    take_matrix(g, used, NAME("ffn_up"), m->dim, 2 * m->ffn_dim, &up, e) ||
	    take_matrix(g, used, NAME("ffn_down"), m->ffn_dim, m->dim, &L->down, e))
		return -1;
#undef NAME
	L->wq = row_view(&qkv, 0, q_dim);
	L->wk = row_view(&qkv, q_dim, kv_dim);
	L->wv = row_view(&qkv, q_dim + kv_dim, kv_dim);
	L->gate = row_view(&up, 0, m->ffn_dim); /* the first half goes through silu */
	L->up = row_view(&up, m->ffn_dim, m->ffn_dim);
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
		if (m->arch == MODEL_ARCH_PHI3) {
			if (phi3_layer(m, g, used, l, L, e))
				return -1;
			continue;
		}
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
	/* phi3 needs its own output; gemma always reads token_embd (llama.cpp
	 * does not load an output.weight there, so one is refused as left over) */
	if ((gguf_find_tensor(g, "output.weight") || m->arch == MODEL_ARCH_PHI3) &&
	    m->arch != MODEL_ARCH_GEMMA) {
		if (take_matrix(g, used, "output.weight", m->dim, m->n_vocab, &m->output, e))
			return -1;
	} else {
		m->output = m->tok_embd;
		m->output_tied = 1;
	}
	if (arch_tensors(m, g, used, e))
		return -1;
	for (size_t i = 0; i < g->n_tensors; i++)
		if (!used[i])
			return dai_errf(e,
			                "%s: tensor %s is not part of a %s model (not supported)",
			                g->name, g->tensors[i].name, m->arch_name);
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
	char k[KEY_MAX];
	if (opt_int(g, key(k, m, "vocab_size"), 1, MODEL_DIM_MAX, &vs, e))
		return -1;
	if (vs != m->n_vocab)
		return dai_errf(e, "%s: key '%s': %d, but token_embd has %d rows", g->name, k, vs,
		                m->n_vocab);
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
	return (uint64_t)mm->rows * kern_row_bytes(mm->type, mm->n);
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
