/*
 * mkgguf - writes a random-weight Llama GGUF model (llama_gen.h) for tests
 * and benchmarks.
 *
 *   mkgguf [--dim N] [--layers N] [--heads N] [--kv-heads N] [--ffn N]
 *          [--vocab N] [--ctx N] [--type T] [--seed N]
 *          [--init-std X] [--rms-eps X] [--rope-base X] [--rope-linear X]
 *          [--tied] [--name S] OUT.gguf
 *
 * T: f32, f16, q8_0, or q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, bf16
 * (tests/tools/quant_enc.h; K-quants need dim and ffn multiples of 256).
 *
 * Defaults: llama_gen_defaults (dim 64, 2 layers, 4 heads, 2 kv heads,
 * ffn 128, vocab 300, ctx 128, f32, seed 1); --kv-heads defaults to
 * --heads when only --heads is given.
 *
 * Other architectures: [--arch A] [--biases] [--rope-freqs] [--swa N].
 * --arch writes general.architecture A with the keys under A (qwen2 wants
 * --biases: the q, k, v biases; phi3 gets the fused attn_qkv and ffn_up
 * and wants an untied output); --rope-freqs adds rope_freqs.weight (Llama
 * 3.1 RoPE); --swa N writes A.attention.sliding_window N (phi3: 0 unless
 * given); --head-dim N writes attention.key_length and value_length N
 * (heads * N may differ from dim; gemma). gemma never writes output.weight.
 *
 * Chat: [--chat F], F chatml or llama3: tokenizer.chat_template and the
 * format's control tokens as the last vocabulary entries (llama_gen.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "ggml_type.h"
#include "kern/kern_quant.h"
#include "llama_gen.h"

static void usage(void)
{
	fprintf(stderr, "usage: mkgguf [--dim N] [--layers N] [--heads N] [--kv-heads N] [--ffn N] "
	                "[--vocab N] [--ctx N]\n"
	                "              [--type T] [--seed N] [--init-std X] "
	                "[--rms-eps X] [--rope-base X]\n"
	                "              [--rope-linear X] [--tied] [--name S] OUT.gguf\n");
	fputs("              [--arch A] [--biases] [--rope-freqs] [--swa N] [--head-dim N]\n"
	      "              [--chat F]\n",
	      stderr);
	exit(EXIT_USAGE);
}

/* the types of kern_quant.h by name (q4_k or q4_K); 0 when found */
static int quant_type(const char *s, uint32_t *type)
{
	for (int q = 0; q < KQ_COUNT; q++) {
		const kern_qinfo *qi = kern_qinfo_at((enum kern_qtype)q);
		if (!strcasecmp(s, qi->name)) {
			*type = (uint32_t)qi->type;
			return 0;
		}
	}
	return -1;
}

static int num(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end || v < 1 || v > (1L << 24))
		cli_die(EXIT_USAGE, "%s: '%s' is not a number in [1, 16777216]", what, s);
	return (int)v;
}

static float real(const char *s, const char *what)
{
	char *end;
	float v = strtof(s, &end);
	if (*s == 0 || *end || !(v >= 0.0f))
		cli_die(EXIT_USAGE, "%s: '%s' is not a non-negative number", what, s);
	return v;
}

int main(int argc, char **argv)
{
	cli_init("mkgguf");
	llama_gen p;
	llama_gen_defaults(&p);
	int kv_set = 0;
	static const struct option opts[] = {{"dim", 1, 0, 'd'},         {"layers", 1, 0, 'l'},
	                                     {"heads", 1, 0, 'h'},       {"kv-heads", 1, 0, 'k'},
	                                     {"ffn", 1, 0, 'f'},         {"vocab", 1, 0, 'v'},
	                                     {"ctx", 1, 0, 'c'},         {"type", 1, 0, 't'},
	                                     {"seed", 1, 0, 's'},        {"init-std", 1, 0, 'i'},
	                                     {"rms-eps", 1, 0, 'e'},     {"rope-base", 1, 0, 'b'},
	                                     {"rope-linear", 1, 0, 'r'}, {"tied", 0, 0, 'T'},
	                                     {"name", 1, 0, 'n'},        {"arch", 1, 0, 'A'},
	                                     {"biases", 0, 0, 'B'},      {"rope-freqs", 0, 0, 'F'},
	                                     {"swa", 1, 0, 'W'},         {"chat", 1, 0, 'C'},
	                                     {"head-dim", 1, 0, 'H'},    {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			p.dim = num(optarg, "--dim");
			break;
		case 'l':
			p.n_layers = num(optarg, "--layers");
			break;
		case 'h':
			p.n_heads = num(optarg, "--heads");
			if (!kv_set)
				p.n_kv_heads = p.n_heads;
			break;
		case 'k':
			p.n_kv_heads = num(optarg, "--kv-heads");
			kv_set = 1;
			break;
		case 'f':
			p.ffn_dim = num(optarg, "--ffn");
			break;
		case 'v':
			p.n_vocab = num(optarg, "--vocab");
			break;
		case 'c':
			p.n_ctx = num(optarg, "--ctx");
			break;
		case 't':
			if (!strcmp(optarg, "f32"))
				p.type = GGML_TYPE_F32;
			else if (!strcmp(optarg, "f16"))
				p.type = GGML_TYPE_F16;
			else if (!strcmp(optarg, "q8_0"))
				p.type = GGML_TYPE_Q8_0;
			else if (quant_type(optarg, &p.type))
				cli_die(EXIT_USAGE,
				        "--type: '%s' is not f32, f16, q8_0, q4_0, q4_1, q5_0, "
				        "q5_1, q4_k, q5_k, q6_k or bf16",
				        optarg);
			break;
		case 's':
			p.seed = strtoull(optarg, NULL, 10);
			break;
		case 'i':
			p.init_std = real(optarg, "--init-std");
			break;
		case 'e':
			p.rms_eps = real(optarg, "--rms-eps");
			break;
		case 'b':
			p.rope_base = real(optarg, "--rope-base");
			break;
		case 'r':
			p.rope_linear = real(optarg, "--rope-linear");
			break;
		case 'T':
			p.tied = 1;
			break;
		case 'n':
			p.name = optarg;
			break;
		case 'A':
			p.arch = optarg;
			break;
		case 'B':
			p.biases = LLAMA_GEN_BIAS_QKV;
			break;
		case 'F':
			p.rope_freqs = 1;
			break;
		case 'W':
			p.swa = strcmp(optarg, "0") ? num(optarg, "--swa") : 0;
			break;
		case 'C':
			p.chat = optarg;
			break;
		case 'H':
			p.head_dim = num(optarg, "--head-dim");
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	dai_err e;
	if (llama_gen_file(&p, argv[optind], &e))
		cli_fail(&e);
	return 0;
}
