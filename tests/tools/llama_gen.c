/* llama_gen.c - see llama_gen.h: random-weight Llama GGUF files, streamed. */
#include "llama_gen.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"
#include "ggml_type.h"
#include "gguf.h"
#include "kern/kern.h"
#include "kern/kern_quant.h"
#include "quant_enc.h"

#define ALIGN 32
#define CHUNK 65536 /* elements generated at a time (a multiple of 256) */

void llama_gen_defaults(llama_gen *p)
{
	memset(p, 0, sizeof *p);
	p->dim = 64;
	p->n_layers = 2;
	p->n_heads = 4;
	p->n_kv_heads = 2;
	p->ffn_dim = 128;
	p->n_vocab = 300;
	p->n_ctx = 128;
	p->type = GGML_TYPE_F32;
	p->seed = 1;
	p->rms_eps = 1e-5f;
	p->rope_base = 10000.0f;
	p->name = "random-llama";
}

/* ---------------------------------------------------------------- random */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* n values: four 16-bit uniforms summed (exact integers), centred, scaled
 * to standard deviation std in double, rounded once to float. */
static void normals(uint64_t *s, float *out, size_t n, float std)
{
	/* the sum of four uniform 0..65535 has variance 4 (65536^2 - 1) / 12 */
	double scale = (double)std / sqrt((65536.0 * 65536.0 - 1.0) / 3.0);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = splitmix64(s);
		int64_t sum = (int64_t)(r & 0xffff) + (int64_t)((r >> 16) & 0xffff) +
		              (int64_t)((r >> 32) & 0xffff) + (int64_t)(r >> 48);
		out[i] = (float)((double)(sum - 131070) * scale);
	}
}

/* ---------------------------------------------------------------- vocabulary */

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_BYTE = 6 };
#define SP "\xe2\x96\x81" /* U+2581, SentencePiece's space */

struct vocab {
	char **tok;
	float *score;
	int32_t *type;
	int n;
};

static void vocab_free(struct vocab *v)
{
	for (int i = 0; v->tok && i < v->n; i++)
		free(v->tok[i]);
	free(v->tok);
	free(v->score);
	free(v->type);
}

static int vocab_add(struct vocab *v, const char *s, int type, int *rank)
{
	v->tok[v->n] = strdup(s);
	if (!v->tok[v->n])
		return -1;
	v->type[v->n] = type;
	v->score[v->n] = type == TOK_NORMAL ? -(float)(*rank)++ : 0.0f;
	v->n++;
	return 0;
}

static int vocab_make(struct vocab *v, int n, dai_err *e)
{
	memset(v, 0, sizeof *v);
	if (n < 259)
		return dai_errf(e, "vocabulary of %d: needs at least 259 tokens", n);
	v->tok = calloc((size_t)n, sizeof *v->tok);
	v->score = calloc((size_t)n, sizeof *v->score);
	v->type = calloc((size_t)n, sizeof *v->type);
	if (!v->tok || !v->score || !v->type)
		return dai_errf(e, "out of memory");
	int rank = 0, rc = 0;
	char buf[64];
	rc |= vocab_add(v, "<unk>", TOK_UNKNOWN, &rank);
	rc |= vocab_add(v, "<s>", TOK_CONTROL, &rank);
	rc |= vocab_add(v, "</s>", TOK_CONTROL, &rank);
	for (int b = 0; b < 256; b++) {
		snprintf(buf, sizeof buf, "<0x%02X>", b);
		rc |= vocab_add(v, buf, TOK_BYTE, &rank);
	}
	for (int c = 33; c < 127 && v->n < n; c++) {
		buf[0] = (char)c;
		buf[1] = 0;
		rc |= vocab_add(v, buf, TOK_NORMAL, &rank);
	}
	for (int c = 33; c < 127 && v->n < n; c++) {
		snprintf(buf, sizeof buf, SP "%c", c);
		rc |= vocab_add(v, buf, TOK_NORMAL, &rank);
	}
	if (v->n < n)
		rc |= vocab_add(v, SP, TOK_NORMAL, &rank);
	/* letter strings of length k = 2, 3, ... in order, "▁w" before "w" */
	for (int k = 2; v->n < n && k < 16; k++) {
		int idx[16] = {0};
		for (;;) {
			char w[17];
			for (int i = 0; i < k; i++)
				w[i] = (char)('a' + idx[i]);
			w[k] = 0;
			snprintf(buf, sizeof buf, SP "%s", w);
			if (v->n < n)
				rc |= vocab_add(v, buf, TOK_NORMAL, &rank);
			if (v->n < n)
				rc |= vocab_add(v, w, TOK_NORMAL, &rank);
			if (v->n >= n)
				break;
			int j = k - 1;
			while (j >= 0 && idx[j] == 25)
				idx[j--] = 0;
			if (j < 0)
				break;
			idx[j]++;
		}
	}
	if (rc)
		return dai_errf(e, "out of memory");
	return 0;
}

