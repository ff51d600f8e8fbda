/* ethkey.c - secp256k1 signing and recovery for chain accounts (see ethkey.h). */
#include "ethkey.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "ethaddr.h"
#include "keccak.h"

static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

/* One context for the process, randomized against side channels. */
static void ctx_init(void)
{
	secp256k1_context *c =
	    secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
	if (!c)
		return;
	unsigned char seed[32];
	randombytes_buf(seed, sizeof seed);
	if (!secp256k1_context_randomize(c, seed)) {
		secp256k1_context_destroy(c);
		return;
	}
	sodium_memzero(seed, sizeof seed);
	ctx = c;
}

static secp256k1_context *get_ctx(dai_err *e)
{
	pthread_once(&ctx_once, ctx_init);
	if (!ctx)
		dai_errf(e, "secp256k1: cannot create a context");
	return ctx;
}

static void address_of(unsigned char addr[20], const secp256k1_pubkey *pk)
{
	unsigned char ser[65];
	size_t n = sizeof ser;
	secp256k1_ec_pubkey_serialize(ctx, ser, &n, pk, SECP256K1_EC_UNCOMPRESSED);
	eth_address_of_pubkey(addr, ser + 1);
}

int ethkey_address(unsigned char addr[20], const unsigned char sk[32], dai_err *e)
{
	secp256k1_pubkey pk;
	if (!get_ctx(e))
		return -1;
	if (!secp256k1_ec_seckey_verify(ctx, sk) || !secp256k1_ec_pubkey_create(ctx, &pk, sk))
		return dai_errf(e, "secp256k1: not a valid secret key");
	address_of(addr, &pk);
	return 0;
}

int ethkey_sign(eth_sig *sig, const unsigned char sk[32], const unsigned char digest[32],
                dai_err *e)
{
	secp256k1_ecdsa_recoverable_signature rs;
	unsigned char compact[64];
	if (!get_ctx(e))
		return -1;
	if (!secp256k1_ecdsa_sign_recoverable(ctx, &rs, digest, sk, NULL, NULL))
		return dai_errf(e, "secp256k1: signing failed (bad secret key)");
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact, &sig->recid, &rs);
	memcpy(sig->r, compact, 32);
	memcpy(sig->s, compact + 32, 32);
	return 0;
}

int ethkey_recover(unsigned char addr[20], const eth_sig *sig, const unsigned char digest[32],
                   dai_err *e)
{
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	unsigned char compact[64];
	if (!get_ctx(e))
		return -1;
	memcpy(compact, sig->r, 32);
	memcpy(compact + 32, sig->s, 32);
	if (sig->recid < 0 || sig->recid > 1 ||
	    !secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, compact, sig->recid))
		return dai_errf(e, "secp256k1: malformed signature");
	if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, digest))
		return dai_errf(e, "secp256k1: signature recovers no key");
	address_of(addr, &pk);
	return 0;
}

void eth_personal_digest(unsigned char digest[32], const void *msg, size_t n)
{
	char prefix[64];
	int k = snprintf(prefix, sizeof prefix,
	                 "\x19"
	                 "Ethereum Signed Message:\n%zu",
	                 n);
	keccak_ctx c;
	keccak256_init(&c);
	keccak256_update(&c, prefix, (size_t)k);
	keccak256_update(&c, msg, n);
	keccak256_final(&c, digest);
}

void eth_sig_to_rsv(unsigned char out[65], const eth_sig *sig)
{
	memcpy(out, sig->r, 32);
	memcpy(out + 32, sig->s, 32);
	out[64] = (unsigned char)(27 + sig->recid);
}

int eth_sig_from_rsv(eth_sig *sig, const unsigned char in[65], dai_err *e)
{
	if (in[64] != 27 && in[64] != 28)
		return dai_errf(e, "signature: v must be 27 or 28");
	memcpy(sig->r, in, 32);
	memcpy(sig->s, in + 32, 32);
	sig->recid = in[64] - 27;
	return 0;
}
