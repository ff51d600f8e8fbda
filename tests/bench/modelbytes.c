/*
 * modelbytes - how many bytes of a GGUF model one decode step reads, for the
 * bandwidth column of `make bench`.
 *
 * Generating one token multiplies the activations by every weight matrix
 * once, so it reads every tensor in full except the token embedding, of
 * which it reads one row; when the model has no output.weight the embedding
 * doubles as the output head and is read in full. The KV cache is not
 * counted in decode_bytes (what a step reads of it depends on the position
 * and on the engine); kv_f32_bytes is the size of a float32 KV cache for the
 * model's whole context (keys and values, every layer), for the peak-RSS
 * bound, or 0 when the metadata lacks a shape key.
 *
 * Usage: modelbytes MODEL.gguf
 * prints one line:
 *   modelbytes file_bytes=N tensor_bytes=N decode_bytes=N kv_f32_bytes=N
 */
#include <inttypes.h>
#include <stdio.h>

#include "gguf.h"

/* <arch>.<key> as a u64, or 0 when absent or not an integer. */
static uint64_t arch_u64(const gguf_file *g, const char *arch, const char *key)
{
	char name[160];
	uint64_t v;
	dai_err e;
	snprintf(name, sizeof name, "%s.%s", arch, key);
	if (!gguf_find_key(g, name) || gguf_get_u64(g, name, &v, &e) < 0)
		return 0;
	return v;
}

/* Keys and values, float32, for every layer and every position. */
static uint64_t kv_f32_bytes(const gguf_file *g)
{
	char arch[64];
	dai_err e;
	if (!gguf_find_key(g, "general.architecture") ||
	    gguf_get_strz(g, "general.architecture", arch, sizeof arch, &e) < 0)
		return 0;
	uint64_t layers = arch_u64(g, arch, "block_count");
	uint64_t ctx = arch_u64(g, arch, "context_length");
	uint64_t dim = arch_u64(g, arch, "embedding_length");
	uint64_t heads = arch_u64(g, arch, "attention.head_count");
	uint64_t kv_heads = arch_u64(g, arch, "attention.head_count_kv");
	if (!kv_heads)
		kv_heads = heads;
	if (!layers || !ctx || !dim || !heads || kv_heads > heads)
		return 0;
	return 2 * layers * ctx * (dim / heads * kv_heads) * 4;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: modelbytes MODEL.gguf\n");
		return 2;
	}
	gguf_file g;
	dai_err e;
	if (gguf_open(&g, argv[1], &e) < 0) {
		fprintf(stderr, "modelbytes: %s\n", e.msg);
		return 1;
	}
	uint64_t all = 0;
	for (size_t i = 0; i < g.n_tensors; i++)
		all += g.tensors[i].size;
	uint64_t decode = all;
	const gguf_tensor *emb = gguf_find_tensor(&g, "token_embd.weight");
	if (emb && emb->n_dims == 2 && gguf_find_tensor(&g, "output.weight"))
		decode -= emb->size - emb->size / (uint64_t)emb->ne[1];
	printf("modelbytes file_bytes=%zu tensor_bytes=%" PRIu64 " decode_bytes=%" PRIu64
	       " kv_f32_bytes=%" PRIu64 "\n",
	       g.size, all, decode, kv_f32_bytes(&g));
	gguf_close(&g);
	return 0;
}