/* ---------------------------------------------------------------- chat */

struct chat_fmt {
	const char *name, *tmpl;
	const char *tokens[5];  /* the last vocabulary entries, in order */
	int n_tokens, bos, eos; /* bos, eos: index into tokens, -1: the default */
	int add_bos;
};

static const struct chat_fmt chat_fmts[] = {
    {"chatml",
     "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
     "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt "
     "%}{{ '<|im_start|>assistant\n' }}{% endif %}",
     {"<|im_start|>", "<|im_end|>"},
     2,
     -1,
     1,
     0},
    {"llama3",
     "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
     "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] "
     "| trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content "
     "%}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>"
     "\n\n' }}",
     {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
      "<|eot_id|>"},
     5,
     0,
     4,
     1},
};

static const struct chat_fmt *chat_fmt(const char *name)
{
	for (size_t i = 0; name && i < sizeof chat_fmts / sizeof chat_fmts[0]; i++)
		if (!strcmp(name, chat_fmts[i].name))
			return &chat_fmts[i];
	return NULL;
}

/* The format's control tokens over the last entries of v. */
static int chat_tokens(const struct chat_fmt *c, struct vocab *v, dai_err *e)
{
	if (v->n < 259 + c->n_tokens)
		return dai_errf(e, "vocabulary of %d: too small for the %s tokens", v->n, c->name);
	for (int i = 0; i < c->n_tokens; i++) {
		int id = v->n - c->n_tokens + i;
		free(v->tok[id]);
		v->tok[id] = strdup(c->tokens[i]);
		if (!v->tok[id])
			return dai_errf(e, "out of memory");
		v->type[id] = TOK_CONTROL;
		v->score[id] = 0.0f;
	}
	return 0;
}

/* ---------------------------------------------------------------- plan */

