/* libFuzzer harness for secret key files: parse the input as a dai-seckey
 * file and, when it parses, open it with a fixed passphrase.
 *
 * Opening runs Argon2id at the cost the file names, so it is tried only for
 * files that name a small cost (the parser accepts opslimit from 1 and
 * memlimit from 8 KiB). Seeds: cheap*.key are sealed under FUZZ_PASS
 * with opslimit 1 and memlimit 8192, in key_seal's layout; plain.key and
 * interactive-cost.key were written by dai-keygen -n -o and by dai-keygen -o
 * with DAI_PASSPHRASE set to FUZZ_PASS.
 *
 * What must hold: a parsed file is an unsigned dai-seckey whose fields
 * agree with what the parser extracted; a file that opens gives the key its
 * did names, and that key signs documents that verify. Anything else
 * aborts. */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

#define CHECK(c) ((c) ? (void)0 : (fprintf(stderr, "invariant failed: %s\n", #c), abort()))

#define FUZZ_PASS "fuzz passphrase"
#define OPEN_OPS_MAX 2ULL
#define OPEN_MEM_MAX (64ULL * 1024)

static void check_key(const dai_keyfile *kf, const dai_key *k)
{
	dai_doc pub;
	dai_err e;
	char did[DAI_DID_MAX];
	CHECK(strcmp(k->did, doc_get(&kf->doc, "did")) == 0);
	CHECK(memcmp(k->pk, kf->pk, 32) == 0 && memcmp(k->sk + 32, k->pk, 32) == 0);
	CHECK(key_public_doc(k, doc_get(&kf->doc, "comment"), &pub, &e) == 0);
	CHECK(doc_verify(&pub, &e) == 0);
	ed25519_did(did, pub.signer_pk);
	CHECK(strcmp(did, k->did) == 0);
	doc_free(&pub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		CHECK(sodium_init() >= 0);
		init = 1;
	}
	dai_keyfile kf;
	dai_key k;
	dai_err e;
	if (keyfile_parse(&kf, (const char *)data, size, "fuzz.key", &e) != 0) {
		CHECK(e.msg[0] != 0 && strchr(e.msg, '\n') == NULL);
		return 0;
	}
	const dai_doc *d = &kf.doc;
	CHECK(strcmp(d->kind, "seckey") == 0 && !d->is_signed);
	CHECK(d->len == size && memcmp(d->raw, data, size) == 0);
	const char *kdf = doc_get(d, "kdf");
	CHECK(kdf != NULL);
	if (kf.encrypted) {
		CHECK(strcmp(kdf, "argon2id") == 0 && doc_get(d, "seed") == NULL);
		CHECK(kf.ad_len > 0 && kf.ad_len < d->len);
		CHECK(memcmp(d->raw + kf.ad_len, "box ", 4) == 0);
	} else {
		CHECK(strcmp(kdf, "none") == 0 && doc_get(d, "box") == NULL);
	}
	int cheap = !kf.encrypted || (kf.opslimit <= OPEN_OPS_MAX && kf.memlimit <= OPEN_MEM_MAX);
	if (cheap) {
		if (keyfile_open(&kf, FUZZ_PASS, &k, "fuzz.key", &e) == 0) {
			check_key(&kf, &k);
			key_free(&k);
		} else {
			CHECK(e.msg[0] != 0 && strchr(e.msg, '\n') == NULL);
		}
	}
	keyfile_free(&kf);
	return 0;
}
