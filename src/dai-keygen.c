/* dai-keygen: Ed25519 identities; sign and verify dai documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "docio.h"
#include "key.h"

static const char usage[] =
    "usage: dai-keygen -o NAME [-n] [-C COMMENT]   create NAME.key and NAME.pub\n"
    "       dai-keygen -p KEY                       print the did:key of KEY\n"
    "       dai-keygen -c KEY [-n]                  change the passphrase of KEY\n"
    "       dai-keygen -S -k KEY [FILE]             sign the unsigned documents of a stream\n"
    "       dai-keygen -V [-P PUB] [FILE]           verify every document of a stream\n"
    "  -n  no passphrase: the secret key file is not encrypted\n"
    "  passphrases come from the terminal or DAI_PASSPHRASE (DAI_NEW_PASSPHRASE for -c)\n";

static int sign_stream(const char *keypath, const char *input)
{
	dai_err e;
	dai_key k;
	if (key_load(&k, keypath, &e))
		cli_fail(&e);
	const char *name;
	int fd = cli_open_input(input, &name);
	dai_reader r;
	if (reader_init(&r, fd, name, &e))
		cli_fail(&e);
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
			cli_warn("%s: line %lu: refusing to sign a secret key file", name,
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
	const char *name;
	int fd = cli_open_input(input, &name);
	dai_reader r;
	if (reader_init(&r, fd, name, &e))
		cli_fail(&e);
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

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	const char *out = NULL, *print = NULL, *change = NULL, *keyp = NULL, *pub = NULL;
	const char *comment = NULL;
	int plain = 0, sign = 0, verify = 0, c;
	while ((c = getopt(argc, argv, "o:p:c:SVk:P:nC:h")) != -1) {
		switch (c) {
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
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	int modes = !!out + !!print + !!change + sign + verify;
	int nargs = argc - optind;
	if (modes != 1 || nargs > (sign || verify ? 1 : 0) || (sign && !keyp) || (keyp && !sign) ||
	    (pub && !verify) || (plain && !out && !change) || (comment && !out)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	dai_err e;
	const char *input = nargs ? argv[optind] : NULL;
	if (out) {
		char did[DAI_DID_MAX];
		if (plain)
			cli_warn("WARNING: %s.key will NOT be encrypted: anyone who can read it "
			         "can sign as this key",
			         out);
		if (key_create_files(out, comment, !plain, did, &e))
			cli_fail(&e);
		printf("%s\n", did);
		fprintf(stderr, "%s: wrote %s.key (secret, mode 0600) and %s.pub\n", cli_name(),
		        out, out);
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