static int plan_make(const llama_gen *p, llama_gen_tensor **out, int *count, dai_err *e)
{
	int max = 3 + 16 * p->n_layers + 1;
	int phi3 = p->arch && !strcmp(p->arch, "phi3");
	llama_gen_tensor *t = calloc((size_t)max, sizeof *t);
	if (!t)
		return dai_errf(e, "out of memory");
	int hd = p->head_dim ? p->head_dim : p->dim / p->n_heads, kv = hd * p->n_kv_heads, n = 0;
	int qd = hd * p->n_heads;
	int gemma = p->arch && !strcmp(p->arch, "gemma");
	float std = p->init_std > 0 ? p->init_std : 2.4f / sqrtf((float)p->dim);
	float std_out = (float)((double)std / sqrt(2.0 * p->n_layers));
	/* which: 1 the llama layout, 2 phi3's fused one (llama.cpp's order), 3 both */
	struct {
		const char *fmt;
		int ne0, ne1; /* ne1 0: a vector */
		int out;      /* residual projection: the smaller std; < 0: a bias, -flag */
		int which;
	} blk[] = {
	    {"blk.%d.attn_norm.weight", p->dim, 0, 0, 3},
	    {"blk.%d.attn_qkv.weight", p->dim, qd + 2 * kv, 0, 2},
	    {"blk.%d.attn_q.weight", p->dim, qd, 0, 1},
	    {"blk.%d.attn_k.weight", p->dim, kv, 0, 1},
	    {"blk.%d.attn_v.weight", p->dim, kv, 0, 1},
	    {"blk.%d.attn_q.bias", qd, 0, -LLAMA_GEN_BIAS_QKV, 3},
	    {"blk.%d.attn_k.bias", kv, 0, -LLAMA_GEN_BIAS_QKV, 3},
	    {"blk.%d.attn_v.bias", kv, 0, -LLAMA_GEN_BIAS_QKV, 3},
	    {"blk.%d.attn_output.bias", p->dim, 0, -LLAMA_GEN_BIAS_O, 3},
	    {"blk.%d.attn_output.weight", qd, p->dim, 1, 3},
	    {"blk.%d.ffn_norm.weight", p->dim, 0, 0, 3},
	    {"blk.%d.ffn_gate.weight", p->dim, p->ffn_dim, 0, 1},
	    {"blk.%d.ffn_down.weight", p->ffn_dim, p->dim, 1, 3},
	    {"blk.%d.ffn_up.weight", p->dim, phi3 ? 2 * p->ffn_dim : p->ffn_dim, 0, 3},
	};
	llama_gen_tensor *x = &t[n++];
	snprintf(x->name, sizeof x->name, "token_embd.weight");
	x->n_dims = 2, x->ne[0] = p->dim, x->ne[1] = p->n_vocab, x->type = p->type, x->std = std;
	if (p->rope_freqs) {
		x = &t[n++];
		snprintf(x->name, sizeof x->name, "rope_freqs.weight");
		x->n_dims = 1, x->ne[0] = hd / 2, x->ne[1] = 1, x->type = GGML_TYPE_F32;
		x->std = -1.0f; /* the ramp of factors, see tensor_data */
	}
	for (int l = 0; l < p->n_layers; l++)
		for (size_t b = 0; b < sizeof blk / sizeof blk[0]; b++) {
			if (blk[b].out < 0 && !(p->biases & -blk[b].out))
				continue;
			if (!(blk[b].which & (phi3 ? 2 : 1)))
				continue;
			x = &t[n++];
			snprintf(x->name, sizeof x->name, blk[b].fmt, l);
			x->n_dims = blk[b].ne1 ? 2 : 1;
			x->ne[0] = blk[b].ne0;
			x->ne[1] = blk[b].ne1 ? blk[b].ne1 : 1;
			x->type = blk[b].ne1 ? p->type : GGML_TYPE_F32;
			x->std = blk[b].ne1 ? (blk[b].out ? std_out : std) : 0.0f;
			if (blk[b].out < 0)
				x->std = std;
		}
	x = &t[n++];
	snprintf(x->name, sizeof x->name, "output_norm.weight");
	x->n_dims = 1, x->ne[0] = p->dim, x->ne[1] = 1, x->type = GGML_TYPE_F32, x->std = 0;
	if (!p->tied && !gemma) { /* gemma's output is always token_embd */
		x = &t[n++];
		snprintf(x->name, sizeof x->name, "output.weight");
		x->n_dims = 2, x->ne[0] = p->dim, x->ne[1] = p->n_vocab, x->type = p->type;
		x->std = std;
	}
	/* the edit hook may drop or change tensors */
	int kept = 0;
	for (int i = 0; i < n; i++) {
		llama_gen_tensor c = t[i];
		if (p->edit && !p->edit(p->edit_ctx, &c))
			continue;
		t[kept++] = c;
	}
	*out = t;
	*count = kept;
	return 0;
}

static uint64_t tensor_bytes(const llama_gen_tensor *t)
{
	uint64_t b;
	return ggml_nbytes(t->type, t->n_dims, t->ne, &b) ? 0 : b;
}

