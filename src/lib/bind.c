/* bind.c - dai-bind documents (see bind.h). */
#include "bind.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "chainkey.h"
#include "codec.h"
#include "ethaddr.h"
#include "ethkey.h"
#include "timefmt.h"

/* "dai-bind <did> <0x lowercase address>" */
static int bind_text(char *out, size_t cap, const char *did, const char *addr)
{
	return snprintf(out, cap, "dai-bind %s %s", did, addr);
}

int bind_make(const dai_key *k, dai_doc *out, dai_err *e)
{
	unsigned char *sk = sodium_malloc(32), addr[20], digest[32], rsv[65];
	char lower[43], text[160], now[DAI_TIME_LEN + 1];
	eth_sig sig;
	if (!sk)
		return dai_errf(e, "bind: out of memory");
	if (chainkey_derive(k, sk, addr, e) < 0) {
		sodium_free(sk);
		return -1;
	}
	lower[0] = '0';
	lower[1] = 'x';
	hex_encode(lower + 2, addr, 20);
	int n = bind_text(text, sizeof text, k->did, lower);
	eth_personal_digest(digest, text, (size_t)n);
	int rc = ethkey_sign(&sig, sk, digest, e);
	sodium_free(sk);
	if (rc < 0)
		return -1;
	eth_sig_to_rsv(rsv, &sig);
	dai_docb b;
	docb_init(&b, "bind", 1);
	docb_add(&b, "did", k->did);
	docb_add(&b, "address", lower);
	docb_add_b64(&b, "chain-sig", rsv, sizeof rsv);
	time_format(now, time_now());
	docb_add(&b, "time", now);
	return docb_sign(&b, out, k->sk, e);
}

int bind_check(const dai_doc *d, char did[DAI_DID_MAX], unsigned char addr[20], dai_err *e)
{
	if (strcmp(d->kind, "bind") != 0)
		return dai_errf(e, "a dai-%s is no dai-bind", d->kind);
	if (doc_verify(d, e) < 0)
		return dai_err_prefix(e, "dai-bind");
	const char *dd = doc_get(d, "did"), *a = doc_get(d, "address"),
	           *cs = doc_get(d, "chain-sig");
	char signer_did[DAI_DID_MAX];
	ed25519_did(signer_did, d->signer_pk);
	if (!dd || strcmp(dd, signer_did) != 0)
		return dai_errf(e, "dai-bind: signed by %s, not by its did", signer_did);
	unsigned char rsv[65], got[20], digest[32];
	size_t n;
	char want[43], text[160];
	eth_sig sig;
	if (!a || eth_address_parse(addr, a, strlen(a), "dai-bind: address", e) < 0)
		return -1;
	want[0] = '0';
	want[1] = 'x';
	hex_encode(want + 2, addr, 20);
	if (strcmp(want, a) != 0)
		return dai_errf(e, "dai-bind: the address is written in lowercase");
	if (!cs || b64_decode(rsv, sizeof rsv, &n, cs, strlen(cs)) < 0 || n != 65 ||
	    eth_sig_from_rsv(&sig, rsv, e) < 0)
		return dai_errf(e, "dai-bind: chain-sig is not a 65-byte signature");
	int tn = bind_text(text, sizeof text, dd, a);
	eth_personal_digest(digest, text, (size_t)tn);
	if (ethkey_recover(got, &sig, digest, e) < 0 || memcmp(got, addr, 20) != 0)
		return dai_errf(e, "dai-bind: chain-sig is not the address's signature");
	snprintf(did, DAI_DID_MAX, "%s", dd);
	return 0;
}
