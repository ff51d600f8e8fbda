/*
 * llama_gen.h - random-weight Llama models in GGUF, for tests and benchmarks.
 *
 * Writes a GGUF v3 file of general.architecture "llama" with any shape,
 * 2-D matrices of type F32, F16, Q8_0 or a type of kern_quant.h (encoded by
 * tests/tools/quant_enc.h; norm weights F32, all 1.0), and a
 * synthetic SentencePiece-style vocabulary (tokenizer.ggml.model "llama"):
 * <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then the printable
 * ASCII characters, the same with a leading U+2581, U+2581 alone, then
 * lower-case letter strings of length 2, 3, ... (each with and without the
 * U+2581 prefix), with scores -rank. This is the layout of the reference
 * models in tests/data.
 *
 * Weights are N(0, std^2)-like (an Irwin-Hall sum of four uniforms, scaled
 * to unit variance), std = init_std, and std / sqrt(2 n_layers) for
 * attn_output and ffn_down. They come from a splitmix64 stream per tensor,
 * seeded from (seed, tensor index), in integer and IEEE basic arithmetic
 * only, so a seed gives the same file on every machine. Q8_0 weights are
 * quantized with the reference kernel (kern.h contract 3a).
 *
 * Other architectures: arch names another general.architecture (the keys
 * go under that prefix), biases adds F32 bias vectors, rope_freqs the
 * rope_freqs.weight tensor (a deterministic ramp of factors). arch
 * "phi3" writes llama.cpp's phi3 layout: blk.N.attn_qkv (q, k, v rows in
 * that order) and blk.N.ffn_up of 2 ffn rows (gate, then up) instead of
 * attn_q/k/v and ffn_gate/ffn_up, and the sliding window key. arch
 * "gemma" never writes output.weight (gemma's output is token_embd).
 *
 * Chat: chat "chatml" or "llama3" writes tokenizer.chat_template (the
 * ChatML template of OpenHermes 2.5, Meta Llama 3's instruct template;
 * both as in llama.cpp's tests/test-chat-template.cpp) and makes the last
 * vocabulary entries that format's control tokens: chatml <|im_start|>,
 * <|im_end|> (EOS; no BOS added, as Qwen's files say); llama3
 * <|begin_of_text|> (BOS), <|end_of_text|>, <|start_header_id|>,
 * <|end_header_id|>, <|eot_id|> (EOS).
 *
 * Tensor data is generated and written in chunks, so memory stays small
 * whatever the model size.
 */
#ifndef DAI_TESTS_LLAMA_GEN_H
#define DAI_TESTS_LLAMA_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "gguf_write.h"

/* One tensor of the plan, as the edit hook sees it. */
typedef struct llama_gen_tensor {
	char name[64];
	uint32_t n_dims;
	int64_t ne[2];
	uint32_t type; /* ggml type id */
	float std;     /* 0: all ones (norms) */
} llama_gen_tensor;

typedef struct llama_gen {
	int dim, n_layers, n_heads, n_kv_heads, ffn_dim, n_vocab, n_ctx;
	uint32_t type;     /* ggml type of the matrices: F32, F16, Q8_0 or kern_quant.h */
	uint64_t seed;     /* weights */
	float init_std;    /* 0: 2.4 / sqrt(dim) (logits of std ~2.3) */
	float rms_eps;     /* 1e-5 */
	float rope_base;   /* 10000 */
	float rope_linear; /* 0: no rope.scaling keys; else type linear with this factor */
	int tied;          /* no output.weight */
	const char *arch;  /* general.architecture and the key prefix; NULL: "llama" */
	int biases;        /* LLAMA_GEN_BIAS_*: F32 bias vectors (std as the weights) */
	int rope_freqs;    /* write rope_freqs.weight: factors 1 + 7 i / (head_dim/2 - 1) */
	int swa;           /* <arch>.attention.sliding_window, written when > 0 or for phi3 */
	int head_dim;      /* 0: dim / heads; else written as attention.key/value_length */
	const char *chat;  /* NULL, "chatml" or "llama3": a chat template and its tokens */
	const char *name;  /* general.name */

	/*
	 * For broken files in tests: called for every tensor before anything is
	 * written; it may change the shape or type (the data follow), or return
	 * 0 to leave the tensor out. omit_key names one key not to write.
	 */
	int (*edit)(void *ctx, llama_gen_tensor *t);
	void *edit_ctx;
	const char *omit_key;
} llama_gen;

#define LLAMA_GEN_BIAS_QKV 1 /* blk.N.attn_{q,k,v}.bias (required by qwen2) */
#define LLAMA_GEN_BIAS_O 2   /* blk.N.attn_output.bias (llama only) */

/* A small valid model: dim 64, 2 layers, 4 heads, 2 kv heads, ffn 128,
 * vocab 300, ctx 128, F32, seed 1. */
void llama_gen_defaults(llama_gen *p);

/* Writes the model to f (streaming). extra, if not NULL, is called with the
 * metadata writer after the standard keys so that a test can add keys. */
int llama_gen_write(const llama_gen *p, FILE *f, void (*extra)(gguf_writer *w), dai_err *e);

/* The same into a malloc'd buffer. */
int llama_gen_mem(const llama_gen *p, void (*extra)(gguf_writer *w), unsigned char **buf,
                  size_t *len, dai_err *e);

/* The same to path, atomically (temporary file, fsync, rename). */
int llama_gen_file(const llama_gen *p, const char *path, dai_err *e);

#endif