static void metadata(const llama_gen *p, const struct vocab *v, gguf_writer *w)
{
	const char *o = p->omit_key ? p->omit_key : "";
	/* llama_ftype: F16 1, Q4_0 2, Q4_1 3, Q8_0 7, Q5_0 8, Q5_1 9, Q6_K 18, Q4_K_S 14,
	 * Q5_K_S 16, BF16 32 (only shown by tools) */
	uint32_t ftype = 0;
	switch (p->type) {
	case GGML_TYPE_F16:
		ftype = 1;
		break;
	case GGML_TYPE_Q4_0:
		ftype = 2;
		break;
	case GGML_TYPE_Q4_1:
		ftype = 3;
		break;
	case GGML_TYPE_Q8_0:
		ftype = 7;
		break;
	case GGML_TYPE_Q5_0:
		ftype = 8;
		break;
	case GGML_TYPE_Q5_1:
		ftype = 9;
		break;
	case GGML_TYPE_Q4_K:
		ftype = 14;
		break;
	case GGML_TYPE_Q5_K:
		ftype = 16;
		break;
	case GGML_TYPE_Q6_K:
		ftype = 18;
		break;
	case GGML_TYPE_BF16:
		ftype = 32;
		break;
	}
#define U32(k, val)                                                                                \
	if (strcmp(o, k))                                                                          \
	gguf_w_u32(w, k, (uint32_t)(val))
#define F32(k, val)                                                                                \
	if (strcmp(o, k))                                                                          \
	gguf_w_f32(w, k, val)
	const char *arch = p->arch ? p->arch : "llama";
	char kb[96];
#define AK(s) (snprintf(kb, sizeof kb, "%s." s, arch), kb)
	if (strcmp(o, "general.architecture"))
		gguf_w_str(w, "general.architecture", arch);
	if (strcmp(o, "general.name"))
		gguf_w_str(w, "general.name", p->name ? p->name : "random-llama");
	U32("general.file_type", ftype);
	U32("general.alignment", ALIGN);
	U32(AK("context_length"), p->n_ctx);
	U32(AK("embedding_length"), p->dim);
	U32(AK("block_count"), p->n_layers);
	U32(AK("feed_forward_length"), p->ffn_dim);
	U32(AK("attention.head_count"), p->n_heads);
	U32(AK("attention.head_count_kv"), p->n_kv_heads);
	U32(AK("rope.dimension_count"), p->head_dim ? p->head_dim : p->dim / p->n_heads);
	if (p->head_dim) {
		U32(AK("attention.key_length"), p->head_dim);
		U32(AK("attention.value_length"), p->head_dim);
	}
	F32(AK("rope.freq_base"), p->rope_base);
	F32(AK("attention.layer_norm_rms_epsilon"), p->rms_eps);
	if (p->rope_linear > 0) {
		if (strcmp(o, AK("rope.scaling.type")))
			gguf_w_str(w, AK("rope.scaling.type"), "linear");
		F32(AK("rope.scaling.factor"), p->rope_linear);
	}
	if (p->swa > 0 || !strcmp(arch, "phi3"))
		U32(AK("attention.sliding_window"), p->swa);
	U32(AK("vocab_size"), p->n_vocab);
#undef AK
	if (strcmp(o, "tokenizer.ggml.model"))
		gguf_w_str(w, "tokenizer.ggml.model", "llama");
	if (strcmp(o, "tokenizer.ggml.tokens"))
		gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->tok,
		               (uint64_t)v->n);
	if (strcmp(o, "tokenizer.ggml.scores"))
		gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_F32, v->score, (uint64_t)v->n);
	if (strcmp(o, "tokenizer.ggml.token_type"))
		gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_I32, v->type, (uint64_t)v->n);
	const struct chat_fmt *c = chat_fmt(p->chat);
	int first = c ? v->n - c->n_tokens : 0;
	U32("tokenizer.ggml.bos_token_id", c && c->bos >= 0 ? first + c->bos : 1);
	U32("tokenizer.ggml.eos_token_id", c && c->eos >= 0 ? first + c->eos : 2);
	U32("tokenizer.ggml.unknown_token_id", 0);
	if (strcmp(o, "tokenizer.ggml.add_bos_token"))
		gguf_w_bool(w, "tokenizer.ggml.add_bos_token", c ? c->add_bos : true);
	if (c && strcmp(o, "tokenizer.chat_template"))
		gguf_w_str(w, "tokenizer.chat_template", c->tmpl);
	if (strcmp(o, "tokenizer.ggml.add_eos_token"))
		gguf_w_bool(w, "tokenizer.ggml.add_eos_token", false);
