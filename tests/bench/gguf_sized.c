/*
 * gguf_sized - writes a well-formed llama GGUF file of about the requested
 * size, for pack tests, fuzz seeds and the verify benchmark.
 *
 *   make && cc -Isrc/lib -o build/gguf_sized tests/bench/gguf_sized.c build/rel/libdai.a \
 *      $(pkg-config --libs libsodium libarchive zlib) -lm
 *   build/gguf_sized OUT.gguf BYTES [ALIGNMENT]
 *
 * The model has a 16-token vocabulary, an F32 output_norm and an F32
 * token_embd.weight tensor; below 16 MiB the embedding is widened to reach
 * BYTES, above it blk.N.ffn_up.weight tensors of 16 MiB each (4096 x 1024
 * F32) are added. Tensor values follow a counter, so no two regions of the
 * file are alike.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "gguf_write.h"

#define LAYER_ROWS 1024
#define LAYER_COLS 4096
#define LAYER_BYTES ((uint64_t)LAYER_ROWS * LAYER_COLS * 4)

static float *counter(uint64_t n, uint64_t start)
{
	float *p = malloc(n * sizeof *p);
	if (!p) {
		fprintf(stderr, "gguf_sized: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < n; i++)
		p[i] = (float)((start + i) % 65521) / 65521.0f;
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: gguf_sized OUT.gguf BYTES [ALIGNMENT]\n");
		return 2;
	}
	uint64_t bytes = strtoull(argv[2], NULL, 10);
	uint32_t align = argc == 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 32;
	static const char *toks[16] = {"<unk>", "<s>", "a", "b", "c", "d", "e", "f",
	                               "g",     "h",   "i", "j", "k", "l", "m", "n"};
	uint64_t layers = bytes / LAYER_BYTES;
	uint64_t width = layers ? 256 : bytes / (16 * 4);
	width -= width % 32;
	if (width < 32)
		width = 32;
	gguf_writer w;
	dai_err e;
	gguf_w_init(&w);
	w.alignment = align;
	gguf_w_str(&w, "general.architecture", "llama");
	gguf_w_str(&w, "general.name", "mkgguf");
	gguf_w_u32(&w, "general.alignment", align);
	gguf_w_u32(&w, "llama.context_length", 128);
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", toks, 16);
	float *norm = counter(32, 0), *emb = counter(width * 16, 1);
	int64_t ne1[1] = {32}, ne2[2] = {(int64_t)width, 16};
	gguf_w_tensor(&w, "output_norm.weight", GGML_TYPE_F32, 1, ne1, norm, 32 * 4);
	gguf_w_tensor(&w, "token_embd.weight", GGML_TYPE_F32, 2, ne2, emb, width * 16 * 4);
	free(norm);
	free(emb);
	for (uint64_t l = 0; l < layers; l++) {
		char name[64];
		int64_t ne[2] = {LAYER_COLS, LAYER_ROWS};
		float *t = counter(LAYER_BYTES / 4, l * 7919);
		snprintf(name, sizeof name, "blk.%" PRIu64 ".ffn_up.weight", l);
		gguf_w_tensor(&w, name, GGML_TYPE_F32, 2, ne, t, LAYER_BYTES);
		free(t);
	}
	int rc = gguf_w_write(&w, argv[1], &e);
	gguf_w_free(&w);
	if (rc) {
		fprintf(stderr, "gguf_sized: %s\n", e.msg);
		return 1;
	}
	return 0;
}
