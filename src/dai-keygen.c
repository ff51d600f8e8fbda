/* dai-keygen: Ed25519 identities and their chain accounts; sign and verify
 * dai documents. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chainkey.h"
#include "cli.h"
#include "codec.h"
#include "docio.h"
#include "ethaddr.h"
#include "fsio.h"
#include "key.h"

static const char usage[] =
    "usage: dai-keygen -o NAME [-n] [-C COMMENT] [--chain]   create NAME.key and NAME.pub\n"
    "       dai-keygen -p KEY [--chain]             print the did:key (or chain address) of KEY\n"
    "       dai-keygen -c KEY [-n]                  change the passphrase of KEY\n"
    "       dai-keygen -S -k KEY [FILE]             sign the unsigned documents of a stream\n"
    "       dai-keygen -V [-P PUB] [FILE]           verify every document of a stream\n"
    "       dai-keygen --export-chain-secret KEY [FILE]   the chain account's secret in hex,\n"
    "                                               for a wallet: to FILE or a terminal\n"
    "  -n  no passphrase: the secret key file is not encrypted\n"
    "  --chain  also print the key's chain account address (EIP-55)\n"
    "  passphrases come from the terminal or DAI_PASSPHRASE (DAI_NEW_PASSPHRASE for -c)\n";

static int sign_stream(const char *keypath, const char *input)
{
	dai_err e;
	dai_key k;
	if (key_load(&k, keypath, &e))
		cli_fail(&e);
	dai_reader r;
	cli_open_reader(&r, input);
	int rc = 0;
	for (;;) {
		dai_doc d, s;
		int st = reader_next(&r, &d, &e);
		if (st == DOC_EOF)
			break;
		if (st != DOC_OK) {
			cli_warn("%s", e.msg);
			rc = EXIT_BAD;
			break;
		}
		if (strcmp(d.kind, "seckey") == 0) {
			/* Signing would copy the secret onto stdout. */
			cli_warn("%s: line %lu: refusing to sign a secret key file", r.name,
			         r.doc_line);
			doc_free(&d);
			rc = EXIT_BAD;
			break;
		}
		if (d.is_signed) {
			if (doc_write(stdout, &d, &e))
				cli_fail(&e);
		} else {
			if (doc_sign(&d, &s, k.sk, &e) || doc_write(stdout, &s, &e))
				cli_fail(&e);
			doc_free(&s);
		}
		doc_free(&d);
	}
	reader_free(&r);
	key_free(&k);
	return rc;
}

static int verify_stream(const char *pub, const char *input)
{
	dai_err e;
	char want[DAI_DID_MAX] = "";
	if (pub && key_read_did(pub, want, &e))
		cli_fail(&e);
	dai_reader r;
	cli_open_reader(&r, input);
	const char *name = r.name; /* for messages after reader_free */
	int bad = 0, fatal = 0, n = 0;
	for (;;) {
		dai_doc d;
		char id[DAI_ID_LEN + 1], did[DAI_DID_MAX];
		int st = reader_next(&r, &d, &e);
		if (st == DOC_EOF)
			break;
		if (st == DOC_FATAL) {
			cli_warn("%s", e.msg);
			fatal = 1;
			break;
		}
		n++;
		if (st == DOC_BAD) {
			size_t len;
			const char *raw = reader_raw(&r, &len);
			doc_id_bytes(raw, len, id);
			printf("- %s - BAD: %s\n", id, e.msg);
			bad++;
			continue;
		}
		doc_id(&d, id);
		if (d.is_signed)
			ed25519_did(did, d.signer_pk);
		else
			strcpy(did, "-");
		const char *why = NULL;
		if (doc_verify(&d, &e) != 0)
			why = e.msg;
		else if (*want && strcmp(want, did) != 0)
			why = "signed by another key than -P names";
		if (why)
			printf("dai-%s %s %s BAD: %s\n", d.kind, id, did, why);
		else
			printf("dai-%s %s %s ok\n", d.kind, id, did);
		bad += why != NULL;
		doc_free(&d);
	}
	reader_free(&r);
	if (fflush(stdout) != 0)
		cli_die(EXIT_BAD, "write error on stdout");
	if (fatal)
		return EXIT_BAD;
	if (n == 0) {
		cli_warn("%s: no documents", name);
		return EXIT_BAD;
	}
	if (bad) {
		cli_warn("%s: %d of %d documents did not verify", name, bad, n);
		return EXIT_BAD;
	}
	return 0;
}

/* Prints the chain address of k (chainkey.h). */
static void print_chain_address(const dai_key *k)
{
	dai_err e;
	unsigned char *sk = sodium_malloc(32), addr[20];
	char text[ETH_ADDR_TEXT];
	if (!sk)
		cli_die(EXIT_BAD, "out of memory");
	if (chainkey_derive(k, sk, addr, &e))
		cli_fail(&e);
	sodium_free(sk);
	eth_address_format(text, addr);
	printf("%s\n", text);
}