#undef U32
#undef F32
}

static int put(FILE *f, const void *data, size_t n, dai_err *e)
{
	if (n && fwrite(data, 1, n, f) != n)
		return dai_errf(e, "write failed: %s", strerror(errno));
	return 0;
}

static int pad(FILE *f, uint64_t len, dai_err *e)
{
	static const unsigned char zeros[ALIGN];
	return put(f, zeros, (size_t)((ALIGN - len % ALIGN) % ALIGN), e);
}

/* Generates and writes one tensor's data, CHUNK elements at a time. */
static int tensor_data(const llama_gen *p, const llama_gen_tensor *t, int index, FILE *f,
                       float *vals, void *conv, dai_err *e)
{
	const kern_table *k = kern_avx2() ? kern_avx2() : kern_ref();
	uint64_t n = (uint64_t)t->ne[0] * (uint64_t)t->ne[1], bytes = tensor_bytes(t);
	uint64_t s = p->seed * 0x100000001b3u ^ ((uint64_t)index + 1) * 0x9e3779b97f4a7c15u;
	uint64_t written = 0;
	for (uint64_t i = 0; i < n && written < bytes; i += CHUNK) {
		size_t c = n - i < CHUNK ? (size_t)(n - i) : CHUNK;
		if (t->std > 0)
			normals(&s, vals, c, t->std);
		else if (t->std < 0) /* rope_freqs: 1 .. 8, a basic-arithmetic ramp */
			for (size_t j = 0; j < c; j++)
				vals[j] = c > 1 ? 1.0f + 7.0f * (float)j / (float)(c - 1) : 1.0f;
		else
			for (size_t j = 0; j < c; j++)
				vals[j] = 1.0f;
		const void *out = vals;
		size_t ob = c * 4;
		if (t->type == GGML_TYPE_F16) {
			k->f32_to_f16(vals, conv, (int)c);
			out = conv, ob = c * 2;
		} else if (t->type == GGML_TYPE_Q8_0) {
			k->quantize_q8_0(vals, conv, (int)c);
			out = conv, ob = c / 32 * sizeof(kern_q8_0);
		} else if (t->type != GGML_TYPE_F32) {
			/* a type without an encoder (tests edit types) keeps the raw floats */
			size_t qb = quant_enc_row(t->type, vals, conv, (int)c);
			if (qb)
				out = conv, ob = qb;
		}
		if (ob > bytes - written)
			ob = (size_t)(bytes - written);
		if (put(f, out, ob, e))
			return -1;
		written += ob;
	}
	return pad(f, written, e);
}

