/*
 * mkgguf - writes a small but well-formed llama GGUF file of about the
 * requested size, for pack tests, fuzz seeds and the verify benchmark.
 *
 *   cc -Isrc/lib -o build/mkgguf tests/tools/mkgguf.c build/rel/libdai.a \
 *      $(pkg-config --libs libsodium libarchive zlib) -lm
 *   build/mkgguf OUT.gguf BYTES [ALIGNMENT]
 *
 * The model has a 16-token vocabulary, one F32 output_norm tensor and one
 * F32 token_embd.weight tensor of 16 rows whose width is chosen so the file
 * reaches BYTES; tensor values follow a simple counter so no two regions of
 * the file are alike.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf.h"
#include "gguf_write.h"

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: mkgguf OUT.gguf BYTES [ALIGNMENT]\n");
		return 2;
	}
	uint64_t bytes = strtoull(argv[2], NULL, 10);
	uint32_t align = argc == 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 32;
	static const char *toks[16] = {"<unk>", "<s>", "</s>", "a", "b", "c", "d", "e",
				       "f",     "g",   "h",    "i", "j", "k", "l", "m"};
	uint64_t width = bytes / (16 * 4);
	width -= width % 32;
	if (width < 32)
		width = 32;
	float *emb = malloc(width * 16 * sizeof(float));
	float norm[32];
	if (!emb) {
		fprintf(stderr, "mkgguf: out of memory\n");
		return 1;
	}
	for (uint64_t i = 0; i < width * 16; i++)
		emb[i] = (float)(i % 65521) / 65521.0f;
	for (int i = 0; i < 32; i++)
		norm[i] = 1.0f;
	gguf_writer w;
	dai_err e;
	gguf_w_init(&w);
	w.alignment = align;
	gguf_w_str(&w, "general.architecture", "llama");
	gguf_w_str(&w, "general.name", "mkgguf");
	gguf_w_u32(&w, "general.alignment", align);
	gguf_w_u32(&w, "llama.context_length", 128);
	gguf_w_arr_str(&w, "tokenizer.ggml.tokens", toks, 16);
	int64_t ne1[1] = {32}, ne2[2] = {(int64_t)width, 16};
	gguf_w_tensor(&w, "output_norm.weight", GGML_TYPE_F32, 1, ne1, norm, sizeof norm);
	gguf_w_tensor(&w, "token_embd.weight", GGML_TYPE_F32, 2, ne2, emb,
		      width * 16 * sizeof(float));
	int rc = gguf_w_write(&w, argv[1], &e);
	gguf_w_free(&w);
	free(emb);
	if (rc) {
		fprintf(stderr, "mkgguf: %s\n", e.msg);
		return 1;
	}
	return 0;
}
