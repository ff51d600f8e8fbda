/*
 * model.h - a Llama-family model described by an opened GGUF file.
 *
 * model_load reads general.architecture = "llama", "qwen2", "phi3" or "gemma" files (the
 * keys below are prefixed with the architecture's name): the
 * hyperparameters (embedding_length, block_count, feed_forward_length,
 * context_length, attention.head_count, attention.head_count_kv,
 * attention.layer_norm_rms_epsilon, rope.freq_base, rope.dimension_count,
 * rope.scaling.type/factor) and the tensors token_embd, blk.N.{attn_norm,
 * attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up,
 * ffn_down}, output_norm and output (absent: tied to token_embd). Matrices
 * may be F32, F16 or Q8_0, each on its own; norm weights are F32.
 *
 * The architectures differ as in llama.cpp (LLM_ARCH_LLAMA, LLM_ARCH_QWEN2,
 * LLM_ARCH_PHI3, LLM_ARCH_GEMMA):
 *   llama  RoPE on adjacent pairs (2i, 2i+1); optional F32 biases
 *          blk.N.attn_{q,k,v,output}.bias; optional rope_freqs.weight
 *          (head_dim/2 F32 frequency factors, Llama 3.1 RoPE scaling: pair i
 *          turns by theta_i / rope_freqs[i]). Mistral models are llama
 *          models (llama.cpp ignores their sliding window; a file that
 *          declares one shorter than the context is refused).
 *   qwen2  RoPE "NEOX": pairs (i, i + head_dim/2); the q, k and v biases
 *          are required, there is no output bias or rope_freqs.
 *   phi3   RoPE "NEOX"; q, k and v in one matrix blk.N.attn_qkv (rows: the
 *          q_dim rows of q, then k, then v), gate and up in one matrix
 *          blk.N.ffn_up (rows: the ffn rows of the gate, then those of up;
 *          silu(gate) * up as in llama.cpp's LLM_FFN_SWIGLU), no ffn_gate;
 *          output.weight required; no biases. The fused matrices are cut
 *          into row views (no copy), so the forward pass is llama's.
 *          phi3.attention.sliding_window: a token attends to the latest
 *          n_swa positions, itself included (0: all); required, except
 *          for the shapes llama.cpp gives a default (32 or 40 layers with
 *          context 4096: 2047; 32 layers, 32 kv heads, context 131072:
 *          262144; 40 layers, context 131072: 131072). LongRoPE
 *          (rope_factors_long/short.weight) is refused: llama.cpp picks
 *          one of the two by the context size of the run, which a
 *          verifier could not repeat from the model alone.
 *   gemma  RoPE "NEOX"; the embedding row is scaled by sqrtf(dim); the
 *          feed-forward gate goes through GELU (kern_gelu.h: ggml's f16
 *          table) instead of SiLU; the output is always token_embd (an
 *          output.weight is refused); no biases. The head dimension is
 *          attention.key_length when given (Gemma 7B: 256 with dim 3072
 *          and 16 heads), so q_dim = heads * head_dim may differ from dim.
 *
 * Everything is checked before use: every key's type and range, every
 * tensor's presence, type, shape and alignment, the head layout (head_dim
 * even, heads a multiple of kv heads), the vocabulary size against the
 * tokenizer's, and that no tensor is left over (an extra tensor such as a
 * bias or rope_freqs would change the math, so it is refused, not ignored).
 * A failure is one line naming the file, the key or tensor and the problem.
 *
 * The model points into the gguf_file's mapping (no weight is copied): keep
 * the file open while the model is in use. A loaded model is never
 * modified, so sessions on several threads may share it.
 */
#ifndef DAI_MODEL_H
#define DAI_MODEL_H

#include "gguf.h"
#include "kern/kern.h"

/* A weight matrix: rows of n elements, row-major, contiguous (GGUF ne[0] =
 * n, ne[1] = rows). */
typedef struct model_matrix {
	const char *name; /* the tensor's name, for messages */
	enum kern_type type;
	int n;    /* elements per row (input size) */
	int rows; /* output size */
	const void *data;
} model_matrix;

typedef struct model_layer {
	const float *attn_norm;         /* dim */
	const float *bq, *bk, *bv, *bo; /* biases added after wq, wk, wv, wo; NULL: none */
	model_matrix wq;                /* dim -> n_heads * head_dim (phi3: wq, wk, wv are
	                                 * row views of attn_qkv) */
	model_matrix wk, wv;            /* dim -> n_kv_heads * head_dim */
	model_matrix wo;                /* n_heads * head_dim -> dim */
	const float *ffn_norm;          /* dim */
	model_matrix gate, up;          /* dim -> ffn_dim (phi3: row views of ffn_up) */
	model_matrix down;              /* ffn_dim -> dim */
} model_layer;

enum model_arch { MODEL_ARCH_LLAMA, MODEL_ARCH_QWEN2, MODEL_ARCH_PHI3, MODEL_ARCH_GEMMA };

typedef struct model {
	const gguf_file *file;
	enum model_arch arch;
	const char *arch_name;   /* "llama", "qwen2", "phi3", "gemma" */
	int rope_neox;           /* RoPE on pairs (i, i + head_dim/2), not (2i, 2i+1) */
	const float *rope_freqs; /* head_dim/2 frequency factors (rope_freqs.weight), or NULL */
	int n_vocab;
	int dim;
	int n_layers;
	int n_heads;
	int n_kv_heads;
	int head_dim; /* dim / n_heads (gemma: attention.key_length when given) */
	int ffn_dim;
	int n_ctx_train;       /* llama.context_length */
	float rms_eps;         /* llama.attention.layer_norm_rms_epsilon */
	float rope_base;       /* llama.rope.freq_base (default 10000) */
	float rope_freq_scale; /* 1 / rope.scaling.factor for linear scaling, else 1 */
	int n_swa;             /* attention window in positions, the token's own included;
	                        * 0: the whole context (phi3 only) */
	float embd_scale;      /* embedding rows times this (gemma: sqrtf(dim)); 0: none */
	int ffn_gelu;          /* gate through GELU (gemma), not SiLU */

	model_matrix tok_embd; /* n_vocab rows of dim */
	const float *output_norm;
	model_matrix output; /* dim -> n_vocab; a copy of tok_embd when tied */
	int output_tied;
	model_layer *layers; /* n_layers */
} model;

/* Largest dimension accepted (any of dim, ffn, vocab, context); keeps every
 * index product well inside size_t and most inside int. */
#define MODEL_DIM_MAX (1 << 24)
#define MODEL_LAYERS_MAX 1024

/* Fills m from g (which must stay open). On failure m is left empty. */
int model_load(model *m, const gguf_file *g, dai_err *e);

/* Frees what model_load allocated; m is zeroed. Safe on a zeroed model. */
void model_free(model *m);

/* Bytes of all weights the forward pass reads for one token (every layer's
 * matrices and the output head), for bandwidth figures. */
uint64_t model_weight_bytes(const model *m);

#endif