int llama_gen_write(const llama_gen *p, FILE *f, void (*extra)(gguf_writer *w), dai_err *e)
{
	if (p->dim < 1 || p->n_heads < 1 || p->n_kv_heads < 1 || p->n_layers < 1 ||
	    p->ffn_dim < 1 || (p->dim % p->n_heads && !p->head_dim) || p->n_heads % p->n_kv_heads ||
	    p->head_dim < 0)
		return dai_errf(e, "bad shape: dim %d, heads %d, kv heads %d, layers %d, ffn %d",
		                p->dim, p->n_heads, p->n_kv_heads, p->n_layers, p->ffn_dim);
	if (p->type != GGML_TYPE_F32 && p->type != GGML_TYPE_F16 && p->type != GGML_TYPE_Q8_0 &&
	    !kern_qinfo_of((enum kern_type)p->type))
		return dai_errf(e, "type %u: use f32, f16, q8_0 or a type of kern_quant.h",
		                p->type);
	int block = kern_type_block((enum kern_type)p->type);
	if (p->dim % block || p->ffn_dim % block)
		return dai_errf(e, "%s needs dim and ffn to be multiples of %d",
		                ggml_type_name(p->type), block);
	struct vocab v;
	llama_gen_tensor *plan = NULL;
	int n = 0, rc = -1;
	gguf_writer w;
	gguf_w_init(&w);
	float *vals = malloc(CHUNK * sizeof(float));
	void *conv = malloc(CHUNK * sizeof(float));
	if (p->chat && !chat_fmt(p->chat)) {
		memset(&v, 0, sizeof v);
		dai_errf(e, "chat format '%s': use chatml or llama3", p->chat);
		goto out;
	}
	if (vocab_make(&v, p->n_vocab, e) || plan_make(p, &plan, &n, e))
		goto out;
	if (p->chat && chat_tokens(chat_fmt(p->chat), &v, e))
		goto out;
	if (!vals || !conv) {
		dai_errf(e, "out of memory");
		goto out;
	}
	metadata(p, &v, &w);
	if (extra)
		extra(&w);
	uint64_t off = 0;
	for (int i = 0; i < n; i++) {
		gguf_buf_str(&w.info, plan[i].name, strlen(plan[i].name));
		gguf_buf_u32(&w.info, plan[i].n_dims);
		for (uint32_t d = 0; d < plan[i].n_dims; d++)
			gguf_buf_u64(&w.info, (uint64_t)plan[i].ne[d]);
		gguf_buf_u32(&w.info, plan[i].type);
		gguf_buf_u64(&w.info, off);
		off += (tensor_bytes(&plan[i]) + ALIGN - 1) / ALIGN * ALIGN;
	}
	if (w.kv.oom || w.info.oom) {
		dai_errf(e, "out of memory");
		goto out;
	}
	gguf_buf head = {0};
	gguf_buf_put(&head, "GGUF", 4);
	gguf_buf_u32(&head, 3);
	gguf_buf_u64(&head, (uint64_t)n);
	gguf_buf_u64(&head, w.n_kv);
	int bad = head.oom || put(f, head.p, head.len, e) || put(f, w.kv.p, w.kv.len, e) ||
	          put(f, w.info.p, w.info.len, e) ||
	          pad(f, (uint64_t)head.len + w.kv.len + w.info.len, e);
	gguf_buf_free(&head);
	if (bad)
		goto out;
	for (int i = 0; i < n; i++)
		if (tensor_data(p, &plan[i], i, f, vals, conv, e))
			goto out;
	if (fflush(f)) {
		dai_errf(e, "write failed: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(vals);
	free(conv);
	free(plan);
	vocab_free(&v);
	gguf_w_free(&w);
	return rc;
}

int llama_gen_mem(const llama_gen *p, void (*extra)(gguf_writer *w), unsigned char **buf,
                  size_t *len, dai_err *e)
{
	char *b = NULL;
	size_t l = 0;
	FILE *f = open_memstream(&b, &l);
	if (!f)
		return dai_errf(e, "open_memstream: %s", strerror(errno));
	int rc = llama_gen_write(p, f, extra, e);
	fclose(f);
	if (rc) {
		free(b);
		return -1;
	}
	*buf = (unsigned char *)b;
	*len = l;
	return 0;
}

int llama_gen_file(const llama_gen *p, const char *path, dai_err *e)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16);
	if (!tmp)
		return dai_errf(e, "out of memory");
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".tmp.XXXXXX", 12);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		dai_errf(e, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	FILE *f = fdopen(fd, "wb");
	int rc = f ? llama_gen_write(p, f, NULL, e) : dai_errf(e, "fdopen: %s", strerror(errno));
	if (rc == 0 && fsync(fileno(f)))
		rc = dai_errf(e, "%s: fsync: %s", tmp, strerror(errno));
	if (f ? fclose(f) : close(fd))
		rc = rc ? rc : dai_errf(e, "%s: close: %s", tmp, strerror(errno));
	if (rc == 0 && chmod(tmp, 0644))
		rc = dai_errf(e, "%s: chmod: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path))
		rc = dai_errf(e, "%s: %s", path, strerror(errno));
	if (rc == 0)
		rc = fsync_parent(path, e);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