/* Writes the chain account's secp256k1 secret in hex, the form wallets
 * import, to a new file (mode 0600) or to a terminal, never to a pipe. */
static int export_chain_secret(const char *keypath, const char *path)
{
	dai_err e;
	dai_key k;
	if (!path && !isatty(STDOUT_FILENO))
		cli_die(EXIT_USAGE, "refusing to write a secret key to a pipe or file on stdout: "
		                    "name the FILE to write it to");
	if (key_load(&k, keypath, &e))
		cli_fail(&e);
	unsigned char *sk = sodium_malloc(32), addr[20];
	char *hex = sodium_malloc(66), text[ETH_ADDR_TEXT];
	if (!sk || !hex)
		cli_die(EXIT_BAD, "out of memory");
	if (chainkey_derive(&k, sk, addr, &e))
		cli_fail(&e);
	hex_encode(hex, sk, 32);
	hex[64] = '\n';
	hex[65] = 0;
	eth_address_format(text, addr);
	int rc = 0;
	if (path) {
		if (file_write_atomic(path, hex, 65, 0600, FSIO_NOCLOBBER, &e)) {
			cli_warn("%s", e.msg);
			rc = EXIT_BAD;
		}
	} else if (fputs(hex, stdout) == EOF || fflush(stdout) != 0) {
		cli_warn("write error on stdout");
		rc = EXIT_BAD;
	}
	if (rc == 0 && path)
		cli_warn("WARNING: %s holds the secret of chain account %s: anyone who reads it "
		         "can spend from that account",
		         path, text);
	else if (rc == 0)
		cli_warn("WARNING: that is the secret of chain account %s: anyone who sees it "
		         "can spend from that account",
		         text);
	sodium_free(hex);
	sodium_free(sk);
	key_free(&k);
	return rc;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	const char *out = NULL, *print = NULL, *change = NULL, *keyp = NULL, *pub = NULL;
	const char *comment = NULL;
	const char *export_secret = NULL;
	int plain = 0, sign = 0, verify = 0, chain = 0, c;
	static const struct option opts[] = {
	    {"chain", no_argument, NULL, 'E'},
	    {"export-chain-secret", required_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	while ((c = getopt_long(argc, argv, "o:p:c:SVk:P:nC:h", opts, NULL)) != -1) {
		switch (c) {
		case 'E':
			chain = 1;
			break;
		case 'X':
			export_secret = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			print = optarg;
			break;
		case 'c':
			change = optarg;
			break;
		case 'S':
			sign = 1;
			break;
		case 'V':
			verify = 1;
			break;
		case 'k':
			keyp = optarg;
			break;
		case 'P':
			pub = optarg;
			break;
		case 'n':
			plain = 1;
			break;
		case 'C':
			comment = optarg;
			break;
		case 'h':
			cli_help(usage);
		default:
			cli_usage(usage);
		}
	}
	int modes = !!out + !!print + !!change + sign + verify + !!export_secret;
	int nargs = argc - optind;
	if (modes != 1 || nargs > (sign || verify || export_secret ? 1 : 0) || (sign && !keyp) ||
	    (keyp && !sign) || (pub && !verify) || (plain && !out && !change) ||
	    (comment && !out) || (chain && !out && !print)) {
		cli_usage(usage);
	}
	dai_err e;
	const char *input = nargs ? argv[optind] : NULL;
	if (export_secret)
		return export_chain_secret(export_secret, input);
	if (out) {
		dai_key k;
		if (plain)
			cli_warn("WARNING: %s.key will NOT be encrypted: anyone who can read it "
			         "can sign as this key",
			         out);
		if (key_create_files(out, comment, !plain, &k, &e))
			cli_fail(&e);
		printf("%s\n", k.did);
		if (chain)
			print_chain_address(&k);
		key_free(&k);
		fprintf(stderr, "%s: wrote %s.key (secret, mode 0600) and %s.pub\n", cli_name(),
		        out, out);
		return 0;
	}
	if (print && chain) {
		/* The address comes from the secret: a .key file, opened. */
		dai_key k;
		if (key_load(&k, print, &e)) {
			if (strstr(e.msg, "not a secret key file"))
				cli_die(EXIT_BAD, "%s: the chain address comes from the secret key",
				        e.msg);
			cli_fail(&e);
		}
		print_chain_address(&k);
		key_free(&k);
		return 0;
	}
	if (print) {
		char did[DAI_DID_MAX];
		if (key_read_did(print, did, &e))
			cli_fail(&e);
		printf("%s\n", did);
		return 0;
	}
	if (change) {
		if (plain)
			cli_warn("WARNING: %s will NOT be encrypted any more", change);
		if (key_change_passphrase(change, !plain, &e))
			cli_fail(&e);
		return 0;
	}
	if (sign)
		return sign_stream(keyp, input);
	return verify_stream(pub, input);
}
