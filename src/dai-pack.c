/* dai-pack: model packs: create, verify, inspect, list and extract. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "pack.h"

static const char usage[] =
    "usage: dai-pack create -k KEY [-n NAME] [-z] -o OUT.dai.tar MODEL.gguf [FILE...]\n"
    "       dai-pack verify PACK        check everything; print the pack id\n"
    "       dai-pack info PACK          print the manifest and the model summary\n"
    "       dai-pack list PACK          print the members: size, hash, path\n"
    "       dai-pack extract PACK DIR   verify, then write the members into DIR\n"
    "       dai-pack id PACK            print the pack id (signature checked)\n"
    "  -z  write a gzip pack (for transport; unpacked into the cache to use)\n";

static _Noreturn void bad_usage(void)
{
	fputs(usage, stderr);
	exit(EXIT_USAGE);
}

static void flush_out(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		cli_die(EXIT_BAD, "write error on stdout");
}

static int cmd_create(int argc, char **argv)
{
	const char *keyp = NULL, *out = NULL, *name = NULL;
	int gz = 0, c;
	while ((c = getopt(argc, argv, "k:o:n:zh")) != -1) {
		switch (c) {
		case 'k':
			keyp = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'z':
			gz = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			bad_usage();
		}
	}
	if (!keyp || !out || optind >= argc)
		bad_usage();
	dai_err e;
	dai_key k;
	char id[DAI_ID_LEN + 1];
	if (key_load(&k, keyp, &e))
		cli_fail(&e);
	int rc =
	    pack_create(out, &k, name, gz, argv[optind], (const char *const *)argv + optind + 1,
	                (size_t)(argc - optind - 1), id, &e);
	key_free(&k);
	if (rc)
		cli_fail(&e);
	printf("%s\n", id);
	flush_out();
	return 0;
}

static void print_summary(const gguf_file *g)
{
	dai_err e;
	gguf_info s;
	if (gguf_summary(g, &s, &e))
		cli_fail(&e);
	printf("model %s\n", g->name);
	printf("  arch %s\n  params %" PRIu64 "\n  tensor-type %s\n  context-length %" PRIu64
	       "\n  vocab-size %" PRIu64 "\n  tensor-bytes %" PRIu64 "\n",
	       s.arch[0] ? s.arch : "-", s.n_params,
	       s.weight_type < 0 ? "none" : ggml_type_name((uint32_t)s.weight_type),
	       s.context_length, s.vocab_size, s.tensor_bytes);
	gguf_print(g, stdout);
}

static int cmd_info(const char *path)
{
	dai_err e;
	pack_model pm;
	if (pack_open_model(&pm, path, &e))
		cli_fail(&e);
	if (pm.has_manifest) {
		printf("pack %s\n", pm.manifest.id);
		fwrite(pm.manifest.doc.raw, 1, pm.manifest.doc.len, stdout);
	} else {
		printf("pack none: %s is a plain GGUF file, without a manifest\n", path);
	}
	print_summary(&pm.gguf);
	pack_close_model(&pm);
	flush_out();
	return 0;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2)
		bad_usage();
	const char *cmd = argv[1];
	argc--, argv++;
	if (strcmp(cmd, "create") == 0)
		return cmd_create(argc, argv);
	int nargs = strcmp(cmd, "extract") == 0 ? 2 : 1;
	if (argc != nargs + 1 || argv[1][0] == '-')
		bad_usage();
	dai_err e;
	pack_manifest m;
	if (strcmp(cmd, "verify") == 0 || strcmp(cmd, "id") == 0 || strcmp(cmd, "list") == 0) {
		int full = strcmp(cmd, "verify") == 0;
		if (pack_verify(argv[1], full ? 0 : PACK_MANIFEST_ONLY, &m, &e))
			cli_fail(&e);
		if (strcmp(cmd, "list") == 0) {
			char hex[65];
			printf("%zu %s %s\n", m.doc.len, m.id, PACK_MANIFEST_NAME);
			for (size_t i = 0; i < m.n_files; i++) {
				hex_encode(hex, m.files[i].hash, 32);
				printf("%" PRIu64 " b2:%s %s\n", m.files[i].size, hex,
				       m.files[i].path);
			}
		} else {
			printf("%s\n", m.id);
		}
		pack_manifest_free(&m);
		flush_out();
		return 0;
	}
	if (strcmp(cmd, "info") == 0)
		return cmd_info(argv[1]);
	if (strcmp(cmd, "extract") == 0) {
		if (pack_extract(argv[1], argv[2], &m, &e))
			cli_fail(&e);
		printf("%s\n", m.id);
		pack_manifest_free(&m);
		flush_out();
		return 0;
	}
	bad_usage();
}
